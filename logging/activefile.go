package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// The active file's life cycle, in the hands of the holder of the log's
// writer token (token.go): creation, adoption, closing, its .meta, deletion
// by others, reopening. A leading Write call only readies the file for its
// write (prepare: recreating a missing or deleted file, moving an empty
// file's START); everything else happens on the writer goroutine's turn.

// ensureFile (re)creates the active file if there is none (a failed creation
// after a roll, or a recreation after deletion); START is at.
func (w *writer) ensureFile(at time.Time) error {
	if w.f != nil {
		return nil
	}
	return w.createFile(at)
}

// createFile opens the active file, creating it if needed, and writes its
// .meta with START = at. With Durability ≥ Roll the .meta is fsynced, so
// that after a power loss it never holds the previous file's START, and so
// is the folder, so that the new file's directory entry survives too (at
// DurabilitySync: before anything is acknowledged into it). The previous
// file, if any, must be closed already.
func (w *writer) createFile(at time.Time) error {
	f, size, err := w.openPath()
	if err != nil {
		return err
	}
	w.adopt(f, size, at)
	return nil
}

// openPath opens (creating it) the file at the active path, as openActive
// does; if the log folder itself is gone (someone removed it), it creates
// the folder again first (see Collator.recreateDir). A folder that someone
// else removed and created again is noticed here too (folderReplaced).
func (w *writer) openPath() (*os.File, int64, error) {
	perm := w.c.set.Load().Perm
	f, size, _, err := openActive(w.l.path, perm)
	if err != nil && errors.Is(err, fs.ErrNotExist) {
		// The folder is there again, whoever created it (this writer,
		// another log's, or someone else): open once more.
		if _, derr := w.c.recreateDir(); derr != nil {
			return nil, 0, errors.Join(err, derr)
		}
		f, size, _, err = openActive(w.l.path, perm)
	}
	if err == nil {
		w.c.folderReplaced()
	}
	return f, size, err
}

// recreateDir creates the log folder again if someone removed it, and
// reports whether it did. Writers of several logs may find it gone at once:
// one creates it and says so (once per removal), the others find it there.
// The one that created it then calls Options.OnDirRecreated (after
// releasing dirMu, so that the hook may take its own locks freely), which
// the daemon uses to take the folder lock (.logrolld.lock, which went with
// the removed folder) again and to watch the new folder.
func (c *Collator) recreateDir() (bool, error) {
	created, err := c.mkdirAgain()
	if created && c.onDirRecreated != nil {
		c.onDirRecreated()
	}
	return created, err
}

// mkdirAgain is recreateDir's part under dirMu: it creates the log folder
// if it is missing, and reports whether it did.
func (c *Collator) mkdirAgain() (bool, error) {
	c.dirMu.Lock()
	defer c.dirMu.Unlock()
	if _, err := os.Stat(c.dir); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return false, fmt.Errorf("logging: create the removed log folder %s again: %w", c.dir, err)
	}
	c.log.Warn("log folder was removed by someone else; created it again", "dir", c.dir)
	c.dirFI, _ = os.Stat(c.dir) // nil if that fails: no false "replaced" then
	if c.set.Load().Durability >= DurabilityRoll {
		if err := c.fs.syncDir(filepath.Dir(c.dir)); err != nil {
			c.log.Warn("sync of the log folder's parent failed", "dir", filepath.Dir(c.dir), "err", err)
		}
	}
	return true, nil
}

// folderReplaced notices a log folder that someone else removed and created
// again (rm -rf logs && mkdir logs) before any writer found it gone: the
// folder at the path is no longer the one this collator created or found.
// It says so once per replacement and calls Options.OnDirRecreated, as
// recreateDir does, so that the folder is locked and watched again. It runs
// when openPath opens an active file — at a roll, at the recreation of a
// deleted file, at Reopen — which is when a replaced folder first matters:
// one stat of the folder, under dirMu so that dirFI follows the folder's
// history (a stat taken before a concurrent recreateDir must not overwrite
// what it recorded).
func (c *Collator) folderReplaced() {
	c.dirMu.Lock()
	fi, err := os.Stat(c.dir)
	if err != nil {
		c.dirMu.Unlock()
		return // gone again: the next open recreates it
	}
	replaced := c.dirFI != nil && !os.SameFile(fi, c.dirFI)
	c.dirFI = fi
	c.dirMu.Unlock()
	if !replaced {
		return
	}
	c.log.Warn("log folder was replaced by someone else (removed and created again); writing into the new one", "dir", c.dir)
	if c.onDirRecreated != nil {
		c.onDirRecreated()
	}
}

// adopt makes f, of size bytes, the active file with START at, and writes
// its .meta. With Durability ≥ Roll it fsyncs the .meta and then the
// folder, for the new file's entry (on the writer goroutine's turn at
// DurabilityRoll: after the turn, see deferred.go). A non-empty file was
// not written (nor fsynced) by this writer: it is dirty, so that the next
// sync or roll fsyncs it.
func (w *writer) adopt(f *os.File, size int64, at time.Time) {
	size = w.endLine(f, size)
	w.f, w.size, w.records, w.dirty = f, size, 0, size > 0
	w.ackedSize, w.ackedRecords = size, 0
	w.c.openFiles.Add(1)
	w.start = at
	w.publish()
	if w.deferring() {
		if w.writeMeta(false) {
			w.def.metas = append(w.def.metas, metaPath(w.l.path))
		}
		w.def.dir = true
		return
	}
	durable := w.c.set.Load().Durability >= DurabilityRoll
	w.writeMeta(durable)
	if durable {
		if err := w.c.fs.syncDir(w.c.dir); err != nil {
			w.c.log.Warn("log folder sync after creating the active file failed", "dir", w.c.dir, "err", err)
		}
	}
}

// endLine makes sure f, of size bytes, ends with a newline before the log's
// records are appended to it, so that its last line and the first record
// do not merge, and returns its new size. At start-up the tail was repaired
// already (a torn last line is the log's own and is cut); a file adopted
// later was written by someone else, whose bytes are kept: a missing final
// newline is added, and said. Failures are logged; the file is adopted as
// it is.
func (w *writer) endLine(f *os.File, size int64) int64 {
	if size == 0 {
		return 0
	}
	last := make([]byte, 1)
	if _, err := f.ReadAt(last, size-1); err != nil || last[0] == '\n' {
		return size
	}
	if _, err := f.Write([]byte{'\n'}); err != nil {
		w.c.log.Warn("cannot end the last line of the adopted active file", "path", w.l.path, "err", err)
		return size
	}
	w.c.log.Warn("adopted active file did not end with a newline; added one", "path", w.l.path)
	return size + 1
}

// linkCount is fi's number of hard links, or 1 when it cannot be told.
func linkCount(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Nlink)
	}
	return 1
}

// closeFile closes the active file; the writer then has no file (size 0).
func (w *writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f, w.size, w.records, w.dirty = nil, 0, 0, false
	w.ackedSize, w.ackedRecords = 0, 0
	w.c.openFiles.Add(-1)
	w.publish()
	return err
}

// writeMeta records the active file's START in its .meta file (with sync,
// fsyncing it) and reports whether it worked. A failure is
// logged, not fatal: START falls back to the file's mtime after a restart.
func (w *writer) writeMeta(sync bool) bool {
	p := metaPath(w.l.path)
	if err := w.c.fs.writeMeta(&w.meta, p, w.metaNow(), w.c.set.Load().Perm, sync); err != nil {
		w.c.log.Warn("cannot write log metadata", "path", p, "err", err)
		return false
	}
	return true
}

// metaNow is what the .meta holds now: START, the last END and the rolled
// names produced.
func (w *writer) metaNow() metaContent {
	return metaContent{CreationTime: w.start, LastEnd: w.lastEnd, names: w.names, hasNames: true}
}

// linked reports whether the active file still has a link (someone may have
// deleted it). One fstat(2) through the file's RawConn with reused state: it
// allocates nothing. When it cannot tell, it says yes.
func (w *writer) linked() bool {
	if w.rcFile != w.f {
		rc, err := w.f.SyscallConn()
		if err != nil {
			return true
		}
		w.rc, w.rcFile = rc, w.f
	}
	if w.fstatFn == nil {
		w.fstatFn = func(fd uintptr) { w.stErr = syscall.Fstat(int(fd), &w.st) }
	}
	w.stErr = nil
	if err := w.rc.Control(w.fstatFn); err != nil || w.stErr != nil {
		return true
	}
	return w.st.Nlink > 0
}

// displaced tells whether the active file left its path: "deleted" (no
// link left) or "moved away" (still linked, elsewhere) with nothing at the
// path, "replaced" when another regular file is there (logrotate's
// `create` without a SIGUSR2, or a file someone made after deleting the
// log's); "" when the path names the open file, when what is there is not
// a regular file (a symlink, a FIFO: checkPath refuses to rename it and the
// writer never opens it) or has other links (a rolled file linked back:
// adopting it would append to a finished .old, so checkPath refuses it
// too), or when that cannot be told. One lstat (and an
// fstat when the path is empty or another file); rolls call it before
// renaming the path, so that they neither fail, and retry, for ever on a
// path that is gone nor rename a file whose records are not the log's.
// Writes check only the link count (checkLinked): records follow a moved
// file until a roll or Reopen, as logrotate's move-then-SIGUSR2 needs.
//
// A regular file found at the active path is adopted, and the log's
// records appended to it, wherever the writer opens that path: start-up
// (which first cuts a torn last line and takes START from the .meta),
// recreation after a deletion, Reopen, and a roll that finds the file
// replaced (adopt ends a foreign last line with a newline, never cutting
// it). Symlinks and other non-regular files are refused everywhere.
func (w *writer) displaced() string {
	if w.f == nil {
		return ""
	}
	at, err := os.Lstat(w.l.path)
	if err == nil {
		if !at.Mode().IsRegular() || linkCount(at) > 1 {
			return "" // checkPath refuses it
		}
		if cur, err := w.f.Stat(); err != nil || os.SameFile(at, cur) {
			return ""
		}
		return "replaced"
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if !w.linked() {
		return "deleted"
	}
	return "moved away"
}

// checkLinked recreates the active file if someone deleted it (its link count
// dropped to zero), so that records go on reaching a visible file.
func (w *writer) checkLinked(at time.Time) {
	if w.linked() {
		return
	}
	w.c.log.Warn("active log file was deleted; recreating it", "path", w.l.path)
	_ = w.closeFile()
	w.l.count(cRecreated, 1)
	if err := w.createFile(at); err != nil {
		w.writeErr.fail(w.c.log, "cannot recreate active log file", err, "log", w.l.name)
	}
}

// reopen closes the active file and opens the file now at its path, creating
// it if it was moved away (external rotation, SIGUSR2). If the path still
// names the same file, nothing changes; otherwise the new file starts at at.
func (w *writer) reopen(at time.Time) error {
	f, size, err := w.openPath()
	if err != nil {
		return fmt.Errorf("logging: reopen %s: %w", w.l.name, err)
	}
	if w.f != nil {
		oldFi, err1 := w.f.Stat()
		newFi, err2 := f.Stat()
		if err1 == nil && err2 == nil && os.SameFile(oldFi, newFi) {
			_ = f.Close()
			return nil
		}
		if err := w.sync(); err != nil {
			w.c.log.Warn("sync of moved log file failed", "path", w.l.path, "err", err)
		}
		_ = w.closeFile()
	}
	w.adopt(f, size, at)
	return nil
}

// openActive opens (creating it with perm) the active file at path for
// appending, refusing to follow a symlink planted at that path and anything
// that is not a regular file. It returns the file, its size and whether it
// created it.
//
// A file it creates gets perm exactly, whatever the process umask, as the
// .meta does (replaceMeta): logfile_perm is what the operator asked for, and
// a rolled file keeps its active file's mode. An existing file keeps its
// mode.
func openActive(path string, perm os.FileMode) (f *os.File, size int64, created bool, err error) {
	f, created, err = openOrCreate(path, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, false, fmt.Errorf("%w (a symlink at the active path is refused)", err)
		}
		return nil, 0, false, err
	}
	fail := func(err error) (*os.File, int64, bool, error) {
		_ = f.Close()
		if created {
			_ = os.Remove(path)
		}
		return nil, 0, false, err
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	if !fi.Mode().IsRegular() {
		return fail(&fs.PathError{Op: "open", Path: path, Err: errors.New("not a regular file")})
	}
	if created && fi.Mode().Perm() != perm.Perm() {
		// The umask took bits off perm.
		if err := f.Chmod(perm.Perm()); err != nil {
			return fail(err)
		}
	}
	return f, fi.Size(), created, nil
}

// openOrCreate opens the file at path for appending without following a
// symlink, creating it with perm if it does not exist, and reports whether
// it created it. O_EXCL tells the two apart: a name that exists (a symlink
// included) fails the exclusive creation and is then opened with
// O_NOFOLLOW; a file removed between the two attempts is created again.
func openOrCreate(path string, perm os.FileMode) (f *os.File, created bool, err error) {
	return openOrCreateFlags(path, os.O_RDWR|os.O_APPEND, perm)
}

// openOrCreateFlags is openOrCreate with the access flags (os.O_RDWR, …)
// as a parameter.
func openOrCreateFlags(path string, access int, perm os.FileMode) (f *os.File, created bool, err error) {
	flags := access | syscall.O_NOFOLLOW | syscall.O_CLOEXEC
	for range 3 {
		f, err = os.OpenFile(path, flags|os.O_CREATE|os.O_EXCL, perm)
		if err == nil {
			return f, true, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, false, err
		}
		f, err = os.OpenFile(path, flags, 0)
		if !errors.Is(err, fs.ErrNotExist) {
			return f, false, err
		}
	}
	return nil, false, err
}
