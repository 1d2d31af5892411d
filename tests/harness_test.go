package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The binaries TestMain builds.
var (
	daemonBin string
	ctlBin    string
)

// Time limits. Conditions are polled every pollStep until waitLimit.
const (
	pollStep  = 10 * time.Millisecond
	waitLimit = 10 * time.Second
	ctlLimit  = 15 * time.Second // one logrollctl run
)

// module is the module whose binaries are tested.
const module = "github.com/logroll/logroll"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tests: %v\n", err)
		return 1
	}
	bin, err := os.MkdirTemp("", "logroll-e2e-bin")
	if err != nil {
		fmt.Fprintf(os.Stderr, "tests: %v\n", err)
		return 1
	}
	defer os.RemoveAll(bin)
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	if os.Getenv("LOGROLL_E2E_RACE") != "" {
		args = append(args, "-race")
		if os.Getenv("GORACE") == "" {
			// A race-enabled program sleeps 1 s at exit by default: each
			// logrollctl run would take a second.
			os.Setenv("GORACE", "atexit_sleep_ms=0")
		}
	}
	args = append(args, "./cmd/logrolld", "./cmd/logrollctl")
	build := exec.Command("go", args...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "tests: go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, out)
		return 1
	}
	daemonBin = filepath.Join(bin, "logrolld")
	ctlBin = filepath.Join(bin, "logrollctl")
	return m.Run()
}

// moduleRoot walks up from the working directory to logroll's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module\s+`+regexp.QuoteMeta(module)+`\s*$`).Match(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", module)
		}
		dir = parent
	}
}

// tempDir returns a new short folder (Unix socket paths must stay below 108
// bytes, and t.TempDir can be long), removed when the test ends: after the
// daemons started in it are killed, since cleanups run last-in first-out.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// conf is a test's records.toml. The zero value is a daemon with one log,
// access, that never rolls by itself, a 1 MiB body limit, host e2ehost,
// ingest on a free loopback port and no file watching (reloads happen when
// the test says).
type conf struct {
	MaxBodyMB      int    // default 1
	RollingEnabled string // TOML value; default "none"
	SizeMB         int    // rolling_size_mb; 0: not written
	LogfileDir     string // default "logs"
	LocalStateDir  string // default "run"
	Durability     string // default not written
	Logs           []string
	Extra          string // appended to [proxy.config.log]
}

// toml renders c.
func (c conf) toml() string {
	var b strings.Builder
	b.WriteString("# written by logroll's end-to-end tests\n")
	b.WriteString("[proxy.config]\n")
	fmt.Fprintf(&b, "local_state_dir = %q\n", or(c.LocalStateDir, "run"))
	b.WriteString("config_file_watch = 0\n")
	b.WriteString("\n[proxy.config.ingest]\n")
	b.WriteString("http_listen = \"127.0.0.1:0\"\n")
	fmt.Fprintf(&b, "max_body_mb = %d\n", max(c.MaxBodyMB, 1))
	b.WriteString("\n[proxy.config.log]\n")
	fmt.Fprintf(&b, "logfile_dir = %q\n", or(c.LogfileDir, "logs"))
	b.WriteString("hostname = \"e2ehost\"\n")
	fmt.Fprintf(&b, "rolling_enabled = %s\n", or(c.RollingEnabled, `"none"`))
	if c.SizeMB > 0 {
		fmt.Fprintf(&b, "rolling_size_mb = %d\n", c.SizeMB)
	}
	if c.Durability != "" {
		fmt.Fprintf(&b, "durability = %q\n", c.Durability)
	}
	b.WriteString(c.Extra)
	logs := c.Logs
	if logs == nil {
		logs = []string{"access"}
	}
	for _, l := range logs {
		fmt.Fprintf(&b, "\n[[logs]]\nfilename = %q\n", l)
	}
	return b.String()
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// writeConfig writes dir/records.toml and returns its path.
func writeConfig(t *testing.T, dir string, text string) string {
	t.Helper()
	path := filepath.Join(dir, "records.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// daemon is one logrolld process.
type daemon struct {
	t      *testing.T
	config string // absolute path of its records.toml
	dir    string // the config file's folder
	logs   string // its log folder (logfile_dir "logs" unless the test changed it)
	addr   string // ingest host:port, once ready
	socket string // admin socket, once ready
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{} // closed when the process has exited
}

// launch starts logrolld -config path and returns at once. The process is
// killed when the test ends if it still runs, and its stderr printed if the
// test failed.
func launch(t *testing.T, path string) *daemon {
	t.Helper()
	d := &daemon{
		t:      t,
		config: path,
		dir:    filepath.Dir(path),
		logs:   filepath.Join(filepath.Dir(path), "logs"),
		stderr: &syncBuffer{},
		exited: make(chan struct{}),
	}
	d.run(exec.Command(daemonBin, "-config", path))
	return d
}

// run starts cmd (logrolld, directly or through an exec) in d.dir with its
// stderr kept, and returns at once. The process is killed when the test ends
// if it still runs; a data race it reported fails the test, and its stderr
// is printed if the test failed.
func (d *daemon) run(cmd *exec.Cmd) {
	t := d.t
	t.Helper()
	d.cmd = cmd
	d.cmd.Dir = d.dir
	d.cmd.Stderr = d.stderr
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start logrolld: %v", err)
	}
	go func() {
		_ = d.cmd.Wait()
		close(d.exited)
	}()
	what := strings.Join(cmd.Args, " ")
	t.Cleanup(func() {
		if !d.hasExited() {
			_ = d.cmd.Process.Signal(syscall.SIGKILL)
			select {
			case <-d.exited:
			case <-time.After(waitLimit):
				t.Errorf("logrolld pid %d did not die after SIGKILL", d.cmd.Process.Pid)
			}
		}
		if strings.Contains(d.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", what)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", what, d.stderr.String())
		}
	})
}

// Start-up lines (slog text) giving the ingest address and the socket.
var (
	addrLine   = regexp.MustCompile(`msg="logrolld ingest listening" addr=(\S+)`)
	socketLine = regexp.MustCompile(`msg="logrolld admin socket listening" socket=(\S+)`)
)

// startDaemon starts logrolld -config path and waits until it announced its
// ingest address and admin socket.
func startDaemon(t *testing.T, path string) *daemon {
	t.Helper()
	d := launch(t, path)
	d.waitReady()
	return d
}

// waitReady waits for the start-up lines.
func (d *daemon) waitReady() {
	d.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		out := d.stderr.String()
		a, s := addrLine.FindStringSubmatch(out), socketLine.FindStringSubmatch(out)
		if a != nil && s != nil {
			d.addr, d.socket = a[1], s[1]
			return
		}
		if d.hasExited() {
			d.t.Fatalf("logrolld exited with %d before it was ready; stderr:\n%s", d.cmd.ProcessState.ExitCode(), out)
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("logrolld not ready after %v; stderr:\n%s", waitLimit, out)
		}
		time.Sleep(pollStep)
	}
}

// in returns d reporting to t (a subtest).
func (d *daemon) in(t *testing.T) *daemon {
	c := *d
	c.t = t
	return &c
}

func (d *daemon) hasExited() bool {
	select {
	case <-d.exited:
		return true
	default:
		return false
	}
}

// signal sends sig to the daemon.
func (d *daemon) signal(sig os.Signal) {
	d.t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		d.t.Fatalf("signal %v: %v", sig, err)
	}
}

// wait waits up to limit for the daemon to exit and returns its exit code.
func (d *daemon) wait(limit time.Duration) int {
	d.t.Helper()
	select {
	case <-d.exited:
		return d.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		d.t.Fatalf("logrolld still running after %v; stderr:\n%s", limit, d.stderr.String())
		return -1
	}
}

// kill SIGKILLs the daemon and waits for it to die.
func (d *daemon) kill() {
	d.t.Helper()
	d.signal(syscall.SIGKILL)
	d.wait(waitLimit)
}

// ctlResult is one logrollctl run.
type ctlResult struct {
	args   []string
	stdout string
	stderr string
	code   int
}

func (r ctlResult) String() string {
	return fmt.Sprintf("logrollctl %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runCtl runs logrollctl with args.
func runCtl(t *testing.T, args ...string) ctlResult {
	t.Helper()
	return runProgram(t, ctlBin, args...)
}

// runProgram runs bin with args to its end, within ctlLimit.
func runProgram(t *testing.T, bin string, args ...string) ctlResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ctlLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := ctlResult{args: args, stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case ctx.Err() != nil:
		t.Fatalf("%s %s: still running after %v", filepath.Base(bin), strings.Join(args, " "), ctlLimit)
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("%s %s: %v", filepath.Base(bin), strings.Join(args, " "), err)
	}
	return res
}

// ctl runs logrollctl -config <the daemon's config> args.
func (d *daemon) ctl(args ...string) ctlResult {
	d.t.Helper()
	return runCtl(d.t, append([]string{"-config", d.config}, args...)...)
}

// mustCtl runs d.ctl and fails the test unless it exits 0.
func (d *daemon) mustCtl(args ...string) ctlResult {
	d.t.Helper()
	r := d.ctl(args...)
	if r.code != 0 {
		d.t.Fatalf("want exit 0: %v", r)
	}
	return r
}

// roll runs `logrollctl roll LOGS…` and returns the printed paths.
func (d *daemon) roll(logs ...string) []string {
	d.t.Helper()
	r := d.mustCtl(append([]string{"roll"}, logs...)...)
	return lines(r.stdout)
}

// lines splits s into lines, without a trailing empty one.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// httpClient is the tests' ingest client: loopback, bounded.
var httpClient = &http.Client{Timeout: waitLimit}

// req is one ingest request.
type req struct {
	log      string // path element after /v1/logs/, sent as is (not escaped)
	ctype    string // Content-Type; "" sends none
	encoding string // Content-Encoding
	body     []byte
	chunked  bool // hide the length: the body goes chunked
	method   string
}

// answer is the daemon's answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// do sends r to the daemon's ingest listener.
func (d *daemon) do(r req) (answer, error) {
	var body io.Reader = bytes.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(body) // no length known: chunked
	}
	method := or(r.method, http.MethodPost)
	hr, err := http.NewRequest(method, "http://"+d.addr+"/v1/logs/"+r.log, body)
	if err != nil {
		return answer{}, err
	}
	if method == http.MethodGet {
		hr.Body, hr.ContentLength = nil, 0
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.encoding != "" {
		hr.Header.Set("Content-Encoding", r.encoding)
	}
	resp, err := httpClient.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// post sends r and fails the test unless the answer is 200 {"records":want}.
func (d *daemon) post(r req, want int) {
	d.t.Helper()
	a, err := d.do(r)
	if err != nil {
		d.t.Fatalf("POST /v1/logs/%s: %v", r.log, err)
	}
	if a.status != http.StatusOK {
		d.t.Fatalf("POST /v1/logs/%s: status %d %s, want 200", r.log, a.status, a.body)
	}
	var got struct {
		Records *int `json:"records"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil || got.Records == nil {
		d.t.Fatalf("POST /v1/logs/%s: body %q is not {\"records\":N}: %v", r.log, a.body, err)
	}
	if *got.Records != want {
		d.t.Fatalf("POST /v1/logs/%s: %s, want %d records", r.log, a.body, want)
	}
}

// postText posts lines as text/plain to log and expects them all accepted.
func (d *daemon) postText(log string, ls ...string) {
	d.t.Helper()
	d.post(req{log: log, ctype: "text/plain", body: []byte(strings.Join(ls, "\n") + "\n")}, len(ls))
}

// get fetches path from the ingest listener.
func (d *daemon) get(path string) (int, string) {
	d.t.Helper()
	resp, err := httpClient.Get("http://" + d.addr + path)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(data)
}

// eventually polls cond every pollStep until it returns "" (done) or
// waitLimit passes; then the test fails with cond's last message.
func eventually(t *testing.T, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", waitLimit, msg)
		}
		time.Sleep(pollStep)
	}
}

// readFile returns a file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// rolledName matches a rolled file's name (docs/design.md §5) for host e2ehost:
// the active name, the host, START-END, an optional collision number, and
// the extension of a compressed file (rolled_compression, docs/design.md §10).
var rolledName = regexp.MustCompile(`^(.+)\.e2ehost\.(\d{8}\.\d{2}h\d{2}m\d{2}s)-(\d{8}\.\d{2}h\d{2}m\d{2}s)(\.\d+)?\.old(\.gz|\.zst)?$`)

// rolledTimeLayout is %Y%m%d.%Hh%Mm%Ss.
const rolledTimeLayout = "20060102.15h04m05s"

// parseRolled checks that path is a rolled file of log (active name) in dir
// and returns its START and END.
func parseRolled(t *testing.T, path, dir, log string) (start, end time.Time) {
	t.Helper()
	if !filepath.IsAbs(path) {
		t.Errorf("rolled path %q is not absolute", path)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("rolled path %q is not in the log folder %s", path, dir)
	}
	m := rolledName.FindStringSubmatch(filepath.Base(path))
	if m == nil || m[1] != log {
		t.Fatalf("rolled name %q does not match %s.e2ehost.START-END[.N].old[.gz|.zst]", filepath.Base(path), log)
	}
	start, err1 := time.ParseInLocation(rolledTimeLayout, m[2], time.Local)
	end, err2 := time.ParseInLocation(rolledTimeLayout, m[3], time.Local)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("rolled name %q: %v", path, err)
	}
	if start.After(end) {
		t.Errorf("rolled name %q: START after END", path)
	}
	return start, end
}
