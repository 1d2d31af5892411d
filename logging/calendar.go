package logging

import (
	"fmt"
	"time"
)

// Calendar rolling (rolling_calendar): instead of the interval grid, a log's
// time boundaries are one a week (each Monday) or one a month (each 1st), at
// OffsetHours:00 local wall time.
//
// The boundary of such a day D is the FIRST instant at which the local wall
// clock reads D OffsetHours:00:00 or later. On a day whose clock jumps:
//
//   - forward over that wall time (it does not exist): the boundary is the
//     jump itself, as for the interval grid (a monthly roll at 02:00 on
//     Lord Howe's 2023-10-01, whose clocks go from 02:00 to 02:30, rolls at
//     02:30 LHDT);
//   - backward over it (it happens twice): the boundary is its first
//     occurrence only. Unlike the interval grid, which rolls at a repeated
//     wall time both times as Traffic Server does, a calendar period is one
//     week or one month, and a second roll an hour later would only make a
//     one-hour file. Likewise, when the clock goes back across the boundary
//     (Monday 00:30 back to Sunday 23:30), Monday 00:00 is not a boundary a
//     second time.
//
// The functions work on the "wall axis" (Unix seconds plus the zone offset,
// see policy.go): a calendar day's wall time W is a plain number of seconds,
// and its boundary is the earliest instant whose wall time is at least W,
// found span by span. Zone offsets are assumed to stay within a week
// (POSIX TZ strings cannot say more).

// Calendar selects calendar boundaries for a policy's time rolls.
type Calendar int

// The calendars of rolling_calendar.
const (
	// CalendarNone: the boundaries are the interval grid (Policy.Interval).
	CalendarNone Calendar = 0
	// CalendarWeekly: one boundary a week, on Monday at OffsetHours.
	CalendarWeekly Calendar = 1
	// CalendarMonthly: one boundary a month, on the 1st at OffsetHours.
	CalendarMonthly Calendar = 2
)

// String returns the record's name of c: "none", "weekly" or "monthly".
func (c Calendar) String() string {
	switch c {
	case CalendarNone:
		return "none"
	case CalendarWeekly:
		return "weekly"
	case CalendarMonthly:
		return "monthly"
	}
	return fmt.Sprintf("calendar(%d)", int(c))
}

// calMargin is how far before a wall time W the search for its first
// instant starts: more than any zone offset, so that every instant before it
// reads a wall time below W.
const calMargin = 8 * 24 * 60 * 60

// calMaxSteps bounds the walk over calendar periods; 3 or 4 suffice.
const calMaxSteps = 64

// firstReach returns the earliest instant (Unix seconds) whose wall time in
// loc is w or later.
func firstReach(w int64, loc *time.Location) int64 {
	u := w - calMargin
	for range policyMaxSpans {
		cur := time.Unix(u, 0).In(loc)
		_, off := cur.Zone()
		// Within a span the wall time is the instant plus off: increasing.
		c := max(u, w-int64(off))
		_, end := cur.ZoneBounds()
		if end.IsZero() || c < end.Unix() {
			return c
		}
		u = end.Unix()
	}
	return u
}

// calendarWall returns the wall time (Unix seconds of the wall fields read in
// UTC) of the k-th calendar day after the one on or before the wall date
// (y, m, d) — k may be negative — at offsetHours.
func calendarWall(cal Calendar, y int, m time.Month, d int, wd time.Weekday, k, offsetHours int) int64 {
	if cal == CalendarMonthly {
		return time.Date(y, m+time.Month(k), 1, offsetHours, 0, 0, 0, time.UTC).Unix()
	}
	monday := d - (int(wd)+6)%7
	return time.Date(y, m, monday+7*k, offsetHours, 0, 0, 0, time.UTC).Unix()
}

// calendarAround returns the calendar boundaries around t: last, the
// latest at or before t, and next, the first strictly after it.
func calendarAround(t time.Time, cal Calendar, offsetHours int, loc *time.Location) (last, next time.Time) {
	loc = policyLoc(loc)
	if cal != CalendarMonthly {
		cal = CalendarWeekly
	}
	off := int64(offsetHours) % 24
	if off < 0 {
		off += 24
	}
	cur := t.In(loc)
	now := cur.Unix() // boundaries are whole seconds: ≤ t ⇔ ≤ now
	_, zoff := cur.Zone()
	wall := time.Unix(now+int64(zoff), 0).UTC()
	y, m, d := wall.Date()
	wd := wall.Weekday()
	at := func(k int) int64 {
		return firstReach(calendarWall(cal, y, m, d, wd, k, int(off)), loc)
	}
	// firstReach grows with k: find the smallest k whose boundary is after
	// now, starting from the day on or before today's date.
	k := 0
	b := at(k)
	for i := 0; b > now && i < calMaxSteps; i++ {
		k--
		b = at(k)
	}
	for i := 0; b <= now && i < calMaxSteps; i++ {
		k++
		b = at(k)
	}
	return time.Unix(at(k-1), 0).In(loc), time.Unix(b, 0).In(loc)
}

// nextCalendarBoundary returns the first calendar boundary strictly after t
// (see the comment at the top of this file): the next Monday (weekly) or
// 1st (monthly) at offsetHours:00 local wall time, or the jump when the
// clock skips that time; in loc, whole seconds. offsetHours is taken modulo
// 24, CalendarNone as weekly; a nil loc means time.Local.
func nextCalendarBoundary(t time.Time, cal Calendar, offsetHours int, loc *time.Location) time.Time {
	_, next := calendarAround(t, cal, offsetHours, loc)
	return next
}

// lastCalendarBoundary returns the latest calendar boundary at or before t.
// Its arguments are those of [nextCalendarBoundary].
func lastCalendarBoundary(t time.Time, cal Calendar, offsetHours int, loc *time.Location) time.Time {
	last, _ := calendarAround(t, cal, offsetHours, loc)
	return last
}

// next returns the policy's first time boundary strictly after t: the
// calendar's ([nextCalendarBoundary]) when Calendar is set, else the
// interval grid's ([nextGridBoundary]). It does not look at Mode.
func (p Policy) next(t time.Time, loc *time.Location) time.Time {
	if p.Calendar != CalendarNone {
		return nextCalendarBoundary(t, p.Calendar, p.OffsetHours, loc)
	}
	return nextGridBoundary(t, p.Interval, p.OffsetHours, loc)
}

// last returns the policy's latest time boundary at or before t (see
// [Policy.next]).
func (p Policy) last(t time.Time, loc *time.Location) time.Time {
	if p.Calendar != CalendarNone {
		return lastCalendarBoundary(t, p.Calendar, p.OffsetHours, loc)
	}
	return lastGridBoundary(t, p.Interval, p.OffsetHours, loc)
}
