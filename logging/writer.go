package logging

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"
)

// logFile is one declared log: its accept side (guarded by acc.mu) and its
// writer (owned by the log's goroutine).
type logFile struct {
	c      *Collator
	name   string // active name, e.g. "access.log"
	path   string // absolute path of the active file
	stats  counters
	active active // size and START of the active file, for Stats
	acc    accepter
	work   chan struct{} // capacity 1: "there is work" (coalescing)
	done   chan struct{} // closed when the writer goroutine has exited
	w      *writer
}

// writer is the state owned by a log's writer goroutine: the open file and
// what is known of it. Nothing else touches it once the goroutine runs.
type writer struct {
	c *Collator
	l *logFile

	f       *os.File  // the active file; nil after a failed (re)creation
	size    int64     // bytes in the active file
	records int64     // records this process wrote into the active file
	start   time.Time // START of the active file (see prepare)
	dirty   bool      // written (or inherited unsynced) since the last fsync
	pol     Policy    // policy snapshot of the current batch

	// Size and records of the active file at the last acknowledgement: what
	// a failed fsync at DurabilitySync cuts the file back to.
	ackedSize, ackedRecords int64

	retry    rollRetry // a failed time or size roll to try again (retry.go)
	rolledAt time.Time // a roll awaits finishRoll; its END
	timer    *time.Timer
	armed    time.Time // what timer is set for; zero when stopped

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

	wb writeback // bytes awaiting an early writeback (writeback.go)

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
		w.queueRetry()
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
		w.arm(earliest(wake, w.retry.at))
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
			if w.pol.SizeReached(size) && w.retry.at.IsZero() {
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
		switch {
		case o.retry:
			res.rolled, res.err = w.doRetry(o.at)
		case o.cause == CauseTime:
			// A time roll follows the policy whose boundary it is, even if
			// Apply changed it since (see setPolicy).
			cur := w.pol
			w.pol = o.pol
			res.rolled, res.err = w.roll(o.cause, o.at)
			w.pol = cur
		default:
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
