package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestHourlyRolls24h drives 24 hours of hourly rolls with a record every
// five minutes: 24 files, each from its first record to the next hour.
func TestHourlyRolls24h(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, timePolicy(time.Hour)))
		time.Sleep(150 * time.Second) // 00:02:30
		for range 24 * 12 {
			write(t, c, testLog, stamp("r"))
			time.Sleep(5 * time.Minute)
		}
		// Now 24:02:30; the last roll happened at 24:00 on time.
		var want []string
		for h := range 24 {
			end := fmt.Sprintf("%02d:00:00", h+1)
			if h == 23 {
				end = "Jan2 00:00:00"
			}
			want = append(want, fmt.Sprintf("%02d:02:30-%s", h, end))
		}
		got := spans(rolledFiles(t, dir, testLog))
		if !slices.Equal(got, want) {
			t.Fatalf("rolled files:\n got %q\nwant %q", got, want)
		}
		if recs := checkPartition(t, dir, testLog); len(recs) != 24*12 {
			t.Errorf("%d records in rolled files, want %d", len(recs), 24*12)
		}
		if st := c.Stats().Logs[testLog]; st.RollsTime != 24 {
			t.Errorf("RollsTime = %d, want 24", st.RollsTime)
		}
	})
}

// TestBoundaryGrid checks where rolls fall for a few intervals and offsets,
// writing a record every step for the given duration.
func TestBoundaryGrid(t *testing.T) {
	for _, tc := range []struct {
		name     string
		interval time.Duration
		offset   int
		step     time.Duration
		run      time.Duration
		wantEnds []string
	}{
		{"21600 offset 0", 6 * time.Hour, 0, 30 * time.Minute, 24 * time.Hour,
			[]string{"06:00:00", "12:00:00", "18:00:00", "Jan2 00:00:00"}},
		{"43200 offset 3", 12 * time.Hour, 3, 30 * time.Minute, 24 * time.Hour,
			[]string{"03:00:00", "15:00:00"}},
		{"1s", time.Second, 0, 250 * time.Millisecond, 5 * time.Second,
			[]string{"00:00:01", "00:00:02", "00:00:03", "00:00:04", "00:00:05"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				c := mustOpen(t, testCfg(dir, Policy{Mode: ModeTime, Interval: tc.interval, OffsetHours: tc.offset}))
				time.Sleep(tc.step / 2)
				for range tc.run / tc.step {
					write(t, c, testLog, stamp("r"))
					time.Sleep(tc.step)
				}
				ends := rolledEnds(t, dir, testLog)
				if !slices.Equal(ends, tc.wantEnds) {
					t.Errorf("ENDs %q, want %q", ends, tc.wantEnds)
				}
				checkPartition(t, dir, testLog)
			})
		})
	}
}

// TestTimeAndSizeSkipsSmallFile: mode 4 does not roll at a boundary while the
// file is below the limit, and rolls at the first boundary after it is
// reached.
func TestTimeAndSizeSkipsSmallFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{Mode: ModeTimeAndSize, Interval: time.Hour, SizeBytes: 1000}))
		rec := strings.Repeat("x", 49) // 50 bytes with the newline
		time.Sleep(10 * time.Minute)
		write(t, c, testLog, slices.Repeat([]string{rec}, 10)...) // 500 bytes
		time.Sleep(time.Hour)                                     // 01:10: 01:00 skipped
		if got := rolledFiles(t, dir, testLog); len(got) != 0 {
			t.Fatalf("rolled below the size: %q", spans(got))
		}
		write(t, c, testLog, slices.Repeat([]string{rec}, 12)...) // 1100 bytes
		time.Sleep(3 * time.Hour)                                 // 04:10: rolled at 02:00 only
		got := spans(rolledFiles(t, dir, testLog))
		if want := []string{"00:10:00-02:00:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
	})
}

// TestTimeOrSize: mode 3 rolls on size mid-interval and at the boundary,
// whichever comes first.
func TestTimeOrSize(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{Mode: ModeTimeOrSize, Interval: time.Hour, SizeBytes: 1000}))
		rec := strings.Repeat("x", 49)
		time.Sleep(10 * time.Minute)
		write(t, c, testLog, rec) // 00:10: START
		time.Sleep(5 * time.Minute)
		write(t, c, testLog, slices.Repeat([]string{rec}, 21)...) // 00:15, 1100 bytes: size roll now
		time.Sleep(5 * time.Minute)
		write(t, c, testLog, rec) // 00:20, rolled at 01:00
		time.Sleep(time.Hour)
		got := spans(rolledFiles(t, dir, testLog))
		// The size roll ENDs when the buffer that reached the limit was
		// sealed (00:15), not at START: its END must not be read from a
		// buffer already recycled.
		if want := []string{"00:10:00-00:15:00", "00:20:00-01:00:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
		st := c.Stats().Logs[testLog]
		if st.RollsSize != 1 || st.RollsTime != 1 {
			t.Errorf("rolls: size %d time %d, want 1 and 1", st.RollsSize, st.RollsTime)
		}
	})
}

// TestCatchUpAfterStall: a wall clock that jumps ahead five hours (a
// suspended machine) causes one roll, ending at the first missed boundary,
// whether a write or the late timer notices it first.
func TestCatchUpAfterStall(t *testing.T) {
	for _, noticer := range []string{"write", "timer"} {
		t.Run(noticer, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var jump atomic.Int64
				opts := testOpts()
				opts.Now = func() time.Time { return time.Now().Add(time.Duration(jump.Load())) }
				dir := t.TempDir()
				c, err := Open(testCfg(dir, timePolicy(time.Hour)), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				time.Sleep(10 * time.Minute)
				write(t, c, testLog, "before")
				jump.Store(int64(5 * time.Hour)) // 05:10 on the collator's clock
				if noticer == "write" {
					write(t, c, testLog, "after")
				} else {
					time.Sleep(time.Hour) // the timer armed for 01:00 fires, late
					synctest.Wait()
				}
				got := spans(rolledFiles(t, dir, testLog))
				if want := []string{"00:10:00-01:00:00"}; !slices.Equal(got, want) {
					t.Fatalf("rolled %q, want %q", got, want)
				}
				if noticer == "write" {
					time.Sleep(time.Hour) // 06:00 on the collator's clock
					got = spans(rolledFiles(t, dir, testLog))
					if want := []string{"00:10:00-01:00:00", "05:10:00-06:00:00"}; !slices.Equal(got, want) {
						t.Fatalf("rolled %q, want %q", got, want)
					}
				}
			})
		})
	}
}

// TestCatchUpAfterRestart: a restart after skipped boundaries rolls once at
// open, with START from the .meta and END the open instant; a restart within
// the interval continues the file with its START.
func TestCatchUpAfterRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, timePolicy(time.Hour))
		c := mustOpen(t, cfg)
		time.Sleep(10 * time.Minute)
		write(t, c, testLog, stamp("first"))
		c.Close()

		time.Sleep(20 * time.Minute) // 00:30: same hour, no roll
		c = mustOpen(t, cfg)
		write(t, c, testLog, stamp("second"))
		c.Close()
		if got := rolledFiles(t, dir, testLog); len(got) != 0 {
			t.Fatalf("rolled on a restart within the hour: %q", spans(got))
		}

		time.Sleep(5 * time.Hour) // 05:30: boundaries 01:00…05:00 missed
		c = mustOpen(t, cfg)
		got := spans(rolledFiles(t, dir, testLog))
		if want := []string{"00:10:00-05:30:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
		if recs := checkPartition(t, dir, testLog); len(recs) != 2 {
			t.Errorf("rolled file holds %q, want both records", recs)
		}
		time.Sleep(5 * time.Minute)
		write(t, c, testLog, stamp("third"))
		time.Sleep(time.Hour)
		got = spans(rolledFiles(t, dir, testLog))
		if want := []string{"00:10:00-05:30:00", "05:35:00-06:00:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
		if st := c.Stats().Logs[testLog]; st.RollsTime != 2 {
			t.Errorf("RollsTime = %d after the restart, want 2 (catch-up and 06:00)", st.RollsTime)
		}
	})
}

// TestAllowEmpty: with rolling_allow_empty a boundary rolls an empty file;
// without it, nothing appears.
func TestAllowEmpty(t *testing.T) {
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprint(allow), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				p := timePolicy(time.Hour)
				p.AllowEmpty = allow
				c := mustOpen(t, testCfg(dir, p))
				time.Sleep(3*time.Hour + time.Minute)
				var want []string
				if allow {
					want = []string{"00:00:00-01:00:00", "01:00:00-02:00:00", "02:00:00-03:00:00"}
				}
				files := rolledFiles(t, dir, testLog)
				if got := spans(files); !slices.Equal(got, want) {
					t.Fatalf("rolled %q, want %q", got, want)
				}
				for _, f := range files {
					if n := len(lines(t, f.path)); n != 0 {
						t.Errorf("%s has %d lines", f.path, n)
					}
				}
				r, err := c.Roll()
				if err != nil || len(r) != len(want[:min(len(want), 1)]) {
					t.Errorf("forced roll of an empty log: %v, %v", r, err)
				}
			})
		})
	}
}

// TestExactPartition: records accepted just before a boundary are in the old
// file and those at or after it in the new one, also with many writers
// racing the timer across several 1s boundaries.
func TestExactPartition(t *testing.T) {
	t.Run("edge", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			c := mustOpen(t, testCfg(dir, timePolicy(time.Hour)))
			time.Sleep(time.Hour - time.Nanosecond)
			write(t, c, testLog, "before")
			time.Sleep(time.Nanosecond)
			write(t, c, testLog, "after")
			files := rolledFiles(t, dir, testLog)
			if len(files) != 1 || span(files[0].RolledName) != "00:59:59-01:00:00" {
				t.Fatalf("rolled %q", spans(files))
			}
			if got := lines(t, files[0].path); !slices.Equal(got, []string{"before"}) {
				t.Errorf("old file holds %q", got)
			}
			if got := lines(t, dir+"/"+testLog); !slices.Equal(got, []string{"after"}) {
				t.Errorf("new file holds %q", got)
			}
			time.Sleep(time.Hour + time.Second) // past the 02:00 roll
			got := spans(rolledFiles(t, dir, testLog))
			if want := []string{"00:59:59-01:00:00", "01:00:00-02:00:00"}; !slices.Equal(got, want) {
				t.Errorf("rolled %q, want %q", got, want)
			}
		})
	})
	t.Run("racing", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			c := mustOpen(t, testCfg(dir, timePolicy(time.Second)))
			var wg sync.WaitGroup
			for g := range 6 {
				wg.Go(func() {
					period := time.Duration(3+2*g) * time.Millisecond
					for i := 0; time.Duration(i)*period < 5*time.Second; i++ {
						write(t, c, testLog, stamp(fmt.Sprintf("g%d-%d", g, i)))
						time.Sleep(period)
					}
				})
			}
			wg.Wait()                          // records were written in [0, 5s)
			time.Sleep(500 * time.Millisecond) // past the roll at 5s
			if n := len(rolledFiles(t, dir, testLog)); n != 5 {
				t.Errorf("%d rolled files, want 5", n)
			}
			recs := checkPartition(t, dir, testLog)
			st := c.Stats().Logs[testLog]
			if int64(len(recs)) != st.Records {
				t.Errorf("%d records in rolled files, %d written", len(recs), st.Records)
			}
		})
	})
}

// TestSizeRollEnd: a size roll's END is the sealing time of the buffer that
// reached the limit, read before that buffer is acknowledged and recycled
// (a recycled buffer has a zero seal time, and a reused one a later one). The
// records span minutes, so a wrong END shows in the name and the partition.
func TestSizeRollEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 1000}))
		var want []string
		for i := range 3 {
			time.Sleep(10 * time.Minute)
			write(t, c, testLog, stamp("first"))
			time.Sleep(30 * time.Minute)
			write(t, c, testLog, stamp(strings.Repeat("x", 1000))) // size roll
			start := time.Duration(i)*40*time.Minute + 10*time.Minute
			f := func(d time.Duration) string { return time.Time{}.Add(d).Format("15:04:05") }
			want = append(want, f(start)+"-"+f(start+30*time.Minute))
		}
		synctest.Wait()
		if got := spans(rolledFiles(t, dir, testLog)); !slices.Equal(got, want) {
			t.Errorf("rolled %q, want %q", got, want)
		}
		if got := checkPartition(t, dir, testLog); len(got) != 6 {
			t.Errorf("%d records in rolled files, want 6", len(got))
		}
	})
}

// TestSizeRollPartitionUnderLoad: many writers, small buffers and frequent
// size rolls while the clock advances, so that acknowledged buffers are
// recycled and resealed at once: every size roll's END still bounds its
// records and the next START.
func TestSizeRollPartitionUnderLoad(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 4 << 10})
		cfg.BufferSize = 512
		c := mustOpen(t, cfg)
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				for i := range 200 {
					write(t, c, testLog, stamp(fmt.Sprintf("g%d-%d-%s", g, i, strings.Repeat("y", 60))))
					if i%20 == 0 {
						time.Sleep(time.Duration(g+1) * 700 * time.Millisecond)
					}
				}
			})
		}
		wg.Wait()
		if _, err := c.Roll(); err != nil {
			t.Fatal(err)
		}
		if got := checkPartition(t, dir, testLog); len(got) != 8*200 {
			t.Errorf("%d records in rolled files, want %d", len(got), 8*200)
		}
	})
}

// TestRollIntoUnsearchableFolderFails: a rolled folder replaced by a file
// after the log opened (every name "exists" in it as far as Lstat can
// tell) fails the roll at once, the records kept in the active file; the
// name search used to loop for ever, and with it a reload removing the log.
func TestRollIntoUnsearchableFolderFails(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "archive")
	if err := os.Mkdir(td, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := testCfg(dir, Policy{})
	cfg.Logs[0].Storage = Storage{Dir: td}
	c := mustOpen(t, cfg)
	write(t, c, testLog, "kept")
	if err := os.Remove(td); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(td, []byte("not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := c.Roll(testLog); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "rolled folder "+td) {
			t.Errorf("roll into a file: %v, want an error naming the rolled folder", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("roll into a file did not return")
	}
	if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"kept"}) {
		t.Errorf("active file holds %q", got)
	}
}
