package space

import (
	"cmp"
	"slices"
	"time"
)

// File is a rolled file as the planner sees it.
type File struct {
	// Name is the file's base name in the log folder.
	Name string
	// Log is the active name of its log, from the rolled name
	// (logging.RolledName.Active), configured or not.
	Log string
	// Start is START from the rolled name.
	Start time.Time
	// End and Seq are END and the collision number (.1, .2, …) from the
	// rolled name: the order of files whose START and modification time
	// are equal.
	End time.Time
	Seq int
	// ModTime is the file's modification time.
	ModTime time.Time
	// Size is the file's size in bytes (not used for the order).
	Size int64
}

// Plan returns files in the order autodelete deletes them (DESIGN §6): one
// file at a time, each time from the log that has the most rolled files
// relative to its rolling_min_count, that log's oldest file (by START, then
// modification time, then END and collision number, then name). The
// executor deletes from the front until the state is Normal. Plan is a pure
// function; it does not modify files.
//
// The logs, in the order they give up files:
//
//  1. logs that are not configured (no entry in logs): their files are
//     leftovers of a log the operator removed, which nobody asked to keep,
//     so they go before any configured log's; among them, as with min_count
//     1, the one with the most files first;
//  2. configured logs with MinCount > 0, by remaining files ÷ MinCount,
//     largest first (compared exactly, as cross products);
//  3. configured logs with MinCount 0 ("keep as many as possible") last,
//     the one with the most files first.
//
// Equal ranks go to the log whose oldest file is older, then to the smaller
// log name, so the order is fully determined.
func Plan(files []File, logs []Log) []File {
	minCount := make(map[string]int, len(logs))
	for _, l := range logs {
		minCount[l.Name] = l.MinCount
	}
	byLog := map[string]*planLog{}
	var order []*planLog
	for _, f := range files {
		g := byLog[f.Log]
		if g == nil {
			g = &planLog{name: f.Log}
			if mc, ok := minCount[f.Log]; !ok {
				g.tier, g.min = 0, 1
			} else if mc > 0 {
				g.tier, g.min = 1, mc
			} else {
				g.tier, g.min = 2, 1
			}
			byLog[f.Log] = g
			order = append(order, g)
		}
		g.files = append(g.files, f)
	}
	for _, g := range order {
		slices.SortFunc(g.files, olderFirst)
	}
	out := make([]File, 0, len(files))
	for len(out) < len(files) {
		var best *planLog
		for _, g := range order {
			if g.left() > 0 && (best == nil || g.before(best)) {
				best = g
			}
		}
		out = append(out, best.files[best.next])
		best.next++
	}
	return out
}

// planLog is one log's files during Plan.
type planLog struct {
	name  string
	tier  int // 0 not configured, 1 MinCount > 0, 2 MinCount 0
	min   int // the divisor of the ratio: MinCount, or 1
	files []File
	next  int // files[next:] are left
}

func (g *planLog) left() int { return len(g.files) - g.next }

// before reports whether g gives up its next file before o.
func (g *planLog) before(o *planLog) bool {
	if g.tier != o.tier {
		return g.tier < o.tier
	}
	// left/min > o.left/o.min, exactly.
	if a, b := g.left()*o.min, o.left()*g.min; a != b {
		return a > b
	}
	if c := olderFirst(g.files[g.next], o.files[o.next]); c != 0 {
		return c < 0
	}
	return g.name < o.name
}

// olderFirst orders files oldest first: by START, then modification time,
// then END and collision number, then name. Modification times are coarse
// (the kernel's clock tick, a few milliseconds): two files rolled within
// one tick and one second — a size roll, then a forced one — have equal
// START, END and mtime, and only the collision number tells the older
// (access…s.old) from the newer (access…s.1.old), which the name would
// order the other way ("1" < "o"), as it would .10 before .9.
func olderFirst(a, b File) int {
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if c := a.ModTime.Compare(b.ModTime); c != 0 {
		return c
	}
	if c := a.End.Compare(b.End); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}
