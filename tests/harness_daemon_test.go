package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// daemon is one logrolld process.
type daemon struct {
	*proc
	config string // absolute path of its records.toml ("" without -config)
	dir    string // its working directory: the config file's folder
	logs   string // its log folder (logfile_dir "logs" unless the test changed it)
	addr   string // ingest host:port, once ready
	socket string // admin socket, once ready
}

// launch starts logrolld -config path in path's folder, with env
// (KEY=VALUE, a TZ, the store's credentials) added to the test's
// environment, and returns at once.
func launch(t *testing.T, path string, env ...string) *daemon {
	t.Helper()
	cmd := exec.Command(daemonBin, "-config", path)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	return launchCmd(t, filepath.Dir(path), cmd)
}

// startDaemon is launch, then waits until the daemon is ready.
func startDaemon(t *testing.T, path string, env ...string) *daemon {
	t.Helper()
	d := launch(t, path, env...)
	d.waitReady(t)
	return d
}

// launchCmd starts cmd, which runs logrolld (itself or through an exec),
// in dir, and returns at once: for what launch cannot say (no -config, a
// umask). The log folder is taken to be dir/logs, the config the argument
// after -config.
func launchCmd(t *testing.T, dir string, cmd *exec.Cmd) *daemon {
	t.Helper()
	d := &daemon{dir: dir, logs: filepath.Join(dir, "logs")}
	for i, a := range cmd.Args {
		if a == "-config" && i+1 < len(cmd.Args) {
			d.config = cmd.Args[i+1]
		}
	}
	cmd.Dir = dir
	d.proc = startProc(t, cmd)
	return d
}

// Start-up lines (slog text) giving the ingest address and the socket.
// They are the synchronisation point of a start: the ingest address of
// http_listen "127.0.0.1:0" is known nowhere else before the socket
// answers.
var (
	addrLine   = regexp.MustCompile(`msg="logrolld ingest listening" addr=(\S+)`)
	socketLine = regexp.MustCompile(`msg="logrolld admin socket listening" socket=(\S+)`)
)

// waitReady waits for the start-up lines.
func (d *daemon) waitReady(t *testing.T) {
	t.Helper()
	eventually(t, func() string {
		out := d.stderr.String()
		a, s := addrLine.FindStringSubmatch(out), socketLine.FindStringSubmatch(out)
		if a != nil && s != nil {
			d.addr, d.socket = a[1], s[1]
			return ""
		}
		if d.hasExited() {
			t.Fatalf("logrolld exited with %d before it was ready; stderr:\n%s", d.exitCode(), out)
		}
		return "logrolld not ready"
	})
}

// stop stops the daemon with SIGTERM and fails the test unless it exits
// 0 within 5 s (docs/daemon.md).
func (d *daemon) stop(t *testing.T) {
	t.Helper()
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 5*time.Second); code != 0 {
		t.Fatalf("logrolld exited %d after SIGTERM, want 0; stderr:\n%s", code, d.stderr.String())
	}
}

// killOn watches dir and SIGKILLs the daemon at the first event fire
// accepts, within limit, and returns the event. fire is also called once
// with a zero event once the watch is set, before any event, so that it
// can start what it waits for. The kill lands within about 0.1 ms of the
// event: the file system's events are the hook a crash test kills on.
func (d *daemon) killOn(t *testing.T, dir string, limit time.Duration, fire func(ev fsnotify.Event) bool) string {
	t.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	fire(fsnotify.Event{})
	deadline := time.After(limit)
	for {
		select {
		case ev := <-w.Events:
			if fire(ev) {
				d.sigkill()
				return ev.String()
			}
		case err := <-w.Errors:
			t.Fatalf("watching %s: %v", dir, err)
		case <-d.exited:
			t.Fatalf("logrolld exited before the kill point")
		case <-deadline:
			t.Fatalf("no kill point after %v", limit)
		}
	}
}

// logLines returns the lines of the daemon's stderr so far that contain s.
// A test reads them for what the daemon says (that a fault is logged, and
// once); it waits on them only where a line is the one observable of the
// event (nothing in status, the metrics or the folder changes).
func (d *daemon) logLines(s string) []string {
	var out []string
	for _, l := range lines(d.stderr.String()) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// deletionLines returns the daemon's log lines that name path and hold
// rule=RULE (rule "" matches any rule=): how a deletion is logged.
func (d *daemon) deletionLines(path, rule string) []string {
	var out []string
	for _, l := range d.logLines("path=" + path) {
		if (rule == "" && strings.Contains(l, " rule=")) || (rule != "" && strings.Contains(l, " rule="+rule)) {
			out = append(out, l)
		}
	}
	return out
}

// checkNotDeleted fails t for each of paths whose deletion the daemon
// logged.
func (d *daemon) checkNotDeleted(t *testing.T, paths []string) {
	t.Helper()
	for _, p := range paths {
		if ls := d.deletionLines(p, ""); len(ls) > 0 {
			t.Errorf("deleted: %q", ls)
		}
	}
}

// checkUsedIs fails t unless the space manager's used space is the bytes
// of files (those still there) plus at most 4 KiB of active files.
func (d *daemon) checkUsedIs(t *testing.T, files []string) {
	t.Helper()
	var bytes int64
	for _, p := range files {
		if fi, err := os.Stat(p); err == nil {
			bytes += fi.Size()
		}
	}
	if sp := d.spaceStatus(t); sp.Used > bytes+4096 || sp.Used < bytes {
		t.Errorf("used space %d, want the rolled files' %d bytes plus the active files'", sp.Used, bytes)
	}
}

// logCount returns the number of lines of the daemon's stderr so far that
// contain s.
func (d *daemon) logCount(s string) int { return len(d.logLines(s)) }

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
