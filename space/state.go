package space

import "fmt"

// State is the space manager's state (DESIGN §6).
type State int

// The states, from best to worst.
const (
	// Normal: U + H < M and P > H (and P ≥ MinFree). Logging accepts.
	Normal State = iota
	// Low: U + H ≥ M, or P ≤ H. Logging still accepts (the headroom is
	// there for it); autodelete, when on, deletes rolled files.
	Low
	// Exhausted: U ≥ M, or P < MinFree. Logging refuses new records (the
	// collator answers ErrSpaceExhausted) and still writes those accepted.
	// It is left only for Normal: a hysteresis of H (docs/space.md).
	Exhausted
)

// String returns "normal", "low" or "exhausted", as status and metrics show it.
func (s State) String() string {
	switch s {
	case Normal:
		return "normal"
	case Low:
		return "low"
	case Exhausted:
		return "exhausted"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// figures are the inputs of the state machine, in bytes.
type figures struct {
	used     int64 // U
	limit    int64 // M
	headroom int64 // H
	minFree  int64 // Config.MinFree
	free     int64 // P; < 0 when unknown (Options.Free failed): P then counts for nothing
}

// classify returns the state the figures call for, with the reason when it
// is not Normal. The conditions are checked worst first.
func classify(f figures) (State, string) {
	switch {
	case f.used >= f.limit:
		return Exhausted, fmt.Sprintf("used %s ≥ limit %s", mib(f.used), mib(f.limit))
	case f.free >= 0 && f.free < f.minFree:
		return Exhausted, fmt.Sprintf("partition free %s < %s", mib(f.free), mib(f.minFree))
	case f.used+f.headroom >= f.limit:
		return Low, fmt.Sprintf("used %s + headroom %s ≥ limit %s", mib(f.used), mib(f.headroom), mib(f.limit))
	case f.free >= 0 && f.free <= f.headroom:
		return Low, fmt.Sprintf("partition free %s ≤ headroom %s", mib(f.free), mib(f.headroom))
	}
	return Normal, ""
}

// next returns the state after cur for the figures f, and why. It is
// classify with one hysteresis: Exhausted is left only for Normal, as DESIGN
// §6 resumes logging "as soon as the low-space state is left". Resuming at
// U < M would flap: the first records accepted take U back to M.
func next(cur State, f figures) (State, string) {
	s, why := classify(f)
	if cur == Exhausted && s == Low {
		return Exhausted, why + "; logging resumes once below the headroom"
	}
	return s, why
}

// mib formats a byte count for messages: MiB with one decimal, or bytes
// below 1 MiB.
func mib(n int64) string {
	if n > -1<<20 && n < 1<<20 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
