package space

import (
	"os"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/logging"
)

// zone loads a zone or skips the test.
func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("zone %s: %v", name, err)
	}
	return loc
}

func TestOrderKey(t *testing.T) {
	ny := zone(t, "America/New_York")
	// 2026-11-01 01:30 happens twice in New York: EDT (05:30 UTC), then EST (06:30 UTC).
	edt := time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC)
	est := edt.Add(time.Hour)
	wall := time.Date(2026, 11, 1, 1, 30, 0, 0, time.UTC) // the name's END, fields as written
	tests := []struct {
		name         string
		wall         time.Time
		mtime, ctime time.Time
		loc          *time.Location
		want         time.Time
	}{
		{"mtime is END, first pass of the repeated hour", wall, edt.Add(123 * time.Millisecond), time.Time{}, ny, edt.Add(123 * time.Millisecond)},
		{"mtime is END, second pass", wall, est.Add(7 * time.Microsecond), time.Time{}, ny, est.Add(7 * time.Microsecond)},
		{"written in UTC, read in New York", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Time{}, ny, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
		{"written in Kathmandu (+05:45)", time.Date(2026, 11, 21, 17, 45, 0, 0, time.UTC), time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Time{}, ny, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
		{"touched since: the name, in loc", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 9, 13, 27, 0, time.UTC), time.Time{}, ny, time.Date(2026, 11, 21, 12, 0, 0, 0, ny)},
		{"last write 3 s before END (an old rolled file): the name", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 16, 59, 57, 0, time.UTC), time.Time{}, ny, time.Date(2026, 11, 21, 12, 0, 0, 0, ny)},
		{"no mtime", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Time{}, time.Time{}, time.UTC, time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)},
		{"written in Tokyo, read in UTC: hours in the future, capped at the ctime", time.Date(2026, 12, 7, 12, 24, 53, 0, time.UTC), time.Date(2026, 12, 7, 3, 24, 50, 0, time.UTC), time.Date(2026, 12, 7, 4, 31, 0, 0, time.UTC), time.UTC, time.Date(2026, 12, 7, 4, 31, 0, 0, time.UTC)},
		{"ctime after the name's END: the name", time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC), time.Date(2026, 12, 6, 9, 13, 27, 0, time.UTC), time.Date(2026, 12, 6, 9, 13, 27, 0, time.UTC), ny, time.Date(2026, 11, 21, 12, 0, 0, 0, ny)},
		{"mtime is END, ctime a moment before it (the kernel's coarse clock)", wall, edt, edt.Add(-4 * time.Millisecond), ny, edt},
		{"mtime is END in the future of its ctime (copied with its times from a host whose clock ran ahead): the ctime", wall, edt, edt.Add(-time.Hour), ny, edt.Add(-time.Hour)},
		{"mtime is END, 4 min ahead of the copy", time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC), time.Date(2026, 12, 7, 6, 30, 0, 0, time.UTC), time.Date(2026, 12, 7, 6, 26, 36, 0, time.UTC), time.UTC, time.Date(2026, 12, 7, 6, 26, 36, 0, time.UTC)},
		{"mtime touched to END − 15 min (no zone is UTC+00:15): the name", time.Date(2026, 12, 7, 4, 33, 20, 0, time.UTC), time.Date(2026, 12, 7, 4, 18, 20, 0, time.UTC), time.Time{}, time.UTC, time.Date(2026, 12, 7, 4, 33, 20, 0, time.UTC)},
		{"written in Chatham daylight time (+13:45)", time.Date(2026, 12, 8, 1, 45, 0, 0, time.UTC), time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), time.Time{}, time.UTC, time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := OrderKey(tt.wall, tt.mtime, tt.ctime, tt.loc); !got.Equal(tt.want) {
				t.Errorf("OrderKey = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestOldestFirstAcrossFallBack: files rolled every 10 minutes through the
// New York fall-back, named as the collator names them (wall times) with
// their END as mtime, are ordered by when they rolled, although the names
// of those rolled after the jump read earlier.
func TestOldestFirstAcrossFallBack(t *testing.T) {
	ny := zone(t, "America/New_York")
	begin := time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC) // 01:00 EDT
	var files, want []File
	for i := range 12 {
		start := begin.Add(time.Duration(i) * 10 * time.Minute)
		end := start.Add(10 * time.Minute)
		name := logging.RolledName{Active: "a.log", Host: "h", Start: start.In(ny), End: end.In(ny)}.String()
		f, ok := rolledFile(name, end, end, 100, []string{"a.log"}, "web01", ny)
		if !ok {
			t.Fatalf("%s is not a rolled name", name)
		}
		want = append(want, f)
	}
	files = slices.Clone(want)
	slices.Reverse(files)
	slices.SortFunc(files, OldestFirst)
	for i := range files {
		if files[i].Name != want[i].Name {
			t.Fatalf("order %d: %s, want %s", i, files[i].Name, want[i].Name)
		}
	}
	if got := BeyondMaxCount(files, []Log{{Name: "a.log", MaxCount: 4}}); len(got) != 8 || got[7].Name != want[7].Name {
		t.Errorf("BeyondMaxCount kept the wrong files: deletes %v", names(got))
	}
}

func names(vs []Victim) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestBeyondMaxCount(t *testing.T) {
	f := func(log string, hour int) File { return rf(log, hour, 60, 0) }
	files := []File{f("a.log", 3), f("a.log", 1), f("a.log", 2), f("b.log", 1), f("b.log", 2), f("gone.log", 1), f("gone.log", 2)}
	tests := []struct {
		name string
		logs []Log
		want []string
	}{
		{"no max count", []Log{{Name: "a.log"}, {Name: "b.log"}}, nil},
		{"a keeps 1", []Log{{Name: "a.log", MaxCount: 1}, {Name: "b.log"}}, []string{f("a.log", 1).Name, f("a.log", 2).Name}},
		{"both", []Log{{Name: "b.log", MaxCount: 1}, {Name: "a.log", MaxCount: 2}}, []string{f("b.log", 1).Name, f("a.log", 1).Name}},
		{"at the count", []Log{{Name: "a.log", MaxCount: 3}}, nil},
		{"unconfigured logs are the budget's", []Log{{Name: "a.log", MaxCount: 5}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BeyondMaxCount(slices.Clone(files), tt.logs)
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("BeyondMaxCount = %v, want %v", names(got), tt.want)
			}
			for _, v := range got {
				if v.Rule != RuleMaxCount || v.Why == "" {
					t.Errorf("victim %+v: rule or why missing", v)
				}
			}
		})
	}
}

// TestMaxCountAfterRoll: a roll reported by Rolled is followed at once by
// the deletion of the log's oldest files beyond rolling_max_count, logged
// and counted with the rule; other logs keep theirs.
func TestMaxCountAfterRoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 1 << 30, AutoDelete: true, Logs: []Log{{Name: "a.log", MaxCount: 2}, {Name: "b.log"}}}
		e := start(t, cfg, plenty, func(dir string) {
			for h := range 2 {
				mkfile(t, dir, rolled("a.log", h), 100)
				mkfile(t, dir, rolled("b.log", h), 100)
			}
		})
		synctest.Wait()
		p := mkfile(t, e.dir, rolled("a.log", 5), 100)
		e.m.Rolled(p)
		synctest.Wait()
		if exists(e.dir, rolled("a.log", 0)) || !exists(e.dir, rolled("a.log", 1)) || !exists(e.dir, rolled("a.log", 5)) {
			t.Fatalf("a.log kept the wrong files: %v", listDir(t, e.dir))
		}
		if !exists(e.dir, rolled("b.log", 0)) {
			t.Fatal("b.log lost a file")
		}
		st := e.m.Status()
		if c := st.Deleted[RuleMaxCount]; c.Files != 1 || c.Bytes != 100 || st.DeletedFiles != 1 {
			t.Errorf("deletions %+v (%d files), want 1 by max_count", st.Deleted, st.DeletedFiles)
		}
		if dels := e.logs.Find("deleted rolled file"); len(dels) != 1 || !contains(dels[0], "rule=max_count", "rolling_max_count = 2") {
			t.Errorf("deletion log lines %q", dels)
		}
		// Autodelete off: nothing is deleted by the rule.
		cfg.AutoDelete, cfg.Dir = false, e.dir
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		e.m.Rolled(mkfile(t, e.dir, rolled("a.log", 6), 100))
		synctest.Wait()
		if !exists(e.dir, rolled("a.log", 1)) {
			t.Error("deleted with auto_delete_rolled_files off")
		}
	})
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// TestNameTimes: START and END as shown by rolled listings are the instants
// the collator wrote, across a fall-back and a change of zone.
func TestNameTimes(t *testing.T) {
	ny := zone(t, "America/New_York")
	w := func(s string) time.Time {
		v, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	u := func(s string) time.Time { return w(s) } // an instant, given in UTC
	tests := []struct {
		name                string
		startW, endW, mtime time.Time
		loc                 *time.Location
		wantStart, wantEnd  time.Time
	}{
		{"ordinary", w("2026-11-21 06:00:00"), w("2026-11-21 12:00:00"), u("2026-11-21 17:00:00"), ny, u("2026-11-21 11:00:00"), u("2026-11-21 17:00:00")},
		// 01:10 EST is 06:10 UTC, after the jump; its START 01:55 is EDT (05:55 UTC).
		{"spans the fall-back", w("2026-11-01 01:55:00"), w("2026-11-01 01:10:00"), u("2026-11-01 06:10:00"), ny, u("2026-11-01 05:55:00"), u("2026-11-01 06:10:00")},
		// Both in the second pass: 01:20–01:25 EST.
		{"second pass", w("2026-11-01 01:20:00"), w("2026-11-01 01:25:00"), u("2026-11-01 06:25:00"), ny, u("2026-11-01 06:20:00"), u("2026-11-01 06:25:00")},
		// Both in the first pass: 01:20–01:25 EDT.
		{"first pass", w("2026-11-01 01:20:00"), w("2026-11-01 01:25:00"), u("2026-11-01 05:25:00"), ny, u("2026-11-01 05:20:00"), u("2026-11-01 05:25:00")},
		{"written in UTC, shown in New York", w("2026-11-21 10:00:00"), w("2026-11-21 12:00:00"), u("2026-11-21 12:00:00"), ny, u("2026-11-21 10:00:00"), u("2026-11-21 12:00:00")},
		{"foreign file: the walls in loc", w("2026-11-21 10:00:00"), w("2026-11-21 12:00:00"), u("2026-12-01 09:13:27"), ny, time.Date(2026, 11, 21, 10, 0, 0, 0, ny), time.Date(2026, 11, 21, 12, 0, 0, 0, ny)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, e := nameTimes(tt.startW, tt.endW, tt.mtime, time.Time{}, tt.loc)
			if !s.Equal(tt.wantStart) || !e.Equal(tt.wantEnd) {
				t.Errorf("nameTimes = %v – %v, want %v – %v", s.UTC(), e.UTC(), tt.wantStart.UTC(), tt.wantEnd.UTC())
			}
		})
	}
}

// TestHostlessNamesBelongToTheirLog: Traffic Server's host-less rolled names
// (diags.log.<START>-<END>.old) are files of the declared log diags.log, not
// of an undeclared log "diags" that the budget would empty first.
func TestHostlessNamesBelongToTheirLog(t *testing.T) {
	const name = "diags.log.20261121.06h00m00s-20261121.12h00m00s.old"
	f, ok := rolledFile(name, time.Time{}, time.Time{}, 10, []string{"diags.log"}, "web01", time.UTC)
	if !ok || f.Log != "diags.log" || f.Host != "" {
		t.Fatalf("rolledFile(%s) = %+v, %v; want log diags.log without a host", name, f, ok)
	}
	older := rf("diags.log", -100, 60, 0) // a host's file of the same log, older
	plan := Plan([]File{f, older, rf("access.log", 0, 60, 0)}, []Log{{Name: "diags.log"}, {Name: "access.log", MinCount: 1}})
	if plan[0].Log != "access.log" || plan[1].Name != older.Name || plan[2].Name != name {
		t.Errorf("plan %v: want access.log's file first (min_count 1), then diags.log's oldest", []string{plan[0].Name, plan[1].Name, plan[2].Name})
	}
}

// TestKeyEndSameInEveryZone: KeyEnd, which dates a shipped object's key,
// is the same instant whatever zone reads the name: the modification time
// where it is END (the daemon's own files), else the name's END wall time
// as UTC (a file copied in without its times) — an outside tester's
// finding: such a file got a second key after a restart under another TZ.
func TestKeyEndSameInEveryZone(t *testing.T) {
	name := "access.log.otherhost.20261201.23h00m00s-20261201.23h30m00s.old"
	wall := time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC)
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	kat, err := time.LoadLocation("Asia/Kathmandu")
	if err != nil {
		t.Skip("no tzdata:", err)
	}
	copied := time.Date(2026, 12, 6, 10, 17, 3, 0, time.UTC) // cp without -p
	own := time.Date(2026, 12, 1, 23, 30, 0, 0, ny)          // the END instant a host in New York wrote
	for _, tc := range []struct {
		what  string
		mtime time.Time
		want  time.Time
	}{
		{"copied without its times", copied, wall},
		{"its modification time is END", own, own},
	} {
		for _, loc := range []*time.Location{time.UTC, ny, kat} {
			f, ok := rolledFile(name, tc.mtime, tc.mtime, 5, []string{"access.log"}, "web01", loc)
			if !ok {
				t.Fatalf("%s: not a rolled name", name)
			}
			if !f.KeyEnd.Equal(tc.want) {
				t.Errorf("%s, read in %s: KeyEnd %v, want %v", tc.what, loc, f.KeyEnd, tc.want)
			}
		}
	}
}
