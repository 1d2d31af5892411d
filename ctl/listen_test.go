package ctl_test

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logroll/logroll/ctl"
)

// shortDir returns a temporary folder with a short path: Unix socket paths
// are limited to 107 bytes, which t.TempDir can exceed.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func listen(t *testing.T, path string) net.Listener {
	t.Helper()
	l, err := ctl.Listen(path)
	if err != nil {
		t.Fatalf("Listen(%s): %v", path, err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestListenMode(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "run", "logrolld.sock")
	l := listen(t, path)

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("socket mode = %v, want a socket of mode 0600", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode().Perm()&^0o750 != 0 {
		t.Errorf("socket folder mode = %v, want at most 0750", di.Mode().Perm())
	}
	if got := l.Addr().String(); got != path {
		t.Errorf("Addr = %q, want %q", got, path)
	}
	// The private folder the socket was bound in is gone.
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("socket folder holds %v, want the socket only", entries)
	}
	// It accepts connections under its final name.
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			c.Close()
		}
		done <- err
	}()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there after Close: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestListenInUse(t *testing.T) {
	path := filepath.Join(shortDir(t), "s.sock")
	listen(t, path)
	_, err := ctl.Listen(path)
	if !errors.Is(err, ctl.ErrInUse) {
		t.Fatalf("second Listen = %v, want ErrInUse", err)
	}
	if !strings.Contains(err.Error(), "another logrolld is serving on "+path) {
		t.Errorf("error %q does not say who serves where", err)
	}
	// The live socket is left alone.
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("live socket broken by the refused Listen: %v", err)
	}
	c.Close()
}

func TestListenStale(t *testing.T) {
	path := filepath.Join(shortDir(t), "s.sock")
	// A socket left by a daemon that died: bound, never unlinked, closed.
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("stale socket missing: %v", err)
	}
	listen(t, path)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("new socket: %v %v", fi, err)
	}
}

func TestListenRefusesNonSocket(t *testing.T) {
	dir := shortDir(t)
	for name, make := range map[string]func(string) error{
		"regular": func(p string) error { return os.WriteFile(p, []byte("keep me"), 0o600) },
		"folder":  func(p string) error { return os.Mkdir(p, 0o700) },
		"symlink": func(p string) error { return os.Symlink("elsewhere", p) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			if err := make(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(path)
			l, err := ctl.Listen(path)
			if err == nil {
				l.Close()
				t.Fatal("Listen took over a non-socket")
			}
			if errors.Is(err, ctl.ErrInUse) || !strings.Contains(err.Error(), "not a socket") {
				t.Errorf("error = %v", err)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) {
				t.Errorf("%s changed: %v", path, err)
			}
		})
	}
	if data, _ := os.ReadFile(filepath.Join(dir, "regular")); string(data) != "keep me" {
		t.Errorf("regular file content = %q", data)
	}
}

func TestListenCloseKeepsOthersSocket(t *testing.T) {
	dir := shortDir(t)
	path := filepath.Join(dir, "s.sock")
	l, err := ctl.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	// Someone removed our socket and another daemon took the name.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	l2 := listen(t, path)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Fatalf("Close removed another listener's socket: %v", err)
	}
	l2.Close()
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket still there: %v", err)
	}
}

func TestListenTooLong(t *testing.T) {
	path := filepath.Join(shortDir(t), strings.Repeat("x", 120))
	if _, err := ctl.Listen(path); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Fatalf("Listen = %v, want a path-too-long error", err)
	}
}

// TestCheckPath checks that CheckPath refuses exactly what Listen refuses
// before binding, and creates nothing: a path or a folder too long for a
// socket, or something at the path that is not a socket. Nothing there, a
// folder not created yet, and a stale socket are fine.
func TestCheckPath(t *testing.T) {
	dir := shortDir(t)
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "folder"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "stale.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	// A folder whose temporary socket would be one byte too long.
	longDir := filepath.Join(dir, strings.Repeat("d", 107-12-len(dir)))
	for _, tc := range []struct {
		path string
		want string // "" for no problem
	}{
		{filepath.Join(dir, "new.sock"), ""},
		{filepath.Join(dir, "not", "yet", "x.sock"), ""},
		{stale, ""},
		{filepath.Join(dir, "file"), "is not a socket (a regular file)"},
		{filepath.Join(dir, "folder"), "is not a socket (a folder)"},
		{filepath.Join(dir, "link"), "is not a socket (a symbolic link)"},
		{filepath.Join(dir, strings.Repeat("x", 120)), "longer than"},
		{filepath.Join(longDir, "s"), "too long for a Unix socket"},
		{filepath.Join(longDir[:len(longDir)-1], "s"), ""},
	} {
		err := ctl.CheckPath(tc.path)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("CheckPath(%s) = %v, want nil", tc.path, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("CheckPath(%s) = %v, want %q", tc.path, err, tc.want)
		}
		if tc.want != "" {
			if _, lerr := ctl.Listen(tc.path); lerr == nil || !strings.Contains(lerr.Error(), tc.want) {
				t.Errorf("Listen(%s) = %v, want the same refusal %q", tc.path, lerr, tc.want)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "not")); err == nil {
		t.Error("CheckPath created a folder")
	}
}
