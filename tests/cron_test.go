package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The cron workflow (etc/cron/process-rolled.sh) against a live daemon while
// records keep arriving: forced rolls and scheduled ones (every second)
// interleave with the script's runs; every record must be processed once.

const scriptLimit = 30 * time.Second // one run of the script

// cronConf: access and other, rolling every second and at 1 MiB.
func cronConf() string {
	return conf{
		RollingEnabled: `"time_or_size"`,
		SizeMB:         1,
		Logs:           []string{"access", "other"},
		// The least headroom (1 MiB; 0 would mean Traffic Server's 10):
		// only on a nearly full disk would autodelete take files the test
		// counts.
		Extra: "rolling_interval_sec = 1\nmax_space_mb_headroom = 1\n",
	}.toml()
}

// processed returns the rolled paths a run of the cron script reports as
// processed.
func (r runResult) processed() []string {
	var paths []string
	for _, l := range lines(r.stdout) {
		if p, ok := strings.CutPrefix(l, "processed "); ok {
			paths = append(paths, strings.SplitN(p, " -> ", 2)[0])
		}
	}
	return paths
}

// scriptCmd returns the command running the cron script on d's config
// with args, logrollctl being the tested one; jq false hides jq (JQ=).
func scriptCmd(t *testing.T, ctx context.Context, d *daemon, jq bool, args ...string) *exec.Cmd {
	t.Helper()
	script := repoFile(t, "etc/cron/process-rolled.sh")
	cmd := exec.CommandContext(ctx, script, append([]string{"-c", d.config}, args...)...)
	// TMPDIR: a run killed by the test leaves its mktemp folder in the
	// test's folder, removed with it.
	cmd.Env = append(os.Environ(), "LOGROLLCTL="+ctlBin, "LC_ALL=C", "TMPDIR="+d.dir)
	if !jq {
		cmd.Env = append(cmd.Env, "JQ=")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // killable with its children
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	return cmd
}

// runScript runs the cron script to its end.
func runScript(t *testing.T, d *daemon, jq bool, args ...string) runResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), scriptLimit)
	defer cancel()
	r, err := runToEnd(ctx, scriptCmd(t, ctx, d, jq, args...))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// mustRunScript runs the script and fails the test unless it exits 0.
func mustRunScript(t *testing.T, d *daemon, jq bool, args ...string) runResult {
	t.Helper()
	r := runScript(t, d, jq, args...)
	if r.code != 0 {
		t.Fatalf("want exit 0: %v", r)
	}
	return r
}

// cronStatuses are the statuses the poster gives its records in turn.
var cronStatuses = []int{200, 200, 200, 304, 404, 200, 500, 503, 200, 301}

// cronPoster posts records to access (and a few to other) until stopped: 20
// a request, alternately common log format text and a JSON array, record id
// i having status cronStatuses[i % len].
type cronPoster struct {
	d        *daemon
	stopCh   chan struct{}
	done     chan struct{}
	mu       sync.Mutex
	acked    map[int]bool // access record ids acknowledged
	byStatus map[int]int  // access records acknowledged per status
	other    int          // other records acknowledged
	err      error
}

const cronBatch = 20

func startCronPoster(d *daemon) *cronPoster {
	p := &cronPoster{d: d, stopCh: make(chan struct{}), done: make(chan struct{}),
		acked: map[int]bool{}, byStatus: map[int]int{}}
	go p.run()
	return p
}

// cronRecord is record id as text (common log format) or JSON.
func cronRecord(id int, asJSON bool) string {
	status := cronStatuses[id%len(cronStatuses)]
	if asJSON {
		return fmt.Sprintf(`{"id":%d,"method":"GET","path":"/item/%d","status":%d,"bytes":512}`, id, id, status)
	}
	return fmt.Sprintf(`127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] "GET /item/%d HTTP/1.1" %d 512 id=%d`, id, status, id)
}

func (p *cronPoster) run() {
	defer close(p.done)
	for b := 0; b < 20000; b++ {
		select {
		case <-p.stopCh:
			return
		default:
		}
		asJSON := b%2 == 1
		var body strings.Builder
		if asJSON {
			body.WriteString("[")
		}
		for i := range cronBatch {
			if asJSON && i > 0 {
				body.WriteString(",")
			}
			body.WriteString(cronRecord(b*cronBatch+i, asJSON))
			if !asJSON {
				body.WriteString("\n")
			}
		}
		r := req{log: "access", ctype: "text/plain", body: []byte(body.String())}
		if asJSON {
			body.WriteString("]")
			r = req{log: "access", ctype: "application/json", body: []byte(body.String())}
		}
		if err := p.post(r, cronBatch); err != nil {
			p.fail(err)
			return
		}
		p.mu.Lock()
		for i := range cronBatch {
			id := b*cronBatch + i
			p.acked[id] = true
			p.byStatus[cronStatuses[id%len(cronStatuses)]]++
		}
		p.mu.Unlock()
		if b%10 == 0 {
			if err := p.post(req{log: "other", ctype: "text/plain", body: []byte("other " + strconv.Itoa(b) + " 200\n")}, 1); err != nil {
				p.fail(err)
				return
			}
			p.mu.Lock()
			p.other++
			p.mu.Unlock()
		}
		time.Sleep(time.Millisecond) // a steady trickle, not a flood
	}
}

func (p *cronPoster) post(r req, want int) error {
	a, err := p.d.do(r)
	if err != nil {
		return err
	}
	if a.status != 200 || !strings.Contains(string(a.body), fmt.Sprintf(`"records":%d`, want)) {
		return fmt.Errorf("POST /v1/logs/%s: status %d %s", r.log, a.status, a.body)
	}
	return nil
}

func (p *cronPoster) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.err = err
}

// count returns the number of access records acknowledged so far.
func (p *cronPoster) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// stop stops the poster and fails the test if a post failed.
func (p *cronPoster) stop(t *testing.T) {
	t.Helper()
	select {
	case <-p.stopCh:
	default:
		close(p.stopCh)
	}
	<-p.done
	if p.err != nil {
		t.Fatalf("poster: %v", p.err)
	}
}

// waitNew waits until the poster has had more records acknowledged.
func (p *cronPoster) waitNew(t *testing.T) {
	t.Helper()
	n := p.count()
	eventually(t, func() string {
		p.mu.Lock()
		err := p.err
		p.mu.Unlock()
		if err != nil {
			t.Fatalf("poster: %v", err)
		}
		if p.count() <= n {
			return "no new record acknowledged"
		}
		return ""
	})
}

// runWhilePosting runs the script (with args) at least runs times, and
// until a scheduled (time) roll of access happened in between, and returns
// every run.
func runWhilePosting(t *testing.T, d *daemon, p *cronPoster, runs int, jq bool, args ...string) []runResult {
	t.Helper()
	var all []runResult
	deadline := time.Now().Add(20 * time.Second)
	timeRolls := func() int64 {
		return d.metric(t, "proxy.process.log.rolls", "cause", "time", "log", "access.log")
	}
	first := timeRolls()
	for len(all) < runs || timeRolls() < first+1 {
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s: %d runs, %d time rolls", len(all), timeRolls()-first)
		}
		p.waitNew(t)
		all = append(all, mustRunScript(t, d, jq, args...))
	}
	return all
}

var accessReport = regexp.MustCompile(`^access\.log\.e2ehost\.\d{8}\.\d{2}h\d{2}m\d{2}s-\d{8}\.\d{2}h\d{2}m\d{2}s(\.\d+)?\.old(\.gz|\.zst)?\.\d+-\d+\.report$`)

// reportFiles reads the reports in dir: name → content. Every report must be
// a report of an access file.
func reportFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	reports := map[string]string{}
	for _, e := range entries {
		if !accessReport.MatchString(e.Name()) {
			t.Errorf("%s in the report folder is not a report of an access.log file (leftover or another log's)", e.Name())
			continue
		}
		reports[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
	}
	return reports
}

// checkCronFolder checks the log folder (and the rolled folders more)
// after a final run: no access rolled file and no claim left, the active
// file there and empty (the final run rolled it), other's records untouched
// in its files.
func checkCronFolder(t *testing.T, d *daemon, p *cronPoster, more ...string) {
	t.Helper()
	for _, dir := range append([]string{d.logs}, more...) {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			n := e.Name()
			if strings.HasSuffix(n, ".claim") || rolledName.MatchString(n) && strings.HasPrefix(n, "access.log.") {
				t.Errorf("%s left in %s", n, dir)
			}
		}
	}
	if fi, err := os.Stat(filepath.Join(d.logs, "access.log")); err != nil || fi.Size() != 0 {
		t.Errorf("active access.log after the final run: %v, size %v; want it there and empty", err, fi)
	}
	otherLines := 0
	rolledOther := d.rolled(t, "other.log")
	for _, path := range d.filesOf(t, "other.log") {
		data, err := readRolled(path)
		if err != nil {
			t.Fatal(err)
		}
		otherLines += len(lines(string(data)))
	}
	if otherLines != p.other || len(rolledOther) == 0 {
		t.Errorf("other.log: %d records in %d rolled files and the active one, want all %d posted there, and rolled files the script left alone",
			otherLines, len(rolledOther), p.other)
	}
}

// TestCron runs the cron script with its example analysis (requests per
// status code) against a live daemon while records keep arriving, with jq
// and with its plain-text fallback: the counts over all the reports are
// exactly what was acknowledged per status (so no file was processed twice
// or lost), every processed file was deleted, no active file was touched and
// the log that was not named was left alone.
func TestCron(t *testing.T) {
	for _, mode := range []string{"jq", "plain"} {
		t.Run(mode, func(t *testing.T) { cronCase(t, mode, cronConf()) })
	}
}

// TestCronCompressed is TestCron with access's rolled files gzipped into
// a rolled folder (archive) and other's zstd-compressed in the log folder
// (docs/design.md §10): the script finds them in their folders, reads them
// decompressed, and counts every acknowledged record once.
func TestCronCompressed(t *testing.T) {
	needCompressTools(t)
	c := conf{RollingEnabled: `"time_or_size"`, SizeMB: 1, Logs: []string{},
		Extra: "rolling_interval_sec = 1\nmax_space_mb_headroom = 0\n"}.toml() + `
[[logs]]
filename = "access"
rolled_compression = "gzip"
rolled_dir = "archive"

[[logs]]
filename = "other"
rolled_compression = "zstd"
`
	for _, mode := range []string{"jq", "plain"} {
		t.Run(mode, func(t *testing.T) { cronCase(t, mode, c, "archive") })
	}
}

// cronCase is TestCron in mode ("jq" or "plain") on the configuration
// text; more are rolled folders (relative to the log folder) to check for
// leftovers.
func cronCase(t *testing.T, mode, text string, more ...string) {
	jq := mode == "jq"
	if _, err := exec.LookPath("jq"); jq && err != nil {
		t.Skip("jq is not installed (.ci/run installs it): the script's jq mode is not tested here")
	}
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, text))
	var folders []string
	for _, m := range more {
		folders = append(folders, filepath.Join(d.logs, m))
	}
	reports := filepath.Join(dir, "reports")
	p := startCronPoster(d)
	defer p.stop(t)

	begin := time.Now()
	runs := runWhilePosting(t, d, p, 4, jq, "-o", reports, "access")
	p.stop(t)
	if len(folders) > 0 {
		// A file a time roll made is listed once it is compressed: the
		// last records roll at the next boundary (1 s); the final run
		// must find that file too.
		sleepToNextSecond(time.Now())
		time.Sleep(100 * time.Millisecond)
		d.waitCompressed(t, append([]string{d.logs}, folders...)...)
	}
	runs = append(runs, mustRunScript(t, d, jq, "-o", reports, "access"))
	elapsed := time.Since(begin)

	processed := 0 // a name can come back once its file is deleted: count them all
	for _, r := range runs {
		processed += len(r.processed())
	}
	got := map[int]int{}
	total := 0
	rep := reportFiles(t, reports)
	for name, text := range rep {
		for _, l := range lines(text) {
			if strings.HasPrefix(l, "#") {
				continue
			}
			f := strings.Split(l, "\t")
			status, err1 := strconv.Atoi(f[0])
			n, err2 := strconv.Atoi(f[len(f)-1])
			if len(f) != 2 || err1 != nil || err2 != nil {
				t.Fatalf("report %s: line %q is not STATUS<TAB>COUNT", name, l)
			}
			got[status] += n
			total += n
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(p.byStatus) {
		t.Errorf("requests per status over all reports %v, want what was acknowledged %v", got, p.byStatus)
	}
	if total != p.count() {
		t.Errorf("%d records counted in the reports, %d acknowledged", total, p.count())
	}
	if len(rep) != processed {
		t.Errorf("%d reports for %d files the runs said they processed", len(rep), processed)
	}
	checkCronFolder(t, d, p, folders...)
	t.Logf("%s: %d runs over %v processed %d files (%d records) into %d reports",
		mode, len(runs), elapsed.Round(time.Millisecond), processed, total, len(rep))
}

// killMidFile runs the cron script with args and a -x command that
// blocks (blockCmd, marking mark), and kills the run with its children
// (SIGKILL) once it is processing a claimed file.
func killMidFile(t *testing.T, ctx context.Context, d *daemon, mark string, args ...string) {
	t.Helper()
	c := scriptCmd(t, ctx, d, true, append([]string{"-x", blockCmd(mark, mark+".never")}, args...)...)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if _, err := os.Stat(mark); err != nil {
			return "the run has not started processing a file"
		}
		return ""
	})
	if err := syscall.Kill(-c.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.Wait()
}

// blockCmd is a -x command that creates marker, waits (at most 10 s)
// until release exists, then copies the file as its report.
func blockCmd(marker, release string) string {
	return fmt.Sprintf(`touch %q; i=0; while [ ! -e %q ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; cat`, marker, release)
}

// TestCronExactlyOnce archives each rolled file as its report (-x cat), so
// that every record can be followed: while records keep arriving, runs of
// the script follow each other; one run holds the lock while another starts
// (which must do nothing and exit 0); one run is killed (SIGKILL, with its
// children) in the middle of a file, and the next run finishes that file.
// In the end every acknowledged record is in exactly one report.
func TestCronExactlyOnce(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, cronConf()))
	reports := filepath.Join(dir, "reports")
	args := []string{"-o", reports, "-x", "cat", "access"}
	p := startCronPoster(d)
	defer p.stop(t)

	runs := runWhilePosting(t, d, p, 3, true, args...)

	// The lock: A holds it while processing a file; B starts then.
	p.waitNew(t)
	markA, releaseA := filepath.Join(dir, "a.started"), filepath.Join(dir, "a.release")
	ctx, cancel := context.WithTimeout(context.Background(), scriptLimit)
	defer cancel()
	a := scriptCmd(t, ctx, d, true, "-o", reports, "-x", blockCmd(markA, releaseA), "access")
	var aOut, aErr bytes.Buffer
	a.Stdout, a.Stderr = &aOut, &aErr
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if _, err := os.Stat(markA); err != nil {
			return "run A has not started processing a file"
		}
		return ""
	})
	b := runScript(t, d, true, args...)
	if b.code != 0 || !strings.Contains(b.stderr, "another run holds") || len(b.processed()) != 0 {
		t.Errorf("a run started while another holds the lock: want exit 0, nothing processed and a note on stderr: %v", b)
	}
	if err := os.WriteFile(releaseA, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := a.Wait(); err != nil {
		t.Fatalf("run A: %v\nstdout:\n%s\nstderr:\n%s", err, aOut.String(), aErr.String())
	}
	runs = append(runs, runResult{stdout: aOut.String(), stderr: aErr.String()})

	// A crash: C is killed while it processes a claimed file.
	p.waitNew(t)
	killMidFile(t, ctx, d, filepath.Join(dir, "c.started"), "-o", reports, "access")
	claims, _ := filepath.Glob(filepath.Join(d.logs, ".access.log.*.claim"))
	if len(claims) != 1 {
		t.Fatalf("after killing run C: claims %q, want the one it was processing", claims)
	}

	next := mustRunScript(t, d, true, args...)
	// The claim is .NAME.RUNID.claim; the run prints NAME's path.
	name := strings.TrimPrefix(filepath.Base(claims[0]), ".")
	name = name[:strings.Index(name, ".old.")+len(".old")]
	if !strings.Contains(next.stdout, "processed "+filepath.Join(d.logs, name)+" -> ") {
		t.Errorf("the run after the crash did not finish %s: %v", name, next)
	}
	runs = append(runs, next)
	runs = append(runs, runWhilePosting(t, d, p, 2, true, args...)...)
	p.stop(t)
	runs = append(runs, mustRunScript(t, d, true, args...))

	// Every acknowledged record in exactly one report, nothing else there.
	seen := map[int]int{}
	idRE := regexp.MustCompile(`id[=":]+(\d+)`)
	rep := reportFiles(t, reports)
	for name, text := range rep {
		for _, l := range lines(text) {
			m := idRE.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("report %s: %q is not a posted record", name, l)
			}
			id, _ := strconv.Atoi(m[1])
			seen[id]++
		}
	}
	lost, dup, unknown := 0, 0, 0
	for id := range p.acked {
		switch seen[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	for id := range seen {
		if !p.acked[id] {
			unknown++
		}
	}
	if lost+dup+unknown > 0 {
		t.Errorf("of %d acknowledged records %d are in no report and %d in more than one; %d records in reports were never acknowledged",
			len(p.acked), lost, dup, unknown)
	}
	files, names := 0, map[string]int{}
	for _, r := range runs {
		files += len(r.processed())
		for _, path := range r.processed() {
			names[path]++
		}
	}
	reused := 0 // rolled names the daemon gave again after their file was processed
	for _, n := range names {
		reused += n - 1
	}
	if files != len(rep) {
		t.Errorf("the runs said they processed %d files; %d reports", files, len(rep))
	}
	checkCronFolder(t, d, p)
	t.Logf("%d runs (one locked out, one killed and finished by the next): %d records in %d reports, each once; %d rolled names came back after their file was processed",
		len(runs)+2, len(p.acked), len(rep), reused)
}

// TestCronCommandNamesItsOutput: a -x command is told the rolled file's
// name, where it was listed and where its output goes (LOGROLL_NAME,
// LOGROLL_PATH, LOGROLL_REPORT), and -s gives the saved output a suffix
// that says what it is: docs/from-logrotate.md's recipe, -x 'gzip -c' -s
// .gz, leaves one valid gzip file per rolled file, named after it and
// ending in .gz, whose content is the rolled file's.
func TestCronCommandNamesItsOutput(t *testing.T) {
	if _, err := exec.LookPath("gzip"); err != nil {
		t.Skip("gzip is not installed: the archive recipe is not tested here")
	}
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{Logs: []string{"access", "other"}}.toml()))

	// The environment, as the command sees it.
	d.postText(t, "access", "GET / 200", "GET /x 404")
	env := filepath.Join(dir, "env")
	r := mustRunScript(t, d, true, "-o", env, "-x", `printf '%s\n%s\n%s\n' "$LOGROLL_NAME" "$LOGROLL_PATH" "$LOGROLL_REPORT"; true`, "access")
	processed := r.processed()
	reports, _ := filepath.Glob(filepath.Join(env, "*"))
	if len(processed) != 1 || len(reports) != 1 {
		t.Fatalf("want one file processed into one report: %v\nreports %q", r, reports)
	}
	name := filepath.Base(processed[0])
	want := name + "\n" + filepath.Join(d.logs, name) + "\n" + reports[0] + "\n"
	if got := readFile(t, reports[0]); got != want || !strings.HasPrefix(filepath.Base(reports[0]), name+".") {
		t.Errorf("the command saw %q, want LOGROLL_NAME, LOGROLL_PATH and LOGROLL_REPORT %q", got, want)
	}

	// The gzip archive recipe, for two logs.
	d.postText(t, "access", "GET /a 200", "GET /b 500")
	d.postText(t, "other", "something else")
	archive := filepath.Join(dir, "archive")
	r = mustRunScript(t, d, false, "-o", archive, "-x", "gzip -c", "-s", ".gz")
	if len(r.processed()) != 2 {
		t.Fatalf("want the two rolled files processed: %v", r)
	}
	files, _ := filepath.Glob(filepath.Join(archive, "*"))
	contents := map[string]string{}
	for _, f := range files {
		base := filepath.Base(f)
		m := regexp.MustCompile(`^((access|other)\.log\.e2ehost\.\d{8}\.\d{2}h\d{2}m\d{2}s-\d{8}\.\d{2}h\d{2}m\d{2}s(?:\.\d+)?\.old)\.\d+-\d+\.gz$`).FindStringSubmatch(base)
		if m == nil {
			t.Errorf("%s in the archive is not NAME.RUNID.gz of a rolled file", base)
			continue
		}
		out, err := exec.Command("gzip", "-dc", f).Output()
		if err != nil {
			t.Errorf("gzip -dc %s: %v", base, err)
		}
		contents[m[2]] = string(out)
	}
	if contents["access"] != "GET /a 200\nGET /b 500\n" || contents["other"] != "something else\n" {
		t.Errorf("archived contents %q, want each log's records", contents)
	}
	if left, _ := filepath.Glob(filepath.Join(d.logs, "*.old")); len(left) != 0 {
		t.Errorf("rolled files left in the log folder: %q", left)
	}

	if r := runScript(t, d, true, "-s", "a/b"); r.code != 2 {
		t.Errorf("-s with a '/': want exit 2: %v", r)
	}
}

// TestCronClaimInRolledFolder kills a run of the script while it processes
// a gzipped file of a rolled folder (-x cat: the report is the file as
// stored): its claim is left next to the file, in the rolled folder, and
// the next run finishes it there; the report is the compressed file, whole.
func TestCronClaimInRolledFolder(t *testing.T) {
	needCompressTools(t)
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{Extra: "rolled_compression = \"gzip\"\nrolled_dir = \"archive\"\n"}.toml()))
	arch := filepath.Join(d.logs, "archive")
	reports := filepath.Join(dir, "reports")
	body := d.postParts(t, "access", accessRecords("c", 2000))
	ctx, cancel := context.WithTimeout(context.Background(), scriptLimit)
	defer cancel()
	killMidFile(t, ctx, d, filepath.Join(dir, "started"), "-o", reports, "access")
	claims, _ := filepath.Glob(filepath.Join(arch, ".access.log.*.old.gz.*.claim"))
	if len(claims) != 1 {
		t.Fatalf("claims in %s after the kill: %q, want one", arch, claims)
	}
	next := mustRunScript(t, d, true, "-o", reports, "-x", "cat", "-n", "access")
	name := strings.TrimPrefix(filepath.Base(claims[0]), ".")
	name = name[:strings.Index(name, ".old.gz.")+len(".old.gz")]
	if !strings.Contains(next.stdout, "processed "+filepath.Join(arch, name)+" -> ") {
		t.Fatalf("the next run did not finish %s in %s: %v", name, arch, next)
	}
	reps, _ := filepath.Glob(filepath.Join(reports, name+".*.report"))
	if len(reps) != 1 {
		t.Fatalf("reports %q, want one for %s", reps, name)
	}
	gz := filepath.Join(dir, "report.gz")
	if err := os.Link(reps[0], gz); err != nil {
		t.Fatal(err)
	}
	if got := stockDecompress(t, gz); !bytes.Equal(got, body) {
		t.Errorf("the report decompresses to %d bytes, not the %d posted", len(got), len(body))
	}
	if h := compressingFiles(t, arch); len(h) > 0 {
		t.Errorf("left in %s: %q", arch, h)
	}
}
