package logging

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"
)

// logFile is one declared log: its accept side (guarded by acc.mu), its
// writer (guarded by the writer token, token.go) and the writer goroutine
// (run) that rolls it.
type logFile struct {
	// Set by openLog, never changed.
	c    *Collator
	name string        // active name, e.g. "access.log"
	path string        // absolute path of the active file
	w    *writer       // its fields: see writer
	work chan struct{} // capacity 1: "there is work" for run (coalescing)
	done chan struct{} // closed when run has exited

	acc accepter // guarded by acc.mu

	// Safe for concurrent use.
	stats  counters                // written by every goroutine that counts, read by Stats
	active active                  // size and START of the active file: published by the token's holder, read by Stats
	store  atomic.Pointer[Storage] // where and how rolled files are stored: Apply replaces it, the next roll reads it

	// Owned by openLog and undoOpen, before run starts: the files openLog
	// created, for undoOpen.
	created struct{ active, meta bool }
}

// writer is a log's open active file, what is known of it, and the state
// of writing into it. Its fields are grouped by who may touch them. Most
// are guarded by the writer token (token.go): its holder — a leading Write
// call or the writer goroutine, one at a time — touches them, and the
// token's hand-overs (under acc.mu, or by a channel send) order one
// holder's accesses before the next one's. Before run starts (openLog,
// New's and Apply's catch-up rolls) and in Close of a collator never
// started, the goroutine doing that holds every field.
type writer struct {
	// Set by openLog, never changed.
	c *Collator
	l *logFile

	// Guarded by the token.
	f       *os.File  // the active file; nil after a failed (re)creation
	size    int64     // bytes in the active file
	records int64     // records this process wrote into the active file
	start   time.Time // START of the active file (see prepare)
	dirty   bool      // written (or inherited unsynced) since the last fsync
	pol     Policy    // policy snapshot of the holder's batch
	// Size and records of the active file at the last acknowledgement: what
	// a failed fsync at DurabilitySync cuts the file back to.
	ackedSize, ackedRecords int64
	meta                    metaFile  // the open .meta (metafile.go)
	wb                      writeback // bytes awaiting an early writeback (writeback.go)
	writeErr, syncErr       errLatch

	// Guarded by the token: the holder's batch, reused.
	items []item    // the items taken from the queue
	group []*buffer // buffers of one write
	acks  []*buffer // written buffers awaiting acknowledgement
	// writev and fstat state, reused so that writing allocates nothing.
	rc       syscall.RawConn // f's RawConn, for the file rcFile
	rcFile   *os.File
	iov      []syscall.Iovec
	iovN     int64
	iovErr   error
	writevFn func(fd uintptr) bool
	st       syscall.Stat_t // fstat result of linked, reused
	stErr    error
	fstatFn  func(fd uintptr)

	// Guarded by the token: left by a leader whose write reached the size
	// limit for the writer goroutine's next turn (see write): the roll's
	// instant, and the buffers behind it.
	sizeRollAt time.Time
	leftover   []item

	// Guarded by the token, written on the writer goroutine's turn only
	// (rolls), read by every holder: by the .meta writes (lastEnd, names)
	// and by write (whether a size roll is pending as a retry).
	lastEnd time.Time // END of the log's last roll; zero when unknown (kept in the .meta)
	names   nameState // the rolled names this log produced (namestate.go; kept in the .meta)
	retry   rollRetry // a failed time or size roll to try again (retry.go)
	// turn is set while the writer goroutine holds the token in work, not
	// a leader: the turn on which fsyncs may be deferred (deferring).
	turn bool

	// Guarded by the token, touched on the writer goroutine's turn only: a
	// leader writes buffers and never rolls.
	rollErr errLatch
	// waiter is a forced Roll's answer channel while its roll runs: a roll
	// of a log stored compressed hands it to the compression job, which
	// answers once the file is in its final form (and sets waiter nil).
	waiter   chan<- opResult
	rolledAt time.Time // a roll awaits finishRoll; its END

	// Owned by run, which touches them with or without the token: its
	// timer, and what it defers until it has passed the token on.
	timer *time.Timer
	armed time.Time // what timer is set for; zero when stopped
	def   deferred
}

// run is the writer goroutine of one log. It sleeps until there is work (a
// wake-up on l.work) or until its timer fires (next boundary, flush deadline
// or roll retry). Then it takes the writer token (token.go) — at once, or
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
	for {
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
		if reply != nil && w.def.pending() {
			// After what the last turn held back: a final roll's file is
			// then in its final form.
			w.def.replies = append(w.def.replies, deferredReply{ch: reply, res: res})
			reply = nil
		}
		if w.def.pending() {
			w.c.runDeferred(&w.def) // the writer exits: nothing after this turn
		}
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
