package logging

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// metaFile is a log's .meta, kept open by its writer and rewritten in
// place at every roll.
//
// replaceMeta's temporary file and rename cost five metadata operations;
// under load they took 0.3–0.6 ms of every roll, during which Write calls
// wait for the token. The content (appendMeta) is five short lines of
// fixed-width values whose length only changes in the year 2286, so one
// pwrite(2) at offset 0 replaces it; a ftruncate(2) follows only when the
// old content was longer (an edited file, or Traffic Server's
// object_signature line). A process crash cannot tear a write(2) of 130
// bytes; a power loss could at worst leave the previous content or, where
// the write straddled a sector, an unreadable file, for which Open falls
// back to the active file's modification time and to the rolled names in
// the folder, as for a missing one. At Durability ≥ Roll the content is
// fsynced before the roll's caller is answered (deferred.go). Before each
// write one lstat(2) checks that the path still names the open file.
//
// A metaFile is used by whoever holds the log's writer token.
type metaFile struct {
	f   *os.File
	buf []byte // content, reused
}

// write makes path's content "creation_time = <start>\n": it opens (or
// creates, with perm exactly) the file unless it has it open still linked,
// rewrites it, and with sync fsyncs it. A new file's folder entry is the
// caller's to fsync (adopt fsyncs the folder for the new active file
// anyway). A symlink or a non-regular file at path is refused. Errors name
// path; after one the file is opened again at the next write.
func (m *metaFile) write(path string, meta metaContent, perm os.FileMode, sync bool) error {
	if m.f != nil && !namedBy(m.f, path) {
		// Deleted, replaced, or moved away with its folder (mv logs
		// logs.old && mkdir logs): the .meta that counts is the one at path.
		m.close()
	}
	if m.f == nil {
		// O_RDWR, not O_WRONLY: opening a FIFO planted at the path for
		// writing only would block until a reader came, with the token held.
		f, created, err := openOrCreateFlags(path, os.O_RDWR, perm)
		if errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("write meta %s: %w (a symlink at the .meta path is refused)", path, err)
		}
		if err != nil {
			return fmt.Errorf("write meta %s: %w", path, err)
		}
		if err := checkMetaFile(f, perm, created); err != nil {
			_ = f.Close()
			return fmt.Errorf("write meta %s: %w", path, err)
		}
		m.f = f
	}
	m.buf = appendMeta(m.buf[:0], meta)
	if err := m.rewrite(sync); err != nil {
		m.close()
		return fmt.Errorf("write meta %s: %w", path, err)
	}
	return nil
}

// rewrite replaces the open file's content with m.buf.
func (m *metaFile) rewrite(sync bool) error {
	n, err := m.f.WriteAt(m.buf, 0)
	if err != nil {
		return err
	}
	fi, err := m.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() > int64(n) {
		if err := m.f.Truncate(int64(n)); err != nil {
			return err
		}
	}
	if sync {
		return m.f.Sync()
	}
	return nil
}

// close closes the file; the next write opens it again.
func (m *metaFile) close() {
	if m.f != nil {
		_ = m.f.Close()
		m.f = nil
	}
}

// checkMetaFile refuses anything but a regular file at the .meta path and
// gives a file it created perm exactly, whatever the umask.
func checkMetaFile(f *os.File, perm os.FileMode, created bool) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	if created && fi.Mode().Perm() != perm.Perm() {
		return f.Chmod(perm.Perm())
	}
	return nil
}

// namedBy reports whether path names the open file f: someone may have
// deleted or replaced the .meta, or moved its folder away. When it cannot
// tell, it says no, so that the file is opened again by its path.
func namedBy(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	at, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, at)
}
