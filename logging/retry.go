package logging

import "time"

// Retrying failed rolls (docs/design.md §5: "a failed rename leaves the active file
// in place and logging goes on; the failure is logged and counted").
//
// A time or size roll whose rename fails is tried again by the writer's own
// timer, after firstRollRetry and then twice as long after each further
// failure, up to maxRollRetry, until one works: without a retry, an hourly
// log whose rename failed once would grow for another hour, and a size roll
// would wait for the next write. A forced roll is not retried: its caller
// has the error. Nor is the final roll of a removed log.
//
// A retry is a roll marker queued like a forced roll, at the instant the
// retry is due, so that the partition between files stays exact: since the
// failure, the active file has also received records accepted after the
// failed roll's instant (after the boundary, for a time roll), so that
// instant can no longer be END. The retry's instant is: every record in the
// file was accepted before it, and every later buffer after it, so END of
// the retried roll ≥ every record in it and START(next) ≥ END still hold.
//
// The failure is logged once when the streak starts and once when a roll
// works again (errLatch), not once per retry; every failed attempt is
// counted in LogStats.RollFailures. While a retry is pending, a write that
// reaches the size limit does not try a roll of its own: the retry does.
// A time boundary passing meanwhile still rolls (or fails) as usual.

// Backoff of roll retries.
const (
	firstRollRetry = time.Second
	maxRollRetry   = time.Minute
)

// rollRetry is the writer's pending retry of a failed time or size roll.
type rollRetry struct {
	at    time.Time     // when to try again; zero when no retry is pending
	delay time.Duration // wait after the next failure; zero outside a failure streak
	cause RollCause     // the failed roll's cause, CauseTime or CauseSize
	pol   Policy        // the policy it followed (its boundary's, for CauseTime)
}

// retryLater schedules a retry of the roll with cause that just failed,
// following w.pol, if that cause is retried.
func (w *writer) retryLater(cause RollCause) {
	if cause != CauseTime && cause != CauseSize {
		return
	}
	r := &w.retry
	if r.delay == 0 {
		r.delay = firstRollRetry
	}
	r.at = w.c.now().Add(r.delay)
	r.delay = min(2*r.delay, maxRollRetry)
	r.cause, r.pol = cause, w.pol
}

// queueRetry queues the pending retry's roll marker, behind every record
// accepted so far, once it is due. It runs on the writer goroutine before it
// takes its queue.
func (w *writer) queueRetry() {
	if w.retry.at.IsZero() || w.c.now().Before(w.retry.at) {
		return
	}
	if err := w.l.enqueue(&op{kind: opRoll, cause: w.retry.cause, retry: true}, nil); err != nil {
		// The log is stopping: its opStop is queued already, and a retry
		// would roll nothing any more. Never leave a due retry armed.
		w.retry.at = time.Time{}
	}
}

// doRetry performs a queued retry at its instant at, unless a roll since
// made it pointless. A failure schedules the next retry (see roll); when
// there is nothing left to roll, the streak ends.
func (w *writer) doRetry(at time.Time) (*Rolled, error) {
	r := w.retry
	if r.at.IsZero() {
		return nil, nil // another roll worked in the meantime
	}
	w.retry.at = time.Time{}
	cur := w.pol
	w.pol = r.pol
	rolled, err := w.roll(r.cause, at)
	w.pol = cur
	if rolled == nil && err == nil {
		w.retry = rollRetry{}
	}
	return rolled, err
}

// earliest returns the earlier of two instants, ignoring zero ones.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}
