package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

// LockName is the lock file logrolld holds in the log folder, so that two
// daemons (with different admin sockets) never write the same files.
const LockName = ".logrolld.lock"

// ErrFolderLocked is wrapped by Start's error when another process holds the
// log folder's lock.
var ErrFolderLocked = errors.New("log folder in use by another logrolld")

// dirLock is an exclusive flock(2) on <dir>/.logrolld.lock, released by the
// kernel when the process dies, so a crash leaves no stale lock.
//
// The lock file goes with the folder when someone removes it; the collator
// creates the folder again at its next write, and the daemon then calls
// retake (from a writer goroutine) to lock the new folder. mu serialises
// retake with release (Shutdown).
type dirLock struct {
	dir string
	mu  sync.Mutex
	f   *os.File // nil once released
}

// lockDir creates dir if needed and takes its lock without waiting.
func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	f, err := flockIn(dir)
	if err != nil {
		return nil, err
	}
	return &dirLock{dir: dir, f: f}, nil
}

// flockIn opens (creating it) dir's lock file and locks it without
// waiting. Another process holding it is an error wrapping ErrFolderLocked.
func flockIn(dir string) (*os.File, error) {
	path := filepath.Join(dir, LockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock log folder: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", path, ErrFolderLocked)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return f, nil
}

// retake locks the log folder again after it was removed and created anew
// (the lock file held so far went with the removed folder): it locks a new
// .logrolld.lock in the folder, then closes the old one, and reports true.
// If that fails — an error wrapping ErrFolderLocked when another process
// took the new folder's lock first — the old descriptor is kept and the
// error returned. The lock file now in the folder being the one already
// held changes nothing (false, nil); so does a call after release. It does
// not wait for another process's lock.
func (l *dirLock) retake() (bool, error) {
	if l == nil {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return false, nil
	}
	path := filepath.Join(l.dir, LockName)
	if at, err := os.Lstat(path); err == nil {
		if held, err := l.f.Stat(); err == nil && os.SameFile(at, held) {
			return false, nil
		}
	}
	f, err := flockIn(l.dir)
	if err != nil {
		return false, err
	}
	old := l.f
	l.f = f
	_ = old.Close() // its file was removed with the old folder
	return true, nil
}

// release drops the lock; the file stays (removing it would race with a
// daemon starting at that moment).
func (l *dirLock) release() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
