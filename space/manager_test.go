package space

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/logging"
)

// Manager tests run inside testing/synctest bubbles: synctest.Wait returns
// once the manager's goroutine has handled everything and is waiting, and
// time moves only when every goroutine waits, so "within a second" is
// measured exactly.

// fill creates the rolled files of log, size bytes each, hours 0, 1, ….
func fill(t *testing.T, dir, log string, n, size int) {
	t.Helper()
	for i := range n {
		mkfile(t, dir, rolled(log, i), size)
	}
}

func TestExhaustionAndResume(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 10_000, Headroom: 2_000, Logs: []Log{{Name: "a.log"}}}
		e := start(t, cfg, plenty, func(dir string) {
			mkfile(t, dir, "a.log", 1000)
			fill(t, dir, "a.log", 3, 2000)
		})
		synctest.Wait()
		if st := e.m.Status(); st.State != Normal || st.Used != 7000 {
			t.Fatalf("start: %v, used %d; want normal, 7000", st.State, st.Used)
		}

		e.m.Wrote(1500) // U 8500: U + H ≥ M
		synctest.Wait()
		if st := e.m.Status(); st.State != Low || !strings.Contains(st.Reason, "headroom") {
			t.Fatalf("after 8500: %v (%s), want low", st.State, st.Reason)
		}
		if got := e.accept.get(); len(got) != 0 {
			t.Fatalf("Accept called while low: %v", got)
		}

		e.m.Wrote(1600) // U 10100 ≥ M
		synctest.Wait()
		e.m.Wrote(10) // no second call while exhausted
		synctest.Wait()
		if st := e.m.Status(); st.State != Exhausted {
			t.Fatalf("after 10110: %v, want exhausted", st.State)
		}
		if got := e.accept.get(); !slices.Equal(got, []string{"false"}) || !strings.Contains(e.accept.last(), "used") {
			t.Fatalf("Accept calls %v (%q), want one false saying why", got, e.accept.last())
		}

		// A script deletes the files; U 8110 is still low: exhaustion holds.
		begin := time.Now()
		os.Remove(filepath.Join(e.dir, rolled("a.log", 0)))
		e.m.Removed(rolled("a.log", 0))
		synctest.Wait()
		if st := e.m.Status(); st.State != Exhausted || !strings.Contains(st.Reason, "used 8110 B + headroom 2000 B") || !strings.Contains(st.Reason, "resumes when used is below 8000 B") {
			t.Fatalf("at U 8110: %v (%s), want exhausted until below the headroom, with today's figures", st.State, st.Reason)
		}
		// Writers refused from now on are told today's figures too.
		if last := e.accept.last(); !strings.Contains(last, "used 8110 B") {
			t.Errorf("Accept's reason %q is not today's", last)
		}
		p := filepath.Join(e.dir, rolled("a.log", 1))
		os.Remove(p)
		e.m.Removed(p) // a path works too
		synctest.Wait()
		if st := e.m.Status(); st.State != Normal || st.Used != 6110 {
			t.Fatalf("at U 6110: %v used %d, want normal", st.State, st.Used)
		}
		if d := time.Since(begin); d != 0 {
			t.Errorf("resume took %v of (fake) time, want none: it follows the report", d)
		}
		if got := e.accept.get(); !slices.Equal(got, []string{"false", "true"}) {
			t.Errorf("Accept calls %v, want [false true]", got)
		}
		// Each transition logged once.
		for msg, n := range map[string]int{
			"WARN log space low":                 1,
			"WARN log space exhausted":           1,
			"INFO log space back to normal: acc": 1,
		} {
			if got := len(e.logs.Find(msg)); got != n {
				t.Errorf("%d %q, want %d; log:\n%s", got, msg, n, strings.Join(e.logs.Find(""), "\n"))
			}
		}
	})
}

func TestPartitionFree(t *testing.T) {
	t.Run("estimated from writes between samples", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cfg := Config{Limit: 1 << 40, Headroom: 2_000, MinFree: 1_000}
			e := start(t, cfg, 10_000, nil)
			synctest.Wait()
			e.m.Wrote(8_000) // P ≈ 2000 ≤ H
			synctest.Wait()
			if st := e.m.Status(); st.State != Low || st.Free != 2_000 {
				t.Fatalf("%v free %d, want low at 2000", st.State, st.Free)
			}
			e.m.Wrote(1_500) // P ≈ 500 < MinFree
			synctest.Wait()
			if st := e.m.Status(); st.State != Exhausted || !strings.Contains(st.Reason, "partition free") {
				t.Fatalf("%v (%s), want exhausted by the partition", st.State, st.Reason)
			}
		})
	})
	t.Run("space back without any event: noticed within a second", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			cfg := Config{Limit: 1 << 40, Headroom: 2_000, MinFree: 1_000}
			e := start(t, cfg, 500, nil)
			synctest.Wait()
			if st := e.m.Status(); st.State != Exhausted {
				t.Fatalf("%v, want exhausted", st.State)
			}
			e.free.set(1_500, nil) // someone freed a little: low, still exhausted
			time.Sleep(RecheckInterval)
			synctest.Wait()
			if st := e.m.Status(); st.State != Exhausted {
				t.Fatalf("%v, want exhausted while low", st.State)
			}
			e.free.set(1<<30, nil)
			time.Sleep(RecheckInterval)
			synctest.Wait()
			if st := e.m.Status(); st.State != Normal || st.Free != 1<<30 {
				t.Fatalf("%v free %d, want normal", st.State, st.Free)
			}
			if got := e.accept.get(); !slices.Equal(got, []string{"false", "true"}) {
				t.Errorf("Accept calls %v, want [false true]", got)
			}
		})
	})
	t.Run("sampled at most once a second under writes", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := start(t, Config{Limit: 1 << 40}, plenty, nil)
			synctest.Wait()
			e.free.mu.Lock()
			before := e.free.calls
			e.free.mu.Unlock()
			for range 100 {
				e.m.Wrote(1)
				synctest.Wait()
			}
			time.Sleep(RecheckInterval)
			e.m.Wrote(1)
			synctest.Wait()
			e.free.mu.Lock()
			defer e.free.mu.Unlock()
			if got := e.free.calls - before; got != 1 {
				t.Errorf("Free called %d times over 101 writes and one second, want 1", got)
			}
		})
	})
	t.Run("a failed write samples the partition at once", func(t *testing.T) {
		// Another program fills the partition: our writes fail, write no
		// byte, and the estimate (last sample less our writes) still shows
		// plenty. Without WriteFailed the state would stay Normal (no
		// 1 s re-check) until the next scan, and every request would get a
		// 500 instead of a 503 with Retry-After.
		synctest.Test(t, func(t *testing.T) {
			cfg := Config{Limit: 1 << 40, Headroom: 2_000, MinFree: 1_000, ScanInterval: time.Hour}
			e := start(t, cfg, 1<<30, nil)
			synctest.Wait()
			e.free.set(0, nil)
			e.m.Wrote(0)
			synctest.Wait()
			if st := e.m.Status(); st.State != Normal {
				t.Fatalf("%v after a poke within the second, want normal (P not resampled)", st.State)
			}
			e.m.WriteFailed()
			synctest.Wait()
			if st := e.m.Status(); st.State != Exhausted || st.Free != 0 {
				t.Fatalf("%v free %d after a failed write, want exhausted at 0", st.State, st.Free)
			}
			if got := e.accept.get(); !slices.Equal(got, []string{"false"}) {
				t.Errorf("Accept calls %v, want [false]", got)
			}
			e.free.set(1<<30, nil) // the other program's file is removed
			time.Sleep(RecheckInterval)
			synctest.Wait()
			if st := e.m.Status(); st.State != Normal {
				t.Errorf("%v a second after the partition was freed, want normal", st.State)
			}
			var nilManager *Manager
			nilManager.WriteFailed() // safe, like Wrote
		})
	})
	t.Run("a failing Free is logged once and ignored", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			e := start(t, Config{Limit: 10_000, Headroom: 1_000}, 0, nil)
			e.free.set(0, errors.New("statfs: input/output error"))
			e.m.Check()
			synctest.Wait()
			time.Sleep(3 * RecheckInterval)
			e.m.Wrote(100)
			synctest.Wait()
			if st := e.m.Status(); st.State != Normal || st.Free != -1 {
				t.Errorf("%v free %d, want normal with free unknown (-1)", st.State, st.Free)
			}
			if n := len(e.logs.Find("cannot read the partition's free space")); n != 1 {
				t.Errorf("failure logged %d times, want 1", n)
			}
		})
	})
}

func TestScanInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 1 << 30, ScanInterval: 10 * time.Second}
		e := start(t, cfg, plenty, func(dir string) { mkfile(t, dir, "a", 100) })
		synctest.Wait()
		mkfile(t, e.dir, "b", 50) // nobody reports it
		time.Sleep(9 * time.Second)
		synctest.Wait()
		if st := e.m.Status(); st.Used != 100 || st.Scans != 1 {
			t.Fatalf("before the interval: used %d after %d scans, want 100 after 1", st.Used, st.Scans)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		if st := e.m.Status(); st.Used != 150 || st.Scans != 2 || !st.LastScan.Equal(time.Now()) {
			t.Fatalf("at the interval: used %d after %d scans (last %v), want 150 after 2 now", st.Used, st.Scans, st.LastScan)
		}
		// Writes between scans are counted; the scan replaces them with the files.
		appendTo(t, e.dir, "b", 25)
		e.m.Wrote(25)
		synctest.Wait()
		if st := e.m.Status(); st.Used != 175 {
			t.Fatalf("after a write: used %d, want 175", st.Used)
		}
		time.Sleep(10 * time.Second)
		synctest.Wait()
		if st := e.m.Status(); st.Used != 175 || st.Scans != 3 {
			t.Fatalf("after the next scan: used %d after %d scans, want 175 after 3", st.Used, st.Scans)
		}
	})
}

func TestAutodelete(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{
			Limit: 6_000, Headroom: 1_000, AutoDelete: true,
			Logs: []Log{{Name: "a.log", MinCount: 1}, {Name: "b.log", MinCount: 0}},
		}
		e := start(t, cfg, plenty, func(dir string) {
			fill(t, dir, "a.log", 3, 1000)
			fill(t, dir, "b.log", 2, 1000)
			mkfile(t, dir, "a.log", 500)
			mkfile(t, dir, ".a.log.meta", 30)
			mkfile(t, dir, ".logrolld.lock", 0)
			mkfile(t, dir, "notes.txt", 700)
		})
		// U 6230 ≥ M: the first check deletes a.log's two oldest (ratio 3, then 2).
		synctest.Wait()
		st := e.m.Status()
		if st.State != Normal || st.Used != 4230 || st.DeletedFiles != 2 || st.DeletedBytes != 2000 {
			t.Fatalf("after start: %v used %d, deleted %d files %d bytes; want normal 4230, 2, 2000", st.State, st.Used, st.DeletedFiles, st.DeletedBytes)
		}
		if exists(e.dir, rolled("a.log", 0)) || exists(e.dir, rolled("a.log", 1)) || !exists(e.dir, rolled("a.log", 2)) {
			t.Fatalf("wrong files deleted")
		}
		if got := e.accept.get(); len(got) != 0 {
			t.Errorf("Accept called %v: autodelete kept up", got)
		}
		dels := e.logs.Find("deleted rolled file")
		if len(dels) != 2 || !strings.Contains(dels[0], "bytes=1000") || !strings.Contains(dels[0], "used=6230") ||
			!strings.Contains(dels[0], "limit=6000") || !strings.Contains(dels[0], "why=used") || !strings.Contains(dels[0], rolled("a.log", 0)) {
			t.Errorf("deletions logged as\n%s", strings.Join(dels, "\n"))
		}

		e.m.Wrote(1500) // U 5730: low → a.log's last (1/1 beats min 0)
		synctest.Wait()
		e.m.Wrote(1000) // U 5730: low → b.log's oldest
		synctest.Wait()
		if exists(e.dir, rolled("a.log", 2)) || exists(e.dir, rolled("b.log", 0)) || !exists(e.dir, rolled("b.log", 1)) {
			t.Fatalf("wrong files deleted the second time")
		}
		e.m.Wrote(5000) // U 9730: deletes b.log's last, still ≥ M, nothing left
		synctest.Wait()
		st = e.m.Status()
		if st.State != Exhausted || st.DeletedFiles != 5 || st.DeletedBytes != 5000 {
			t.Fatalf("%v, %d deleted; want exhausted after 5", st.State, st.DeletedFiles)
		}
		if got := e.accept.get(); !slices.Equal(got, []string{"false"}) {
			t.Errorf("Accept calls %v, want [false]", got)
		}
		for _, keep := range []string{"a.log", ".a.log.meta", ".logrolld.lock", "notes.txt"} {
			if !exists(e.dir, keep) {
				t.Errorf("%s was deleted: only rolled files may be", keep)
			}
		}
		if len(e.logs.Find("WARN")) != 1 {
			t.Errorf("warnings:\n%s", strings.Join(e.logs.Find("WARN"), "\n"))
		}
	})
}

// TestCompressTempNotDeletedFor: a compression's temporary counts neither in
// U nor against P: on a nearly full log space, no rolled file is deleted
// to make room for it (an outside tester's finding: the compression then
// failed anyway, and the files deleted for it were lost for nothing).
func TestCompressTempNotDeletedFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 6_000, Headroom: 1_000, AutoDelete: true, Logs: []Log{{Name: "a.log"}}}
		temp := "." + rolled("a.log", 5) + ".zst.tmp4242"
		e := start(t, cfg, plenty, func(dir string) {
			fill(t, dir, "a.log", 3, 1000)
			mkfile(t, dir, temp, 2500) // U with it 5500 + headroom ≥ M: low
		})
		synctest.Wait()
		st := e.m.Status()
		if st.DeletedFiles != 0 || st.State != Normal || st.Used != 5500 {
			t.Fatalf("with a compression's temporary: %v, used %d, %d deleted; want normal, 5500 (the temporary shown), none", st.State, st.Used, st.DeletedFiles)
		}
		// Once the temporary is gone and a real file takes its room, the
		// rules act as ever.
		if err := os.Remove(filepath.Join(e.dir, temp)); err != nil {
			t.Fatal(err)
		}
		mkfile(t, e.dir, rolled("a.log", 6), 2500)
		e.m.Rolled(temp)
		e.m.Rolled(rolled("a.log", 6))
		synctest.Wait()
		if st := e.m.Status(); st.DeletedFiles == 0 {
			t.Errorf("a real file of the same size: %v, used %d, nothing deleted", st.State, st.Used)
		}
	})
}

func TestAutodeleteFileAlreadyGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 10_000, Headroom: 0, AutoDelete: true, Logs: []Log{{Name: "a.log", MinCount: 1}}}
		e := start(t, cfg, plenty, func(dir string) { fill(t, dir, "a.log", 4, 2000) })
		synctest.Wait()
		// A script removes the oldest without anyone reporting it.
		os.Remove(filepath.Join(e.dir, rolled("a.log", 0)))
		e.m.Wrote(5000) // U 13000 by the accounting: the oldest is gone (11000), delete the next (9000)
		synctest.Wait()
		st := e.m.Status()
		if st.State != Normal || st.DeletedFiles != 1 || st.DeletedBytes != 2000 || st.DeleteErrors != 0 || st.Used != 9000 {
			t.Fatalf("%v, deleted %d (%d bytes), errors %d, used %d; want normal, 1 (2000), 0, 9000",
				st.State, st.DeletedFiles, st.DeletedBytes, st.DeleteErrors, st.Used)
		}
		if exists(e.dir, rolled("a.log", 1)) || !exists(e.dir, rolled("a.log", 2)) {
			t.Errorf("the next oldest should have been deleted")
		}
		if n := len(e.logs.Find("WARN")); n != 0 {
			t.Errorf("a file already gone was logged as a problem: %v", e.logs.Find("WARN"))
		}
	})
}

func TestAutodeleteFailure(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 5_000, Headroom: 0, AutoDelete: true, Logs: []Log{{Name: "a.log", MinCount: 1}}}
		denied := func(p string) error { return &os.PathError{Op: "remove", Path: p, Err: syscall.EACCES} }
		e := startWith(t, cfg, plenty, func(dir string) { fill(t, dir, "a.log", 2, 2000) }, denied)
		synctest.Wait()
		e.m.Wrote(2000)
		synctest.Wait()
		e.m.Wrote(1)
		synctest.Wait()
		st := e.m.Status()
		if st.State != Exhausted || st.DeleteErrors != 2 || st.DeletedFiles != 0 || st.Used != 6001 {
			t.Errorf("%v, %d errors, %d deleted, used %d; want exhausted, 2 (each file tried once), 0, 6001",
				st.State, st.DeleteErrors, st.DeletedFiles, st.Used)
		}
		if n := len(e.logs.Find("cannot delete rolled file")); n != 2 {
			t.Errorf("%d failures logged, want 2", n)
		}
	})
}

func TestApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 5_000, Headroom: 1_000, Logs: []Log{{Name: "a.log", MinCount: 2}, {Name: "b.log"}}}
		e := start(t, cfg, plenty, func(dir string) {
			fill(t, dir, "a.log", 3, 1000)
			fill(t, dir, "b.log", 2, 1000)
		})
		cfg.Dir = e.dir
		synctest.Wait()
		if st := e.m.Status(); st.State != Exhausted {
			t.Fatalf("%v, want exhausted at 5000", st.State)
		}
		// A larger limit: resumed at once, no time passing.
		begin := time.Now()
		cfg.Limit = 7_000
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		st := e.m.Status()
		if st.State != Normal || st.Limit != 7_000 || st.Scans != 2 || time.Since(begin) != 0 {
			t.Fatalf("%v limit %d after %d scans, want normal, 7000, a new scan", st.State, st.Limit, st.Scans)
		}
		if got := e.accept.get(); !slices.Equal(got, []string{"false", "true"}) {
			t.Errorf("Accept calls %v", got)
		}
		want := []LogUsage{
			{Name: "a.log", Configured: true, MinCount: 2, Rolled: 3, RolledBytes: 3000},
			{Name: "b.log", Configured: true, Rolled: 2, RolledBytes: 2000},
		}
		if !reflect.DeepEqual(st.Logs, want) {
			t.Errorf("logs %+v, want %+v", st.Logs, want)
		}

		// b.log removed from the configuration: its files stay candidates, first.
		cfg.Logs = []Log{{Name: "a.log", MinCount: 2}, {Name: "c.log"}}
		cfg.AutoDelete, cfg.Limit = true, 5_500
		if err := e.m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		st = e.m.Status()
		want = []LogUsage{
			{Name: "a.log", Configured: true, MinCount: 2, Rolled: 3, RolledBytes: 3000},
			{Name: "c.log", Configured: true},
			{Name: "b.log", Rolled: 1, RolledBytes: 1000, Deleted: map[Rule]Count{RuleBudget: {Files: 1, Bytes: 1000}}},
		}
		if st.State != Normal || st.DeletedFiles != 1 || exists(e.dir, rolled("b.log", 0)) || !reflect.DeepEqual(st.Logs, want) {
			t.Errorf("%v, %d deleted, logs %+v; want normal after deleting b.log's oldest, logs %+v", st.State, st.DeletedFiles, st.Logs, want)
		}

		if err := e.m.Apply(Config{Dir: t.TempDir(), Limit: 1}); !errors.Is(err, logging.ErrRestartRequired) {
			t.Errorf("Apply with another folder: %v, want ErrRestartRequired", err)
		}
		if err := e.m.Apply(Config{Dir: e.dir}); err == nil || !strings.Contains(err.Error(), "limit") {
			t.Errorf("Apply with no limit: %v", err)
		}
		if st := e.m.Status(); st.Limit != 5_500 {
			t.Errorf("a refused Apply changed the limit to %d", st.Limit)
		}
		e.m.Close()
		if err := e.m.Apply(cfg); !errors.Is(err, ErrClosed) {
			t.Errorf("Apply after Close: %v, want ErrClosed", err)
		}
	})
}

func TestRollInsideTheFolderKeepsUsed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 1 << 30, Logs: []Log{{Name: "a.log"}}}
		e := start(t, cfg, plenty, func(dir string) { mkfile(t, dir, "a.log", 100) })
		synctest.Wait()
		appendTo(t, e.dir, "a.log", 400)
		e.m.Wrote(400)
		r := rolled("a.log", 0)
		if err := os.Rename(filepath.Join(e.dir, "a.log"), filepath.Join(e.dir, r)); err != nil {
			t.Fatal(err)
		}
		mkfile(t, e.dir, "a.log", 0)
		// What the fsnotify adapter reports for a roll.
		e.m.enqueue(event{path: filepath.Join(e.dir, "a.log"), moved: true})
		e.m.enqueue(event{path: filepath.Join(e.dir, r)})
		e.m.enqueue(event{path: filepath.Join(e.dir, "a.log")})
		synctest.Wait()
		st := e.m.Status()
		if st.Used != 500 || len(st.Logs) != 1 || st.Logs[0].Rolled != 1 || st.Logs[0].RolledBytes != 500 {
			t.Errorf("used %d, logs %+v; want 500 with one rolled file of 500 bytes", st.Used, st.Logs)
		}
	})
}

func TestNew(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing")
	if _, err := New(Config{Dir: missing, Limit: 1}, Options{}); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("New on a missing folder: %v, want an error naming it", err)
	}
	file := mkfile(t, t.TempDir(), "f", 1)
	if _, err := New(Config{Dir: file, Limit: 1}, Options{}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("New on a file: %v", err)
	}
	if _, err := New(Config{Dir: t.TempDir()}, Options{}); err == nil {
		t.Errorf("New without a limit: no error")
	}
}

func TestDefaultFree(t *testing.T) {
	dir := t.TempDir()
	p, err := diskFree(dir)
	if err != nil || p.Free == 0 || p.Size < p.Free || p.FreeInodes > p.Inodes {
		t.Errorf("diskFree(%s) = %+v, %v", dir, p, err)
	}
	if _, err := diskFree(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("diskFree on a missing folder: %v", err)
	}
}

func TestWroteNeverBlocksNorAllocates(t *testing.T) {
	e := start(t, Config{Limit: 1 << 40}, plenty, nil)
	if n := testing.AllocsPerRun(10_000, func() { e.m.Wrote(1) }); n != 0 {
		t.Errorf("Wrote allocates %v times per call", n)
	}
	var nilM *Manager
	nilM.Wrote(1) // safe before the daemon has a manager
	nilM.Rewatch()
	e.m.Close()
	for range 10 { // the goroutine is gone: the poke channel fills, Wrote still returns
		e.m.Wrote(1)
		e.m.Check()
		e.m.Removed("x")
		e.m.Rewatch()
	}
	if err := e.m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestLostWatchRescansEverySecondWhileNotNormal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 5_000, Headroom: 1_000, Logs: []Log{{Name: "a.log"}}}
		e := start(t, cfg, plenty, func(dir string) { fill(t, dir, "a.log", 3, 2000) })
		// What the adapter does when the folder's watch ends.
		e.m.mu.Lock()
		e.m.lost = true
		e.m.mu.Unlock()
		e.m.Check()
		synctest.Wait()
		if st := e.m.Status(); st.State != Exhausted || st.Watching {
			t.Fatalf("%v watching %v, want exhausted, not watching", st.State, st.Watching)
		}
		// A script deletes files; nobody reports it.
		os.Remove(filepath.Join(e.dir, rolled("a.log", 0)))
		os.Remove(filepath.Join(e.dir, rolled("a.log", 1)))
		time.Sleep(RecheckInterval)
		synctest.Wait()
		if st := e.m.Status(); st.State != Normal || st.Used != 2000 {
			t.Fatalf("%v used %d one second later, want normal, 2000", st.State, st.Used)
		}
		// Back to normal: no more rescans until the interval.
		scans := e.m.Status().Scans
		time.Sleep(5 * RecheckInterval)
		synctest.Wait()
		if got := e.m.Status().Scans; got != scans {
			t.Errorf("%d rescans while normal", got-scans)
		}
	})
}

func TestConcurrentUse(t *testing.T) {
	cfg := Config{Limit: 1 << 30, Headroom: 1 << 20, AutoDelete: true, Logs: []Log{{Name: "a.log", MinCount: 1}}}
	e := start(t, cfg, plenty, func(dir string) { fill(t, dir, "a.log", 20, 100) })
	cfg.Dir = e.dir
	done := make(chan struct{})
	for g := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 2000 {
				e.m.Wrote(10)
				switch i % 100 {
				case 0:
					e.m.Removed(rolled("a.log", g))
				case 50:
					_ = e.m.Status()
				case 99:
					if err := e.m.Apply(cfg); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	// The writes never reached any file: the rescan of a last Apply finds
	// exactly the files.
	if err := e.m.Apply(cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the accounting back to the files", func() bool {
		st := e.m.Status()
		return st.Used == 2000 && st.State == Normal
	})
}

// TestInodes: free inodes are figures like free bytes. Below MinFreeInodes
// logging stops (Accept false, the reason naming inodes); autodelete
// deletes rolled files to free some; with MinFreeInodes free again logging
// resumes at once (Accept true), although the inodes are still at or below
// their headroom (low).
func TestInodes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{Limit: 1 << 30, Headroom: 1 << 20, MinFreeInodes: 2, Logs: []Log{{Name: "a.log"}}}
		e := start(t, cfg, plenty, func(dir string) {
			mkfile(t, dir, "a.log", 10)
			fill(t, dir, "a.log", 3, 10)
		})
		// The first check may have sampled the partition before this: the
		// next check samples it again once that sample is RecheckInterval old.
		synctest.Wait()
		e.free.setPartition(1<<40, 1, 8) // 1 of 8 inodes free
		time.Sleep(RecheckInterval)
		e.m.Check()
		synctest.Wait()
		st := e.m.Status()
		if st.State != Exhausted || !strings.Contains(st.Reason, "inodes 1 < 2") || st.FreeInodes != 1 {
			t.Fatalf("%v (%s), %d free inodes; want exhausted by inodes", st.State, st.Reason, st.FreeInodes)
		}
		if got := e.accept.get(); !slices.Equal(got, []string{"false"}) {
			t.Fatalf("Accept calls %v", got)
		}
		// A script deletes a rolled file: one inode more.
		os.Remove(filepath.Join(e.dir, rolled("a.log", 0)))
		e.free.setPartition(1<<40, 2, 8)
		e.m.Removed(rolled("a.log", 0))
		synctest.Wait()
		if st := e.m.Status(); st.State != Low || !strings.Contains(st.Reason, "inodes 2 ≤ headroom 3") {
			t.Errorf("%v (%s), want low by inodes, accepting", st.State, st.Reason)
		}
		if got := e.accept.get(); !slices.Equal(got, []string{"false", "true"}) {
			t.Errorf("Accept calls %v, want [false true]", got)
		}
	})
}
