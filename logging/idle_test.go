package logging

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestCPUSampler feeds the sampler /proc/stat contents: busy when less
// than half a CPU was idle over the last window of at least 50 ms, not
// busy when more was, or when it cannot tell.
func TestCPUSampler(t *testing.T) {
	var stat string
	var readErr error
	s := &cpuSampler{read: func() ([]byte, error) { return []byte(stat), readErr }, idleCPUs: -1, ncpu: 2}
	line := func(user, idle, iowait, guest uint64) string {
		return fmt.Sprintf("cpu  %d 0 100 %d %d 0 0 0 %d 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n", user, idle, iowait, guest)
	}
	niced := func(user, nice, idle uint64) string {
		return fmt.Sprintf("cpu  %d %d 100 %d 1 0 0 0 0 0\n", user, nice, idle)
	}
	t0 := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	steps := []struct {
		at       time.Duration
		stat     string
		err      error
		wantBusy bool
		why      string
	}{
		{0, line(1000, 1000, 0, 0), nil, false, "first sample: no window yet"},
		{10 * time.Millisecond, line(5000, 1000, 0, 0), nil, false, "within the window: the last verdict"},
		{60 * time.Millisecond, line(1010, 1000, 0, 0), nil, true, "10 ticks, all busy: 0 idle CPUs"},
		{120 * time.Millisecond, line(1012, 1008, 0, 500), nil, false, "8 idle of 10 (guest not counted): 1.6 CPUs"},
		{180 * time.Millisecond, line(1020, 1009, 1, 0), nil, true, "2 idle (iowait counted) of 10: 0.4 CPUs"},
		{240 * time.Millisecond, line(1020, 1009, 1, 0), nil, false, "no tick elapsed: cannot tell"},
		{300 * time.Millisecond, "", errors.New("no /proc"), false, "unreadable: cannot tell"},
		{360 * time.Millisecond, "garbage\n", nil, false, "unparsable: cannot tell"},
		{420 * time.Millisecond, niced(1020, 0, 1009), nil, false, "no tick elapsed since the last good sample: cannot tell"},
		{480 * time.Millisecond, niced(1022, 8, 1009), nil, false, "8 ticks of niced processes (the compression's own) of 10: 1.6 CPUs idle"},
		{540 * time.Millisecond, niced(1030, 10, 1009), nil, true, "8 ticks at normal priority of 10: 0.4 CPUs"},
	}
	for _, st := range steps {
		stat, readErr = st.stat, st.err
		if got := s.busy(t0.Add(st.at)); got != st.wantBusy {
			t.Errorf("at %v (%s): busy %v, want %v (idle CPUs %v)", st.at, st.why, got, st.wantBusy, s.idleCPUs)
		}
	}
}
