package space

import (
	"cmp"
	"slices"
	"time"

	"github.com/logroll/logroll/logging"
)

// File is a rolled file as the planner sees it.
type File struct {
	// Name is the file's base name.
	Name string
	// Dir is the folder it is in: the log folder or a rolled folder
	// (rolled_dir), absolute.
	Dir string
	// Compression is how it is stored, from its name: a plain .old file,
	// or .old.gz, .old.zst.
	Compression logging.Compression
	// Log is the active name of its log, from the rolled name
	// (logging.RolledName.Active), configured or not.
	Log string
	// Host is the host from the rolled name ("" in Traffic Server's
	// host-less names).
	Host string
	// Start and End are START and END from the rolled name: its wall
	// times read in the manager's zone (Options.Location), for display.
	// Being wall times without an offset, they do not order files across
	// a daylight-saving fall-back or a change of zone; At does.
	Start, End time.Time
	// At is the instant that orders the files, oldest first: see OrderKey.
	At time.Time
	// KeyEnd is END as an instant that does not depend on the zone the
	// reader runs in: the modification time where it is END (see
	// OrderKey: the daemon's own files, and copies that kept their
	// times), else the name's END wall time taken as UTC. A shipped
	// object's key is dated by it, so that a file gets the same key after
	// a restart under another TZ.
	KeyEnd time.Time
	// Seq is the collision number (.1, .2, …) from the rolled name.
	Seq int
	// ModTime is the file's modification time.
	ModTime time.Time
	// Size is the file's size in bytes (not used for the order).
	Size int64
}

// Plan returns files in the order autodelete deletes them (docs/design.md §6): one
// file at a time, each time from the log that has the most rolled files
// relative to its rolling_min_count, that log's oldest file (OldestFirst).
// The executor deletes from the front until the state is Normal. Plan is a
// pure function; it does not modify files.
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
		slices.SortFunc(g.files, OldestFirst)
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
	if c := OldestFirst(g.files[g.next], o.files[o.next]); c != 0 {
		return c < 0
	}
	return g.name < o.name
}

// OldestFirst orders rolled files oldest first, for slices.SortFunc: by At,
// then START, then modification time, then collision number, then name.
// It is the one order of every deletion (Plan, BeyondMaxCount) and of the
// rolled-file listings. At is an instant, right across daylight-saving and
// time-zone changes; the rest only separates files with the same At: the
// names of files rolled within one second, or of foreign files whose At
// comes from their names (Traffic Server orders files with one START by
// modification time; a collision number orders .9 before .10, which the
// name would not).
func OldestFirst(a, b File) int {
	if c := a.At.Compare(b.At); c != 0 {
		return c
	}
	if c := a.Start.Compare(b.Start); c != 0 {
		return c
	}
	if c := a.ModTime.Compare(b.ModTime); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Seq, b.Seq); c != 0 {
		return c
	}
	return cmp.Compare(a.Name, b.Name)
}
