package logging

import (
	"bytes"
	"os"
	"runtime"
	"strconv"
	"time"
)

// cpuSampler tells whether the machine's CPUs are busy, from the "cpu"
// line of /proc/stat (the kernel's ticks of every CPU: idle, iowait and
// nice against the total), over windows of at least idleWindow: the ticks are
// 10 ms, too coarse for less. It is not safe for concurrent use: the
// compressor's file worker owns it.
type cpuSampler struct {
	read        func() ([]byte, error) // /proc/stat
	at          time.Time              // the last sample
	idle, total uint64                 // its ticks
	idleCPUs    float64                // idle CPUs over the last window; < 0 unknown
	ncpu        int
}

// idleWindow is the shortest window the idle CPUs are measured over;
// busyBelow the idle CPUs under which the machine counts as busy.
const (
	idleWindow = 50 * time.Millisecond
	busyBelow  = 0.5
)

// newCPUSampler returns a sampler of /proc/stat.
func newCPUSampler() *cpuSampler {
	return &cpuSampler{
		read:     func() ([]byte, error) { return os.ReadFile("/proc/stat") },
		idleCPUs: -1,
		ncpu:     runtime.NumCPU(),
	}
}

// busy reports whether less than half a CPU was idle over the last window
// ending at or before now (false when it cannot be told: no /proc/stat, or
// no time elapsed, as inside a testing/synctest bubble).
func (s *cpuSampler) busy(now time.Time) bool {
	if s.at.IsZero() || now.Sub(s.at) >= idleWindow {
		idle, total, ok := s.sample()
		if ok && !s.at.IsZero() && total > s.total {
			s.idleCPUs = float64(idle-s.idle) / float64(total-s.total) * float64(s.ncpu)
		} else {
			s.idleCPUs = -1
		}
		if ok {
			s.at, s.idle, s.total = now, idle, total
		}
	}
	return s.idleCPUs >= 0 && s.idleCPUs < busyBelow
}

// sample reads the idle and total ticks of all CPUs.
func (s *cpuSampler) sample() (idle, total uint64, ok bool) {
	data, err := s.read()
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := bytes.Cut(data, []byte("\n"))
	f := bytes.Fields(line)
	if len(f) < 5 || string(f[0]) != "cpu" {
		return 0, 0, false
	}
	for i, v := range f[1:] {
		n, err := strconv.ParseUint(string(v), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		if i == 8 || i == 9 { // guest time is counted in user and nice already
			continue
		}
		total += n
		// idle, iowait, and nice: the ticks of niced processes, the
		// compression's own threads among them, are ticks that work at
		// normal priority would have had; counted busy, the compressor
		// would yield to itself.
		if i == 1 || i == 3 || i == 4 {
			idle += n
		}
	}
	return idle, total, true
}
