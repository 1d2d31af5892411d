package logging

import (
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestActiveFileStats: LogStats.Size and Start follow the active file —
// zero while it is empty, START of its first buffer once written, back to
// zero after a roll, and what a restart found in an inherited file. Total
// sums the sizes and has no START.
func TestActiveFileStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		at := func(d time.Duration) time.Time { return time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Add(d) }
		check := func(c *Collator, when, log string, size int64, start time.Time) {
			t.Helper()
			st := c.Stats().Logs[log]
			if st.Size != size || !st.Start.Equal(start) {
				t.Errorf("%s: %s Size = %d, Start = %v; want %d, %v", when, log, st.Size, st.Start, size, start)
			}
			if !st.Start.IsZero() && st.Start.Location() != time.UTC {
				t.Errorf("%s: Start in %v, want Options.Location", when, st.Start.Location())
			}
		}
		cfg := testCfg(dir, Policy{}, Policy{})
		c, err := Open(cfg, testOpts())
		if err != nil {
			t.Fatal(err)
		}
		check(c, "at open", testLog, 0, time.Time{})

		time.Sleep(time.Minute)
		write(t, c, testLog, "abc")
		check(c, "after a write", testLog, 4, at(time.Minute))
		time.Sleep(time.Minute)
		write(t, c, testLog, "de")
		write(t, c, "b.log", "x")
		check(c, "after a second write", testLog, 7, at(time.Minute))
		if st := c.Stats().Total; st.Size != 9 || !st.Start.IsZero() {
			t.Errorf("Total Size = %d, Start = %v; want 9, zero", st.Size, st.Start)
		}

		if _, err := c.Roll(testLog); err != nil {
			t.Fatal(err)
		}
		check(c, "after a roll", testLog, 0, time.Time{})
		time.Sleep(time.Minute)
		write(t, c, testLog, "fgh")
		check(c, "after a write into the new file", testLog, 4, at(3*time.Minute))
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		check(c, "after Close", testLog, 0, time.Time{})

		// A restart continues the file: its size and START are known at once.
		time.Sleep(time.Minute)
		c, err = Open(cfg, testOpts())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		check(c, "after a restart", testLog, 4, at(3*time.Minute))
		check(c, "after a restart", "b.log", 2, at(2*time.Minute))
		write(t, c, testLog, "i")
		check(c, "after a restart and a write", testLog, 6, at(3*time.Minute))
	})
}

// TestRollPauseStats: every roll counts as a pause of the log's writers, for
// as long as it held the writer token — here a durable roll whose rename
// takes 3 ms of the bubble's clock and a size roll, which a leader leaves to
// the writer goroutine, taking 5 ms. The fsyncs of a durable roll, 50 ms
// each, happen after the token is passed on, and are no pause.
func TestRollPauseStats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 100})
		cfg.Durability = DurabilityRoll
		delay := 3 * time.Millisecond
		c, err := open(cfg, testOpts(), fsOps{
			rename: func(from, to string) error {
				time.Sleep(delay)
				return os.Rename(from, to)
			},
			syncFile: func(f *os.File) error {
				time.Sleep(50 * time.Millisecond)
				return f.Sync()
			},
			syncDir: func(dir string) error {
				time.Sleep(50 * time.Millisecond)
				return syncPath(dir)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		write(t, c, testLog, "forced")
		if _, err := c.Roll(testLog); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // the pause ends after the answer, with the new active file
		st := c.Stats()
		if ls := st.Logs[testLog]; ls.RollPauses != 1 || ls.RollPauseMax != delay || ls.RollPauseTotal != delay {
			t.Fatalf("after a forced roll: %d pauses, max %v, total %v; want 1, %v, %v", ls.RollPauses, ls.RollPauseMax, ls.RollPauseTotal, delay, delay)
		}
		delay = 5 * time.Millisecond
		write(t, c, testLog, strings.Repeat("x", 120)) // reaches the size limit: a size roll
		time.Sleep(time.Second)                        // the writer goroutine rolls, its fsync sleeping
		synctest.Wait()
		st = c.Stats()
		ls := st.Logs[testLog]
		if ls.RollsSize != 1 || ls.RollPauses != 2 || ls.RollPauseMax != 5*time.Millisecond || ls.RollPauseTotal != 8*time.Millisecond {
			t.Fatalf("after a size roll: %d size rolls, %d pauses, max %v, total %v; want 1, 2, 5ms, 8ms", ls.RollsSize, ls.RollPauses, ls.RollPauseMax, ls.RollPauseTotal)
		}
		if st.Total.RollPauseMax != ls.RollPauseMax || st.Total.RollPauses != 2 {
			t.Errorf("total: %d pauses, max %v; want those of the log", st.Total.RollPauses, st.Total.RollPauseMax)
		}
	})
}
