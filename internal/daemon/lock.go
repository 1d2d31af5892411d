package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
type dirLock struct{ f *os.File }

// lockDir creates dir if needed and takes its lock without waiting.
func lockDir(dir string) (*dirLock, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
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
	return &dirLock{f: f}, nil
}

// release drops the lock; the file stays (removing it would race with a
// daemon starting at that moment).
func (l *dirLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}
