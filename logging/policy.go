package logging

import "time"

// Rolling boundaries (docs/design.md §5) are local wall-clock instants: the instants u at
// which the wall clock of u in the zone reads a time of day s with
// (s − offsetHours·3600) a multiple of the interval. Because the interval divides
// 24h, those times of day form one grid that repeats every day, and the
// functions below work on the "wall axis": a time's Unix seconds plus the zone
// offset in effect at that time. Within one zone span (between two transitions,
// see [time.Time.ZoneBounds]) the wall axis is the instant axis shifted, so
// boundaries are found with integer arithmetic, span by span.
//
// On a day whose wall clock jumps (daylight saving time):
//
//   - forward (spring): a boundary whose wall time does not exist is taken at the
//     jump itself, the first instant after it (02:00 in New York on the spring
//     day rolls at 03:00 EDT); several skipped boundaries make one roll;
//   - backward (autumn): wall times that happen twice are boundaries both times,
//     as in Traffic Server (hourly rolling rolls at 01:00 EDT and again at
//     01:00 EST, an hour later). A daily roll at a repeated hour thus rolls
//     twice that day; a 1s interval keeps rolling every second.
//
// nextGridBoundary(t) > t and lastGridBoundary(t) ≤ t always hold, and no boundary lies
// strictly between lastGridBoundary(t) and nextGridBoundary(t).

// policyDay is the length of a day on the wall axis, in seconds.
const policyDay = 24 * 60 * 60

// policyMaxSpans bounds the walk over zone spans; real zones need 2 or 3.
const policyMaxSpans = 64

// policyGrid normalises interval and offsetHours into the wall-axis grid: the
// boundaries are the wall seconds w with (w − phase) mod step == 0. Out-of-range
// input is made safe rather than rejected (the records package validates and
// warns): the interval is truncated to whole seconds, raised to 1s, and rounded
// up to the next divisor of 24h; the offset is taken modulo 24.
func policyGrid(interval time.Duration, offsetHours int) (step, phase int64) {
	step = int64(interval / time.Second)
	switch {
	case step < 1:
		step = 1
	case step >= policyDay:
		step = policyDay
	}
	if step*step <= policyDay {
		for policyDay%step != 0 { // divisors are dense below √86400
			step++
		}
	} else {
		// The smallest divisor ≥ step is 86400/k for the largest k ≤ 86400/step
		// that divides 86400; k < √86400, so this loop is short too.
		k := policyDay / step
		for policyDay%k != 0 {
			k--
		}
		step = policyDay / k
	}
	off := int64(offsetHours) % 24
	if off < 0 {
		off += 24
	}
	return step, policyFloorMod(off*3600, step)
}

// policyFloorMod is a mod b in [0, b) for b > 0, also for negative a.
func policyFloorMod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// policyCeilGrid returns the smallest grid point ≥ w.
func policyCeilGrid(w, step, phase int64) int64 {
	return w + policyFloorMod(phase-w, step)
}

// policyFloorGrid returns the largest grid point ≤ w.
func policyFloorGrid(w, step, phase int64) int64 {
	return w - policyFloorMod(w-phase, step)
}

// policyLoc returns loc, or time.Local when loc is nil.
func policyLoc(loc *time.Location) *time.Location {
	if loc == nil {
		return time.Local
	}
	return loc
}

// nextGridBoundary returns the first rolling boundary strictly after t, in loc (wall
// clock), as a time in loc with whole seconds.
//
// Boundaries are the local wall-clock instants where (seconds since local
// midnight − offsetHours·3600) is a multiple of interval. interval should divide
// 24h and be at least 1s, and offsetHours be 0–23; other values are normalised
// as the records package does (interval rounded up to the next divisor of 24h,
// offset modulo 24). A nil loc means time.Local. See the comment at the top of
// this file for days with a daylight-saving jump.
func nextGridBoundary(t time.Time, interval time.Duration, offsetHours int, loc *time.Location) time.Time {
	loc = policyLoc(loc)
	step, phase := policyGrid(interval, offsetHours)
	cur := t.In(loc)
	after := cur.Unix() // boundaries are whole seconds: > after ⇔ > t
	var u int64
	for range policyMaxSpans {
		_, off := cur.Zone()
		g := policyCeilGrid(after+1+int64(off), step, phase)
		u = g - int64(off)
		_, end := cur.ZoneBounds()
		if end.IsZero() || u < end.Unix() {
			break
		}
		// The next grid point lies at or past the zone's end: look at the jump.
		next := end.In(loc)
		_, offNext := next.Zone()
		tau := end.Unix()
		if offNext > off && g <= tau+int64(offNext) {
			// The clock jumps forward over grid point g: roll at the jump.
			u = tau
			break
		}
		cur, after = next, tau-1 // go on from the jump, inclusive
	}
	return time.Unix(u, 0).In(loc)
}

// lastGridBoundary returns the latest rolling boundary at or before t, in loc, as a
// time in loc with whole seconds. Its arguments are those of [nextGridBoundary].
func lastGridBoundary(t time.Time, interval time.Duration, offsetHours int, loc *time.Location) time.Time {
	loc = policyLoc(loc)
	step, phase := policyGrid(interval, offsetHours)
	cur := t.In(loc)
	upTo := cur.Unix()
	var u int64
	for range policyMaxSpans {
		_, off := cur.Zone()
		u = policyFloorGrid(upTo+int64(off), step, phase) - int64(off)
		start, _ := cur.ZoneBounds()
		if start.IsZero() || u >= start.Unix() {
			break
		}
		// The grid point lies before the zone's start: look at the jump there.
		tau := start.Unix()
		prev := time.Unix(tau-1, 0).In(loc)
		_, offPrev := prev.Zone()
		if off > offPrev && policyCeilGrid(tau+int64(offPrev), step, phase) <= tau+int64(off) {
			// The clock jumped forward over a grid point at tau.
			u = tau
			break
		}
		cur, upTo = prev, tau-1
	}
	return time.Unix(u, 0).In(loc)
}

// timeRolls reports whether the policy rolls at time boundaries: modes 1
// (time), 3 (time or size) and 4 (time and size).
func (p Policy) timeRolls() bool {
	switch p.Mode {
	case ModeTime, ModeTimeOrSize, ModeTimeAndSize:
		return true
	}
	return false
}

// sizeRolls reports whether the policy rolls as soon as a write takes the file
// to or past SizeBytes: modes 2 (size) and 3 (time or size). Mode 4 checks the
// size only at a boundary (see [Policy.rollAtBoundary]).
func (p Policy) sizeRolls() bool {
	return p.Mode == ModeSize || p.Mode == ModeTimeOrSize
}

// rollAtBoundary reports whether an active file of size bytes rolls when a time
// boundary passes:
//
//   - modes 1 and 3: when size > 0, or when AllowEmpty is set;
//   - mode 4: when size ≥ SizeBytes, and also size > 0 unless AllowEmpty (with
//     any real limit, SizeBytes ≥ 1, reaching it implies a non-empty file, so an
//     empty file never rolls in mode 4; SizeBytes ≤ 0 means no size condition
//     and mode 4 then behaves as mode 1);
//   - modes 0 and 2, and unknown modes: never.
func (p Policy) rollAtBoundary(size int64) bool {
	nonEmpty := size > 0 || p.AllowEmpty
	switch p.Mode {
	case ModeTime, ModeTimeOrSize:
		return nonEmpty
	case ModeTimeAndSize:
		return nonEmpty && size >= p.SizeBytes
	}
	return false
}

// sizeReached reports whether a size roll is due now for an active file of size
// bytes: modes 2 and 3 only, when size ≥ SizeBytes. SizeBytes ≤ 0 means no size
// limit, and never triggers a roll (rolling after every write would flood the
// folder); the records package never produces it.
func (p Policy) sizeReached(size int64) bool {
	return p.sizeRolls() && p.SizeBytes > 0 && size >= p.SizeBytes
}

// catchUp reports whether an active file whose START is start, found at time
// now (on open after a restart, or after a stall), crossed a time boundary it
// did not roll at: timeRolls() and the last boundary at or before now
// ([Policy.last]: the interval grid's or the calendar's) is strictly after start.
// Any number of missed boundaries gives one true (one roll, docs/design.md §5). A file
// started exactly at a boundary has not crossed it. catchUp says nothing of size:
// in mode 4 the caller still asks [Policy.rollAtBoundary]. loc is as for
// [nextGridBoundary].
func (p Policy) catchUp(start, now time.Time, loc *time.Location) bool {
	if !p.timeRolls() {
		return false
	}
	return p.last(now, loc).After(start)
}
