package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// RollCause says why a file rolled.
type RollCause int

// The roll causes, counted separately (docs/design.md §7).
const (
	// CauseTime is a roll at a time boundary, including the one catch-up roll
	// after a stall or a restart that skipped boundaries.
	CauseTime RollCause = iota
	// CauseSize is a roll because a write took the file to or past its size limit.
	CauseSize
	// CauseForced is a roll asked for through Collator.Roll.
	CauseForced
	// CauseReload is the final roll of a log removed by Collator.Apply.
	CauseReload
	numCauses
)

// String returns the cause as used in metrics and messages: "time", "size",
// "forced" or "reload".
func (c RollCause) String() string {
	switch c {
	case CauseTime:
		return "time"
	case CauseSize:
		return "size"
	case CauseForced:
		return "forced"
	case CauseReload:
		return "reload"
	}
	return fmt.Sprintf("RollCause(%d)", int(c))
}

// Rolled describes one finished file, in its final form.
type Rolled struct {
	// Log is the log's active name, e.g. "access.log".
	Log string
	// Path is the absolute path of the rolled file in its final form: the
	// .old file, or with compression the .old.gz or .old.zst file.
	Path string
	// Dir is the folder of Path: the log's rolled folder (rolled_dir).
	Dir string
	// Compression is how the file is stored: CompressionNone for a plain
	// .old file (also when compression failed and the file was published
	// uncompressed).
	Compression Compression
	// Start and End are the times in the rolled name (whole seconds, in
	// Options.Location): every record in the file was accepted at a time t with
	// Start ≤ floor(t) ≤ End.
	Start, End time.Time
	// Bytes is the file's size (compressed, with compression). RawBytes is
	// the size of what it holds: the bytes the log wrote, which a
	// compressed file decompresses to (Bytes without compression). Records
	// counts the records this process wrote into it: a file continued
	// after a restart also holds the records of earlier runs, which are not
	// counted.
	Bytes, RawBytes, Records int64
	// Cause says why it rolled.
	Cause RollCause
}

// Roll rolls the named logs now (all logs when none is named), whatever their
// mode, and waits until done. Every record accepted before the call is in the
// rolled file. It returns one Rolled per file rolled, in the order asked; a
// log with nothing to roll (an empty file, unless AllowEmpty) gives nothing.
// That includes a log whose records were all rolled already by a size or
// time roll handled just before this one: they are in that roll's file, and
// Roll returns nothing for the log.
// An unknown name fails the whole call before anything rolls. Roll failures
// (the active file stays in place) are returned joined, next to the rolls
// that worked. Roll returns once the rolled files are complete and in place
// in their final form (with DurabilityRoll, synced): for a log stored
// compressed, once its file is compressed (compress.go), with the final
// path; the new active files follow at once, before anything else is
// written. Options.OnRoll hears of each roll before Roll returns.
func (c *Collator) Roll(logs ...string) ([]Rolled, error) {
	return c.each("roll", logs, func() *op { return &op{kind: opRoll, cause: CauseForced} })
}

// each queues one op made by mk on each named log (all when none) and
// gathers the results.
func (c *Collator) each(what string, names []string, mk func() *op) ([]Rolled, error) {
	if c.closed.Load() {
		return nil, fmt.Errorf("logging: %s: %w", what, ErrClosed)
	}
	if !c.started.Load() {
		return nil, fmt.Errorf("logging: %s: %w", what, ErrNotStarted)
	}
	m := *c.logs.Load()
	all := len(names) == 0
	if all {
		names = c.Logs()
	}
	var targets []*logFile
	seen := map[string]bool{}
	for _, n := range names {
		l := m[n]
		if l == nil && all {
			continue // being added by a concurrent Apply
		}
		if l == nil {
			return nil, fmt.Errorf("logging: %s %q: %w", what, n, ErrUnknownLog)
		}
		if !seen[n] {
			seen[n] = true
			targets = append(targets, l)
		}
	}
	ops := make([]*op, len(targets))
	var errs []error
	for i, l := range targets {
		ops[i] = mk()
		ops[i].reply = make(chan opResult, 1)
		if err := l.enqueue(ops[i], nil); err != nil {
			errs = append(errs, fmt.Errorf("logging: %s %s: %w", what, l.name, err))
			ops[i] = nil
		}
	}
	var rolled []Rolled
	for _, o := range ops {
		if o == nil {
			continue
		}
		res := <-o.reply
		if res.rolled != nil {
			rolled = append(rolled, *res.rolled)
		}
		if res.err != nil {
			errs = append(errs, res.err)
		}
	}
	return rolled, errors.Join(errs...)
}

// roll performs the roll sequence on the writer's file (docs/design.md §5). It runs
// on the log's writer goroutine only, after every buffer accepted before the
// roll instant has been written and acknowledged. end is the roll instant: the
// boundary for a time roll, the sealing instant of the last buffer for a size
// roll, the request instant for a forced or reload roll, the queuing instant
// of a retry. A failed rename of a time or size roll schedules a retry (see
// retry.go); a successful one ends any pending retry.
//
// Sequence: set the file's modification time to END → fsync the file
// (DurabilitySync) → rename it, still open, to its unique rolled name, or
// to that name's hidden pending form (.<name>.raw) when it is compressed or
// published later (DurabilityRoll: publish.go) → close it → fsync the
// folder (DurabilitySync; at DurabilityRoll after the token is passed on,
// deferred.go). A rolled file in place is then complete, and the caller
// may answer whoever waits for the roll; a pending one answers when it is
// in its final form. The caller must then call finishRoll, which creates
// the new active file and its .meta (START = end) before the writer
// handles anything else.
// Renaming before closing means a failed rename needs no reopen: the file
// stays in place and open, and logging goes on into it.
//
// It returns nil, nil when there is nothing to roll: an empty file (unless
// AllowEmpty), or in mode 4 a file below the size limit at a boundary.
func (w *writer) roll(cause RollCause, end time.Time) (*Rolled, error) {
	c, l := w.c, w.l
	set := c.set.Load()
	if cause == CauseTime {
		if !w.pol.rollAtBoundary(w.size) {
			return nil, nil
		}
	} else if w.size == 0 && !w.pol.AllowEmpty {
		return nil, nil
	}
	if w.f == nil {
		if err := w.ensureFile(end); err != nil {
			return nil, fmt.Errorf("logging: roll %s: %w", l.name, err)
		}
	}
	if how := w.displaced(); how != "" {
		return nil, w.rollDisplaced(how, end)
	}
	if end.Before(w.start) {
		end = w.start // the clock stepped back: never END < START
	}
	// The modification time of a rolled file is its exact END, an instant:
	// what orders rolled files across daylight-saving and time-zone
	// changes, which their names' wall times cannot (space.OrderKey). It is
	// set before the fsync, which makes it durable with the file, and
	// before the rename, so that a .old file never shows another. A
	// failure costs only that order's precision (it then falls back to the
	// last write's time and the name).
	if err := w.setModTime(end); err != nil {
		c.log.Warn("cannot set the rolled file's modification time to its END", "path", l.path, "err", err)
	}
	// At DurabilitySync every acknowledged record is fsynced already, and
	// the file is fsynced here, under the token. At DurabilityRoll the
	// file goes to a hidden pending name and is fsynced off the write path
	// before its rolled name appears: by the publisher (publish.go), or,
	// compressed, by the compressor, whose output is what gets fsynced.
	if set.Durability >= DurabilitySync {
		if err := w.sync(); err != nil {
			// The rename still produces a correct file; it may not survive a
			// power loss. Say so and go on.
			c.log.Warn("log file sync before roll failed", "path", l.path, "err", err)
		}
	}
	pending := set.Durability == DurabilityRoll
	start := w.start.Truncate(time.Second)
	stop := end.Truncate(time.Second)
	rn := RolledName{
		Active: l.name,
		Host:   set.Hostname,
		Start:  start.In(c.loc),
		End:    stop.In(c.loc),
		Form:   set.Form,
	}
	st := l.storage()
	td := st.Dir
	if td == "" {
		td = c.dir
	}
	sw, ew := rn.walls()
	for rn.Seq = w.names.first(sw, ew); ; rn.Seq++ {
		t, err := c.taken(td, rn)
		if err != nil {
			// A folder that cannot be searched would make every name
			// look taken: the roll fails instead (the file stays).
			return nil, fmt.Errorf("logging: roll %s: rolled folder %s: %w", l.name, td, err)
		}
		if !t {
			break
		}
	}
	base := rn.String()
	rn.Compression = st.Compression
	final := filepath.Join(td, rn.String())
	dst := final // without compression or publisher, the rename gives the final form
	if st.Compression != CompressionNone || pending {
		dst = filepath.Join(td, rawName(rn.String()))
	}
	// A job finishes the file (a compression, a publication after the
	// fsyncs): it holds its folder, opened before the rename, so that a
	// folder moved from now on is followed (dirfd.go). If the rename made
	// the folder again, or someone swapped it in between, the raw file is
	// not in the one opened: the folder at the path is.
	var jd *os.File
	if dst != final {
		jd = openJobDirOrNil(td)
	}
	err := w.checkPath()
	if err == nil {
		err = c.renameInto(l.path, dst, td)
	}
	if err == nil && dst != final && (jd == nil || !existsAt(int(jd.Fd()), dst)) {
		if jd != nil {
			jd.Close()
		}
		jd = openJobDirOrNil(td)
	}
	if err != nil {
		if jd != nil {
			jd.Close()
		}
		l.count(cRollFailures, 1)
		w.retryLater(cause)
		w.rollErr.fail(c.log, "roll failed; logging goes on into the active file", err,
			"log", l.name, "cause", cause.String(), "retrying", !w.retry.at.IsZero())
		return nil, fmt.Errorf("logging: roll %s: %w", l.name, err)
	}
	w.rollErr.ok(c.log, "rolls work again", "log", l.name)
	w.retry = rollRetry{}
	w.names.add(sw, ew, rn.Seq)
	w.lastEnd = stop
	r := &Rolled{
		Log:         l.name,
		Path:        final,
		Dir:         td,
		Compression: rn.Compression,
		Start:       rn.Start,
		End:         rn.End,
		Bytes:       w.size,
		RawBytes:    w.size,
		Records:     w.records,
		Cause:       cause,
	}
	w.closeFile()
	durable := set.Durability >= DurabilityRoll
	if w.deferring() {
		w.def.dir = true
		if td != c.dir {
			w.def.rolledDir = td
		}
	} else if durable {
		for _, d := range []string{c.dir, td} {
			if err := c.fs.syncDir(d); err != nil {
				c.log.Warn("log folder sync after roll failed", "dir", d, "err", err)
			}
			if td == c.dir {
				break
			}
		}
	}
	l.count(cRollsTime+counter(r.Cause), 1)
	w.rolledAt = stop
	if st.Compression == CompressionNone && !pending {
		c.emit(*r)
		return r, nil
	}
	st.Dir = td
	j := &job{l: l, log: l.name, raw: dst, base: base, storage: st, rolled: *r, durable: durable, reply: w.waiter, dir: jd}
	w.waiter = nil // the job answers it, once the file is in its final form
	if w.deferring() {
		w.def.jobs = append(w.def.jobs, j)
	} else {
		c.submitJob(j)
	}
	return r, nil
}

// renameInto renames the active file at path to dst, in the rolled folder
// td: a folder that someone removed is created again first.
func (c *Collator) renameInto(path, dst, td string) error {
	err := c.fs.rename(path, dst)
	if err != nil && td != c.dir && errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(td); errors.Is(serr, fs.ErrNotExist) {
			if merr := os.MkdirAll(td, 0o755); merr != nil {
				return errors.Join(err, fmt.Errorf("create the rolled folder %s again: %w", td, merr))
			}
			c.log.Warn("rolled folder was removed by someone else; created it again", "dir", td)
			err = c.fs.rename(path, dst)
		}
	}
	return err
}

// taken reports whether the rolled name rn is taken in the folder td, in
// any of its forms: plain, compressed, or waiting for its compression or
// publication.
// (Names this log produced are never produced again: namestate.go. This
// skips names that files it did not produce hold.)
func (c *Collator) taken(td string, rn RolledName) (bool, error) {
	for _, comp := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
		rn.Compression = comp
		n := rn.String()
		for _, p := range []string{filepath.Join(td, n), filepath.Join(td, rawName(n))} {
			_, err := os.Lstat(p)
			switch {
			case err == nil:
				return true, nil
			case !errors.Is(err, fs.ErrNotExist):
				return false, err
			}
		}
	}
	return false, nil
}

// submitJob hands j to the compressor, or a job of a log stored
// uncompressed to the publisher, or keeps it for Start when the collator is
// not started yet (New's catch-up rolls).
func (c *Collator) submitJob(j *job) {
	if !c.started.Load() {
		c.newJobs = append(c.newJobs, j) // New: nobody else has c yet
		return
	}
	c.queueJob(j)
}

// queueJob hands j to the goroutine that finishes it.
func (c *Collator) queueJob(j *job) {
	if j.storage.Compression == CompressionNone {
		c.pub.submit(&deferred{jobs: []*job{j}})
	} else {
		c.comp.submit(j)
	}
}

// rollDisplaced handles a roll of an active file that someone deleted,
// moved away or replaced by another regular file (how, from displaced):
// there is nothing of the log's to rename — the records are where the file
// was moved, or gone with it — and the rename would fail, and be retried,
// for ever, or move someone else's file into a rolled name. It says so
// (once for this displacement), counts it with the recreations, ends any
// pending retry, and continues with START end in the file at the path, as
// Reopen does: a new one, or the replacing file, adopted. It returns the
// error for the roll's caller (not errActiveReplaced, which means refused
// and retried).
func (w *writer) rollDisplaced(how string, end time.Time) error {
	c, l := w.c, w.l
	next := "a new active file"
	if how == "replaced" {
		next = "the file now at its path, adopted"
	}
	c.log.Warn("active log file was "+how+" by someone else; nothing to roll, logging goes on in "+next,
		"log", l.name, "path", l.path, "bytes", w.size)
	l.count(cRecreated, 1)
	w.retry = rollRetry{}
	if err := w.reopen(end); err != nil {
		_ = w.closeFile() // the next write creates it (ensureFile)
		w.writeErr.fail(c.log, "cannot create active log file", err, "log", l.name)
	}
	return fmt.Errorf("logging: roll %s: the active file was %s by someone else, so its records are no longer at %s; logging goes on in %s", l.name, how, l.path, next)
}

// finishRoll completes a successful roll after its result was handed out:
// it creates the new active file, whose START starts at the roll instant and
// moves to the creation time of its first buffer (see writer.prepare), and
// its .meta, which also records the rolled name produced (nameState) and
// the roll's END. A failed creation is logged and retried at the next
// write. It does nothing when no roll is pending.
func (w *writer) finishRoll() {
	if w.rolledAt.IsZero() {
		return
	}
	at := w.rolledAt
	w.rolledAt = time.Time{}
	if err := w.createFile(at); err != nil {
		w.writeErr.fail(w.c.log, "cannot create active log file", err, "log", w.l.name)
		w.c.writeFailed(err)
	}
}

// recordsAttr is the records a roll's line reports: bytes without a
// record counted were written before this process started (a catch-up
// roll at start), and the lines are not counted from the file on the
// start path.
func recordsAttr(r Rolled) any {
	raw := r.Bytes
	if r.Compression != CompressionNone {
		raw = r.RawBytes
	}
	if r.Records == 0 && raw > 0 {
		return "unknown (written before the start)"
	}
	return r.Records
}

// emit is the one place every finished roll of a log stored uncompressed
// passes through: it logs it and reports it to Options.OnRoll — at once
// once the collator is started, and from Start for the catch-up rolls New
// makes. (A compressed one is reported by the compressor when its final
// form exists: finished.)
func (c *Collator) emit(r Rolled) {
	c.log.Info("rolled", "log", r.Log, "path", r.Path, "cause", r.Cause.String(),
		"bytes", r.Bytes, "records", recordsAttr(r))
	if c.started.Load() {
		c.reportRoll(r)
	} else {
		c.newRolls = append(c.newRolls, r) // New: nobody else has c yet
	}
}

// reportRoll calls Options.OnRoll, if set.
func (c *Collator) reportRoll(r Rolled) {
	if c.onRoll != nil {
		c.onRoll(r)
	}
}

// setModTime sets the active file's access and modification times to t,
// through the open file (futimes(2), microseconds).
func (w *writer) setModTime(t time.Time) error {
	if err := futimes(w.f, t); err != nil {
		return fmt.Errorf("set the modification time of %s: %w", w.l.path, err)
	}
	return nil
}

// errActiveReplaced is wrapped by a roll's error when the active path no
// longer names the file the writer has open: something else was put there,
// and a rename would move that into a rolled name instead of the log's
// records: a symlink, a non-regular file or a file with other hard links,
// left in place; the roll fails and is retried. (Another regular file is
// adopted as the active file instead, as Reopen does, and the roll's error
// does not wrap this.)
var errActiveReplaced = errors.New("active path no longer names the open active file")

// checkPath makes sure the active path still names the open active file
// before a roll renames it. A symlink, another non-regular file or a file
// with other hard links planted there (after the file was deleted, or moved
// away without SIGUSR2) is left alone and the roll fails with
// errActiveReplaced (another regular file was adopted by rollDisplaced
// before; one planted since is refused here too); a missing path is left to
// the rename, which fails. There is a
// window between this check and the rename in which the path can still be
// swapped; closing it would need a rename conditional on the inode, which
// Linux does not have.
func (w *writer) checkPath() error {
	at, err := os.Lstat(w.l.path)
	if err != nil {
		return nil // the rename reports it
	}
	cur, err := w.f.Stat()
	if err != nil {
		return fmt.Errorf("stat the active file: %w", err)
	}
	if os.SameFile(at, cur) {
		return nil
	}
	what := "another file"
	if at.Mode().Type() == fs.ModeSymlink {
		what = "a symlink"
	}
	return fmt.Errorf("%s is %s (the open file was deleted or moved away); not renamed: %w", w.l.path, what, errActiveReplaced)
}

// exists reports whether path exists (as anything, even a dangling
// symlink).
func exists(path string) bool {
	_, err := os.Lstat(path)
	return !errors.Is(err, fs.ErrNotExist)
}

// syncPath fsyncs the file or folder at path (opened read-only): for a
// folder, so that renames and creations in it are durable.
func syncPath(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
