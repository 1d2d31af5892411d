package logging

import (
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
