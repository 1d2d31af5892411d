package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/logroll/logroll/ctl"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// syncBuffer is an io.Writer safe for the daemon's concurrent logging.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// shortDir returns a temporary folder short enough for a Unix socket path.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lrd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

const baseConfig = `
[proxy.config.ingest]
http_listen = "127.0.0.1:0"

[proxy.config.log]
hostname = "testhost"
rolling_enabled = "none"

[[logs]]
filename = "access"
`

// start writes config into a fresh folder and starts a daemon on it.
func start(t *testing.T, config string) (*Daemon, string, *syncBuffer) {
	t.Helper()
	dir := shortDir(t)
	path := filepath.Join(dir, "records.toml")
	if err := os.WriteFile(path, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	d, err := Start(Options{ConfigPath: path, Stderr: &stderr})
	if err != nil {
		t.Fatalf("Start: %v\n%s", err, stderr.String())
	}
	t.Cleanup(func() { d.Shutdown() })
	return d, path, &stderr
}

func post(t *testing.T, d *Daemon, log, body string) int {
	t.Helper()
	resp, err := http.Post("http://"+d.IngestAddr()+"/v1/logs/"+log, "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestStartAnnouncesEndpoints(t *testing.T) {
	d, _, stderr := start(t, baseConfig)
	out := stderr.String()
	for _, want := range []string{`msg="logrolld writing logs"`, "addr=" + d.IngestAddr(), "socket=" + d.Socket()} {
		if !strings.Contains(out, want) {
			t.Errorf("start-up lines lack %q:\n%s", want, out)
		}
	}
	info, err := os.Stat(d.Socket())
	if err != nil || info.Mode().Perm() != 0o600 || info.Mode()&os.ModeSocket == 0 {
		t.Errorf("socket %s: %v, mode %v; want a socket of mode 0600", d.Socket(), err, info.Mode())
	}
}

func TestPostRollRolledStatus(t *testing.T) {
	d, _, _ := start(t, baseConfig)
	if code := post(t, d, "access", "one\ntwo\n"); code != 200 {
		t.Fatalf("post: %d", code)
	}
	resp, err := d.Roll(context.Background(), []string{"access"})
	if err != nil || len(resp.Rolled) != 1 || len(resp.Errors) != 0 {
		t.Fatalf("Roll = %+v, %v", resp, err)
	}
	r := resp.Rolled[0]
	data, err := os.ReadFile(r.Path)
	if err != nil || string(data) != "one\ntwo\n" || r.Records != 2 || r.Host != "testhost" || r.Cause != "forced" {
		t.Fatalf("rolled %+v: %q, %v", r, data, err)
	}
	files, err := d.Rolled(nil)
	if err != nil || len(files) != 1 || files[0].Path != r.Path || files[0].Bytes != 8 || !files[0].Configured {
		t.Fatalf("Rolled = %+v, %v", files, err)
	}
	// The rolled counts are the space manager's, which learns of the new
	// file from the folder's fsnotify events: soon after the roll, not at
	// once (the full suite once read 0 here).
	st := d.Status()
	for deadline := time.Now().Add(5 * time.Second); len(st.Logs) == 1 && st.Logs[0].Rolled == 0 && time.Now().Before(deadline); st = d.Status() {
		time.Sleep(5 * time.Millisecond)
	}
	if len(st.Logs) != 1 || st.Logs[0].Rolled != 1 || st.Logs[0].RolledBytes != 8 || !st.Accepting {
		t.Errorf("Status = %+v", st)
	}
	if _, err := d.Roll(context.Background(), []string{"nope"}); !errors.Is(err, ctl.ErrUnknownLog) {
		t.Errorf("Roll(nope) = %v, want ErrUnknownLog", err)
	}
	if _, err := d.Rolled([]string{"nope"}); !errors.Is(err, ctl.ErrUnknownLog) {
		t.Errorf("Rolled(nope) = %v, want ErrUnknownLog", err)
	}
}

func TestReloadAppliedAndRefused(t *testing.T) {
	d, path, _ := start(t, baseConfig)
	if code := post(t, d, "error", "x\n"); code != 404 {
		t.Fatalf("post to undeclared log: %d, want 404", code)
	}
	if err := os.WriteFile(path, []byte(baseConfig+"\n[[logs]]\nfilename = \"error\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := d.Reload(context.Background())
	if err != nil || !res.OK || len(res.Changes) != 1 || res.Changes[0].Name != "logs[error.log]" {
		t.Fatalf("Reload = %+v, %v", res, err)
	}
	if code := post(t, d, "error", "x\n"); code != 200 {
		t.Fatalf("post to the added log: %d", code)
	}

	bad := strings.Replace(baseConfig, `hostname = "testhost"`, "hostname = \"testhost\"\nrolling_size_mb = \"big\"", 1)
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	res = d.ReloadFrom(TriggerSIGHUP)
	if res.OK || !strings.Contains(res.Error, "records.toml:7:19: proxy.config.log.rolling_size_mb") || res.Trigger != TriggerSIGHUP {
		t.Fatalf("refused reload = %+v", res)
	}
	// The running configuration (with error.log) is kept.
	if code := post(t, d, "error", "y\n"); code != 200 {
		t.Fatalf("post after a refused reload: %d", code)
	}
	if last := d.Config().LastReload; last.OK || last.Trigger != TriggerSIGHUP {
		t.Errorf("LastReload = %+v", last)
	}
	m := metricValue(d.Metrics(), MetricReloadFailed)
	if m != 1 {
		t.Errorf("%s = %v, want 1", MetricReloadFailed, m)
	}
}

func TestReloadRestartRequired(t *testing.T) {
	d, path, _ := start(t, baseConfig)
	changed := strings.Replace(baseConfig, "[proxy.config.log]", "[proxy.config.log]\nlogfile_dir = \"elsewhere\"", 1)
	if err := os.WriteFile(path, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	res, _ := d.Reload(context.Background())
	if !res.OK || len(res.RestartRequired) != 1 || !strings.HasSuffix(res.RestartRequired[0].Name, "logfile_dir") {
		t.Fatalf("Reload = %+v", res)
	}
	// Still writing to the folder it opened.
	if code := post(t, d, "access", "z\n"); code != 200 {
		t.Fatalf("post: %d", code)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "elsewhere")); err == nil {
		t.Error("the new logfile_dir was created: a restart-required record was half-applied")
	}
	// The running configuration shows the folder in use, and a second
	// reload still reports the restart as pending.
	for _, r := range d.Config().Records {
		if r.Name == "proxy.config.log.logfile_dir" && r.Value != fmt.Sprintf("%q", filepath.Join(filepath.Dir(path), "logs")) {
			t.Errorf("running logfile_dir = %s, want the folder in use", r.Value)
		}
	}
	res, _ = d.Reload(context.Background())
	if !res.OK || len(res.Changes) != 1 || !res.Changes[0].Restart {
		t.Errorf("second reload = %+v, want the pending restart change again", res)
	}
}

func TestSecondDaemonRefused(t *testing.T) {
	d, path, _ := start(t, baseConfig)
	_, err := Start(Options{ConfigPath: path, Stderr: io.Discard})
	if !errors.Is(err, ctl.ErrInUse) {
		t.Fatalf("second Start = %v, want ErrInUse", err)
	}
	if code := post(t, d, "access", "still\n"); code != 200 {
		t.Fatalf("first daemon after the refusal: %d", code)
	}
}

func TestLogfileDirIsAFile(t *testing.T) {
	dir := shortDir(t)
	if err := os.WriteFile(filepath.Join(dir, "afile"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "records.toml")
	cfg := strings.Replace(baseConfig, "[proxy.config.log]", "[proxy.config.log]\nlogfile_dir = \"afile\"", 1)
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Start(Options{ConfigPath: path, Stderr: io.Discard})
	var ce *ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "records.toml:6:") {
		t.Fatalf("Start = %v, want a ConfigError at records.toml:6", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "logrolld.sock")); err == nil {
		t.Error("a failed start left its socket behind")
	}
}

func TestShutdownIdempotentAndRefuses(t *testing.T) {
	d, _, _ := start(t, baseConfig)
	if err := d.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := d.Shutdown(); err != nil {
		t.Fatalf("second Shutdown: %v", err)
	}
	if _, err := d.Roll(context.Background(), nil); !errors.Is(err, ctl.ErrUnavailable) {
		t.Errorf("Roll after Shutdown = %v", err)
	}
	if _, err := os.Stat(d.Socket()); err == nil {
		t.Error("socket left behind after Shutdown")
	}
}

func TestPrometheusExport(t *testing.T) {
	d, _, _ := start(t, baseConfig)
	post(t, d, "access", "a\nb\nc\n")
	resp, err := http.Get("http://" + d.IngestAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{
		`proxy_process_log_records_written_total{log="access.log"} 3`,
		`proxy_process_log_rolls_total{cause="forced",log="access.log"} 0`,
		`proxy_process_log_ingest_requests_total{status="200"} 1`,
		"go_goroutines",
	} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	// Aggregates are for logrollctl only: Prometheus sums itself.
	if bytes.Contains(body, []byte("proxy_process_log_records_written_total 3")) {
		t.Error("/metrics exports the unlabelled total next to the per-log series")
	}
	if got := metricValue(d.Metrics(), MetricRecordsWritten); got != 3 {
		t.Errorf("%s = %v, want 3", MetricRecordsWritten, got)
	}
}

// metricValue returns the unlabelled series of name.
func metricValue(ms []ctl.Metric, name string) float64 {
	for _, m := range ms {
		if m.Name == name && len(m.Labels) == 0 {
			return m.Value
		}
	}
	return -1
}

// TestMetricsOfRemovedLog: /metrics keeps a removed log's counters, its
// final roll (cause reload) included, and a log declared again counts on
// from them: the per-log series sum to the totals and never go back.
func TestMetricsOfRemovedLog(t *testing.T) {
	withErr := baseConfig + "\n[[logs]]\nfilename = \"error\"\n"
	d, path, _ := start(t, withErr)
	if code := post(t, d, "error", "a\nb\n"); code != 200 {
		t.Fatalf("post: %d", code)
	}
	scrape := func() string {
		resp, err := http.Get("http://" + d.IngestAddr() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	reload := func(text string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if res, err := d.Reload(context.Background()); err != nil || !res.OK {
			t.Fatalf("Reload = %+v, %v", res, err)
		}
	}
	reload(baseConfig)
	body := scrape()
	for _, want := range []string{
		`proxy_process_log_rolls_total{cause="reload",log="error.log"} 1`,
		`proxy_process_log_records_written_total{log="error.log"} 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics after the removal lacks %q", want)
		}
	}
	reload(withErr)
	if code := post(t, d, "error", "c\n"); code != 200 {
		t.Fatalf("post: %d", code)
	}
	if body := scrape(); !strings.Contains(body, `proxy_process_log_records_written_total{log="error.log"} 3`) ||
		!strings.Contains(body, `proxy_process_log_rolls_total{cause="reload",log="error.log"} 1`) {
		t.Errorf("/metrics after the log was declared again: its counters went back:\n%s", grepLines(body, "error.log"))
	}
}

// grepLines returns the lines of s holding sub.
func grepLines(s, sub string) string {
	var out []string
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}
