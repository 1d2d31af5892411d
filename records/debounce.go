package records

import (
	"sync"
	"time"
)

// debouncer turns bursts of signals into single calls of fire: fire runs once
// the signals have been quiet for the quiet period after the last of them.
// It knows nothing of files or fsnotify, so it can be tested with
// testing/synctest.
//
// Ownership: newDebouncer starts one goroutine, which owns the timer and is the
// only caller of fire, so calls of fire never overlap. Close stops it and waits
// for it to exit, including for a fire that is running.
//
// A signal sent while fire runs is kept (the signal channel holds one pending
// signal) and starts a new quiet period once fire returns, so a change made
// during a reload is not lost.
type debouncer struct {
	quiet   time.Duration
	fire    func()
	signals chan struct{} // capacity 1: any number of pending signals coalesce into one
	stop    chan struct{} // closed by Close
	done    chan struct{} // closed when the goroutine has exited
	once    sync.Once
}

// newDebouncer starts a debouncer that calls fire after quiet has passed
// without a signal. quiet must be positive.
func newDebouncer(quiet time.Duration, fire func()) *debouncer {
	d := &debouncer{
		quiet:   quiet,
		fire:    fire,
		signals: make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go d.run()
	return d
}

// Signal reports that something happened: the quiet period starts again.
// It never blocks and may be called from any goroutine, fire included.
// Signals after Close are ignored.
func (d *debouncer) Signal() {
	select {
	case d.signals <- struct{}{}:
	default: // a signal is already pending; they mean the same thing
	}
}

// Close stops the debouncer: a pending quiet period is dropped without calling
// fire. It waits for the goroutine to exit, so it must not be called from fire.
// It is idempotent and safe to call from several goroutines.
func (d *debouncer) Close() {
	d.once.Do(func() { close(d.stop) })
	<-d.done
}

func (d *debouncer) run() {
	defer close(d.done)
	var (
		timer  *time.Timer
		expiry <-chan time.Time // nil while no quiet period is pending
	)
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		select {
		case <-d.stop:
			return
		case <-d.signals:
			// Since Go 1.23, Reset discards a value the timer may already
			// have sent, so no stale expiry can follow.
			if timer == nil {
				timer = time.NewTimer(d.quiet)
			} else {
				timer.Reset(d.quiet)
			}
			expiry = timer.C
		case <-expiry:
			expiry = nil
			// select picks at random among ready cases: do not fire when
			// Close has already been called.
			select {
			case <-d.stop:
				return
			default:
			}
			d.fire()
		}
	}
}
