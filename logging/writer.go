package logging

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
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
	// store is where and how the log's rolled files are stored; Apply
	// replaces it, the next roll reads it.
	store atomic.Pointer[Storage]
	// syncTarget is the writer's active file (nil without one), for presync.
	syncTarget atomic.Pointer[os.File]
	done       chan struct{} // closed when the writer goroutine has exited
	w          *writer
	// created are the files openLog created, for undoOpen; unused once the
	// log is started.
	created struct{ active, meta bool }
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

	retry rollRetry // a failed time or size roll to try again (retry.go)
	// waiter is a forced Roll's answer channel while its roll runs: a roll
	// of a log stored compressed hands it to the compression job, which
	// answers once the file is in its final form (and sets waiter nil).
	waiter   chan<- opResult
	rolledAt time.Time // a roll awaits finishRoll; its END
	lastEnd  time.Time // END of the log's last roll; zero when unknown (kept in the .meta)
	names    nameState // the rolled names this log produced (namestate.go; kept in the .meta)
	timer    *time.Timer
	armed    time.Time // what timer is set for; zero when stopped

	items []item // reused batch
	// Left by a leader whose write reached the size limit (lead.go): the
	// roll's instant, and the buffers behind it, for the writer goroutine.
	sizeRollAt time.Time
	leftover   []item
	group      []*buffer // buffers of one write, reused
	acks       []*buffer // written buffers awaiting acknowledgement

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

	wb   writeback // bytes awaiting an early writeback (writeback.go)
	meta metaFile  // the open .meta (metafile.go)

	// turn is set while the writer goroutine (not a leader) holds the token
	// in work; def is what it defers until it has passed the token on.
	turn bool
	def  deferred

	writeErr, syncErr, rollErr errLatch
}

// run is the writer goroutine of one log. It sleeps until there is work (a
// wake-up on l.work) or until its timer fires (next boundary, flush deadline
// or roll retry). Then it takes the writer token (lead.go) — at once, or
// when the Write call leading hands it over — does the work left to it (a
// size roll a leader's write made due, and the buffers behind it), takes
// everything queued, writes and rolls in queue order, and passes the token
// on. It exits after handling the log's opStop, keeping the token.
func (l *logFile) run() {
	defer l.c.wg.Done()
	defer close(l.done)
	w := l.w
	w.timer = time.NewTimer(time.Hour)
	w.timer.Stop()
	defer w.timer.Stop()
	held := false // the writer kept the token from its last turn
	for {
		if !held {
			l.presync() // never while keeping the token
		}
		held = false
		if l.acquireWriter() {
			stop, wake := w.work()
			if stop {
				w.meta.close()
				return
			}
			next := earliest(wake, w.retry.at) // read while holding the token
			keep := l.release(ownerWriter)
			if w.def.pending() {
				w.c.runDeferred(&w.def) // without the token, unless kept
			}
			if keep {
				held = true
				continue // more work was queued for the writer meanwhile
			}
			w.arm(next)
		}
		select {
		case <-l.work:
		case <-w.timer.C:
			w.armed = time.Time{}
		}
	}
}

// work is one turn of the writer goroutine with the token: the size roll
// and the buffers a leader left to it, a due roll retry, then everything
// queued. It reports whether the writer must exit, and when it must wake up
// by itself.
func (w *writer) work() (stop bool, wake time.Time) {
	w.turn = true
	defer func() { w.turn = false }()
	if !w.sizeRollAt.IsZero() {
		end := w.sizeRollAt
		w.sizeRollAt = time.Time{}
		t0 := w.c.now()
		_, _ = w.roll(CauseSize, end)
		w.finishRoll()
		w.l.pause(w.c.now().Sub(t0))
	}
	if len(w.leftover) > 0 {
		w.write(w.leftover, false) // buffers only: never stops
		clear(w.leftover)
		w.leftover = w.leftover[:0]
	}
	w.queueRetry()
	var pol Policy
	w.items, pol, wake = w.l.take(w.items[:0])
	w.pol = pol
	stop = w.process(w.items)
	clear(w.items)
	return stop, wake
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

// process handles one batch of the writer goroutine in order and reports
// whether the writer must exit (see write).
func (w *writer) process(items []item) (stop bool) {
	return w.write(items, false)
}

// write handles one batch in order and reports whether the writer must
// exit. Consecutive buffers are written together (see writeBuffers), up to
// and including the one that reaches the size limit. Buffers are
// acknowledged before any op and at the end of the batch; with
// DurabilitySync one fsync covers every buffer of the group. A size roll
// follows the acknowledgement of the buffer that reached the limit: its
// callers do not wait for the roll. A leader (lead.go) has buffers only, and
// leaves a due size roll and the buffers after it to the writer goroutine.
func (w *writer) write(items []item, leader bool) (stop bool) {
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
			if w.pol.sizeReached(size) && w.retry.at.IsZero() {
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
			if leader {
				w.sizeRollAt = end
				w.leftover = append(w.leftover, items[i:]...)
				w.l.acc.mu.Lock()
				w.l.acc.rollSoon = true
				w.l.needWriterLocked()
				w.l.acc.mu.Unlock()
				return false
			}
			t0 := w.c.now()
			_, _ = w.roll(CauseSize, end)
			w.finishRoll()
			w.l.pause(w.c.now().Sub(t0))
		}
	}
	w.ack()
	return false
}

// stopFile fsyncs and closes the active file, if any, for good.
func (w *writer) stopFile() error {
	if w.f == nil {
		return nil
	}
	var errs []error
	if err := w.sync(); err != nil {
		errs = append(errs, fmt.Errorf("logging: close %s: %w", w.l.path, err))
	}
	if err := w.closeFile(); err != nil {
		errs = append(errs, fmt.Errorf("logging: close %s: %w", w.l.path, err))
	}
	return errors.Join(errs...)
}

// maxGroup bounds the buffers written by one system call (IOV_MAX is 1024).
const maxGroup = 64

// handle performs one control operation and answers it.
func (w *writer) handle(o *op) (stop bool) {
	var res opResult
	t0 := w.c.now()
	reply := o.reply // nil when a compression job answers instead
	switch o.kind {
	case opRoll:
		switch {
		case o.retry:
			res.rolled, res.err = w.doRetry(o.at)
		case o.cause == CauseForced:
			w.waiter = o.reply
			res.rolled, res.err = w.roll(o.cause, o.at)
			if w.waiter == nil {
				reply = nil // a compression job answers it
			}
			w.waiter = nil
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
		res.err = errors.Join(res.err, w.stopFile())
		stop = true
	}
	if stop {
		w.c.runDeferred(&w.def) // the writer exits: nothing after this turn
	}
	if reply != nil {
		if stop {
			reply <- res
		} else {
			w.reply(reply, res)
		}
	}
	if !stop {
		w.finishRoll()
	}
	if o.kind == opRoll {
		w.l.pause(w.c.now().Sub(t0))
	}
	return stop
}

// storage returns where and how the log's rolled files are stored now.
func (l *logFile) storage() Storage {
	if s := l.store.Load(); s != nil {
		return *s
	}
	return Storage{}
}
