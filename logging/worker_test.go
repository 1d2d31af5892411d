package logging

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestWorker: run handles after each wake-up (coalesced) and once more at
// shutdown; shutdown is idempotent and waits for run; a worker never
// started handles at shutdown on the caller's goroutine.
func TestWorker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int64
		w := newWorker()
		w.start(func() { n.Add(1) })
		w.start(func() { t.Error("a second start ran") })
		w.poke()
		w.poke() // coalesced with the first, or handled after it
		synctest.Wait()
		if got := n.Load(); got < 1 || got > 2 {
			t.Fatalf("%d handles after two pokes, want 1 or 2", got)
		}
		before := n.Load()
		w.shutdown(func() { t.Error("shutdown of a started worker called its own handle") })
		if got := n.Load(); got != before+1 {
			t.Errorf("%d handles after shutdown, want %d (one last)", got, before+1)
		}
		select {
		case <-w.done:
		default:
			t.Error("shutdown returned before run exited")
		}
		w.shutdown(func() { t.Error("a second shutdown ran") })

		idle := newWorker()
		var m atomic.Int64
		idle.poke()
		idle.shutdown(func() { m.Add(1) })
		idle.shutdown(func() { m.Add(1) })
		if m.Load() != 1 {
			t.Errorf("a worker never started handled %d times at shutdown, want 1", m.Load())
		}
		idle.start(func() { t.Error("start after shutdown ran") })
	})
}
