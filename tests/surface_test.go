package tests

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

// Attack surface (issue 7, docs/reliability.md "Attack surface"): who can
// reach what. The admin socket is the only way to change the daemon's
// state and only its owner may connect; the ingest port only appends
// records to declared logs; ingest listens on loopback by default; the
// files the daemon creates get logfile_perm; a symlink planted at an active
// file's path is never followed.

// nobodyID is the uid and gid the socket test connects as.
const nobodyID = 65534

// dialAs connects to the Unix socket at path with the filesystem uid and
// gid set to id on one OS thread, which the kernel uses for the socket
// file's permission check (and which drops root's CAP_DAC_OVERRIDE). The
// goroutine keeps its thread locked and exits, so the thread is discarded
// rather than reused with the changed ids.
func dialAs(id int, path string) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETFSGID, uintptr(id), 0, 0); e != 0 {
			errc <- fmt.Errorf("setfsgid: %w", e)
			return
		}
		if _, _, e := syscall.RawSyscall(syscall.SYS_SETFSUID, uintptr(id), 0, 0); e != 0 {
			errc <- fmt.Errorf("setfsuid: %w", e)
			return
		}
		fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer syscall.Close(fd)
		errc <- syscall.Connect(fd, &syscall.SockaddrUnix{Name: path})
	}()
	return <-errc
}

// umaskCmd runs logrolld with args under umask, through
// sh -c 'umask U && exec logrolld ARGS' (the pid is then logrolld's).
func umaskCmd(umask int, args ...string) *exec.Cmd {
	script := fmt.Sprintf(`umask %03o && exec "$0" "$@"`, umask)
	return exec.Command("/bin/sh", append([]string{"-c", script, daemonBin}, args...)...)
}

// ownerOf returns the uid and gid of path (not following a symlink).
func ownerOf(t *testing.T, path string) (uid, gid uint32) {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return st.Uid, st.Gid
}

// TestSurfaceAdminSocket checks that the admin socket is mode 0600 and
// owned by the daemon's user and group, and, when the test runs as root,
// that another user cannot connect to it even where the folders above it
// let them through (and can, as a control, once its mode is opened).
func TestSurfaceAdminSocket(t *testing.T) {
	dir := tempDir(t)
	// Folders anyone may traverse, so that only the socket's own mode
	// stands between another user and the daemon.
	if err := os.Mkdir(filepath.Join(dir, "run"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	fi, err := os.Lstat(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != fs.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket %s is %v, want a socket of mode 0600", d.socket, fi.Mode())
	}
	uid, gid := ownerOf(t, d.socket)
	puid, pgid := d.ids(t)
	if uid != puid || gid != pgid {
		t.Errorf("admin socket owned by %d:%d, want the daemon's %d:%d", uid, gid, puid, pgid)
	}
	if os.Geteuid() != 0 {
		t.Log("not root: the connection as another user is not tried")
		return
	}
	if err := dialAs(nobodyID, d.socket); !errors.Is(err, syscall.EACCES) {
		t.Errorf("connect to the admin socket as uid %d: %v, want EACCES", nobodyID, err)
	}
	// Control: the refusal above is the socket's mode, nothing else.
	if err := os.Chmod(d.socket, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := dialAs(nobodyID, d.socket); err != nil {
		t.Errorf("control: connect as uid %d to the socket opened to 0666: %v, want success", nobodyID, err)
	}
	if err := os.Chmod(d.socket, 0o600); err != nil {
		t.Fatal(err)
	}
	d.status(t)
}

// ingestProbe is one request to the ingest port.
type ingestProbe struct{ method, path string }

// TestSurfaceIngestChangesNothing sends every method to every path an
// attacker might try on the ingest port (the admin API's paths, pprof,
// expvar, reload/roll/shutdown guesses, the logs endpoint with other
// methods and traversals) and checks that only GET/HEAD /healthz,
// GET/HEAD /metrics and POST /v1/logs/{declared} succeed, and that
// afterwards nothing rolled, reloaded or changed: the log folder is as it
// was (the one POST had an empty body), no roll and no reload counted.
func TestSurfaceIngestChangesNothing(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	d.postText(t, "access", "a record that a roll would move")
	before := snapshot(t, d.logs)
	statusBefore := d.ctl(t, "config", "status").stdout

	paths := []string{
		"/", "/v1", "/v1/", "/v1/roll", "/v1/roll?log=access", "/v1/config", "/v1/config/reload",
		"/v1/metrics", "/v1/status", "/v1/rolled", "/v1/reopen", "/v1/shutdown", "/v1/stop",
		"/roll", "/reload", "/reopen", "/shutdown", "/quit", "/admin", "/config",
		"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/heap", "/debug/pprof/goroutine?debug=2",
		"/debug/vars", "/metrics", "/healthz", "/healthz/", "/metrics/",
		"/v1/logs", "/v1/logs/", "/v1/logs/access", "/v1/logs/access.log", "/v1/logs/access/roll",
		"/v1/logs/access?roll=1", "/v1/logs/../roll", "/v1/logs/..%2Froll", "/v1/logs/%2e%2e/%2e%2e/v1/roll",
		"//v1/roll", "/V1/ROLL", "/v1/roll/", "/./v1/roll", "/v1/logs/../../v1/config/reload",
	}
	methods := []string{"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "ROLL"}
	allowed := map[ingestProbe]bool{
		{"GET", "/healthz"}: true, {"HEAD", "/healthz"}: true,
		{"GET", "/metrics"}: true, {"HEAD", "/metrics"}: true,
		{"POST", "/v1/logs/access"}: true, {"POST", "/v1/logs/access.log"}: true,
		{"POST", "/v1/logs/access?roll=1"}: true, // the query is ignored: a POST of nothing
	}
	client := &http.Client{
		Timeout:       waitLimit,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	for _, p := range paths {
		for _, m := range methods {
			hr, err := http.NewRequest(m, "http://"+d.addr+p, nil)
			if err != nil {
				t.Fatalf("%s %s: %v", m, p, err)
			}
			resp, err := client.Do(hr)
			if err != nil {
				t.Errorf("%s %s: %v", m, p, err)
				continue
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			ok := resp.StatusCode >= 200 && resp.StatusCode < 400
			switch {
			case allowed[ingestProbe{m, p}] && !ok:
				t.Errorf("%s %s: %d %.200s, want success", m, p, resp.StatusCode, body)
			case !allowed[ingestProbe{m, p}] && ok:
				t.Errorf("%s %s: %d %.200s, want an error status (not served on the ingest port)", m, p, resp.StatusCode, body)
			case !ok && strings.Contains(string(body), "profile:"):
				t.Errorf("%s %s: the body looks like pprof output: %.200s", m, p, body)
			}
		}
	}
	// CONNECT and OPTIONS * cannot be sent by the client above. net/http
	// answers OPTIONS * itself, 200 with an empty body: harmless.
	if a := sendRaw(t, d.addr, []byte("CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n"), false, waitLimit); a.err == nil && a.status < 400 {
		t.Errorf("CONNECT: %d %.200s, want an error status", a.status, a.body)
	}
	if a := sendRaw(t, d.addr, []byte("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), false, waitLimit); a.err != nil || a.body != "" {
		t.Errorf("OPTIONS *: %d %q %v, want net/http's empty answer", a.status, a.body, a.err)
	}

	if diff := snapshotDiff(before, snapshot(t, d.logs)); diff != "" {
		t.Errorf("the log folder changed: %s", diff)
	}
	if got := d.ctl(t, "rolled").stdout; got != "" {
		t.Errorf("rolled files after the probes:\n%s", got)
	}
	if got := d.ctl(t, "config", "status").stdout; got != statusBefore {
		t.Errorf("config status changed by the probes:\nbefore:\n%s\nafter:\n%s", statusBefore, got)
	}
	for _, m := range []string{"proxy.process.log.config.reload_successes", "proxy.process.log.config.reload_failures"} {
		if v := d.metric(t, m); v != 0 {
			t.Errorf("%s %d after the probes, want 0", m, v)
		}
	}
	if d.hasExited() {
		t.Fatalf("the daemon exited during the probes")
	}
}

// TestSurfaceIngestLoopback checks where ingest listens: the embedded
// default http_listen is a loopback address; a daemon started with no
// -config listens on 127.0.0.1:8480 and on no other TCP or UDP socket
// (skipped if that fixed port is taken on this machine); a test daemon
// (127.0.0.1:0) also has exactly one listener, on loopback.
func TestSurfaceIngestLoopback(t *testing.T) {
	def := records.Defaults().Str(records.HTTPListen)
	host, _, err := net.SplitHostPort(def)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		t.Errorf("embedded default http_listen %q is not a loopback address", def)
	}

	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	if got := d.netSockets(t); len(got) != 1 || got[0] != "tcp "+d.addr || !strings.HasPrefix(d.addr, "127.0.0.1:") {
		t.Errorf("daemon with http_listen 127.0.0.1:0 has sockets %q, want only tcp %s on loopback", got, d.addr)
	}

	t.Run("no -config", func(t *testing.T) {
		dir := tempDir(t)
		d := launchCmd(t, dir, exec.Command(daemonBin))
		// Until the start-up line, an exit may be a port taken by another
		// program (skip), not a failure of the test.
		eventually(t, func() string {
			if addrLine.MatchString(d.stderr.String()) {
				return ""
			}
			if d.hasExited() {
				if strings.Contains(d.stderr.String(), "address already in use") {
					t.Skipf("127.0.0.1:8480 is taken on this machine: %s", d.stderr.String())
				}
				t.Fatalf("logrolld without -config exited %d:\n%s", d.exitCode(), d.stderr.String())
			}
			return "logrolld without -config not ready"
		})
		d.waitReady(t)
		if d.addr != def {
			t.Errorf("ingest on %s, want the default %s", d.addr, def)
		}
		if got := d.netSockets(t); len(got) != 1 || got[0] != "tcp 127.0.0.1:8480" {
			t.Errorf("daemon on the embedded defaults has sockets %q, want only tcp 127.0.0.1:8480", got)
		}
		if want := filepath.Join(dir, "run", ctl.SocketName); d.socket != want {
			t.Errorf("socket %s, want %s", d.socket, want)
		}
		d.signal(t, syscall.SIGTERM)
		if code := d.wait(t, waitLimit); code != 0 {
			t.Errorf("exit %d after SIGTERM, want 0", code)
		}
	})
}

// TestSurfaceFilePerm checks that every file the daemon creates in the log
// folder (the active file, its .meta, the rolled file, also after a roll
// creates the next active file) has exactly logfile_perm, whatever the
// umask (0, and 027, which would take bits off a plain open(2)); the lock
// file is 0600.
func TestSurfaceFilePerm(t *testing.T) {
	for _, tc := range []struct {
		umask int
		perm  string
		want  fs.FileMode
	}{
		{0, `"rw-r-----"`, 0o640},
		{0o27, `"rw-rw-r--"`, 0o664},
		{0o22, `"0600"`, 0o600},
	} {
		t.Run(fmt.Sprintf("umask %03o perm %s", tc.umask, tc.perm), func(t *testing.T) {
			dir := tempDir(t)
			path := writeConfig(t, dir, conf{Extra: "logfile_perm = " + tc.perm + "\n"}.toml())
			d := launchCmd(t, dir, umaskCmd(tc.umask, "-config", path))
			d.waitReady(t)
			d.postText(t, "access", "one")
			rolled := d.roll(t)
			if len(rolled) != 1 {
				t.Fatalf("roll printed %q, want one path", rolled)
			}
			d.postText(t, "access", "two")
			files := snapshot(t, d.logs)
			for _, name := range []string{"access.log", ".access.log.meta", filepath.Base(rolled[0])} {
				f, ok := files[name]
				switch {
				case !ok:
					t.Errorf("%s missing from the log folder: %v", name, files)
				case !f.mode.IsRegular() || f.mode.Perm() != tc.want:
					t.Errorf("%s has mode %v, want %v", name, f.mode, tc.want)
				}
			}
			if f := files[".logrolld.lock"]; f.mode.Perm() != 0o600 {
				t.Errorf(".logrolld.lock has mode %v, want 0600", f.mode)
			}
			for name, f := range files {
				if f.mode.Perm()&0o111 != 0 && !f.mode.IsDir() {
					t.Errorf("%s is executable: %v", name, f.mode)
				}
			}
		})
	}
}

// newVictim creates a file outside the log folder that a planted symlink
// points at, and returns its path and a check that it is untouched.
func newVictim(t *testing.T) (string, func()) {
	t.Helper()
	path := filepath.Join(tempDir(t), "victim")
	const content = "the victim's own content\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	return path, func() {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Errorf("victim %s: %v", path, err)
			return
		}
		if got := readFile(t, path); got != content || !fi.ModTime().Equal(old) || fi.Mode().Perm() != 0o644 {
			t.Errorf("victim %s changed: %q, mtime %v, mode %v", path, got, fi.ModTime(), fi.Mode())
		}
	}
}

// plantSymlink replaces whatever is at link with a symlink to target.
func plantSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Remove(link); err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestSurfaceSymlinkPlanted plants symlinks to a victim file outside the
// log folder where the daemon opens or renames files, and checks the
// victim is never written, and what the daemon does instead: it refuses to
// start on a symlinked active file (exit 2, as config check does: the path,
// "symbolic link" and the log's FILE:LINE:COL in the message); it replaces a symlinked .meta (a rename over the link); and
// while running it refuses to write through or roll a symlink that
// replaced the active file (500 for the requests; the roll fails, exit 1,
// and leaves the link), then works again once the link is removed.
func TestSurfaceSymlinkPlanted(t *testing.T) {
	t.Run("active file before start", func(t *testing.T) {
		dir := tempDir(t)
		path := writeConfig(t, dir, conf{}.toml())
		logs := filepath.Join(dir, "logs")
		if err := os.Mkdir(logs, 0o755); err != nil {
			t.Fatal(err)
		}
		victim, untouched := newVictim(t)
		plantSymlink(t, victim, filepath.Join(logs, "access.log"))
		d := launch(t, path)
		if code := d.wait(t, waitLimit); code != 2 {
			t.Errorf("exit %d with a symlink at the active path, want 2", code)
		}
		msg := d.stderr.String()
		if !strings.Contains(msg, path+":") || !strings.Contains(msg, filepath.Join(logs, "access.log")) || !strings.Contains(msg, "symbolic link") {
			t.Errorf("stderr does not name the active path and the symlink:\n%s", msg)
		}
		untouched()
		if fi, err := os.Lstat(filepath.Join(logs, "access.log")); err != nil || fi.Mode().Type() != fs.ModeSymlink {
			t.Errorf("the planted link was not left as it was: %v %v", fi, err)
		}
	})

	t.Run("meta before start", func(t *testing.T) {
		dir := tempDir(t)
		path := writeConfig(t, dir, conf{}.toml())
		logs := filepath.Join(dir, "logs")
		if err := os.Mkdir(logs, 0o755); err != nil {
			t.Fatal(err)
		}
		victim, untouched := newVictim(t)
		meta := filepath.Join(logs, ".access.log.meta")
		plantSymlink(t, victim, meta)
		d := startDaemon(t, path)
		d.postText(t, "access", "one")
		if len(d.roll(t)) != 1 {
			t.Fatal("roll printed no path")
		}
		d.postText(t, "access", "two")
		untouched()
		if fi, err := os.Lstat(meta); err != nil || !fi.Mode().IsRegular() {
			t.Errorf(".access.log.meta is %v (%v), want a regular file replacing the link", fi.Mode(), err)
		}
	})

	t.Run("active file while running", func(t *testing.T) {
		dir := tempDir(t)
		d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
		victim, untouched := newVictim(t)
		active := filepath.Join(d.logs, "access.log")
		d.postText(t, "access", "before the roll")
		if len(d.roll(t)) != 1 {
			t.Fatal("roll printed no path")
		}

		// The new active file is replaced by a link: writes are refused
		// (the writer notices its file is gone and will not recreate it
		// through the link).
		plantSymlink(t, victim, active)
		a, err := d.do(req{log: "access", ctype: "text/plain", body: []byte("through the link?\n")})
		if err != nil || a.status != http.StatusInternalServerError {
			t.Errorf("POST with a symlink at the active path: %d %s %v, want 500", a.status, a.body, err)
		}
		untouched()
		if r := d.tryCtl(t, "roll"); r.stdout != "" {
			t.Errorf("roll with a symlink at the active path printed %q, want nothing (nothing of ours to roll)", r.stdout)
		}
		untouched()

		// The link removed, logging goes on into a new regular file.
		if err := os.Remove(active); err != nil {
			t.Fatal(err)
		}
		d.postText(t, "access", "after the link was removed")
		if got := readFile(t, active); got != "after the link was removed\n" {
			t.Errorf("access.log holds %q", got)
		}

		// A link planted while the writer still holds a written file: the
		// roll must not rename the link into a .old name; it fails, naming
		// the path, and leaves the link.
		d.postText(t, "access", "in the file the link replaces")
		plantSymlink(t, victim, active)
		r := d.tryCtl(t, "roll")
		if r.code != 1 || !strings.Contains(r.stderr, active) || !strings.Contains(r.stderr, "symlink") {
			t.Errorf("roll with a symlink at the active path: want exit 1 naming the path and the symlink: %v", r)
		}
		for _, p := range lines(r.stdout) {
			if fi, err := os.Lstat(p); err != nil || !fi.Mode().IsRegular() {
				t.Errorf("roll printed %s, which is %v (%v), want a regular file", p, fi.Mode(), err)
			}
		}
		for name, f := range snapshot(t, d.logs) {
			if f.mode.Type() == fs.ModeSymlink && name != "access.log" {
				t.Errorf("%s in the log folder is a symlink", name)
			}
		}
		untouched()
		if fi, err := os.Lstat(active); err != nil || fi.Mode().Type() != fs.ModeSymlink {
			t.Errorf("the planted link at the active path was not left in place: %v", err)
		}
		if err := os.Remove(active); err != nil {
			t.Fatal(err)
		}
		d.postText(t, "access", "after the second link was removed")
		untouched()
	})
}
