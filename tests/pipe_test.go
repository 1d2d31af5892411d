package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// `logrollctl pipe LOG` (docs/pipe.md) with a real program writing into it,
// as Apache httpd's CustomLog "|…" runs it: through a period of exhausted
// log space (503) and a restart of logrolld, every line arrives once, in
// order; with no daemon at all, the pipe holds 16 MiB and then stops
// reading, so the writer blocks, and delivers everything once a daemon
// starts.

// pipeProducer is a shell loop writing n numbered lines, pausing 50 ms
// every 200 lines, into logrollctl pipe.
func pipeProducer(ctx context.Context, config string, n int) (*exec.Cmd, *syncBuffer) {
	script := fmt.Sprintf(`i=0
while [ $i -lt %d ]; do
  echo "pipe line $i GET /index.html 200 the quick brown fox"
  i=$((i+1))
  if [ $((i %% 200)) -eq 0 ]; then sleep 0.05; fi
done | %q -config %q pipe access`, n, ctlBin, config)
	cmd := exec.CommandContext(ctx, "sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// startPipeProducer starts pipeProducer with a minute to run, and returns
// its output and a function that waits for its end and fails the test
// unless it exited 0 within that minute.
func startPipeProducer(t *testing.T, config string, n int) (*syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel) // kills what is left of it at the test's end
	cmd, out := pipeProducer(ctx, config, n)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	return out, func() {
		t.Helper()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("the producer and its pipe: %v\n%s", err, out)
			}
		case <-ctx.Done():
			t.Fatalf("the pipe did not finish\n%s", out)
		}
	}
}

// pipeCheck checks that access.log's files hold lines 0..n-1 once each, in
// order.
func pipeCheck(t *testing.T, d *daemon, n int) {
	t.Helper()
	var got []string
	for _, path := range d.filesOf(t, "access.log") {
		got = append(got, lines(readFile(t, path))...)
	}
	for i := range n {
		want := fmt.Sprintf("pipe line %d GET /index.html 200 the quick brown fox", i)
		if i >= len(got) {
			t.Fatalf("%d lines on disk, want %d", len(got), n)
		}
		if got[i] != want {
			t.Fatalf("line %d is %q, want %q: lost, duplicated or out of order", i+1, got[i], want)
		}
	}
	if len(got) != n {
		t.Fatalf("%d lines on disk, want %d", len(got), n)
	}
}

// TestPipeThroughRestart runs a shell loop writing 20,000 lines into
// `logrollctl pipe access` for about five seconds while the log space is
// exhausted (503) and freed, and logrolld is stopped with SIGTERM and
// started again: the pipe exits 0 at the loop's end, and every line is on
// disk once, in order.
func TestPipeThroughRestart(t *testing.T) {
	const n = 20000
	dir := tempDir(t)
	path := writeConfig(t, dir, exhaustibleConf("access", "filler"))
	d := startDaemon(t, path)
	out, finished := startPipeProducer(t, path, n)

	d.waitWritten(t, "access.log", 1000, waitLimit)
	// A 503 period.
	d.exhaust(t, "filler")
	before := d.metricOr0(t, "proxy.process.log.ingest.requests", "status", "503")
	eventually(t, func() string {
		if d.metricOr0(t, "proxy.process.log.ingest.requests", "status", "503") < before+3 {
			return "the pipe has not been refused three times"
		}
		return ""
	})
	held := d.written(t, "access.log")
	d.removeRolled(t, "filler.log")
	eventually(t, func() string {
		if d.written(t, "access.log") <= held {
			return "the pipe has not delivered since the space came back"
		}
		return ""
	})
	// A restart.
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, waitLimit); code != 0 {
		t.Fatalf("logrolld exited %d", code)
	}
	time.Sleep(500 * time.Millisecond) // lines pile up in the pipe
	d2 := startDaemon(t, path)
	finished()
	pipeCheck(t, d2, n)
	for _, want := range []string{"logrolld answered 503", "not reachable"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("logrollctl pipe did not say %q:\n%s", want, out)
		}
	}
}

// TestPipeBounded starts `logrollctl pipe access` with no daemon and writes
// 64 MiB into it: it reads about 16 MiB and stops (the writer blocks),
// holding no more than that; once logrolld starts, everything is written
// and the pipe exits 0.
func TestPipeBounded(t *testing.T) {
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{MaxBodyMB: 4, RollingEnabled: `"size"`, SizeMB: 16}.toml())
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctlBin, "-config", path, "pipe", "access")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := startProc(t, cmd)
	line := []byte(strings.Repeat("m", 1023) + "\n")
	chunk := bytes.Repeat(line, 64) // 64 KiB
	const total = 64 << 20
	var written atomic.Int64
	wrote := make(chan error, 1)
	go func() {
		for written.Load() < total {
			if _, err := stdin.Write(chunk); err != nil {
				wrote <- err
				return
			}
			written.Add(int64(len(chunk)))
		}
		wrote <- stdin.Close()
	}()
	// Wait until the writer is blocked: nothing more written for 300 ms.
	var stuck int64 = -1
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		n := written.Load()
		if n == stuck {
			break
		}
		if time.Now().After(deadline) || n >= total {
			t.Fatalf("the writer was not blocked: %d bytes written with no daemon", n)
		}
		stuck = n
	}
	hwm := p.hwm(t)
	t.Logf("with no daemon the writer blocked after %.1f MiB; logrollctl VmHWM %.1f MiB", float64(stuck)/mib, float64(hwm)/mib)
	// 16 MiB held, plus what the kernel's pipe holds (logrollctl asks for
	// 1 MiB) and the buffer being filled (one request, 960 KiB).
	if stuck > 18*mib {
		t.Errorf("%d bytes accepted from the writer with no daemon, over the 16 MiB buffer", stuck)
	}
	if hwm > 48*mib && !raceBuild() {
		t.Errorf("logrollctl VmHWM %.1f MiB", float64(hwm)/mib)
	}
	d := startDaemon(t, path)
	if err := <-wrote; err != nil {
		t.Fatalf("write: %v", err)
	}
	deadline, _ := ctx.Deadline()
	if code := p.wait(t, time.Until(deadline)); code != 0 {
		t.Fatalf("logrollctl pipe exited %d\n%s", code, p.stderr)
	}
	if n := d.written(t, "access.log"); n != total/1024 {
		t.Errorf("%d lines written, want %d", n, total/1024)
	}
	if !strings.Contains(p.stderr.String(), "not reachable") {
		t.Errorf("logrollctl pipe did not say the daemon was not reachable:\n%s", p.stderr)
	}
}

// TestPipeThroughKill9 kills logrolld six times while a shell loop writes
// 20,000 lines into `logrollctl pipe access`, each time right after it
// wrote to access.log (most often before the pipe read the answer), and
// starts it again: nothing is lost; a line is on disk twice only when the
// pipe said it sent again a request the daemon went away without
// answering, and at most as many lines as it said (at least once,
// docs/pipe.md); with the repeats left out, the lines are in order.
func TestPipeThroughKill9(t *testing.T) {
	const n = 20000
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	d := startDaemon(t, path)
	out, finished := startPipeProducer(t, path, n)
	d.waitWritten(t, "access.log", 500, waitLimit)
	active := filepath.Join(d.logs, "access.log")
	for range 6 {
		d.killOn(t, d.logs, 2*waitLimit, func(ev fsnotify.Event) bool {
			return ev.Name == active && ev.Has(fsnotify.Write)
		})
		d.wait(t, waitLimit)
		d = startDaemon(t, path)
	}
	finished()
	said := 0 // lines the pipe said it sent again unanswered
	for _, m := range unansweredLine.FindAllStringSubmatch(out.String(), -1) {
		k, _ := strconv.Atoi(m[1])
		said += k
	}
	seen := make([]int, n)
	next, twice := 0, 0
	for _, path := range d.filesOf(t, "access.log") {
		for _, l := range lines(readFile(t, path)) {
			var i int
			if _, err := fmt.Sscanf(l, "pipe line %d GET", &i); err != nil || i < 0 || i >= n {
				t.Fatalf("unexpected line %q", l)
			}
			if seen[i]++; seen[i] > 1 {
				twice++
				continue
			}
			if i != next {
				t.Fatalf("line %d is the first of %d, want line %d: lost or out of order", i, i, next)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("lines 0..%d on disk, want 0..%d", next-1, n-1)
	}
	if twice > said {
		t.Errorf("%d lines on disk twice, but the pipe said it sent %d again unanswered:\n%s", twice, said, out)
	}
	t.Logf("%d lines sent again unanswered, %d on disk twice", said, twice)
}

// unansweredLine is the pipe's warning of a request sent again after the
// daemon went away without answering it.
var unansweredLine = regexp.MustCompile(`went away without answering a request of (\d+) lines`)

// TestPipeStderrClosed: a pipe whose standard error nobody reads any more
// (Apache's ErrorLog is itself a piped logger that was restarted) is not
// killed by SIGPIPE at its first warning, which would lose every line it
// holds: with no daemon at first, it warns, holds the lines, and delivers
// them once one starts, exiting 0.
func TestPipeStderrClosed(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // every write to the pipe's stderr now fails with EPIPE
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ctlBin, "-config", path, "pipe", "access")
	cmd.Stdin = strings.NewReader("first line\nsecond line\n")
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	time.Sleep(500 * time.Millisecond) // it finds no daemon and says so
	d := startDaemon(t, path)
	if err := <-done; err != nil {
		t.Fatalf("logrollctl pipe with its stderr closed: %v", err)
	}
	if got := lines(readFile(t, filepath.Join(d.logs, "access.log"))); !slices.Equal(got, []string{"first line", "second line"}) {
		t.Errorf("access.log holds %q", got)
	}
}

// TestPipeNameNoConfigCanDeclare: logrollctl pipe refuses at once, with exit
// 2, a log no configuration can declare (a rolled file's suffix, Traffic
// Server's stdout), instead of waiting for ever for a reload that would
// declare it; a name that could be declared later is waited for as before.
func TestPipeNameNoConfigCanDeclare(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"access.old", "access.log.old", "stdout", "stderr"} {
		r := runCtl(t, "-socket", filepath.Join(tempDir(t), "none.sock"), "pipe", name)
		if r.code != 2 || !strings.Contains(r.stderr, "no configuration can declare that log") {
			t.Errorf("pipe %s: %v, want exit 2 and why", name, r)
		}
	}
}
