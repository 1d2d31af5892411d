package tests

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// checkServes checks that d takes a record and rolls it, and that it is
// the process answering on its socket. It returns the rolled file.
func (d *daemon) checkServes(t *testing.T, record string) string {
	t.Helper()
	if st := d.status(t); st.PID != d.pid() {
		t.Errorf("status answered by pid %d, want the daemon's %d", st.PID, d.pid())
	}
	d.postText(t, "access", record)
	paths := d.roll(t, "access")
	if len(paths) != 1 {
		t.Fatalf("roll printed %q, want one path", paths)
	}
	if got := readFile(t, paths[0]); !strings.HasSuffix(got, record+"\n") {
		t.Errorf("rolled file %q does not end with %q", got, record)
	}
	return paths[0]
}

// TestAdminSocket checks the admin socket's life (docs/design.md §3): mode 0600,
// one daemon per socket and per log folder, a stale socket replaced.
func TestAdminSocket(t *testing.T) {
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	d := startDaemon(t, path)
	sock := filepath.Join(dir, "run", ctl.SocketName)
	if d.socket != sock {
		t.Errorf("daemon announced socket %s, want %s (local_state_dir relative to the config)", d.socket, sock)
	}
	fi, err := os.Lstat(sock)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("mode 0600", func(t *testing.T) {
		if fi.Mode().Type() != fs.ModeSocket {
			t.Errorf("%s is %v, want a socket", sock, fi.Mode())
		}
		if perm := fi.Mode().Perm(); perm != 0o600 {
			t.Errorf("socket mode %#o, want 0600", perm)
		}
	})

	t.Run("second daemon on the same socket", func(t *testing.T) {
		d2 := launch(t, path)
		if code := d2.wait(t, waitLimit); code != 1 {
			t.Errorf("second daemon exited %d, want 1", code)
		}
		if msg := d2.stderr.String(); !strings.Contains(msg, "another logrolld") {
			t.Errorf("second daemon's stderr does not say \"another logrolld\":\n%s", msg)
		}
		if now, err := os.Lstat(sock); err != nil || !os.SameFile(fi, now) {
			t.Errorf("the first daemon's socket was replaced or removed (%v)", err)
		}
		d.checkServes(t, "first still serves after a second on its socket")
	})

	t.Run("second daemon on the same log folder", func(t *testing.T) {
		dir2 := tempDir(t)
		d2 := launch(t, writeConfig(t, dir2, conf{LogfileDir: d.logs}.toml()))
		if code := d2.wait(t, waitLimit); code != 1 {
			t.Errorf("daemon on a locked log folder exited %d, want 1", code)
		}
		if msg := d2.stderr.String(); !strings.Contains(msg, "log folder") || !strings.Contains(msg, "another logrolld") {
			t.Errorf("stderr does not say the log folder is used by another logrolld:\n%s", msg)
		}
		if _, err := os.Lstat(filepath.Join(dir2, "run", ctl.SocketName)); err == nil {
			t.Errorf("the refused daemon left its socket behind")
		}
		d.checkServes(t, "first still serves after a second on its folder")
	})

	t.Run("stale socket after SIGKILL", func(t *testing.T) {
		d.postText(t, "access", "written before the kill")
		st := d.status(t)
		if len(st.Logs) != 1 || st.Logs[0].Start.IsZero() {
			t.Fatalf("status before the kill: %+v, want access.log with a START", st.Logs)
		}
		startBefore := st.Logs[0].Start
		d.kill(t)
		if _, err := os.Lstat(sock); err != nil {
			t.Fatalf("no stale socket after SIGKILL, nothing to test: %v", err)
		}
		if r := d.tryCtl(t, "status"); r.code != 3 {
			t.Errorf("status on a stale socket: want exit 3: %v", r)
		}
		d3 := startDaemon(t, path)
		if _, err := os.Lstat(sock); err != nil {
			t.Fatalf("no socket after the restart: %v", err)
		}
		p := d3.checkServes(t, "written after the restart")
		// START survives the restart (.access.log.meta).
		if start, _ := parseRolled(t, p, d.logs, "access.log"); !start.Equal(startBefore.Truncate(time.Second)) {
			t.Errorf("file rolled after the restart has START %v, want the START from before the kill %v", start, startBefore)
		}
		if got, want := readFile(t, p), "written before the kill\nwritten after the restart\n"; got != want {
			t.Errorf("file rolled after the restart holds %q, want %q (the active file is appended to)", got, want)
		}
	})
}
