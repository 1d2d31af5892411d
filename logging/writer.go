package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"time"
)

// logFile is one declared log: its accept side (guarded by acc.mu) and its
// writer (owned by the log's goroutine).
type logFile struct {
	c     *Collator
	name  string // active name, e.g. "access.log"
	path  string // absolute path of the active file
	stats counters
	acc   accepter
	work  chan struct{} // capacity 1: "there is work" (coalescing)
	done  chan struct{} // closed when the writer goroutine has exited
	w     *writer
}

// writer is the state owned by a log's writer goroutine: the open file and
// what is known of it. Nothing else touches it once the goroutine runs.
type writer struct {
	c *Collator
	l *logFile

	f       *os.File  // the active file; nil after a failed (re)creation
	size    int64     // bytes in the active file
	records int64     // records this process wrote into the active file
	start   time.Time // START of the active file (see writeBuffer)
	dirty   bool      // written since the last fsync
	checked time.Time // last check that the file still has a link
	pol     Policy    // policy snapshot of the current batch

	rollRetry time.Time // no size roll before this after a failed one
	rolledAt  time.Time // a roll awaits finishRoll; its END
	timer     *time.Timer
	armed     time.Time // what timer is set for; zero when stopped

	items []item    // reused batch
	acks  []*buffer // written buffers awaiting acknowledgement

	writeErr, rollErr errLatch
}

// run is the writer goroutine of one log. It sleeps until there is work (a
// wake-up on l.work) or until its timer fires (next boundary or flush
// deadline), takes everything queued, writes and rolls in queue order, and
// exits after handling the log's opStop.
func (l *logFile) run() {
	defer l.c.wg.Done()
	defer close(l.done)
	w := l.w
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	defer w.timer.Stop()
	for {
		var pol Policy
		var wake time.Time
		w.items, pol, wake = l.take(w.items[:0])
		w.pol = pol
		stop := w.process(w.items)
		clear(w.items)
		if stop {
			return
		}
		w.arm(wake)
		// Let the callers just acknowledged run before sleeping or taking
		// the next batch: under load they append their next calls to the
		// current buffer first, so writes get bigger and fewer (measured:
		// ~48 KiB → ~64 KiB per write(2), +10–20% throughput on 2 cores).
		runtime.Gosched()
		select {
		case <-l.work:
		case <-w.timer.C:
			w.armed = time.Time{}
		}
	}
}

// arm sets the timer to fire at t (not polling), or stops it for a zero t.
func (w *writer) arm(t time.Time) {
	if t.Equal(w.armed) {
		return
	}
	w.armed = t
	if t.IsZero() {
		w.timer.Stop()
		return
	}
	w.timer.Reset(max(t.Sub(w.c.now()), 0))
}

// process handles one batch in order and reports whether the writer must
// exit. Buffers are acknowledged before any op and at the end of the batch;
// with DurabilitySync one fsync covers every buffer of the group. A size roll
// follows the acknowledgement of the buffer that reached the limit: its
// callers do not wait for the roll.
func (w *writer) process(items []item) (stop bool) {
	for _, it := range items {
		if b := it.buf; b != nil {
			b.err = w.writeBuffer(b)
			w.acks = append(w.acks, b)
			if b.err == nil && w.pol.SizeReached(w.size) && !b.sealed.Before(w.rollRetry) {
				// The roll instant of a size roll is the sealing of the buffer
				// that reached the limit: everything accepted before it is in
				// the file, everything after is in later buffers.
				w.ack()
				_, _ = w.roll(CauseSize, b.sealed)
				w.finishRoll()
			}
			continue
		}
		w.ack()
		if w.handle(it.op) {
			return true
		}
	}
	w.ack()
	return false
}

// handle performs one control operation and answers it.
func (w *writer) handle(o *op) (stop bool) {
	var res opResult
	switch o.kind {
	case opRoll:
		res.rolled, res.err = w.roll(o.cause, o.at)
	case opReopen:
		res.err = w.reopen(o.at)
	case opStop:
		if o.roll {
			res.rolled, res.err = w.roll(CauseReload, o.at)
		}
		if w.f != nil {
			if err := w.sync(); err != nil {
				res.err = errors.Join(res.err, fmt.Errorf("logging: close %s: %w", w.l.path, err))
			}
			if err := w.closeFile(); err != nil {
				res.err = errors.Join(res.err, fmt.Errorf("logging: close %s: %w", w.l.path, err))
			}
		}
		stop = true
	}
	if o.reply != nil {
		o.reply <- res
	}
	if !stop {
		w.finishRoll()
	}
	return stop
}

// writeBuffer writes one buffer with one write(2). A file deleted by someone
// else is noticed (at most one fstat per second) and recreated first. A failed
// or short write is cut back off the file, so that a buffer is all or nothing
// and every line stays whole.
//
// START of a file is the creation time of its first buffer: when the file is
// empty, START moves to max(buffer creation, current START) and the .meta is
// rewritten before the data. The .meta written when the file was created
// holds the roll instant, which is also a valid START (≤ every record, ≥ END
// of the previous file), so this rewrite needs no fsync.
func (w *writer) writeBuffer(b *buffer) error {
	c, l := w.c, w.l
	if err := w.ensureFile(b.created); err != nil {
		l.count(cWriteErrors, 1)
		w.writeErr.fail(c.log, "log write failed", err, "log", l.name)
		return fmt.Errorf("logging: write %s: %w", l.name, err)
	}
	if b.sealed.Sub(w.checked) >= time.Second || b.sealed.Before(w.checked) {
		w.checked = b.sealed
		w.checkLinked(b.created)
	}
	if w.size == 0 && b.created.Truncate(time.Second).After(w.start.Truncate(time.Second)) {
		w.start = b.created
		w.writeMeta(false)
	}
	n, err := w.f.Write(b.b)
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				w.size += int64(n) // could not undo: at least keep the count right
			}
		}
		l.count(cWriteErrors, 1)
		w.writeErr.fail(c.log, "log write failed", err, "log", l.name)
		return fmt.Errorf("logging: write %s: %w", l.name, err)
	}
	w.writeErr.ok(c.log, "log writes work again", "log", l.name)
	w.size += int64(n)
	w.records += b.records
	w.dirty = true
	l.count(cRecords, b.records)
	l.count(cBytes, int64(n))
	l.count(cWriteCalls, 1)
	return nil
}

// ack acknowledges every written buffer: with DurabilitySync after one fsync
// covering all of them, then one send per waiting Write call.
func (w *writer) ack() {
	if len(w.acks) == 0 {
		return
	}
	var syncErr error
	if w.c.set.Load().Durability >= DurabilitySync && w.dirty {
		if err := w.sync(); err != nil {
			syncErr = fmt.Errorf("logging: sync %s: %w", w.l.path, err)
			w.writeErr.fail(w.c.log, "log sync failed", err, "log", w.l.name)
		}
	}
	for i, b := range w.acks {
		err := b.err
		if err == nil {
			err = syncErr
		}
		for _, ch := range b.waiters {
			ch <- err
		}
		w.c.putBuffer(b)
		w.acks[i] = nil
	}
	w.acks = w.acks[:0]
}

// sync fsyncs the active file if anything was written since the last fsync.
func (w *writer) sync() error {
	if w.f == nil || !w.dirty {
		return nil
	}
	w.l.count(cSyncs, 1)
	if err := w.f.Sync(); err != nil {
		return err
	}
	w.dirty = false
	return nil
}

// ensureFile (re)creates the active file if there is none (a failed creation
// after a roll, or a recreation after deletion); START is at.
func (w *writer) ensureFile(at time.Time) error {
	if w.f != nil {
		return nil
	}
	return w.createFile(at)
}

// createFile opens the active file, creating it if needed, and writes its
// .meta with START = at (fsynced with DurabilityRoll, so that after a power
// loss the .meta never holds the previous file's START). The previous file,
// if any, must be closed already.
func (w *writer) createFile(at time.Time) error {
	f, size, err := openActive(w.l.path, w.c.set.Load().Perm)
	if err != nil {
		return err
	}
	w.f, w.size, w.records, w.dirty = f, size, 0, false
	w.c.openFiles.Add(1)
	w.start = at
	w.checked = at
	w.writeMeta(w.c.set.Load().Durability >= DurabilityRoll)
	return nil
}

// closeFile closes the active file; the writer then has no file (size 0).
func (w *writer) closeFile() error {
	if w.f == nil {
		return nil
	}
	err := w.f.Close()
	w.f, w.size, w.records, w.dirty = nil, 0, 0, false
	w.c.openFiles.Add(-1)
	return err
}

// writeMeta records the active file's START in its .meta file. A failure is
// logged, not fatal: START falls back to the file's mtime after a restart.
func (w *writer) writeMeta(sync bool) {
	p := MetaPath(w.l.path)
	if err := WriteMeta(p, Meta{CreationTime: w.start}, w.c.set.Load().Perm, sync); err != nil {
		w.c.log.Warn("cannot write log metadata", "path", p, "err", err)
	}
}

// checkLinked recreates the active file if someone deleted it (its link count
// dropped to zero), so that records go on reaching a visible file.
func (w *writer) checkLinked(at time.Time) {
	fi, err := w.f.Stat()
	if err != nil {
		return
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Nlink > 0 {
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
	f, size, err := openActive(w.l.path, w.c.set.Load().Perm)
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
	w.c.openFiles.Add(1)
	w.f, w.size, w.records, w.dirty = f, size, 0, false
	w.start, w.checked = at, at
	w.writeMeta(false)
	return nil
}

// openActive opens (creating it with perm) the active file at path for
// appending, refusing to follow a symlink planted at that path and anything
// that is not a regular file. It returns the file and its size.
func openActive(path string, perm os.FileMode) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, perm)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, 0, fmt.Errorf("%w (a symlink at the active path is refused)", err)
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, 0, err
	}
	if !fi.Mode().IsRegular() {
		_ = f.Close()
		return nil, 0, &fs.PathError{Op: "open", Path: path, Err: errors.New("not a regular file")}
	}
	return f, fi.Size(), nil
}
