package records

import (
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// fireLog records, in fake time since the bubble's start, when fire was called.
type fireLog struct {
	start time.Time
	mu    sync.Mutex
	at    []time.Duration
}

func newFireLog() *fireLog { return &fireLog{start: time.Now()} }

func (f *fireLog) fire() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.at = append(f.at, time.Since(f.start))
}

func (f *fireLog) times() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.at)
}

// burst returns n signal times, every apart from first on.
func burst(first time.Duration, n int, every time.Duration) []time.Duration {
	var at []time.Duration
	for i := range n {
		at = append(at, first+time.Duration(i)*every)
	}
	return at
}

func TestDebounceSchedules(t *testing.T) {
	const q = 100 * time.Millisecond
	ms := time.Millisecond
	tests := []struct {
		name    string
		signals []time.Duration // when Signal is called, from the start
		want    []time.Duration // when fire is expected, from the start
	}{
		{"none", nil, nil},
		{"one signal", []time.Duration{0}, []time.Duration{q}},
		{"burst of 10, 10ms apart", burst(0, 10, 10*ms), []time.Duration{90*ms + q}},
		{"signal just before expiry postpones", []time.Duration{0, q - ms}, []time.Duration{2*q - ms}},
		{"same instant coalesces", []time.Duration{5 * ms, 5 * ms, 5 * ms}, []time.Duration{5*ms + q}},
		{
			"two bursts separated by more than the quiet period",
			append(burst(0, 10, 10*ms), burst(90*ms+q+50*ms, 10, 10*ms)...),
			[]time.Duration{90*ms + q, 90*ms + q + 50*ms + 90*ms + q},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				log := newFireLog()
				d := newDebouncer(q, log.fire)
				defer d.Close()
				for _, at := range tt.signals {
					time.Sleep(at - time.Since(log.start))
					d.Signal()
				}
				time.Sleep(3 * q)
				synctest.Wait()
				if got := log.times(); !slices.Equal(got, tt.want) {
					t.Errorf("fired at %v, want %v", got, tt.want)
				}
			})
		})
	}
}

// A signal that arrives while fire runs is kept and gives one more call, a
// quiet period after fire returns.
func TestDebounceSignalDuringFire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const q, busy = 100 * time.Millisecond, 50 * time.Millisecond
		log := newFireLog()
		var d *debouncer
		calls := 0
		d = newDebouncer(q, func() {
			calls++
			log.fire()
			if calls == 1 {
				time.Sleep(busy / 2)
				d.Signal()
				d.Signal()
				time.Sleep(busy / 2)
			}
		})
		defer d.Close()
		d.Signal()
		time.Sleep(5 * q)
		synctest.Wait()
		want := []time.Duration{q, q + busy + q}
		if got := log.times(); !slices.Equal(got, want) {
			t.Errorf("fired at %v, want %v", got, want)
		}
	})
}

func TestDebounceCloseDropsPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const q = 100 * time.Millisecond
		log := newFireLog()
		d := newDebouncer(q, log.fire)
		d.Signal()
		time.Sleep(q / 2)
		d.Close()
		select {
		case <-d.done:
		default:
			t.Fatal("Close returned before the goroutine exited")
		}
		d.Signal() // must not block or panic after Close
		d.Close()  // idempotent
		time.Sleep(3 * q)
		synctest.Wait()
		if got := log.times(); len(got) != 0 {
			t.Errorf("fired at %v after Close, want no call", got)
		}
	})
}

// Close while fire runs waits for it; the signal it left pending is dropped.
func TestDebounceCloseWaitsForFire(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const q, busy = 100 * time.Millisecond, 50 * time.Millisecond
		var d *debouncer
		var mu sync.Mutex
		calls, finished := 0, 0
		d = newDebouncer(q, func() {
			mu.Lock()
			calls++
			mu.Unlock()
			d.Signal()
			time.Sleep(busy)
			mu.Lock()
			finished++
			mu.Unlock()
		})
		d.Signal()
		time.Sleep(q + busy/2) // fire is running
		start := time.Now()
		d.Close()
		if waited := time.Since(start); waited != busy/2 {
			t.Errorf("Close returned after %v, want %v (the rest of fire)", waited, busy/2)
		}
		time.Sleep(3 * q)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if calls != 1 || finished != 1 {
			t.Errorf("fire called %d times, finished %d, want 1 and 1", calls, finished)
		}
	})
}
