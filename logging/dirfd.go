package logging

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// A rolled file's job (job.go) names its files relative to an open folder,
// not by path: the helpers here. A folder moved while the job waits or
// runs (mv logs logs.old && mkdir logs, an archive folder moved by hand)
// is followed, and the job finished where the folder now is.

// openDir opens the folder at path for a job: read-only, a folder, not
// through a symbolic link at its last component.
func openDir(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openAt opens the file of path's base name in the folder dfd, never
// through a symbolic link.
func openAt(dfd int, path string, flags int, perm uint32) (*os.File, error) {
	fd, err := unix.Openat(dfd, filepath.Base(path), flags|unix.O_CLOEXEC|unix.O_NOFOLLOW, perm)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// existsAt reports whether the folder dfd holds a file of path's base
// name.
func existsAt(dfd int, path string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dfd, filepath.Base(path), &st, unix.AT_SYMLINK_NOFOLLOW) == nil
}

// createTempAt creates a new file in the folder dfd (whose path was dir)
// named prefix and random digits, as os.CreateTemp does.
func createTempAt(dfd int, dir, prefix string) (*os.File, error) {
	for try := 0; ; try++ {
		name := filepath.Join(dir, prefix+strconv.FormatUint(uint64(rand.Uint32()), 10))
		f, err := openAt(dfd, name, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL, 0o600)
		if err == nil || !errors.Is(err, fs.ErrExist) || try == 100 {
			return f, err
		}
	}
}

// renameNoReplaceAt renames the file old of the folder dfd to new in the
// same folder unless new exists (renameat2 RENAME_NOREPLACE): a final name
// never replaces a file. On a filesystem without it, it checks first (a
// narrow race).
func renameNoReplaceAt(dfd int, old, new string) error {
	err := unix.Renameat2(dfd, old, dfd, new, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		var st unix.Stat_t
		if serr := unix.Fstatat(dfd, new, &st, unix.AT_SYMLINK_NOFOLLOW); serr == nil {
			return unix.EEXIST
		}
		return unix.Renameat(dfd, old, dfd, new)
	}
	return err
}

// procPath is a path that names the open folder d itself, wherever it is
// now (the /proc/self/fd link, which the kernel resolves to the open
// folder, not to a path looked up again): what fsOps.syncDir opens to
// fsync the folder a job holds.
func procPath(d *os.File) string {
	return "/proc/self/fd/" + strconv.Itoa(int(d.Fd()))
}

// movedDir reports whether the open folder d is no longer at dir, the path
// it was opened at: dir now names nothing, or another folder (someone made
// a new one there). Only then is where meaningful: where the folder is now
// (read from /proc; "" when that cannot be read). Any other failure to
// look dir up is not taken for a move.
func movedDir(d *os.File, dir string) (where string, moved bool) {
	fi, err := d.Stat()
	if err != nil {
		return "", false
	}
	cur, err := os.Stat(dir)
	switch {
	case err == nil && os.SameFile(fi, cur):
		return "", false
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", false
	}
	now, err := os.Readlink(procPath(d))
	if err != nil || !filepath.IsAbs(now) || now == dir || strings.HasSuffix(now, " (deleted)") {
		return "", true // removed, or where it went cannot be read
	}
	return now, true
}

// removedDir reports whether the open folder d was removed (no link to it
// is left).
func removedDir(d *os.File) bool {
	fi, err := d.Stat()
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && st.Nlink == 0
}

// lineCounter counts the newlines read through it: the records of a
// rolled file whose roll a crash interrupted.
type lineCounter struct {
	r io.Reader
	n int64
}

func (lc *lineCounter) Read(p []byte) (int, error) {
	n, err := lc.r.Read(p)
	lc.n += int64(bytes.Count(p[:n], []byte{'\n'}))
	return n, err
}
