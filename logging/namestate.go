package logging

import (
	"strings"
	"time"
)

// A host never produces the same rolled name twice for a log, across
// deletions and restarts: anything keyed by rolled name (an object store, a
// report, a database) would otherwise lose or overwrite a file. A rolled
// name is its log, host, START and END wall times (whole seconds, no UTC
// offset) and collision number; checking the folder for an existing file
// is not enough, since a script may have deleted the earlier file.
//
// nameState is what a log remembers of the names it produced, kept in its
// .meta (metafile.go) and merged at start-up with the log's rolled names
// still in the folder. Walls are compared as nameTimeLayout strings, whose
// order is the calendar order. With high the latest wall time, START or
// END, of any name produced:
//
//   - a new name whose earlier wall time is after high cannot repeat one:
//     every earlier name has both its times at or before high;
//   - one with START = END = high can only repeat a "high-high" name (rolls
//     within one second): it takes the collision number after the largest
//     such one (highSeq);
//   - one with its earlier time at high and the other after it repeats
//     nothing either;
//   - one with a wall time before high (the clock went back: a
//     daylight-saving fall-back, a time-zone change across a restart, a
//     clock step) could repeat any earlier name: it takes the collision
//     number after the largest ever used (maxSeq), so that it differs from
//     every earlier name. In a repeated hour the names carry growing
//     collision numbers (.1, .2, …) until the wall clock passes high again.
//
// The state is owned by whoever holds the log's writer token.
type nameState struct {
	high    string // latest wall time in any name produced; "" for none
	highSeq int    // largest collision number of a name high-high; -1 for none
	maxSeq  int    // largest collision number of any name produced
}

// first returns the smallest collision number that the name with wall
// times start and end (nameTimeLayout) may take without repeating a name
// produced before. The caller still skips numbers taken by files in the
// folder that it did not produce.
func (s nameState) first(start, end string) int {
	lo := min(start, end)
	switch {
	case s.high == "" || lo > s.high:
		return 0
	case lo == s.high && start == end:
		return s.highSeq + 1
	case lo == s.high:
		return 0
	}
	return s.maxSeq + 1
}

// add records that the name with wall times start and end and collision
// number seq was produced (or found in the folder at start-up).
func (s *nameState) add(start, end string, seq int) {
	if hi := max(start, end); hi > s.high {
		s.high, s.highSeq = hi, -1
	}
	if start == end && start == s.high {
		s.highSeq = max(s.highSeq, seq)
	}
	s.maxSeq = max(s.maxSeq, seq)
}

// merge records every name of o's: the state of a log after both.
func (s *nameState) merge(o nameState) {
	if o.high == "" {
		s.maxSeq = max(s.maxSeq, o.maxSeq)
		return
	}
	if o.high > s.high {
		s.high, s.highSeq = o.high, o.highSeq
	} else if o.high == s.high {
		s.highSeq = max(s.highSeq, o.highSeq)
	}
	s.maxSeq = max(s.maxSeq, o.maxSeq)
}

// walls returns r's START and END as nameTimeLayout strings: the wall times
// its name carries.
func (r RolledName) walls() (start, end string) {
	return r.Start.Format(nameTimeLayout), r.End.Format(nameTimeLayout)
}

// nameStateOf returns the state of the rolled names in names (a listing of
// the log folder) of the log active written by host: what start-up merges
// with its .meta, for names produced by an earlier run whose .meta was lost
// or never written. Names are parsed in UTC so that their wall times are
// taken as written.
func nameStateOf(names []string, active, host string, actives []string) nameState {
	s := nameState{highSeq: -1}
	for _, n := range names {
		if !strings.HasPrefix(n, active) {
			continue
		}
		r, err := ParseRolledName(n, actives, host, time.UTC)
		if err != nil || r.Active != active || r.Host != host {
			continue
		}
		sw, ew := r.walls()
		s.add(sw, ew, r.Seq)
	}
	return s
}
