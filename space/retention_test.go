package space

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/logging"
)

// sized is rf with a size.
func sized(f File, size int64) File {
	f.Size = size
	return f
}

func TestBeyondMaxAge(t *testing.T) {
	// Hour-long files of a.log and b.log; rf's END (= At) is START + 1 h.
	f := func(log string, hour int) File { return rf(log, hour, 3600, 0) }
	files := []File{f("a.log", 2), f("a.log", 0), f("a.log", 1), f("b.log", 0), f("b.log", 1), f("gone.log", 0)}
	at := func(h int, m time.Duration) time.Time { return t0.Add(time.Duration(h)*time.Hour + m) }
	tests := []struct {
		name string
		logs []Log
		now  time.Time
		want []string
	}{
		{"no max age", []Log{{Name: "a.log"}, {Name: "b.log"}}, at(100, 0), nil},
		{"a second before the first END is 1 h old", []Log{{Name: "a.log", MaxAge: time.Hour}}, at(2, -time.Second), nil},
		{"the first END exactly 1 h old", []Log{{Name: "a.log", MaxAge: time.Hour}}, at(2, 0), []string{f("a.log", 0).Name}},
		{"two of a.log", []Log{{Name: "a.log", MaxAge: time.Hour}}, at(3, 30*time.Minute), []string{f("a.log", 0).Name, f("a.log", 1).Name}},
		{"per log", []Log{{Name: "b.log", MaxAge: 2 * time.Hour}, {Name: "a.log", MaxAge: time.Hour}}, at(3, 0),
			[]string{f("b.log", 0).Name, f("a.log", 0).Name, f("a.log", 1).Name}},
		{"unconfigured logs are the budget's", []Log{{Name: "a.log", MaxAge: time.Hour}}, at(1000, 0),
			[]string{f("a.log", 0).Name, f("a.log", 1).Name, f("a.log", 2).Name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BeyondMaxAge(slices.Clone(files), tt.logs, tt.now)
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("BeyondMaxAge = %v, want %v", names(got), tt.want)
			}
			for _, v := range got {
				if v.Rule != RuleMaxAge || !strings.Contains(v.Why, "rolling_max_age_sec = ") || !strings.Contains(v.Why, " old") {
					t.Errorf("victim %s: rule %s, why %q", v.Name, v.Rule, v.Why)
				}
			}
		})
	}
}

func TestBeyondMaxTotal(t *testing.T) {
	f := func(log string, hour int, size int64) File { return sized(rf(log, hour, 3600, 0), size) }
	files := []File{f("a.log", 3, 400), f("a.log", 0, 100), f("a.log", 2, 300), f("a.log", 1, 200), f("b.log", 0, 50), f("b.log", 1, 60), f("gone.log", 0, 1<<30)}
	tests := []struct {
		name string
		logs []Log
		want []string
	}{
		{"no max total", []Log{{Name: "a.log"}, {Name: "b.log"}}, nil},
		{"all fit exactly", []Log{{Name: "a.log", MaxTotal: 1000}}, nil},
		{"one byte short", []Log{{Name: "a.log", MaxTotal: 999}}, []string{f("a.log", 0, 0).Name}},
		{"keeps the newest that fit", []Log{{Name: "a.log", MaxTotal: 750}}, []string{f("a.log", 0, 0).Name, f("a.log", 1, 0).Name}},
		{"the newest alone is too big", []Log{{Name: "a.log", MaxTotal: 399}},
			[]string{f("a.log", 0, 0).Name, f("a.log", 1, 0).Name, f("a.log", 2, 0).Name, f("a.log", 3, 0).Name}},
		{"per log", []Log{{Name: "b.log", MaxTotal: 100}, {Name: "a.log", MaxTotal: 700}},
			[]string{f("b.log", 0, 0).Name, f("a.log", 0, 0).Name, f("a.log", 1, 0).Name}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := BeyondMaxTotal(slices.Clone(files), tt.logs)
			if !slices.Equal(names(got), tt.want) {
				t.Errorf("BeyondMaxTotal = %v, want %v", names(got), tt.want)
			}
			for _, v := range got {
				if v.Rule != RuleMaxTotal || !strings.Contains(v.Why, "max total ") {
					t.Errorf("victim %s: rule %s, why %q", v.Name, v.Rule, v.Why)
				}
			}
		})
	}
}

// TestRetain: the rules' union, each file once under the first rule of
// Rules that deletes it, oldest first across logs, and the next expiry
// among the files kept.
func TestRetain(t *testing.T) {
	f := func(log string, hour int) File { return sized(rf(log, hour, 3600, 0), 100) }
	var files []File
	for h := range 6 {
		files = append(files, f("a.log", h), f("b.log", h))
	}
	now := t0.Add(6 * time.Hour) // a.log's and b.log's ENDs are 1 … 6 h old
	tests := []struct {
		name  string
		logs  []Log
		want  []string // "rule:log:hour"
		right time.Time
	}{
		{"nothing", []Log{{Name: "a.log"}, {Name: "b.log"}}, nil, time.Time{}},
		{"age then count", []Log{{Name: "a.log", MaxAge: 4 * time.Hour, MaxCount: 2}},
			[]string{"max_age:a.log:0", "max_age:a.log:1", "max_count:a.log:2", "max_count:a.log:3"}, t0.Add(9 * time.Hour)},
		{"count then total", []Log{{Name: "a.log", MaxCount: 4, MaxTotal: 250}},
			[]string{"max_count:a.log:0", "max_count:a.log:1", "max_total:a.log:2", "max_total:a.log:3"}, time.Time{}},
		{"age covers the others", []Log{{Name: "a.log", MaxAge: time.Hour, MaxCount: 5, MaxTotal: 500}},
			[]string{"max_age:a.log:0", "max_age:a.log:1", "max_age:a.log:2", "max_age:a.log:3", "max_age:a.log:4"}, t0.Add(7 * time.Hour)},
		{"two logs interleaved oldest first", []Log{{Name: "a.log", MaxCount: 4}, {Name: "b.log", MaxAge: 5 * time.Hour, MaxTotal: 300}},
			[]string{"max_count:a.log:0", "max_age:b.log:0", "max_count:a.log:1", "max_total:b.log:1", "max_total:b.log:2"}, t0.Add(9 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, next := Retain(slices.Clone(files), tt.logs, now)
			var desc []string
			for _, v := range got {
				h := int(v.Start.Sub(t0) / time.Hour)
				desc = append(desc, string(v.Rule)+":"+v.Log+":"+string(rune('0'+h)))
			}
			if !slices.Equal(desc, tt.want) {
				t.Errorf("Retain = %v, want %v", desc, tt.want)
			}
			if !next.Equal(tt.right) {
				t.Errorf("next expiry %v, want %v", next, tt.right)
			}
		})
	}
}

func TestNextExpiry(t *testing.T) {
	f := func(log string, hour int) File { return rf(log, hour, 3600, 0) }
	files := []File{f("a.log", 3), f("a.log", 1), f("b.log", 0), f("gone.log", 0)}
	if got := NextExpiry(files, []Log{{Name: "a.log"}}); !got.IsZero() {
		t.Errorf("no max age: %v, want zero", got)
	}
	if got, want := NextExpiry(files, []Log{{Name: "a.log", MaxAge: time.Hour}, {Name: "b.log", MaxAge: 3 * time.Hour}}), t0.Add(3*time.Hour); !got.Equal(want) {
		t.Errorf("NextExpiry = %v, want %v (a.log's hour 1 ends at 2 h, one hour later)", got, want)
	}
	if got := NextExpiry(nil, []Log{{Name: "a.log", MaxAge: time.Hour}}); !got.IsZero() {
		t.Errorf("no files: %v", got)
	}
}

// TestMaxAgeAcrossFallBack: files rolled every 10 minutes through the New
// York fall-back, named with wall times (those after the jump read earlier)
// and with their END as mtime, age by their END instant: a max age of 30
// minutes deletes the files whose END is 30 minutes old, not those whose
// name reads old, and the next expiry is the oldest kept file's END + 30
// minutes. So does the max total, which keeps the newest.
func TestMaxAgeAcrossFallBack(t *testing.T) {
	ny := zone(t, "America/New_York")
	begin := time.Date(2026, 11, 1, 5, 0, 0, 0, time.UTC) // 01:00 EDT
	var files []File
	for i := range 12 {
		start := begin.Add(time.Duration(i) * 10 * time.Minute)
		end := start.Add(10 * time.Minute)
		// After the jump the names repeat the wall times: the collator
		// numbers them (logging/namestate.go).
		seq := max(i-5, 0)
		name := logging.RolledName{Active: "a.log", Host: "h", Start: start.In(ny), End: end.In(ny), Seq: seq}.String()
		f, ok := rolledFile(name, end, end, 100, []string{"a.log"}, "web01", ny)
		if !ok {
			t.Fatalf("%s is not a rolled name", name)
		}
		files = append(files, f)
	}
	want := slices.Clone(files) // in the order they rolled
	slices.Reverse(files)
	now := begin.Add(2 * time.Hour) // the last END; files 0–8 end 30 min ago or more
	victims, next := Retain(files, []Log{{Name: "a.log", MaxAge: 30 * time.Minute}}, now)
	if got := names(victims); !slices.Equal(got, fileNames(want[:9])) {
		t.Errorf("max age deletes\n%v\nwant\n%v", got, fileNames(want[:9]))
	}
	if wantNext := want[9].At.Add(30 * time.Minute); !next.Equal(wantNext) {
		t.Errorf("next expiry %v, want %v", next, wantNext)
	}
	victims, _ = Retain(files, []Log{{Name: "a.log", MaxTotal: 450}}, now)
	if got := names(victims); !slices.Equal(got, fileNames(want[:8])) {
		t.Errorf("max total deletes\n%v\nwant\n%v", got, fileNames(want[:8]))
	}
}

func fileNames(fs []File) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// mkrolled creates a rolled file of log in dir for [start, end), size
// bytes, with its modification time set to END as the collator does, and
// returns its name (UTC names: the tests' manager reads names in UTC).
func mkrolled(t *testing.T, dir, log string, start, end time.Time, size int) string {
	t.Helper()
	name := logging.RolledName{Active: log, Host: "web01", Start: start.UTC(), End: end.UTC()}.String()
	p := mkfile(t, dir, name, size)
	if err := os.Chtimes(p, end, end); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestMaxAgeOnTime: with no event at all — no write, no roll, no scan — a
// rolled file is deleted at the instant its END reaches its log's
// rolling_max_age_sec (a timer, not the next scan), the deletion logged and
// counted under max_age; a file whose modification time is not its END
// (touched since) ages by the END in its name; a reload that shortens the
// age deletes at once, one that turns autodelete off stops the timer.
func TestMaxAgeOnTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		now := time.Now()
		var a0, a1, touched, b0 string
		cfg := Config{Limit: 1 << 30, AutoDelete: true, ScanInterval: 24 * time.Hour,
			Logs: []Log{{Name: "a.log", MaxAge: time.Hour}, {Name: "b.log"}}}
		e := start(t, cfg, plenty, func(dir string) {
			a0 = mkrolled(t, dir, "a.log", now.Add(-90*time.Minute), now.Add(-50*time.Minute), 100) // expires in 10 min
			a1 = mkrolled(t, dir, "a.log", now.Add(-50*time.Minute), now.Add(-20*time.Minute), 100) // in 40 min
			// Named to end 30 min ago, but modified now: it expires in 30 min.
			touched = logging.RolledName{Active: "a.log", Host: "other", Start: now.Add(-40 * time.Minute).UTC(), End: now.Add(-30 * time.Minute).UTC()}.String()
			mkfile(t, dir, touched, 100)
			b0 = mkrolled(t, dir, "b.log", now.Add(-50*time.Hour), now.Add(-49*time.Hour), 100) // no max age
		})
		synctest.Wait()
		if got := listDir(t, e.dir); len(got) != 4 {
			t.Fatalf("files at start: %v", got)
		}
		time.Sleep(10*time.Minute - time.Second)
		synctest.Wait()
		if !exists(e.dir, a0) {
			t.Fatal("a0 deleted a second before its END was an hour old")
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if exists(e.dir, a0) || !exists(e.dir, a1) || !exists(e.dir, touched) || !exists(e.dir, b0) {
			t.Fatalf("at a0's expiry: %v", listDir(t, e.dir))
		}
		dels := e.logs.Find("deleted rolled file")
		if len(dels) != 1 || !contains(dels[0], a0, "rule=max_age", "rolling_max_age_sec = 3600", "is 1h0m0s old") {
			t.Errorf("deletions logged as\n%s", strings.Join(dels, "\n"))
		}
		if st := e.m.Status(); st.Deleted[RuleMaxAge].Files != 1 || st.Deleted[RuleMaxAge].Bytes != 100 || st.Scans != 1 {
			t.Errorf("status: deleted %+v after %d scans, want 1 by max_age and no scan", st.Deleted, st.Scans)
		}
		time.Sleep(20 * time.Minute) // the touched file's name END is an hour old
		synctest.Wait()
		if exists(e.dir, touched) || !exists(e.dir, a1) {
			t.Fatalf("at the touched file's expiry (by its name): %v", listDir(t, e.dir))
		}
		// A roll reported now: the file ends now and expires in an hour.
		a2 := mkrolled(t, e.dir, "a.log", now.Add(-20*time.Minute), now.Add(30*time.Minute), 100)
		e.m.Rolled(filepath.Join(e.dir, a2))
		time.Sleep(10 * time.Minute) // a1's expiry
		synctest.Wait()
		if exists(e.dir, a1) || !exists(e.dir, a2) {
			t.Fatalf("at a1's expiry: %v", listDir(t, e.dir))
		}
		// Shorter by a reload: a2 (ended 10 min ago) goes at once.
		cfg.Dir = e.dir
		cfg.Logs[0].MaxAge = 5 * time.Minute
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if exists(e.dir, a2) {
			t.Fatalf("a2 kept after the age was shortened: %v", listDir(t, e.dir))
		}
		// Autodelete off: a new file outlives its age, no timer runs.
		cfg.AutoDelete = false
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		a3 := mkrolled(t, e.dir, "a.log", now.Add(30*time.Minute), now.Add(40*time.Minute), 100)
		e.m.Rolled(filepath.Join(e.dir, a3))
		time.Sleep(time.Hour)
		synctest.Wait()
		if !exists(e.dir, a3) || !exists(e.dir, b0) {
			t.Fatalf("deleted with autodelete off: %v", listDir(t, e.dir))
		}
		if st := e.m.Status(); st.Deleted[RuleMaxAge].Files != 4 || st.DeletedFiles != 4 {
			t.Errorf("status: deleted %+v, want 4 by max_age", st.Deleted)
		}
	})
}

// TestMaxTotalAfterRoll: each roll reported by Rolled is followed by the
// deletion of the log's oldest files beyond rolling_max_total_mb, under
// max_total, the newest kept; a file beyond both the count and the total
// counts under max_count (the first rule).
func TestMaxTotalAfterRoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 1 << 30, AutoDelete: true, ScanInterval: 24 * time.Hour,
			Logs: []Log{{Name: "a.log", MaxTotal: 3000}, {Name: "b.log", MaxTotal: 1500, MaxCount: 2}}}
		e := start(t, cfg, plenty, func(dir string) {
			fill(t, dir, "a.log", 3, 1000)
			fill(t, dir, "b.log", 3, 500)
		})
		synctest.Wait()
		if got := e.logs.Find("deleted rolled file"); len(got) != 1 || !contains(got[0], rolled("b.log", 0), "rule=max_count") {
			t.Fatalf("deletions at start:\n%s", strings.Join(got, "\n"))
		}
		e.m.Rolled(mkfile(t, e.dir, rolled("a.log", 3), 1500))
		synctest.Wait()
		if exists(e.dir, rolled("a.log", 0)) || exists(e.dir, rolled("a.log", 1)) || !exists(e.dir, rolled("a.log", 2)) || !exists(e.dir, rolled("a.log", 3)) {
			t.Fatalf("a.log after a 1500-byte roll: %v", listDir(t, e.dir))
		}
		dels := e.logs.Find("rule=max_total")
		if len(dels) != 2 || !contains(dels[0], rolled("a.log", 0), "max total 3000 B: 4500 B in 4 rolled files") {
			t.Errorf("max_total deletions:\n%s", strings.Join(dels, "\n"))
		}
		st := e.m.Status()
		if st.Deleted[RuleMaxTotal].Files != 2 || st.Deleted[RuleMaxTotal].Bytes != 2000 || st.Deleted[RuleMaxCount].Files != 1 {
			t.Errorf("deletions %+v", st.Deleted)
		}
		if u := st.Logs[0]; u.Name != "a.log" || u.Rolled != 2 || u.RolledBytes != 2500 || u.Deleted[RuleMaxTotal].Files != 2 {
			t.Errorf("a.log usage %+v", u)
		}
	})
}
