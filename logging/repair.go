package logging

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// openLog opens (or creates) the active file of one log and brings it to a
// state the writer can continue from, after a clean stop or a crash:
//
//   - the file is appended to; the size counter starts at its size;
//   - a torn last line is cut (see repairTail); the file counts as not
//     fsynced (dirty), so that the next roll fsyncs it before the rename;
//   - temporary .meta files that a crash in the middle of WriteMeta left
//     are removed (RemoveMetaTemps);
//   - START comes from the .meta file; if that is missing or unreadable, from
//     the file's mtime (bounded by now) for a non-empty file, else now; it is
//     never earlier than END of this log's latest rolled file in the folder;
//   - if a boundary passed since START without a roll (the process was
//     stopped or stalled), exactly one catch-up roll happens now. Its END is
//     now: the time of the last record written by the previous process is
//     unknown, and now is the tightest bound known to be above it.
//
// The goroutine is not started; the caller does that.
//
// names is a listing of the log folder taken before (see listNames).
func (c *Collator) openLog(lc LogConfig, now time.Time, names []string) (*logFile, error) {
	path := filepath.Join(c.dir, lc.Name)
	l := &logFile{
		c:    c,
		name: lc.Name,
		path: path,
		work: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
	w := &writer{c: c, l: l, pol: lc.Policy}
	l.w = w
	f, size, err := openActive(path, c.set.Load().Perm)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("logging: log folder %s is not writable: %w", c.dir, err)
		}
		return nil, fmt.Errorf("logging: open log %s: %w", lc.Name, err)
	}
	c.openFiles.Add(1)
	w.f, w.size = f, size
	l.syncTarget.Store(f)
	// An inherited non-empty file was written by an earlier process and may
	// never have been fsynced (a crash): it is dirty, so that the catch-up or
	// a forced roll fsyncs it before the rename (Durability ≥ Roll).
	w.dirty = size > 0
	if size > 0 {
		newSize, err := repairTail(f, size)
		if err != nil {
			_ = w.closeFile()
			return nil, fmt.Errorf("logging: repair %s: %w", path, err)
		}
		if newSize != size {
			c.log.Warn("cut a torn last line left by a crash", "path", path, "bytes", size-newSize)
			w.size = newSize
		}
	}
	w.ackedSize = w.size
	if removed, err := removeMetaTemps(MetaPath(path), names); len(removed) > 0 || err != nil {
		c.log.Warn("removed temporary .meta files left by a crash", "log", l.name, "files", removed, "err", err)
	}
	w.start = c.recoverStart(l, f, w.size, now, names)
	if w.pol.CatchUp(w.start, now, c.loc) {
		if _, err := w.roll(CauseTime, now); err != nil {
			c.log.Warn("catch-up roll failed", "log", l.name, "err", err)
		}
		w.finishRoll()
	}
	w.publish()
	l.acc.pol = lc.Policy
	l.acc.next = nextBoundary(lc.Policy, now, c.loc)
	return l, nil
}

// recoverStart finds the START of an existing active file of size bytes and
// writes the .meta if it had to be reconstructed.
func (c *Collator) recoverStart(l *logFile, f *os.File, size int64, now time.Time, names []string) time.Time {
	mp := MetaPath(l.path)
	m, err := ReadMeta(mp)
	start, rewrite := m.CreationTime, false
	if err != nil {
		rewrite = true
		start = now
		if size > 0 {
			if fi, serr := f.Stat(); serr == nil && fi.ModTime().Before(now) {
				start = fi.ModTime()
			}
			if errors.Is(err, fs.ErrNotExist) {
				c.log.Warn("log metadata missing; START taken from the file's mtime", "path", mp, "start", start)
			} else {
				c.log.Warn("log metadata unreadable; START taken from the file's mtime", "path", mp, "start", start, "err", err)
			}
		}
	}
	if last := c.lastRolledEnd(l.name, names); start.Before(last) {
		start, rewrite = last, true
	}
	if rewrite {
		if err := WriteMeta(mp, Meta{CreationTime: start}, c.set.Load().Perm, false); err != nil {
			c.log.Warn("cannot write log metadata", "path", mp, "err", err)
		}
	}
	return start
}

// lastRolledEnd returns the latest END among the rolled files of log in
// names (the folder's listing), or the zero time. Only names that start
// with the log's active name are parsed.
func (c *Collator) lastRolledEnd(log string, names []string) time.Time {
	actives := c.activeNames(log)
	var last time.Time
	for _, n := range names {
		if !strings.HasPrefix(n, log) {
			continue
		}
		r, err := ParseRolledName(n, actives, c.loc)
		if err == nil && r.Active == log && r.End.After(last) {
			last = r.End
		}
	}
	return last
}

// listNames returns the names in dir, unsorted (cheaper than os.ReadDir).
func listNames(dir string) ([]string, error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	return d.Readdirnames(-1)
}

// repairChunk is how far repairTail reads back at a time.
const repairChunk = 64 << 10

// repairTail makes the file end with a whole line, and returns its new size.
//
// A last line without its newline can only be left by a crash in the middle
// of a write(2) (or a power loss that kept part of it, possibly as NUL bytes).
// It is cut, not completed: the Write call that carried it was never
// acknowledged (acknowledgement comes after the whole buffer's write), so
// cutting loses nothing that was acknowledged; completing it with a newline
// would instead keep a truncated record that a downstream parser (JSON lines)
// would choke on. A file without any newline is cut to empty.
//
// Only the torn line is cut. The whole lines before it may belong to the same
// unacknowledged buffer, even to the same Write call: they stay. After a crash
// the records of an unacknowledged request may therefore be partly present,
// and a client that retries it may duplicate them (at-least-once for
// unacknowledged requests); acknowledged records are never cut. Telling them
// apart would need the acknowledged size recorded durably, which is not done.
func repairTail(f *os.File, size int64) (int64, error) {
	var last [1]byte
	if _, err := f.ReadAt(last[:], size-1); err != nil {
		return size, err
	}
	if last[0] == '\n' {
		return size, nil
	}
	buf := make([]byte, repairChunk)
	end := size - 1 // the last byte is known not to be '\n'
	keep := int64(0)
	for end > 0 {
		from := max(end-repairChunk, 0)
		chunk := buf[:end-from]
		if _, err := f.ReadAt(chunk, from); err != nil {
			return size, err
		}
		if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
			keep = from + int64(i) + 1
			break
		}
		end = from
	}
	if err := f.Truncate(keep); err != nil {
		return size, err
	}
	return keep, nil
}
