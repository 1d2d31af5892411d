package logging

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // DST zones for the boundary tests, whatever the host has
)

// policyTestZone loads a zone, skipping the test when it cannot.
func policyTestZone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func TestNextBoundaryHourlyDay(t *testing.T) {
	for _, zone := range []string{"UTC", "Asia/Kolkata", "America/New_York"} {
		t.Run(zone, func(t *testing.T) {
			loc := policyTestZone(t, zone)
			at := time.Date(2026, 11, 21, 0, 0, 0, 0, loc)
			for h := 1; h <= 24; h++ {
				want := time.Date(2026, 11, 21, h, 0, 0, 0, loc)
				got := nextGridBoundary(at, time.Hour, 0, loc)
				if !got.Equal(want) {
					t.Fatalf("nextGridBoundary(%v) = %v, want %v", at, got, want)
				}
				if last := lastGridBoundary(got.Add(-time.Nanosecond), time.Hour, 0, loc); !last.Equal(at) {
					t.Fatalf("lastGridBoundary(%v) = %v, want %v", got.Add(-time.Nanosecond), last, at)
				}
				at = got
			}
		})
	}
}

func TestBoundaries(t *testing.T) {
	utc := time.UTC
	d := func(day, h, m, s, ns int) time.Time { return time.Date(2026, 11, day, h, m, s, ns, utc) }
	tests := []struct {
		name     string
		interval time.Duration
		offset   int
		at       time.Time
		next     time.Time
		last     time.Time
	}{
		{"6h from midnight", 6 * time.Hour, 0, d(21, 0, 0, 0, 0), d(21, 6, 0, 0, 0), d(21, 0, 0, 0, 0)},
		{"6h morning", 6 * time.Hour, 0, d(21, 7, 0, 0, 0), d(21, 12, 0, 0, 0), d(21, 6, 0, 0, 0)},
		{"6h afternoon", 6 * time.Hour, 0, d(21, 17, 59, 59, 0), d(21, 18, 0, 0, 0), d(21, 12, 0, 0, 0)},
		{"6h evening wraps", 6 * time.Hour, 0, d(21, 18, 0, 0, 1), d(22, 0, 0, 0, 0), d(21, 18, 0, 0, 0)},
		{"12h+3 night", 12 * time.Hour, 3, d(21, 1, 0, 0, 0), d(21, 3, 0, 0, 0), d(20, 15, 0, 0, 0)},
		{"12h+3 morning", 12 * time.Hour, 3, d(21, 3, 0, 0, 0), d(21, 15, 0, 0, 0), d(21, 3, 0, 0, 0)},
		{"12h+3 evening", 12 * time.Hour, 3, d(21, 16, 0, 0, 0), d(22, 3, 0, 0, 0), d(21, 15, 0, 0, 0)},
		{"12h+15 same as +3", 12 * time.Hour, 15, d(21, 16, 0, 0, 0), d(22, 3, 0, 0, 0), d(21, 15, 0, 0, 0)},
		{"1s fraction", time.Second, 0, d(21, 12, 0, 0, 500), d(21, 12, 0, 1, 0), d(21, 12, 0, 0, 0)},
		{"1s exact", time.Second, 0, d(21, 12, 0, 1, 0), d(21, 12, 0, 2, 0), d(21, 12, 0, 1, 0)},
		{"1s end of day", time.Second, 0, d(21, 23, 59, 59, 999999999), d(22, 0, 0, 0, 0), d(21, 23, 59, 59, 0)},
		{"daily+5 before", 24 * time.Hour, 5, d(21, 4, 59, 59, 0), d(21, 5, 0, 0, 0), d(20, 5, 0, 0, 0)},
		{"daily+5 exact", 24 * time.Hour, 5, d(21, 5, 0, 0, 0), d(22, 5, 0, 0, 0), d(21, 5, 0, 0, 0)},
		{"daily+5 late", 24 * time.Hour, 5, d(21, 23, 0, 0, 0), d(22, 5, 0, 0, 0), d(21, 5, 0, 0, 0)},
		{"daily midnight exact", 24 * time.Hour, 0, d(21, 0, 0, 0, 0), d(22, 0, 0, 0, 0), d(21, 0, 0, 0, 0)},
		{"hourly exact", time.Hour, 0, d(21, 6, 0, 0, 0), d(21, 7, 0, 0, 0), d(21, 6, 0, 0, 0)},
		{"hourly just after", time.Hour, 0, d(21, 6, 0, 0, 1), d(21, 7, 0, 0, 0), d(21, 6, 0, 0, 0)},
		{"5min+1h offset", 5 * time.Minute, 1, d(21, 6, 7, 0, 0), d(21, 6, 10, 0, 0), d(21, 6, 5, 0, 0)},
		{"7h rounded up to 8h", 7 * time.Hour, 0, d(21, 9, 0, 0, 0), d(21, 16, 0, 0, 0), d(21, 8, 0, 0, 0)},
		{"50min rounded up to 53m20s", 50 * time.Minute, 0, d(21, 0, 1, 0, 0), d(21, 0, 53, 20, 0), d(21, 0, 0, 0, 0)},
		{"offset -1 is 23", 24 * time.Hour, -1, d(21, 9, 0, 0, 0), d(21, 23, 0, 0, 0), d(20, 23, 0, 0, 0)},
		{"1.5s truncated to 1s", 1500 * time.Millisecond, 0, d(21, 9, 0, 0, 0), d(21, 9, 0, 1, 0), d(21, 9, 0, 0, 0)},
		{"zero interval is 1s", 0, 0, d(21, 9, 0, 0, 0), d(21, 9, 0, 1, 0), d(21, 9, 0, 0, 0)},
		{"48h is daily", 48 * time.Hour, 0, d(21, 9, 0, 0, 0), d(22, 0, 0, 0, 0), d(21, 0, 0, 0, 0)},
		{"offset 25 is 1", 24 * time.Hour, 25, d(21, 9, 0, 0, 0), d(22, 1, 0, 0, 0), d(21, 1, 0, 0, 0)},
		{"before 1970", time.Hour, 0, time.Date(1969, 7, 20, 20, 17, 40, 0, utc), time.Date(1969, 7, 20, 21, 0, 0, 0, utc), time.Date(1969, 7, 20, 20, 0, 0, 0, utc)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := nextGridBoundary(tt.at, tt.interval, tt.offset, utc); !got.Equal(tt.next) {
				t.Errorf("nextGridBoundary(%v) = %v, want %v", tt.at, got, tt.next)
			}
			if got := lastGridBoundary(tt.at, tt.interval, tt.offset, utc); !got.Equal(tt.last) {
				t.Errorf("lastGridBoundary(%v) = %v, want %v", tt.at, got, tt.last)
			}
		})
	}
}

func TestBoundariesInLocation(t *testing.T) {
	ny := policyTestZone(t, "America/New_York")
	kolkata := policyTestZone(t, "Asia/Kolkata")
	est := time.FixedZone("EST", -5*3600)
	edt := time.FixedZone("EDT", -4*3600)
	tests := []struct {
		name     string
		loc      *time.Location
		interval time.Duration
		offset   int
		at       time.Time
		next     time.Time
		last     time.Time
	}{
		{"kolkata daily", kolkata, 24 * time.Hour, 0, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 22, 0, 0, 0, 0, kolkata), time.Date(2026, 11, 21, 0, 0, 0, 0, kolkata)},
		{"kolkata 6h", kolkata, 6 * time.Hour, 0, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC),
			time.Date(2026, 11, 21, 6, 0, 0, 0, kolkata), time.Date(2026, 11, 21, 0, 0, 0, 0, kolkata)},
		{"spring hourly before gap", ny, time.Hour, 0, time.Date(2026, 3, 8, 0, 30, 0, 0, est),
			time.Date(2026, 3, 8, 1, 0, 0, 0, est), time.Date(2026, 3, 8, 0, 0, 0, 0, est)},
		{"spring hourly over gap", ny, time.Hour, 0, time.Date(2026, 3, 8, 1, 30, 0, 0, est),
			time.Date(2026, 3, 8, 3, 0, 0, 0, edt), time.Date(2026, 3, 8, 1, 0, 0, 0, est)},
		{"spring hourly after gap", ny, time.Hour, 0, time.Date(2026, 3, 8, 3, 0, 0, 0, edt),
			time.Date(2026, 3, 8, 4, 0, 0, 0, edt), time.Date(2026, 3, 8, 3, 0, 0, 0, edt)},
		{"spring 30min gap makes one roll", ny, 30 * time.Minute, 0, time.Date(2026, 3, 8, 1, 45, 0, 0, est),
			time.Date(2026, 3, 8, 3, 0, 0, 0, edt), time.Date(2026, 3, 8, 1, 30, 0, 0, est)},
		{"spring daily at 2h rolls at jump", ny, 24 * time.Hour, 2, time.Date(2026, 3, 8, 0, 0, 0, 0, est),
			time.Date(2026, 3, 8, 3, 0, 0, 0, edt), time.Date(2026, 3, 7, 2, 0, 0, 0, est)},
		{"spring daily at 2h next day", ny, 24 * time.Hour, 2, time.Date(2026, 3, 8, 3, 0, 0, 0, edt),
			time.Date(2026, 3, 9, 2, 0, 0, 0, edt), time.Date(2026, 3, 8, 3, 0, 0, 0, edt)},
		{"spring daily midnight keeps wall time", ny, 24 * time.Hour, 0, time.Date(2026, 3, 8, 1, 0, 0, 0, est),
			time.Date(2026, 3, 9, 0, 0, 0, 0, edt), time.Date(2026, 3, 8, 0, 0, 0, 0, est)},
		{"fall hourly first 1am", ny, time.Hour, 0, time.Date(2026, 11, 1, 0, 30, 0, 0, edt),
			time.Date(2026, 11, 1, 1, 0, 0, 0, edt), time.Date(2026, 11, 1, 0, 0, 0, 0, edt)},
		{"fall hourly second 1am", ny, time.Hour, 0, time.Date(2026, 11, 1, 1, 30, 0, 0, edt),
			time.Date(2026, 11, 1, 1, 0, 0, 0, est), time.Date(2026, 11, 1, 1, 0, 0, 0, edt)},
		{"fall hourly after repeat", ny, time.Hour, 0, time.Date(2026, 11, 1, 1, 30, 0, 0, est),
			time.Date(2026, 11, 1, 2, 0, 0, 0, est), time.Date(2026, 11, 1, 1, 0, 0, 0, est)},
		{"fall 1s keeps ticking", ny, time.Second, 0, time.Date(2026, 11, 1, 1, 59, 59, 0, edt),
			time.Date(2026, 11, 1, 1, 0, 0, 0, est), time.Date(2026, 11, 1, 1, 59, 59, 0, edt)},
		{"fall daily midnight", ny, 24 * time.Hour, 0, time.Date(2026, 11, 1, 12, 0, 0, 0, est),
			time.Date(2026, 11, 2, 0, 0, 0, 0, est), time.Date(2026, 11, 1, 0, 0, 0, 0, edt)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := nextGridBoundary(tt.at, tt.interval, tt.offset, tt.loc)
			if !got.Equal(tt.next) {
				t.Errorf("nextGridBoundary(%v) = %v, want %v", tt.at, got, tt.next)
			}
			if got.Location() != tt.loc {
				t.Errorf("nextGridBoundary location = %v, want %v", got.Location(), tt.loc)
			}
			if got := lastGridBoundary(tt.at, tt.interval, tt.offset, tt.loc); !got.Equal(tt.last) {
				t.Errorf("lastGridBoundary(%v) = %v, want %v", tt.at, got, tt.last)
			}
		})
	}
}

// policyOracleIsBoundary says, from the definition alone, whether the whole
// second u is a boundary: its wall time of day is on the grid, or the clock
// jumps forward at u over a grid time.
func policyOracleIsBoundary(u int64, step, phase int64, loc *time.Location) bool {
	_, off := time.Unix(u, 0).In(loc).Zone()
	_, offPrev := time.Unix(u-1, 0).In(loc).Zone()
	if (u+int64(off)-phase)%step == 0 {
		return true
	}
	for w := u + int64(offPrev); w < u+int64(off); w++ { // wall times skipped at u
		if (w-phase)%step == 0 {
			return true
		}
	}
	return false
}

// TestBoundariesMatchOracle walks days with a clock jump second by second and
// checks that nextGridBoundary chains through exactly the boundaries of the
// definition, and that lastGridBoundary agrees at every second.
func TestBoundariesMatchOracle(t *testing.T) {
	days := []struct {
		zone string
		day  time.Time // a UTC instant; the walk covers the 30 hours after it
	}{
		{"UTC", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 3, 8, 0, 0, 0, 0, time.UTC)},
		{"America/New_York", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)},
		{"Australia/Lord_Howe", time.Date(2026, 4, 4, 12, 0, 0, 0, time.UTC)},  // 02:00 → 01:30
		{"Australia/Lord_Howe", time.Date(2026, 10, 3, 12, 0, 0, 0, time.UTC)}, // 02:00 → 02:30
		{"Asia/Kolkata", time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)},
	}
	grids := []struct {
		interval time.Duration
		offset   int
	}{{time.Second, 0}, {15 * time.Minute, 0}, {30 * time.Minute, 0}, {time.Hour, 0}, {2 * time.Hour, 1}, {24 * time.Hour, 2}, {24 * time.Hour, 1}}
	for _, d := range days {
		for _, g := range grids {
			t.Run(fmt.Sprintf("%s/%s/%v+%d", d.zone, d.day.Format("2006-01-02"), g.interval, g.offset), func(t *testing.T) {
				t.Parallel()
				loc := policyTestZone(t, d.zone)
				step, phase := policyGrid(g.interval, g.offset)
				from, to := d.day.Unix(), d.day.Unix()+policyDay+6*3600
				at := lastGridBoundary(time.Unix(from, 0), g.interval, g.offset, loc)
				last := at.Unix()
				if !policyOracleIsBoundary(last, step, phase, loc) {
					t.Fatalf("lastGridBoundary(%v) = %v is not a boundary", time.Unix(from, 0).In(loc), at)
				}
				for u := last + 1; u <= to; u++ {
					if !policyOracleIsBoundary(u, step, phase, loc) {
						if got := lastGridBoundary(time.Unix(u, 0), g.interval, g.offset, loc).Unix(); got != last {
							t.Fatalf("lastGridBoundary(%v) = %v, want %v", time.Unix(u, 0).In(loc), time.Unix(got, 0).In(loc), time.Unix(last, 0).In(loc))
						}
						continue
					}
					if next := nextGridBoundary(at, g.interval, g.offset, loc); next.Unix() != u {
						t.Fatalf("nextGridBoundary(%v) = %v, want %v", at, next, time.Unix(u, 0).In(loc))
					}
					if got := lastGridBoundary(time.Unix(u, 999), g.interval, g.offset, loc).Unix(); got != u {
						t.Fatalf("lastGridBoundary(%v) = %v, want itself", time.Unix(u, 0).In(loc), time.Unix(got, 0).In(loc))
					}
					at, last = time.Unix(u, 0).In(loc), u
				}
			})
		}
	}
}

func TestPolicyModes(t *testing.T) {
	tests := []struct {
		mode       Mode
		time, size bool
	}{
		{ModeNone, false, false},
		{ModeTime, true, false},
		{ModeSize, false, true},
		{ModeTimeOrSize, true, true},
		{ModeTimeAndSize, true, false},
		{Mode(5), false, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.mode), func(t *testing.T) {
			p := Policy{Mode: tt.mode}
			if got := p.timeRolls(); got != tt.time {
				t.Errorf("timeRolls() = %v, want %v", got, tt.time)
			}
			if got := p.sizeRolls(); got != tt.size {
				t.Errorf("sizeRolls() = %v, want %v", got, tt.size)
			}
		})
	}
}

func TestRollAtBoundaryAndSizeReached(t *testing.T) {
	const limit = 100
	// want[i] is for sizes 0, 1, limit-1, limit, limit+1.
	sizes := []int64{0, 1, limit - 1, limit, limit + 1}
	tests := []struct {
		name       string
		mode       Mode
		allowEmpty bool
		boundary   [5]bool
		reached    [5]bool
	}{
		{"none", ModeNone, false, [5]bool{}, [5]bool{}},
		{"none allow empty", ModeNone, true, [5]bool{}, [5]bool{}},
		{"time", ModeTime, false, [5]bool{false, true, true, true, true}, [5]bool{}},
		{"time allow empty", ModeTime, true, [5]bool{true, true, true, true, true}, [5]bool{}},
		{"size", ModeSize, false, [5]bool{}, [5]bool{false, false, false, true, true}},
		{"size allow empty", ModeSize, true, [5]bool{}, [5]bool{false, false, false, true, true}},
		{"time or size", ModeTimeOrSize, false, [5]bool{false, true, true, true, true}, [5]bool{false, false, false, true, true}},
		{"time or size allow empty", ModeTimeOrSize, true, [5]bool{true, true, true, true, true}, [5]bool{false, false, false, true, true}},
		{"time and size", ModeTimeAndSize, false, [5]bool{false, false, false, true, true}, [5]bool{}},
		{"time and size allow empty", ModeTimeAndSize, true, [5]bool{false, false, false, true, true}, [5]bool{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Policy{Mode: tt.mode, SizeBytes: limit, AllowEmpty: tt.allowEmpty}
			for i, size := range sizes {
				if got := p.rollAtBoundary(size); got != tt.boundary[i] {
					t.Errorf("rollAtBoundary(%d) = %v, want %v", size, got, tt.boundary[i])
				}
				if got := p.sizeReached(size); got != tt.reached[i] {
					t.Errorf("sizeReached(%d) = %v, want %v", size, got, tt.reached[i])
				}
			}
		})
	}
	t.Run("no size limit", func(t *testing.T) {
		for _, mode := range []Mode{ModeSize, ModeTimeOrSize} {
			if (Policy{Mode: mode}).sizeReached(1 << 40) {
				t.Errorf("mode %d with SizeBytes 0: sizeReached = true, want false", mode)
			}
		}
		p := Policy{Mode: ModeTimeAndSize}
		if p.rollAtBoundary(0) || !p.rollAtBoundary(1) {
			t.Errorf("mode 4 with SizeBytes 0: rollAtBoundary(0), (1) = %v, %v; want false, true", p.rollAtBoundary(0), p.rollAtBoundary(1))
		}
	})
}

func TestCatchUp(t *testing.T) {
	loc := time.UTC
	hourly := Policy{Mode: ModeTime, Interval: time.Hour}
	at := func(h, m int) time.Time { return time.Date(2026, 11, 21, h, m, 0, 0, loc) }
	tests := []struct {
		name       string
		p          Policy
		start, now time.Time
		want       bool
	}{
		{"same hour", hourly, at(6, 10), at(6, 50), false},
		{"started at boundary, same hour", hourly, at(6, 0), at(6, 59), false},
		{"now at next boundary", hourly, at(6, 10), at(7, 0), true},
		{"one crossed", hourly, at(6, 10), at(7, 5), true},
		{"ten crossed", hourly, at(6, 10), at(16, 5), true},
		{"clock went back", hourly, at(6, 10), at(5, 5), false},
		{"size mode never", Policy{Mode: ModeSize, Interval: time.Hour}, at(6, 10), at(16, 5), false},
		{"none never", Policy{Mode: ModeNone, Interval: time.Hour}, at(6, 10), at(16, 5), false},
		{"time and size crossed", Policy{Mode: ModeTimeAndSize, Interval: time.Hour}, at(6, 10), at(7, 5), true},
		{"daily offset 5 not crossed", Policy{Mode: ModeTime, Interval: 24 * time.Hour, OffsetHours: 5}, at(5, 0), at(23, 0), false},
		{"daily offset 5 crossed", Policy{Mode: ModeTimeOrSize, Interval: 24 * time.Hour, OffsetHours: 5}, at(4, 59), at(5, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.catchUp(tt.start, tt.now, loc); got != tt.want {
				t.Errorf("catchUp(%v, %v) = %v, want %v", tt.start, tt.now, got, tt.want)
			}
		})
	}
}

// policyFuzzZones are zones with unusual clocks: half-hour DST, a skipped day
// (Apia, 2011-12-30), midnight transitions (São Paulo), odd offsets (Chatham).
var policyFuzzZones = []string{
	"UTC", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Europe/London",
	"Pacific/Apia", "America/Sao_Paulo", "Asia/Tehran", "Pacific/Chatham",
}

// policyFuzzIntervals are divisors of 24h, and two that are not.
var policyFuzzIntervals = []time.Duration{
	time.Second, 7 * time.Second, time.Minute, 15 * time.Minute, 30 * time.Minute, time.Hour,
	3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 5 * time.Hour, 50 * time.Minute,
}

func FuzzBoundaries(f *testing.F) {
	f.Add(uint8(1), int64(1772953200), uint8(5), uint8(0), int32(0))     // New York spring day
	f.Add(uint8(5), int64(1325152800), uint8(9), uint8(0), int32(0))     // Apia's skipped day
	f.Add(uint8(2), int64(1775314200), uint8(4), uint8(1), int32(999))   // Lord Howe autumn
	f.Add(uint8(6), int64(1224381600), uint8(9), uint8(0), int32(1))     // São Paulo midnight jump
	f.Add(uint8(0), int64(-4102444800), uint8(0), uint8(23), int32(-17)) // 1840
	f.Fuzz(func(t *testing.T, zone uint8, sec int64, iv, offset uint8, nsec int32) {
		loc, err := time.LoadLocation(policyFuzzZones[int(zone)%len(policyFuzzZones)])
		if err != nil {
			t.Skip(err)
		}
		interval := policyFuzzIntervals[int(iv)%len(policyFuzzIntervals)]
		at := time.Unix(policyFloorMod(sec+1<<34, 1<<35)-1<<34, int64(nsec)%1e9).In(loc) // years ~1425–2514, sec itself there
		step, phase := policyGrid(interval, int(offset))
		next := nextGridBoundary(at, interval, int(offset), loc)
		last := lastGridBoundary(at, interval, int(offset), loc)
		switch {
		case !next.After(at):
			t.Fatalf("nextGridBoundary(%v) = %v, not after it", at, next)
		case last.After(at):
			t.Fatalf("lastGridBoundary(%v) = %v, after it", at, last)
		case !policyOracleIsBoundary(next.Unix(), step, phase, loc):
			t.Fatalf("nextGridBoundary(%v) = %v, not a boundary", at, next)
		case !policyOracleIsBoundary(last.Unix(), step, phase, loc):
			t.Fatalf("lastGridBoundary(%v) = %v, not a boundary", at, last)
		case next.Sub(last) > 26*time.Hour:
			t.Fatalf("boundaries %v and %v around %v are more than a day apart", last, next, at)
		case !lastGridBoundary(next, interval, int(offset), loc).Equal(next):
			t.Fatalf("lastGridBoundary(%v) is not itself", next)
		case !nextGridBoundary(last, interval, int(offset), loc).After(at):
			t.Fatalf("nextGridBoundary(lastGridBoundary(%v) = %v) is not after %v", at, last, at)
		}
	})
}
