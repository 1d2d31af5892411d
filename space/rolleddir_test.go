package space

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/logging"
)

// rolledIn returns the name of a rolled file of log at hour stored with
// compression c.
func rolledIn(log string, hour int, c logging.Compression) string {
	start := t0.Add(time.Duration(hour) * time.Hour)
	return logging.RolledName{Active: log, Host: "web01", Start: start, End: start.Add(time.Hour), Compression: c}.String()
}

// TestRolledFolders counts the log folder and each log's rolled folder in
// U, takes compressed rolled files in any of them as rolled files (with
// their folder and compression), keeps U exact across a roll into a rolled
// folder (hidden raw file, then compressed) and deletes oldest first across
// folders.
func TestRolledFolders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := t.TempDir()
		arch := filepath.Join(base, "archive")
		if err := os.Mkdir(arch, 0o755); err != nil {
			t.Fatal(err)
		}
		cfg := Config{Dir: base, Limit: 1 << 30, AutoDelete: true, Logs: []Log{
			{Name: "a.log", Dir: arch, MaxCount: 2},
			{Name: "b.log", Dir: base}, // the log folder itself: ""
		}}
		mkfile(t, base, "a.log", 100)
		mkfile(t, base, rolledIn("a.log", 0, logging.CompressionNone), 1000) // from before rolled_dir was set
		mkfile(t, arch, rolledIn("a.log", 1, logging.CompressionGzip), 200)
		mkfile(t, arch, rolledIn("b.log", 1, logging.CompressionZstd), 300) // another log's file there: managed too
		mkfile(t, arch, "notes.txt", 7)
		mkfile(t, arch, "."+rolledIn("a.log", 2, logging.CompressionGzip)+".raw", 50) // waiting for its compression
		e := start(t, cfg, plenty, nil)
		synctest.Wait()
		st := e.m.Status()
		if st.Used != 100+1000+200+300+7+50 {
			t.Errorf("used %d, want every regular file of both folders: %d", st.Used, 100+1000+200+300+7+50)
		}
		if st.Logs[0].Rolled != 2 || st.Logs[0].RolledBytes != 1200 || st.Logs[1].Rolled != 1 {
			t.Errorf("per log: %+v; want a.log 2 files 1200 bytes (not the hidden raw file), b.log 1", st.Logs)
		}
		var got []string
		for _, f := range e.m.acct.rolled() {
			got = append(got, filepath.Join(f.Dir, f.Name)+" "+f.Compression.String())
		}
		slices.Sort(got)
		want := []string{
			filepath.Join(base, rolledIn("a.log", 0, logging.CompressionNone)) + " none",
			filepath.Join(arch, rolledIn("a.log", 1, logging.CompressionGzip)) + " gzip",
			filepath.Join(arch, rolledIn("b.log", 1, logging.CompressionZstd)) + " zstd",
		}
		if !slices.Equal(got, want) {
			t.Errorf("rolled files:\n%q\nwant\n%q", got, want)
		}

		// A roll into the rolled folder: the active file (100 + 400
		// written) becomes a hidden raw file there, then its compressed
		// form, and the raw file goes.
		appendTo(t, base, "a.log", 400)
		e.m.Wrote(400)
		raw := filepath.Join(arch, "."+rolledIn("a.log", 3, logging.CompressionGzip)+".raw")
		if err := os.Rename(filepath.Join(base, "a.log"), raw); err != nil {
			t.Fatal(err)
		}
		mkfile(t, base, "a.log", 0)
		e.m.enqueue(event{path: filepath.Join(base, "a.log"), moved: true})
		e.m.enqueue(event{path: raw})
		e.m.enqueue(event{path: filepath.Join(base, "a.log")})
		synctest.Wait()
		if st := e.m.Status(); st.Used != 1657+400 {
			t.Errorf("after the rename into the rolled folder: used %d, want %d", st.Used, 1657+400)
		}
		final := mkfile(t, arch, rolledIn("a.log", 3, logging.CompressionGzip), 60)
		if err := os.Remove(raw); err != nil {
			t.Fatal(err)
		}
		e.m.Rolled(final)
		e.m.Removed(raw)
		synctest.Wait()
		// rolling_max_count = 2: the oldest of a.log's three (the hidden
		// raw file of hour 2 is not one), in the log folder, goes.
		if exists(base, rolledIn("a.log", 0, logging.CompressionNone)) {
			t.Errorf("the oldest a.log file (in the log folder) was not deleted by rolling_max_count")
		}
		if st := e.m.Status(); st.Used != 1657+400-500-1000+60 || st.Logs[0].Rolled != 2 {
			t.Errorf("after the compression: used %d, a.log %+v; want %d and 2 files", st.Used, st.Logs[0], 1657+400-500-1000+60)
		}
		if n := len(e.logs.Find("rule=max_count")); n != 1 {
			t.Errorf("%d deletions by max_count logged, want 1", n)
		}
	})
}

// TestRolledFolderApply adds a rolled folder by Apply: it is counted from
// the rescan on; removed again, it is no longer counted. Reports for paths
// outside the folders counted change nothing.
func TestRolledFolderApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := t.TempDir()
		arch := filepath.Join(base, "old")
		if err := os.Mkdir(arch, 0o755); err != nil {
			t.Fatal(err)
		}
		mkfile(t, arch, rolledIn("a.log", 0, logging.CompressionZstd), 500)
		cfg := Config{Dir: base, Limit: 1 << 30, Logs: []Log{{Name: "a.log"}}}
		e := start(t, cfg, plenty, func(dir string) { mkfile(t, dir, "a.log", 10) })
		synctest.Wait()
		if st := e.m.Status(); st.Used != 10 {
			t.Fatalf("used %d before the rolled folder is configured, want 10", st.Used)
		}
		e.m.Removed(filepath.Join(arch, rolledIn("a.log", 0, logging.CompressionZstd)))
		synctest.Wait()
		if st := e.m.Status(); st.Used != 10 {
			t.Errorf("a report outside the folders counted changed used to %d", st.Used)
		}
		cfg.Logs[0].Dir = arch
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := e.m.Status(); st.Used != 510 || st.Logs[0].Rolled != 1 {
			t.Errorf("after Apply: used %d, logs %+v; want 510, one rolled file", st.Used, st.Logs)
		}
		cfg.Logs[0].Dir = ""
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if st := e.m.Status(); st.Used != 10 {
			t.Errorf("after the rolled folder was removed from the configuration: used %d, want 10", st.Used)
		}
	})
}

// TestWatchRolledFolder: a script's deletion in a rolled folder is seen by
// an event, as in the log folder; a rolled folder that appears later (the
// collator makes it) is watched once a roll is reported into it.
func TestWatchRolledFolder(t *testing.T) {
	e := startWatching(t, Config{Limit: 1 << 30, Logs: []Log{{Name: "a.log"}}}, nil)
	arch := filepath.Join(e.dir, "archive")
	cfg := Config{Dir: e.dir, Limit: 1 << 30, Logs: []Log{{Name: "a.log", Dir: arch}}}
	if err := e.m.Apply(cfg); err != nil { // the folder does not exist yet
		t.Fatal(err)
	}
	if err := os.Mkdir(arch, 0o755); err != nil {
		t.Fatal(err)
	}
	p := mkfile(t, arch, rolledIn("a.log", 0, logging.CompressionGzip), 300)
	e.m.Rolled(p)
	waitFor(t, 5*time.Second, "the rolled file counted", func() bool { return e.m.Status().Used == 300 })
	// Only an event can tell the manager now: no report, no rescan.
	scans := e.m.Status().Scans
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the script's deletion in the rolled folder seen", func() bool { return e.m.Status().Used == 0 })
	if st := e.m.Status(); st.Scans != scans {
		t.Errorf("%d scans, want %d: the deletion must be seen by its event", st.Scans, scans)
	}
}
