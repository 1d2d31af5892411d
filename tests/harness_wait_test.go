package tests

import (
	"testing"
	"time"
)

// eventually polls cond every pollStep until it returns "" (done) or
// waitLimit passes; then the test fails with cond's last message, which
// says what is awaited and what was seen. cond may end the test itself
// (t.Fatal) when waiting is pointless: a process died, a client failed.
//
// What cond looks at is the daemon's own account where it has one (status,
// a metric, the answer of a request, a file in the folder); a log line only
// where it is the one observable of the event.
func eventually(t *testing.T, cond func() string) {
	t.Helper()
	eventuallyWithin(t, waitLimit, cond)
}

// eventuallyWithin is eventually with a limit of the caller's: a wait that
// includes a client's retry interval, a roll's period, a slow tool.
func eventuallyWithin(t *testing.T, limit time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, msg)
		}
		time.Sleep(pollStep)
	}
}

// sleepUntil sleeps until the wall clock reaches at.
func sleepUntil(at time.Time) { time.Sleep(time.Until(at)) }

// sleepToNextSecond waits until the wall clock is in a later second than t
// (at most a second).
func sleepToNextSecond(t time.Time) {
	next := t.Truncate(time.Second).Add(time.Second)
	if d := time.Until(next); d > 0 {
		time.Sleep(d) // the clock itself is what is waited for: nothing to poll
	}
}
