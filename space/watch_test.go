package space

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/logroll/logroll/internal/logtest"
)

// Tests of the fsnotify adapter, with real events: outside any synctest
// bubble, polling with a deadline.

// startWatching starts a manager with Options.Watch on dir.
func startWatching(t *testing.T, cfg Config, setup func(dir string)) *env {
	t.Helper()
	cfg.Dir = t.TempDir()
	if setup != nil {
		setup(cfg.Dir)
	}
	e := &env{dir: cfg.Dir, free: newFree(plenty), accept: &acceptRec{}, logs: &logtest.Recorder{}}
	m, err := New(cfg, Options{Location: time.UTC, Free: e.free.Free, Accept: e.accept.Accept, Logger: slog.New(e.logs), Watch: true})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if !m.Status().Watching {
		t.Fatalf("not watching: %v", e.logs.Find("WARN"))
	}
	return e
}

// waitFor polls cond until it holds or d has passed, and returns how long
// it took; it fails the test at the deadline.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	begin := time.Now()
	for !cond() {
		if time.Since(begin) > d {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(begin)
}

func TestWatchScriptDeletionResumesWithinASecond(t *testing.T) {
	cfg := Config{Limit: 8_000, Headroom: 1_000, Logs: []Log{{Name: "a.log"}}}
	e := startWatching(t, cfg, func(dir string) {
		mkfile(t, dir, "a.log", 0)
		fill(t, dir, "a.log", 4, 2000)
	})
	waitFor(t, 5*time.Second, "exhausted at start", func() bool { return slices.Equal(e.accept.get(), []string{"false"}) })

	// A cron script deletes what it processed.
	begin := time.Now()
	for i := range 2 {
		if err := os.Remove(filepath.Join(e.dir, rolled("a.log", i))); err != nil {
			t.Fatal(err)
		}
	}
	took := waitFor(t, time.Second, "resume after the script's deletion", func() bool {
		return slices.Equal(e.accept.get(), []string{"false", "true"})
	})
	t.Logf("resumed %v after the deletion", took)
	// The first deletion alone resumes (6000 + 1000 < 8000); the second
	// one's event may still be on its way.
	waitFor(t, time.Second, "both deletions accounted", func() bool { return e.m.Status().Used == 4000 })
	if st := e.m.Status(); st.State != Normal || st.Used != 4000 || st.Scans != 1 {
		t.Errorf("%v, used %d, %d scans; want normal, 4000, no rescan (resumed by events), %v", st.State, st.Used, st.Scans, time.Since(begin))
	}
}

func TestWatchRenames(t *testing.T) {
	cfg := Config{Limit: 1 << 30, Logs: []Log{{Name: "a.log"}}}
	e := startWatching(t, cfg, func(dir string) {
		mkfile(t, dir, "a.log", 1000)
		mkfile(t, dir, "other", 10)
	})
	// The collator writes 500 bytes, then rolls: U does not move.
	appendTo(t, e.dir, "a.log", 500)
	e.m.Wrote(500)
	r := rolled("a.log", 0)
	if err := os.Rename(filepath.Join(e.dir, "a.log"), filepath.Join(e.dir, r)); err != nil {
		t.Fatal(err)
	}
	mkfile(t, e.dir, "a.log", 0)
	waitFor(t, 5*time.Second, "the rolled file seen", func() bool {
		st := e.m.Status()
		return len(st.Logs) == 1 && st.Logs[0].Rolled == 1
	})
	if st := e.m.Status(); st.Used != 1510 || st.Logs[0].RolledBytes != 1500 {
		t.Errorf("after the roll: used %d, rolled %+v; want 1510 with 1500 rolled", st.Used, st.Logs[0])
	}

	// A script moves the rolled file away: U drops.
	away := t.TempDir()
	if err := os.Rename(filepath.Join(e.dir, r), filepath.Join(away, r)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the move away counted", func() bool { return e.m.Status().Used == 10 })

	// A file moved in is added.
	mkfile(t, away, "in", 70)
	if err := os.Rename(filepath.Join(away, "in"), filepath.Join(e.dir, "in")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Second, "the move in counted", func() bool { return e.m.Status().Used == 80 })
}

// TestRewatchRecreatedFolder: the log folder removed ends the watch; once it
// is created again (by the collator's next write) and Rewatch is called, the
// manager watches the new folder: it rescans it once, and a deletion by
// someone else is then seen by an event, without a rescan. The second case
// calls Rewatch before the old watch may have reported the removal.
func TestRewatchRecreatedFolder(t *testing.T) {
	for _, c := range []struct {
		name     string
		waitLost bool // wait until the old watch reported the removal
	}{
		{"after the removal was reported", true},
		{"at once", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := Config{Limit: 1 << 30, Logs: []Log{{Name: "a.log"}}}
			e := startWatching(t, cfg, func(dir string) {
				mkfile(t, dir, "a.log", 100)
				mkfile(t, dir, rolled("a.log", 0), 1000)
			})
			if err := os.RemoveAll(e.dir); err != nil {
				t.Fatal(err)
			}
			if c.waitLost {
				waitFor(t, 5*time.Second, "the removal reported", func() bool { return !e.m.Status().Watching })
			}
			// The collator's next write creates the folder and the active
			// file again; the roll after it makes a rolled file.
			if err := os.Mkdir(e.dir, 0o755); err != nil {
				t.Fatal(err)
			}
			mkfile(t, e.dir, "a.log", 0)
			mkfile(t, e.dir, rolled("a.log", 1), 300)
			scans := e.m.Status().Scans
			e.m.Rewatch()
			waitFor(t, 5*time.Second, "the new folder watched and rescanned", func() bool {
				st := e.m.Status()
				return st.Watching && st.Scans > scans && st.Used == 300 && len(st.Logs) == 1 && st.Logs[0].Rolled == 1
			})
			scans = e.m.Status().Scans

			// A script deletes the rolled file in the new folder.
			if err := os.Remove(filepath.Join(e.dir, rolled("a.log", 1))); err != nil {
				t.Fatal(err)
			}
			took := waitFor(t, time.Second, "the deletion seen", func() bool {
				st := e.m.Status()
				return st.Used == 0 && st.Logs[0].Rolled == 0
			})
			t.Logf("deletion seen %v after it", took)
			if st := e.m.Status(); st.Scans != scans || !st.Watching {
				t.Errorf("%d rescans, watching %v; want the deletion seen by the watch", st.Scans-scans, st.Watching)
			}
			if n := len(e.logs.Find("watching the recreated log folder")); n != 1 {
				t.Errorf("rewatch said %d times, want once: %q", n, e.logs.Find(""))
			}
		})
	}
}
