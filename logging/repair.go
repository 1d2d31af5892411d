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
//     fsynced (dirty), so that a roll at DurabilitySync fsyncs it before
//     the rename (at DurabilityRoll every rolled file is fsynced before it
//     is published: publish.go);
//   - temporary .meta files that a crash in the middle of replaceMeta left
//     are removed (removeMetaTemps);
//   - START, the last END and the rolled names produced come from the .meta
//     (see recoverStart).
//
// It performs no roll (Collator.catchUp does) and starts no goroutine. The
// files it created are remembered until the log starts, so that undoOpen
// can remove them if the opening of another log fails.
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
	st := lc.Storage
	l.store.Store(&st)
	f, size, created, err := openActive(path, c.set.Load().Perm)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("logging: log folder %s is not writable: %w", c.dir, err)
		}
		return nil, fmt.Errorf("logging: open log %s: %w", lc.Name, err)
	}
	l.created.active = created
	c.openFiles.Add(1)
	w.f, w.size = f, size
	// An inherited non-empty file was written by an earlier process and may
	// never have been fsynced (a crash): it is dirty, so that a roll at
	// DurabilitySync fsyncs it before the rename (at DurabilityRoll the
	// publisher fsyncs every rolled file).
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
	if removed, err := removeMetaTemps(metaPath(path), names); len(removed) > 0 || err != nil {
		c.log.Warn("removed temporary .meta files left by a crash", "log", l.name, "files", removed, "err", err)
	}
	c.recoverStart(l, f, w.size, now, names)
	w.publish()
	l.acc.pol = lc.Policy
	l.acc.next = nextBoundary(lc.Policy, now, c.loc)
	return l, nil
}

// undoOpen closes a log opened by openLog that will not be used (the
// opening of another log of the same New or Apply failed) and removes the
// files openLog created for it, so that nothing of it is left.
func (l *logFile) undoOpen() {
	_ = l.w.closeFile()
	l.w.meta.close()
	if l.created.active {
		_ = os.Remove(l.path)
	}
	if l.created.meta {
		_ = os.Remove(metaPath(l.path))
	}
}

// checkLogPaths checks, before anything is created, that every log's
// active path in dir is free or holds a regular file: a folder, a symlink
// or a device there would fail the log's opening after other logs were
// opened. (A .meta path that holds something else is only logged later:
// START then falls back to the file's time.) All problems are reported at
// once.
func checkLogPaths(dir string, lcs []LogConfig) error {
	var errs []error
	for _, lc := range lcs {
		p := filepath.Join(dir, lc.Name)
		fi, err := os.Lstat(p)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			errs = append(errs, fmt.Errorf("logging: log %s: %w", lc.Name, err))
		case !fi.Mode().IsRegular():
			errs = append(errs, fmt.Errorf("logging: log %s: its active path %s is %s, not a regular file", lc.Name, p, fileKind(fi.Mode())))
		}
	}
	return errors.Join(errs...)
}

// fileKind names what a mode is, for messages.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "not a regular file"
}

// recoverStart sets the writer's START, last END and rolled-name state for
// an existing active file of size bytes, and writes the .meta if it had to
// be reconstructed:
//
//   - START is the .meta's creation_time; if that is missing or unreadable,
//     the file's mtime for a non-empty file, else now. It is raised to the
//     last roll's END (rolled_end, an instant; for a .meta without the key,
//     the latest END among this host's rolled names of the log) so that
//     START(next) ≥ END(previous), and never later than now: START is a lower bound of
//     the file's first record, which is not in the future. (Only a clock
//     that stepped back across the restart makes the two bounds disagree;
//     now wins.)
//   - the rolled-name state is the .meta's merged with the names of this
//     log and host in the folder (for a .meta lost or written by Traffic
//     Server), so that no rolled name is produced twice.
//
// No rolled name's wall time is used for START: names carry no UTC offset,
// and one read under another time zone or inside a repeated hour would
// put START in the future.
func (c *Collator) recoverStart(l *logFile, f *os.File, size int64, now time.Time, names []string) {
	w := l.w
	mp := metaPath(l.path)
	m, err := readMeta(mp)
	start, rewrite := m.CreationTime, false
	if err != nil {
		rewrite = true
		l.created.meta = errors.Is(err, fs.ErrNotExist)
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
	lastEnd := m.LastEnd
	if !m.hasEnd {
		// A .meta from Traffic Server or an earlier version, or none: the
		// latest END among this host's rolled names of the log, read in
		// loc, as the bound. It may be wrong by a zone's offset, hence the
		// cap at now below. A .meta of ours says rolled_end = 0 until the
		// first roll: then no rolled name is this file's predecessor.
		lastEnd = c.lastNamedEnd(l.name, names)
	}
	if start.Before(lastEnd) {
		start, rewrite = lastEnd, true
	}
	if start.After(now) {
		c.log.Warn("START found after now (the clock went back?); using now", "path", mp, "start", start, "now", now)
		start, rewrite = now, true
	}
	ns := m.names
	ns.merge(nameStateOf(names, l.name, c.set.Load().Hostname, c.activeNames(l.name)))
	if !m.hasNames || ns != m.names {
		rewrite = true
	}
	w.start, w.lastEnd, w.names = start, m.LastEnd, ns
	if rewrite {
		if err := replaceMeta(mp, w.metaNow(), c.set.Load().Perm, false); err != nil {
			c.log.Warn("cannot write log metadata", "path", mp, "err", err)
		}
	}
}

// lastNamedEnd returns the latest END among the rolled names of log in
// names (the folder's listing) of this host, or host-less as Traffic
// Server's may be, read in the collator's zone, or the zero time. Only
// names that start with the log's active name are parsed. Another host's
// file in a shared folder says nothing of this file's START.
func (c *Collator) lastNamedEnd(log string, names []string) time.Time {
	actives := c.activeNames(log)
	host := c.set.Load().Hostname
	var last time.Time
	for _, n := range names {
		if !strings.HasPrefix(n, log) {
			continue
		}
		r, err := ParseRolledName(n, actives, host, c.loc)
		if err == nil && r.Active == log && (r.Host == host || r.Host == "") && r.End.After(last) {
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
