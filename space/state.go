package space

import "fmt"

// State is the space manager's state (docs/design.md §6).
type State int

// The states, from best to worst.
const (
	// Normal: U + H < M, P above the partition's headroom, and the free
	// inodes above theirs. Logging accepts.
	Normal State = iota
	// Low: U + H ≥ M, or P at or below the partition's headroom, or the
	// free inodes at or below theirs. Logging still accepts (the headroom
	// is there for it); autodelete, when on, deletes rolled files.
	Low
	// Exhausted: U ≥ M, or P < MinFree, or the free inodes below
	// MinFreeInodes. Logging refuses new records (the collator answers
	// ErrSpaceExhausted) and still writes those accepted. It is left only
	// for Normal: a hysteresis of the headroom (docs/space.md).
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

// figures are the inputs of the state machine, in bytes and inodes.
type figures struct {
	used     int64 // U
	limit    int64 // M
	headroom int64 // H
	minFree  int64 // Config.MinFree
	free     int64 // P; < 0 when unknown (Options.Free failed): P then counts for nothing
	size     int64 // the partition's size; 0 when unknown

	freeInodes     int64 // the partition's free inodes; counts only when inodes > 0
	inodes         int64 // the partition's inodes; 0 when unknown or not limited
	minFreeInodes  int64
	headroomInodes int64
}

// partitionHeadroom returns the headroom kept free on the partition: H,
// but no more than PartitionShare percent of the partition's size (a
// headroom the partition cannot hold would have autodelete delete every
// rolled file as soon as it rolled), and no less than MinFree.
func (f figures) partitionHeadroom() int64 {
	h := f.headroom
	if f.size > 0 {
		h = min(h, f.size/100*PartitionShare)
	}
	return max(h, f.minFree)
}

// inodeHeadroom is partitionHeadroom for inodes: HeadroomInodes, at most
// PartitionShare percent of the partition's inodes, more than MinFreeInodes.
func (f figures) inodeHeadroom() int64 {
	h := f.headroomInodes
	if f.inodes > 0 {
		h = min(h, f.inodes*PartitionShare/100)
	}
	return max(h, f.minFreeInodes+1)
}

// classify returns the state the figures call for, with the reason when it
// is not Normal. The conditions are checked worst first. A reason says the
// current figures and, for Exhausted, what it takes to resume.
func classify(f figures) (State, string) {
	hp, hi := f.partitionHeadroom(), f.inodeHeadroom()
	switch {
	case f.used >= f.limit:
		return Exhausted, fmt.Sprintf("used %s ≥ limit %s; logging resumes when used + headroom %s is below the limit (used below %s): delete rolled files or raise max_space_mb_for_logs",
			mib(f.used), mib(f.limit), mib(f.headroom), mib(f.limit-f.headroom))
	case f.free >= 0 && f.free < f.minFree:
		return Exhausted, fmt.Sprintf("partition free %s < %s, too little to write; logging resumes when more than %s is free",
			mib(f.free), mib(f.minFree), mib(hp))
	case f.inodes > 0 && f.freeInodes < f.minFreeInodes:
		return Exhausted, fmt.Sprintf("partition free inodes %d < %d, too few to roll; logging resumes when %d are free",
			f.freeInodes, f.minFreeInodes, f.minFreeInodes)
	case f.used+f.headroom >= f.limit:
		return Low, fmt.Sprintf("used %s + headroom %s ≥ limit %s", mib(f.used), mib(f.headroom), mib(f.limit))
	case f.free >= 0 && f.free <= hp:
		return Low, fmt.Sprintf("partition free %s ≤ headroom %s", mib(f.free), mib(hp))
	case f.inodes > 0 && f.freeInodes <= hi:
		return Low, fmt.Sprintf("partition free inodes %d ≤ headroom %d", f.freeInodes, hi)
	}
	return Normal, ""
}

// next returns the state after cur for the figures f, and why. It is
// classify with one hysteresis: Exhausted is left only for Normal, as docs/design.md
// §6 resumes logging "as soon as the low-space state is left". Resuming at
// U < M would flap: the first records accepted take U back to M. Inodes
// have no such hysteresis: records take none (a roll takes one), so
// logging resumes as soon as MinFreeInodes are free again, even while they
// are at or below the inode headroom.
func next(cur State, f figures) (State, string) {
	s, why := classify(f)
	lowBytes := f.used+f.headroom >= f.limit || f.free >= 0 && f.free <= f.partitionHeadroom()
	if cur == Exhausted && s == Low && lowBytes {
		return Exhausted, why + "; logging resumes " + resumeWhen(f)
	}
	return s, why
}

// resumeWhen says what ends the Low condition of f, for an Exhausted state
// held by the hysteresis.
func resumeWhen(f figures) string {
	switch {
	case f.used+f.headroom >= f.limit:
		return fmt.Sprintf("when used is below %s (limit − headroom): delete rolled files or raise max_space_mb_for_logs", mib(f.limit-f.headroom))
	}
	return fmt.Sprintf("when more than %s of the partition is free", mib(f.partitionHeadroom()))
}

// warnings returns what the figures say of the configuration that status
// and the log should show although the state may be Normal: a headroom
// larger than the partition can keep free, which is then lowered.
func warnings(f figures) []string {
	var out []string
	if f.size > 0 && f.headroom > f.size/100*PartitionShare {
		out = append(out, fmt.Sprintf("max_space_mb_headroom %s is more than %d%% of the log partition's %s: the partition's headroom is %s (autodelete keeps the partition's free space above it)",
			mib(f.headroom), PartitionShare, mib(f.size), mib(f.partitionHeadroom())))
	}
	return out
}

// mib formats a byte count for messages: MiB with one decimal, or bytes
// below 1 MiB.
func mib(n int64) string {
	if n > -1<<20 && n < 1<<20 {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
