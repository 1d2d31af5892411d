package ctl

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// SocketName is the admin socket's name inside local_state_dir (docs/design.md §4):
// the daemon listens on, and logrollctl dials, <local_state_dir>/logrolld.sock.
const SocketName = "logrolld.sock"

// ErrInUse is wrapped by Listen's error when another process answers on the
// socket: another logrolld is serving there.
var ErrInUse = errors.New("socket in use")

// maxSocketPath is the longest path a Unix socket may have on Linux: sun_path
// holds 108 bytes, the terminating NUL included.
const maxSocketPath = 107

// staleDialTimeout bounds the probe of an existing socket.
const staleDialTimeout = time.Second

// Listen listens on the Unix socket at path for the admin server.
//
// The parent folder is created (mode 0750) if missing. An existing socket at
// path is probed: if something answers, Listen fails with an error wrapping
// ErrInUse ("another logrolld is serving on PATH"); if the connection is
// refused, the socket is stale (a daemon that died) and is removed. Anything
// else at path (a regular file, a folder, a symbolic link) is refused and
// left alone.
//
// The socket is mode 0600 from the moment anyone can reach it. bind(2)
// creates the socket file with the process umask, so binding at path
// directly would leave a window where the socket is as open as the umask
// allows, and changing the umask is process-wide and racy. Listen therefore
// binds in a fresh private folder (mode 0700, created next to path so that
// it is on the same filesystem), sets the socket's mode to 0600 there, where
// no other user can reach it, and then hard-links it to path, which fails if
// path was taken meanwhile (by a daemon started at the same moment) instead
// of replacing it; where hard links are not supported it is renamed into
// place. The private folder is removed before Listen returns. Because of that
// folder, the parent's path may be up to 11 bytes shorter than the longest
// socket path (107 bytes).
//
// Closing the returned listener removes the socket file, but only if path
// still names the socket Listen created (not one of a daemon started later).
func Listen(path string) (net.Listener, error) {
	if err := checkLength(path); err != nil {
		return nil, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("ctl: listen: create socket folder: %w", err)
	}
	if err := clearStale(path); err != nil {
		return nil, err
	}

	tmpDir, err := mkPrivateDir(dir)
	if err != nil {
		return nil, fmt.Errorf("ctl: listen: %w", err)
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "s")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: tmp, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("ctl: listen: %w", err)
	}
	ul.SetUnlinkOnClose(false) // the socket moves to path; Close removes it there
	fail := func(err error) (net.Listener, error) {
		ul.Close()
		return nil, err
	}
	if err := os.Chmod(tmp, 0o600); err != nil {
		return fail(fmt.Errorf("ctl: listen: %w", err))
	}
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fail(fmt.Errorf("ctl: listen: %s appeared while starting (another logrolld starting at the same time?): %w", path, ErrInUse))
		}
		// A filesystem without hard links: rename, which replaces whatever
		// appeared at path since clearStale.
		if err := os.Rename(tmp, path); err != nil {
			return fail(fmt.Errorf("ctl: listen: %w", err))
		}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return fail(fmt.Errorf("ctl: listen: %w", err))
	}
	return &listener{UnixListener: ul, path: path, fi: fi}, nil
}

// privateDirLen is the length of a private folder's name (mkPrivateDir:
// ".lr" and 6 hex digits), and tmpSocketExtra what the temporary socket's
// path adds to its folder's: "/" + that name + "/s".
const (
	privateDirLen  = 9
	tmpSocketExtra = 1 + privateDirLen + 2
)

// checkLength refuses a socket path that Listen could not bind: longer than
// a Unix socket allows, or in a folder too long for the temporary socket
// bound next to it.
func checkLength(path string) error {
	if len(path) > maxSocketPath {
		return fmt.Errorf("ctl: listen: socket path %s is %d bytes, longer than the %d a Unix socket allows", path, len(path), maxSocketPath)
	}
	if dir := filepath.Dir(path); len(dir)+tmpSocketExtra > maxSocketPath {
		return fmt.Errorf("ctl: listen: socket folder %s is too long for a Unix socket (the path of a temporary socket next to it would be %d bytes, at most %d)", dir, len(dir)+tmpSocketExtra, maxSocketPath)
	}
	return nil
}

// CheckPath reports what would make Listen(path) fail before it binds,
// without changing anything: a path too long for a Unix socket (or for the
// temporary socket bound next to it), or something at path that is not a
// socket (Listen never removes a regular file, a folder or a symbolic
// link). A socket at path is not a problem: a stale one is removed, and one
// that answers is another daemon, which Listen reports as ErrInUse. Whether
// the folder can be created is not checked here.
func CheckPath(path string) error {
	if err := checkLength(path); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return nil // nothing there (a folder that is a file is found elsewhere)
	case err != nil:
		return fmt.Errorf("ctl: listen: %w", err)
	case fi.Mode().Type() != fs.ModeSocket:
		return notSocket(path, fi.Mode())
	}
	return nil
}

// notSocket is the error for something other than a socket at path.
func notSocket(path string, m fs.FileMode) error {
	return fmt.Errorf("ctl: listen: %s exists and is not a socket (%s); remove it or choose another local_state_dir", path, describeMode(m))
}

// clearStale checks what is at path: nothing, or a stale socket that it
// removes; anything else is an error.
func clearStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("ctl: listen: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return notSocket(path, fi.Mode())
	}
	conn, err := net.DialTimeout("unix", path, staleDialTimeout)
	if err == nil {
		conn.Close()
		return fmt.Errorf("ctl: listen: another logrolld is serving on %s: %w", path, ErrInUse)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // removed meanwhile
		}
		// A timeout means a listener too busy to accept: in use too.
		return fmt.Errorf("ctl: listen: probe existing socket %s: %w: %w", path, err, ErrInUse)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ctl: listen: remove stale socket: %w", err)
	}
	return nil
}

// mkPrivateDir creates a folder of mode 0700 with a short random name in dir.
func mkPrivateDir(dir string) (string, error) {
	for range 100 {
		var b [3]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		p := filepath.Join(dir, ".lr"+hex.EncodeToString(b[:]))
		err := os.Mkdir(p, 0o700)
		if err == nil {
			// The umask can only remove bits; make sure of the exact mode.
			return p, os.Chmod(p, 0o700)
		}
		if !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("create private socket folder: %w", err)
		}
	}
	return "", fmt.Errorf("create private socket folder in %s: too many names taken", dir)
}

func describeMode(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "mode " + m.String()
}

// listener is the admin socket: it removes its file on Close if the file is
// still the socket it created.
type listener struct {
	*net.UnixListener
	path string
	fi   fs.FileInfo

	once sync.Once
	err  error
}

// Close closes the socket and removes its file, once; later calls return the
// first call's result.
func (l *listener) Close() error {
	l.once.Do(func() {
		l.err = l.UnixListener.Close()
		if fi, err := os.Lstat(l.path); err == nil && os.SameFile(fi, l.fi) {
			if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) && l.err == nil {
				l.err = fmt.Errorf("ctl: remove socket: %w", err)
			}
		}
	})
	return l.err
}

// Addr returns the socket's path (not the temporary name it was bound under).
func (l *listener) Addr() net.Addr {
	return &net.UnixAddr{Name: l.path, Net: "unix"}
}
