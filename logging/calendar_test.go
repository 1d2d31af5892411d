package logging

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// zicZone compiles the zic(8) source src (one zone, named name) and loads
// it, skipping the test when zic is not installed (Debian: libc-bin).
func zicZone(t *testing.T, name, src string) *time.Location {
	t.Helper()
	zic, err := exec.LookPath("zic")
	if err != nil {
		if zic, err = exec.LookPath("/usr/sbin/zic"); err != nil {
			t.Skip("zic (Debian libc-bin) not found")
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "zone.src"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zic, "-d", dir, filepath.Join(dir, "zone.src")).CombinedOutput(); err != nil {
		t.Fatalf("zic: %v\n%s\n%s", err, out, src)
	}
	data, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocationFromTZData(name, data)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// calTestZones are the zic-compiled zones of the calendar tests: their
// clocks jump on a Monday or a 1st, which no zone of the tz database does
// at a whole hour that matters (only New York's 2026-11-01 and Lord Howe's
// 2023-10-01 and 2029-04-01).
func calTestZones(t *testing.T) map[string]*time.Location {
	return map[string]*time.Location{
		// Monday 2026-11-30 00:30 goes back to Sunday 23:30 (UTC+2 → UTC+1).
		"LR/MonBack": zicZone(t, "LR/MonBack", "Zone LR/MonBack 2:00 - LRA 2026 Nov 29 22:30u\n 1:00 - LRB\n"),
		// Sunday 2026-11-29 23:30 jumps to Monday 00:30 (UTC+1 → UTC+2).
		"LR/MonGap": zicZone(t, "LR/MonGap", "Zone LR/MonGap 1:00 - LRA 2026 Nov 29 22:30u\n 2:00 - LRB\n"),
		// Sunday 2026-11-29 12:00 jumps to Tuesday 12:00: Monday is skipped.
		"LR/NoMonday": zicZone(t, "LR/NoMonday", "Zone LR/NoMonday -12:00 - LRA 2026 Nov 30 00:00u\n 36:00 - LRB\n"),
		// 2026-12-01 00:10 goes back to 2026-11-30 23:40 (UTC+0:30 → UTC): the
		// 1st begins twice.
		"LR/FirstBack": zicZone(t, "LR/FirstBack", "Zone LR/FirstBack 0:30 - LRA 2026 Nov 30 23:40u\n 0:00 - LRB\n"),
		// A fixed zone 71 hours ahead of UTC (the end-to-end tests use such).
		"LR/Plus71": zicZone(t, "LR/Plus71", "Zone LR/Plus71 71:00 - LRW\n"),
	}
}

// TestCalendarBoundaries checks the first calendar boundary after a time and
// the last one at or before it, across daylight-saving days in several
// zones: New York (the 2026-11-01 fall-back on a 1st), London, Lord Howe's
// 30-minute shifts on 1sts, and zic-compiled zones whose clocks jump on a
// Monday or across a 1st.
func TestCalendarBoundaries(t *testing.T) {
	ny := policyTestZone(t, "America/New_York")
	london := policyTestZone(t, "Europe/London")
	lh := policyTestZone(t, "Australia/Lord_Howe")
	utc := time.UTC
	zz := calTestZones(t)
	u := func(y int, m time.Month, d, h, mi int) time.Time { return time.Date(y, m, d, h, mi, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		loc        *time.Location
		cal        Calendar
		offset     int
		at         time.Time
		last, next time.Time // instants (UTC)
	}{
		{"weekly mid-week", utc, CalendarWeekly, 0, u(2026, 11, 25, 12, 0), u(2026, 11, 23, 0, 0), u(2026, 11, 30, 0, 0)},
		{"weekly at the boundary", utc, CalendarWeekly, 0, u(2026, 11, 30, 0, 0), u(2026, 11, 30, 0, 0), u(2026, 12, 7, 0, 0)},
		{"weekly a second before", utc, CalendarWeekly, 0, u(2026, 11, 29, 23, 59).Add(59 * time.Second), u(2026, 11, 23, 0, 0), u(2026, 11, 30, 0, 0)},
		{"weekly offset 5 on Monday morning", utc, CalendarWeekly, 5, u(2026, 11, 30, 3, 0), u(2026, 11, 23, 5, 0), u(2026, 11, 30, 5, 0)},
		{"weekly offset 23 on Sunday", utc, CalendarWeekly, 23, u(2026, 11, 29, 23, 0), u(2026, 11, 23, 23, 0), u(2026, 11, 30, 23, 0)},
		{"weekly across the year", utc, CalendarWeekly, 0, u(2026, 12, 30, 0, 0), u(2026, 12, 28, 0, 0), u(2027, 1, 4, 0, 0)},
		{"monthly mid-month", utc, CalendarMonthly, 0, u(2026, 2, 15, 0, 0), u(2026, 2, 1, 0, 0), u(2026, 3, 1, 0, 0)},
		{"monthly new year", utc, CalendarMonthly, 0, u(2026, 12, 31, 23, 59), u(2026, 12, 1, 0, 0), u(2027, 1, 1, 0, 0)},
		{"monthly offset 23 on the 1st", utc, CalendarMonthly, 23, u(2026, 3, 1, 22, 0), u(2026, 2, 1, 23, 0), u(2026, 3, 1, 23, 0)},
		{"monthly leap February", utc, CalendarMonthly, 0, u(2028, 2, 29, 12, 0), u(2028, 2, 1, 0, 0), u(2028, 3, 1, 0, 0)},

		// New York: the week of the spring jump is 167 h long, of the fall-back 169 h.
		{"New York weekly, spring week", ny, CalendarWeekly, 0, u(2026, 3, 4, 12, 0), u(2026, 3, 2, 5, 0), u(2026, 3, 9, 4, 0)},
		{"New York weekly, fall week", ny, CalendarWeekly, 0, u(2026, 10, 28, 12, 0), u(2026, 10, 26, 4, 0), u(2026, 11, 2, 5, 0)},
		// 2026-11-01 01:00 happens twice (EDT 05:00Z, EST 06:00Z): the first.
		{"New York monthly 01:00 on the fall-back 1st", ny, CalendarMonthly, 1, u(2026, 10, 20, 0, 0), u(2026, 10, 1, 5, 0), u(2026, 11, 1, 5, 0)},
		{"New York monthly, in the repeated hour", ny, CalendarMonthly, 1, u(2026, 11, 1, 6, 30), u(2026, 11, 1, 5, 0), u(2026, 12, 1, 6, 0)},
		// 02:00 EDT is never shown (01:59:59 EDT → 01:00 EST): 02:00 EST.
		{"New York monthly 02:00 on the fall-back 1st", ny, CalendarMonthly, 2, u(2026, 11, 1, 6, 30), u(2026, 10, 1, 6, 0), u(2026, 11, 1, 7, 0)},

		{"London monthly across the spring month", london, CalendarMonthly, 0, u(2026, 3, 15, 0, 0), u(2026, 3, 1, 0, 0), u(2026, 3, 31, 23, 0)},
		{"London weekly, spring week", london, CalendarWeekly, 1, u(2026, 3, 25, 0, 0), u(2026, 3, 23, 1, 0), u(2026, 3, 30, 0, 0)},
		{"London weekly, autumn week", london, CalendarWeekly, 1, u(2026, 10, 21, 0, 0), u(2026, 10, 19, 0, 0), u(2026, 10, 26, 1, 0)},

		// Lord Howe 2023-10-01: 02:00 LHST (+10:30) jumps to 02:30 LHDT (+11).
		{"Lord Howe monthly 02:00 in the gap: at the jump", lh, CalendarMonthly, 2, u(2023, 9, 20, 0, 0), u(2023, 8, 31, 15, 30), u(2023, 9, 30, 15, 30)},
		{"Lord Howe monthly 03:00 after the gap", lh, CalendarMonthly, 3, u(2023, 9, 20, 0, 0), u(2023, 8, 31, 16, 30), u(2023, 9, 30, 16, 0)},
		// Lord Howe 2029-04-01: 02:00 LHDT (+11) goes back to 01:30 LHST (+10:30).
		{"Lord Howe monthly 01:00 before the fall-back", lh, CalendarMonthly, 1, u(2029, 3, 20, 0, 0), u(2029, 2, 28, 14, 0), u(2029, 3, 31, 14, 0)},
		{"Lord Howe monthly 02:00 after the fall-back", lh, CalendarMonthly, 2, u(2029, 3, 31, 15, 10), u(2029, 2, 28, 15, 0), u(2029, 3, 31, 15, 30)},

		// Monday 00:30 back to Sunday 23:30: Monday 00:00 is a boundary once.
		{"zic weekly, clock back across Monday, before", zz["LR/MonBack"], CalendarWeekly, 0, u(2026, 11, 29, 21, 0), u(2026, 11, 22, 22, 0), u(2026, 11, 29, 22, 0)},
		{"zic weekly, clock back across Monday, Sunday again", zz["LR/MonBack"], CalendarWeekly, 0, u(2026, 11, 29, 22, 40), u(2026, 11, 29, 22, 0), u(2026, 12, 6, 23, 0)},
		{"zic weekly, clock back across Monday, Monday again", zz["LR/MonBack"], CalendarWeekly, 0, u(2026, 11, 29, 23, 10), u(2026, 11, 29, 22, 0), u(2026, 12, 6, 23, 0)},
		// Sunday 23:30 to Monday 00:30: at the jump.
		{"zic weekly, Monday 00:00 skipped", zz["LR/MonGap"], CalendarWeekly, 0, u(2026, 11, 29, 20, 0), u(2026, 11, 22, 23, 0), u(2026, 11, 29, 22, 30)},
		{"zic weekly, after the gap", zz["LR/MonGap"], CalendarWeekly, 0, u(2026, 11, 29, 22, 30), u(2026, 11, 29, 22, 30), u(2026, 12, 6, 22, 0)},
		// No Monday at all that week: the jump to Tuesday noon is the boundary.
		{"zic weekly, Monday skipped", zz["LR/NoMonday"], CalendarWeekly, 5, u(2026, 11, 29, 12, 0), u(2026, 11, 23, 17, 0), u(2026, 11, 30, 0, 0)},
		{"zic weekly, after the skipped Monday", zz["LR/NoMonday"], CalendarWeekly, 5, u(2026, 11, 30, 0, 0), u(2026, 11, 30, 0, 0), u(2026, 12, 5, 17, 0)},
		// The 1st begins at 00:00 (23:30Z), the clock goes back at 00:10 to
		// 23:40 of the 30th: one boundary, the first.
		{"zic monthly, clock back across the 1st", zz["LR/FirstBack"], CalendarMonthly, 0, u(2026, 11, 30, 23, 50), u(2026, 11, 30, 23, 30), u(2027, 1, 1, 0, 0)},
		{"zic monthly, 71 h ahead", zz["LR/Plus71"], CalendarMonthly, 0, u(2026, 11, 28, 0, 0), u(2026, 10, 29, 1, 0), u(2026, 11, 28, 1, 0)},
		{"zic weekly, 71 h ahead", zz["LR/Plus71"], CalendarWeekly, 3, u(2026, 11, 27, 0, 0), u(2026, 11, 20, 4, 0), u(2026, 11, 27, 4, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := lastCalendarBoundary(tt.at, tt.cal, tt.offset, tt.loc)
			next := nextCalendarBoundary(tt.at, tt.cal, tt.offset, tt.loc)
			if !last.Equal(tt.last) || !next.Equal(tt.next) {
				t.Errorf("around %v (%v): last %v, next %v; want %v, %v", tt.at, tt.at.In(tt.loc),
					last.UTC(), next.UTC(), tt.last, tt.next)
			}
			if last.Location() != tt.loc || next.Location() != tt.loc {
				t.Errorf("boundaries not in the zone: %v, %v", last.Location(), next.Location())
			}
			p := Policy{Mode: ModeTime, Calendar: tt.cal, OffsetHours: tt.offset, Interval: time.Hour}
			if !p.next(tt.at, tt.loc).Equal(next) || !p.last(tt.at, tt.loc).Equal(last) {
				t.Errorf("Policy.next/Last disagree with the calendar functions")
			}
		})
	}
}

// calOracleIsWall reports whether a calendar day's wall time (offset hours)
// lies in the wall interval (lo, hi], checking each day in it.
func calOracleIsWall(lo, hi int64, cal Calendar, offset int) bool {
	for d := time.Unix(lo, 0).UTC().Truncate(24 * time.Hour); d.Unix() <= hi; d = d.AddDate(0, 0, 1) {
		if (cal == CalendarWeekly && d.Weekday() != time.Monday) || (cal == CalendarMonthly && d.Day() != 1) {
			continue
		}
		if w := d.Unix() + int64(offset)*3600; w > lo && w <= hi {
			return true
		}
	}
	return false
}

// TestCalendarMatchesOracle walks, second by second, the days around
// calendar boundaries whose clocks jump, and checks Next and Last against
// the definition written differently: an instant is a boundary when the
// wall clock reaches a calendar day's wall time for the first time, i.e.
// when that wall time lies above the highest wall time shown before and at
// or below the wall time shown now.
func TestCalendarMatchesOracle(t *testing.T) {
	zz := calTestZones(t)
	cases := []struct {
		zone   string
		loc    *time.Location
		cal    Calendar
		offset int
		around time.Time // a UTC instant; the walk covers 8 h before and after it
	}{
		{"America/New_York", nil, CalendarMonthly, 1, time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
		{"America/New_York", nil, CalendarMonthly, 2, time.Date(2026, 11, 1, 6, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", nil, CalendarMonthly, 2, time.Date(2023, 9, 30, 15, 30, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", nil, CalendarMonthly, 2, time.Date(2029, 3, 31, 15, 0, 0, 0, time.UTC)},
		{"Europe/London", nil, CalendarWeekly, 1, time.Date(2026, 3, 30, 0, 0, 0, 0, time.UTC)},
		{"LR/MonBack", zz["LR/MonBack"], CalendarWeekly, 0, time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC)},
		{"LR/MonGap", zz["LR/MonGap"], CalendarWeekly, 0, time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC)},
		{"LR/NoMonday", zz["LR/NoMonday"], CalendarWeekly, 5, time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)},
		{"LR/FirstBack", zz["LR/FirstBack"], CalendarMonthly, 0, time.Date(2026, 11, 30, 23, 40, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/%s+%d/%s", c.zone, c.cal, c.offset, c.around.Format("2006-01-02T15:04")), func(t *testing.T) {
			t.Parallel()
			loc := c.loc
			if loc == nil {
				loc = policyTestZone(t, c.zone)
			}
			wall := func(u int64) int64 { _, off := time.Unix(u, 0).In(loc).Zone(); return u + int64(off) }
			from, to := c.around.Unix()-8*3600, c.around.Unix()+8*3600
			// The highest wall time shown before from: no zone goes back a day.
			high := wall(from - 1)
			for u := from - 26*3600; u < from; u++ {
				high = max(high, wall(u))
			}
			last := lastCalendarBoundary(time.Unix(from-1, 0), c.cal, c.offset, loc).Unix()
			boundaries := 0
			for u := from; u <= to; u++ {
				w := wall(u)
				if calOracleIsWall(high, w, c.cal, c.offset) {
					if next := nextCalendarBoundary(time.Unix(last, 0), c.cal, c.offset, loc).Unix(); next != u {
						t.Fatalf("nextCalendarBoundary(%v) = %v, want %v", time.Unix(last, 0).In(loc), time.Unix(next, 0).In(loc), time.Unix(u, 0).In(loc))
					}
					last = u
					boundaries++
				}
				high = max(high, w)
				if got := lastCalendarBoundary(time.Unix(u, 500), c.cal, c.offset, loc).Unix(); got != last {
					t.Fatalf("lastCalendarBoundary(%v) = %v, want %v", time.Unix(u, 0).In(loc), time.Unix(got, 0).In(loc), time.Unix(last, 0).In(loc))
				}
			}
			if boundaries != 1 {
				t.Errorf("%d boundaries in the 16 h walked, want 1", boundaries)
			}
		})
	}
}

func FuzzCalendar(f *testing.F) {
	f.Add(uint8(1), int64(1793509200), bool(false), uint8(1), int32(0)) // New York 2026-11-01
	f.Add(uint8(2), int64(1696087800), bool(false), uint8(2), int32(0)) // Lord Howe 2023-10-01
	f.Add(uint8(5), int64(1325152800), bool(true), uint8(0), int32(5))  // Apia's skipped day
	f.Add(uint8(6), int64(1224381600), bool(false), uint8(0), int32(1)) // São Paulo midnight jump
	f.Add(uint8(0), int64(-4102444800), bool(true), uint8(23), int32(-17))
	f.Fuzz(func(t *testing.T, zone uint8, sec int64, weekly bool, offset uint8, nsec int32) {
		loc, err := time.LoadLocation(policyFuzzZones[int(zone)%len(policyFuzzZones)])
		if err != nil {
			t.Skip(err)
		}
		cal := CalendarMonthly
		if weekly {
			cal = CalendarWeekly
		}
		off := int(offset) % 24
		at := time.Unix(policyFloorMod(sec+1<<34, 1<<35)-1<<34, int64(nsec)%1e9).In(loc)
		next := nextCalendarBoundary(at, cal, off, loc)
		last := lastCalendarBoundary(at, cal, off, loc)
		wall := func(t time.Time) time.Time {
			y, m, d := t.Date()
			h, mi, s := t.Clock()
			return time.Date(y, m, d, h, mi, s, 0, time.UTC)
		}
		// Each boundary is the first instant reaching a calendar day's wall
		// time: the second before it shows an earlier wall time than the
		// latest calendar wall time at or before the boundary's.
		isFirst := func(b time.Time) bool {
			w := wall(b)
			day := time.Date(w.Year(), w.Month(), w.Day(), off, 0, 0, 0, time.UTC)
			for day.After(w) || (cal == CalendarWeekly && day.Weekday() != time.Monday) || (cal == CalendarMonthly && day.Day() != 1) {
				day = day.AddDate(0, 0, -1)
			}
			return wall(b.Add(-time.Second)).Before(day)
		}
		switch {
		case !next.After(at):
			t.Fatalf("next %v not after %v", next, at)
		case last.After(at):
			t.Fatalf("last %v after %v", last, at)
		case next.Sub(last) > 33*24*time.Hour || next.Sub(last) < 24*time.Hour:
			t.Fatalf("boundaries %v and %v around %v are too far apart or too close", last, next, at)
		case !isFirst(next) || !isFirst(last):
			t.Fatalf("boundaries %v and %v around %v: not the first instant of a calendar wall time", last, next, at)
		case !lastCalendarBoundary(next, cal, off, loc).Equal(next):
			t.Fatalf("lastCalendarBoundary(%v) is not itself", next)
		case !nextCalendarBoundary(last, cal, off, loc).Equal(next):
			t.Fatalf("nextCalendarBoundary(%v) = %v, want %v", last, nextCalendarBoundary(last, cal, off, loc), next)
		}
	})
}

func TestCatchUpCalendar(t *testing.T) {
	weekly := Policy{Mode: ModeTime, Calendar: CalendarWeekly, OffsetHours: 6, Interval: time.Hour}
	monthly := Policy{Mode: ModeTimeOrSize, Calendar: CalendarMonthly, SizeBytes: 1 << 20}
	at := func(m time.Month, d, h int) time.Time { return time.Date(2026, m, d, h, 0, 0, 0, time.UTC) }
	tests := []struct {
		name       string
		p          Policy
		start, now time.Time
		want       bool
	}{
		{"weekly within the week (the interval is not used)", weekly, at(11, 24, 1), at(11, 29, 23), false},
		{"weekly before Monday 06:00", weekly, at(11, 24, 1), at(11, 30, 5), false},
		{"weekly at Monday 06:00", weekly, at(11, 24, 1), at(11, 30, 6), true},
		{"weekly three weeks later", weekly, at(11, 24, 1), at(12, 15, 0), true},
		{"weekly started at the boundary", weekly, at(11, 30, 6), at(12, 7, 5), false},
		{"monthly within the month", monthly, at(11, 2, 0), at(11, 30, 23), false},
		{"monthly crossed", monthly, at(11, 2, 0), at(12, 1, 0), true},
		{"size mode never", Policy{Mode: ModeSize, Calendar: CalendarMonthly, SizeBytes: 1}, at(1, 2, 0), at(12, 1, 0), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.catchUp(tt.start, tt.now, time.UTC); got != tt.want {
				t.Errorf("catchUp(%v, %v) = %v, want %v", tt.start, tt.now, got, tt.want)
			}
		})
	}
}

// TestCalendarRolls drives a collator through five weeks (the fake clock
// starts on Saturday 2000-01-01 00:00) with a record every six hours from
// 01:00: weekly rolls at Monday 06:00 and monthly rolls on the 1st at 06:00
// (that day's too), each END the boundary, the interval (an hour) unused.
func TestCalendarRolls(t *testing.T) {
	for _, tc := range []struct {
		name     string
		cal      Calendar
		run      time.Duration
		wantEnds []string
	}{
		{"weekly", CalendarWeekly, 5 * 7 * 24 * time.Hour, []string{"Jan3 06:00:00", "Jan10 06:00:00", "Jan17 06:00:00", "Jan24 06:00:00", "Jan31 06:00:00"}},
		{"monthly", CalendarMonthly, 100 * 24 * time.Hour, []string{"06:00:00", "Feb1 06:00:00", "Mar1 06:00:00", "Apr1 06:00:00"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				c := mustOpen(t, testCfg(dir, Policy{Mode: ModeTime, Interval: time.Hour, OffsetHours: 6, Calendar: tc.cal}))
				time.Sleep(time.Hour)
				for range tc.run / (6 * time.Hour) {
					write(t, c, testLog, stamp("r"))
					time.Sleep(6 * time.Hour)
				}
				ends := rolledEnds(t, dir, testLog)
				if !slices.Equal(ends, tc.wantEnds) {
					t.Errorf("ENDs %q, want %q", ends, tc.wantEnds)
				}
				checkPartition(t, dir, testLog)
				if st := c.Stats().Logs[testLog]; st.RollsTime != int64(len(tc.wantEnds)) {
					t.Errorf("RollsTime = %d, want %d", st.RollsTime, len(tc.wantEnds))
				}
			})
		})
	}
}

// TestCalendarCatchUpAfterRestart: a weekly log stopped on Sunday and
// started again on Tuesday makes one catch-up roll at start; one stopped and
// started within the week makes none; a reload that turns the calendar on
// re-arms the next boundary from the calendar.
func TestCalendarCatchUpAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeTime, Calendar: CalendarWeekly})
		c := mustOpen(t, cfg)
		write(t, c, testLog, stamp("saturday"))
		c.Close()
		time.Sleep(30 * time.Hour) // Sunday 06:00
		c = mustOpen(t, cfg)
		write(t, c, testLog, stamp("sunday"))
		c.Close()
		if got := rolledFiles(t, dir, testLog); len(got) != 0 {
			t.Fatalf("rolled on a restart within the week: %q", spans(got))
		}
		time.Sleep(48 * time.Hour) // Tuesday 06:00: Monday 00:00 missed
		c = mustOpen(t, cfg)
		if got, want := spans(rolledFiles(t, dir, testLog)), []string{"00:00:00-Jan4 06:00:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
		if recs := checkPartition(t, dir, testLog); len(recs) != 2 {
			t.Errorf("rolled file holds %q, want both records", recs)
		}
		// Reload to monthly: the next roll is on February 1st, not on Monday.
		write(t, c, testLog, stamp("tuesday"))
		cfg.Logs[0].Policy.Calendar = CalendarMonthly
		if err := c.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		time.Sleep(28 * 24 * time.Hour) // Feb 1 06:00
		got := spans(rolledFiles(t, dir, testLog))
		if want := []string{"00:00:00-Jan4 06:00:00", "Jan4 06:00:00-Feb1 00:00:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
	})
}
