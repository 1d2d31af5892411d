package logging

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"syscall"
	"time"
	"unsafe"
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
	dirty   bool      // written (or inherited unsynced) since the last fsync
	pol     Policy    // policy snapshot of the current batch

	// Size and records of the active file at the last acknowledgement: what
	// a failed fsync at DurabilitySync cuts the file back to.
	ackedSize, ackedRecords int64

	rollRetry time.Time // no size roll before this after a failed one
	rolledAt  time.Time // a roll awaits finishRoll; its END
	timer     *time.Timer
	armed     time.Time // what timer is set for; zero when stopped

	items []item    // reused batch
	group []*buffer // buffers of one write, reused
	acks  []*buffer // written buffers awaiting acknowledgement

	// writev state, reused so that writing allocates nothing.
	rc       syscall.RawConn // f's RawConn, for the file rcFile
	rcFile   *os.File
	iov      []syscall.Iovec
	iovN     int64
	iovErr   error
	writevFn func(fd uintptr) bool
	st       syscall.Stat_t // fstat result of linked, reused
	stErr    error
	fstatFn  func(fd uintptr)

	writeErr, syncErr, rollErr errLatch
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
		var again bool
		w.items, pol, wake, again = l.take(w.items[:0])
		w.pol = pol
		stop := w.process(w.items)
		clear(w.items)
		if stop {
			return
		}
		// Let the callers just acknowledged run before sleeping or taking
		// the next batch: under load they append their next calls to the
		// current buffer first, so writes get bigger and fewer (measured
		// on 2 cores, 8 callers of 100 records: ~64 KiB → ~136 KiB per
		// system call; without it the callers wait on this P's run queue).
		runtime.Gosched()
		if again {
			continue // callers wait in the current buffer
		}
		w.arm(wake)
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
// exit. Consecutive buffers are written together (see writeBuffers), up to
// and including the one that reaches the size limit. Buffers are
// acknowledged before any op and at the end of the batch; with
// DurabilitySync one fsync covers every buffer of the group. A size roll
// follows the acknowledgement of the buffer that reached the limit: its
// callers do not wait for the roll.
func (w *writer) process(items []item) (stop bool) {
	for i := 0; i < len(items); {
		if items[i].buf == nil {
			w.ack()
			if w.handle(items[i].op) {
				return true
			}
			i++
			continue
		}
		if err := w.prepare(items[i].buf); err != nil {
			items[i].buf.err = err
			w.acks = append(w.acks, items[i].buf)
			i++
			continue
		}
		// Gather the run of buffers written by one system call: it ends at
		// an op, at maxGroup buffers, or at the buffer that takes the file
		// to its size limit (later buffers belong to the next file).
		w.group = w.group[:0]
		size, roll := w.size, false
		for ; i < len(items) && items[i].buf != nil && len(w.group) < maxGroup; i++ {
			b := items[i].buf
			w.group = append(w.group, b)
			size += int64(len(b.b))
			if w.pol.SizeReached(size) && !b.sealed.Before(w.rollRetry) {
				roll = true
				i++
				break
			}
		}
		err := w.writeBuffers(w.group)
		for _, b := range w.group {
			b.err = err
		}
		w.acks = append(w.acks, w.group...)
		// The roll instant of a size roll is the sealing of the buffer that
		// reached the limit: everything accepted before it is in the file,
		// everything after is in later buffers. It is read now: ack recycles
		// the buffer, which may then be reused and resealed at once.
		end := w.group[len(w.group)-1].sealed
		clear(w.group)
		if roll && err == nil {
			w.ack()
			_, _ = w.roll(CauseSize, end)
			w.finishRoll()
		}
	}
	w.ack()
	return false
}

// maxGroup bounds the buffers written by one system call (IOV_MAX is 1024).
const maxGroup = 64

// handle performs one control operation and answers it.
func (w *writer) handle(o *op) (stop bool) {
	var res opResult
	switch o.kind {
	case opRoll:
		if o.cause == CauseTime {
			// A time roll follows the policy whose boundary it is, even if
			// Apply changed it since (see setPolicy).
			cur := w.pol
			w.pol = o.pol
			res.rolled, res.err = w.roll(o.cause, o.at)
			w.pol = cur
		} else {
			res.rolled, res.err = w.roll(o.cause, o.at)
		}
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

// prepare readies the active file for a write whose first buffer is first.
// A file deleted by someone else is noticed before the write (one fstat per
// write group, never per record) and recreated first, so that no record is
// acknowledged into an unlinked file.
//
// START of a file is the creation time of its first buffer: when the file is
// empty, START moves to max(buffer creation, current START) and the .meta is
// rewritten before the data. The .meta written when the file was created
// holds the roll instant, which is also a valid START (≤ every record, ≥ END
// of the previous file), so this rewrite needs no fsync.
func (w *writer) prepare(first *buffer) error {
	c, l := w.c, w.l
	err := w.ensureFile(first.created)
	if err == nil {
		w.checkLinked(first.created)
		err = w.ensureFile(first.created) // the recreation may have failed
	}
	if err != nil {
		l.count(cWriteErrors, 1)
		w.writeErr.fail(c.log, "log write failed", err, "log", l.name)
		return fmt.Errorf("logging: write %s: %w", l.name, err)
	}
	if w.size == 0 && first.created.Truncate(time.Second).After(w.start.Truncate(time.Second)) {
		w.start = first.created
		w.writeMeta(false)
	}
	return nil
}

// writeBuffers writes a group of buffers, in order, to the file readied by
// prepare, with one system call: write(2) for one buffer, writev(2) for
// several (a short write is resumed where it stopped). A failed write is cut
// back off the file, so that the group is all or nothing and every line
// stays whole; the error then belongs to every buffer of the group.
func (w *writer) writeBuffers(bufs []*buffer) error {
	c, l := w.c, w.l
	first := bufs[0]
	var n int64
	var err error
	if len(bufs) == 1 {
		var m int
		m, err = w.f.Write(first.b)
		n = int64(m)
	} else {
		n, err = w.writev(bufs)
	}
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				w.size += n // could not undo: at least keep the count right
			}
		}
		l.count(cWriteErrors, int64(len(bufs)))
		w.writeErr.fail(c.log, "log write failed", err, "log", l.name)
		return fmt.Errorf("logging: write %s: %w", l.name, err)
	}
	w.writeErr.ok(c.log, "log writes work again", "log", l.name)
	var records int64
	for _, b := range bufs {
		records += b.records
	}
	w.size += n
	w.records += records
	w.dirty = true
	l.count(cRecords, records)
	l.count(cBytes, n)
	l.count(cWriteCalls, 1)
	return nil
}

// writev writes bufs to the active file with writev(2), resuming after short
// writes, and returns the bytes written. The iovec array and the function
// handed to the file's RawConn are reused: it allocates nothing.
func (w *writer) writev(bufs []*buffer) (int64, error) {
	if w.rcFile != w.f {
		rc, err := w.f.SyscallConn()
		if err != nil {
			return 0, err
		}
		w.rc, w.rcFile = rc, w.f
	}
	if w.writevFn == nil {
		w.writevFn = w.writevFD
	}
	w.iov = w.iov[:0]
	for _, b := range bufs {
		if len(b.b) > 0 {
			w.iov = append(w.iov, syscall.Iovec{Base: &b.b[0], Len: uint64(len(b.b))})
		}
	}
	w.iovN, w.iovErr = 0, nil
	err := w.rc.Write(w.writevFn)
	if err == nil {
		err = w.iovErr
	}
	n := w.iovN
	clear(w.iov)
	return n, err
}

// writevFD is writev's RawConn callback: it writes w.iov to fd, resuming
// after short writes and EINTR, and leaves the count and error in w.iovN and
// w.iovErr.
func (w *writer) writevFD(fd uintptr) bool {
	iov := w.iov
	for len(iov) > 0 {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			w.iovErr = e
			return true
		}
		n := int64(r)
		if n == 0 {
			w.iovErr = io.ErrShortWrite
			return true
		}
		w.iovN += n
		for len(iov) > 0 && n >= int64(iov[0].Len) {
			n -= int64(iov[0].Len)
			iov = iov[1:]
		}
		if n > 0 {
			iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
			iov[0].Len -= uint64(n)
		}
	}
	return true
}

// ack acknowledges every written buffer: with DurabilitySync after one fsync
// covering all of them, then one send per waiting Write call.
//
// A failed fsync cuts everything written since the last acknowledgement back
// off the file before the callers get the error, so that the error means
// "not written" and a client that retries duplicates nothing. (The cut itself
// is not fsynced: after a power loss some of those records may still be there,
// as for any unacknowledged request.)
func (w *writer) ack() {
	if len(w.acks) == 0 {
		return
	}
	var syncErr error
	if w.c.set.Load().Durability >= DurabilitySync && w.dirty {
		if err := w.sync(); err != nil {
			syncErr = fmt.Errorf("logging: sync %s: %w", w.l.path, err)
			w.cutUnacked()
			var failed int64
			for _, b := range w.acks {
				if b.err == nil {
					failed++
				}
			}
			w.l.count(cWriteErrors, failed)
			w.syncErr.fail(w.c.log, "log sync failed; the records written since the last acknowledgement were cut", err, "log", w.l.name)
		} else {
			w.syncErr.ok(w.c.log, "log syncs work again", "log", w.l.name)
		}
	}
	w.ackedSize, w.ackedRecords = w.size, w.records
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

// cutUnacked truncates the active file back to its size at the last
// acknowledgement, after a failed fsync of the records written since.
func (w *writer) cutUnacked() {
	if w.f == nil || w.size <= w.ackedSize {
		return
	}
	if err := w.f.Truncate(w.ackedSize); err != nil {
		w.c.log.Warn("cannot cut unsynced records off the log file", "path", w.l.path, "err", err)
		return
	}
	w.size, w.records = w.ackedSize, w.ackedRecords
}

// sync fsyncs the active file if anything was written since the last fsync.
func (w *writer) sync() error {
	if w.f == nil || !w.dirty {
		return nil
	}
	w.l.count(cSyncs, 1)
	if err := w.c.fs.syncFile(w.f); err != nil {
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
// .meta with START = at. With Durability ≥ Roll the .meta is fsynced, so
// that after a power loss it never holds the previous file's START, and so
// is the folder, so that the new file's directory entry survives too (at
// DurabilitySync: before anything is acknowledged into it). The previous
// file, if any, must be closed already.
func (w *writer) createFile(at time.Time) error {
	f, size, err := openActive(w.l.path, w.c.set.Load().Perm)
	if err != nil {
		return err
	}
	w.adopt(f, size, at)
	return nil
}

// adopt makes f, of size bytes, the active file with START at, writes its
// .meta and, with Durability ≥ Roll, fsyncs the .meta and the folder. A
// non-empty file was not written (nor fsynced) by this writer: it is dirty,
// so that the next sync or roll fsyncs it.
func (w *writer) adopt(f *os.File, size int64, at time.Time) {
	w.f, w.size, w.records, w.dirty = f, size, 0, size > 0
	w.ackedSize, w.ackedRecords = size, 0
	w.c.openFiles.Add(1)
	w.start = at
	durable := w.c.set.Load().Durability >= DurabilityRoll
	if !w.writeMeta(durable) && durable {
		// WriteMeta fsyncs the folder after its rename; it failed, so the
		// new file's entry still needs it.
		if err := w.c.fs.syncDir(w.c.dir); err != nil {
			w.c.log.Warn("log folder sync after creating the active file failed", "dir", w.c.dir, "err", err)
		}
	}
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
	return err
}

// writeMeta records the active file's START in its .meta file (with sync,
// fsyncing it and the folder) and reports whether it worked. A failure is
// logged, not fatal: START falls back to the file's mtime after a restart.
func (w *writer) writeMeta(sync bool) bool {
	p := MetaPath(w.l.path)
	if err := w.c.fs.writeMeta(p, Meta{CreationTime: w.start}, w.c.set.Load().Perm, sync); err != nil {
		w.c.log.Warn("cannot write log metadata", "path", p, "err", err)
		return false
	}
	return true
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
	w.adopt(f, size, at)
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
