package logging

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

// TestSizeRollsManyWriters: many goroutines, 1 MiB limit. Every rolled file
// reaches the limit, no record is split, and the files read in name order
// hold exactly what was written, each writer's records in its order.
func TestSizeRollsManyWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const (
			limit   = 1 << 20
			writers = 8
			calls   = 600
		)
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: limit})
		cfg.BufferSize = 16 << 10
		c := mustOpen(t, cfg)
		var wg sync.WaitGroup
		var written [writers]int
		for g := range writers {
			wg.Go(func() {
				for i := range calls {
					// 1–8 records of varying length per call.
					n := 1 + (g+i)%8
					recs := make([]string, n)
					for j := range recs {
						recs[j] = fmt.Sprintf("w%d %06d %s", g, written[g], strings.Repeat("x", 100+(i*j)%400))
						written[g]++
					}
					write(t, c, testLog, recs...)
				}
			})
		}
		wg.Wait()
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		files := rolledFiles(t, dir, testLog)
		if len(files) < 3 {
			t.Fatalf("only %d rolled files", len(files))
		}
		paths := []string{}
		for _, f := range files {
			fi, err := os.Stat(f.path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Size() < limit {
				t.Errorf("%s has %d bytes, below the limit", filepath.Base(f.path), fi.Size())
			}
			paths = append(paths, f.path)
		}
		paths = append(paths, filepath.Join(dir, testLog))
		next := [writers]int{}
		for _, p := range paths {
			for _, line := range lines(t, p) {
				var g, seq int
				if _, err := fmt.Sscanf(line, "w%d %d", &g, &seq); err != nil || g < 0 || g >= writers {
					t.Fatalf("%s: malformed line %.40q", p, line)
				}
				if seq != next[g] {
					t.Fatalf("%s: writer %d record %d, want %d", p, g, seq, next[g])
				}
				next[g]++
			}
		}
		if next != written {
			t.Errorf("read %v records per writer, wrote %v", next, written)
		}
		st := c.Stats()
		if st.Total.RollsSize != int64(len(files)) {
			t.Errorf("RollsSize = %d, %d files", st.Total.RollsSize, len(files))
		}
	})
}

// TestGroupCommit: many concurrent callers share write(2) calls.
func TestGroupCommit(t *testing.T) {
	for _, d := range []Durability{DurabilityWrite, DurabilitySync} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testCfg(dir, Policy{})
			cfg.Durability = d
			cfg.BufferSize = 1 << 20
			c := mustOpen(t, cfg)
			const callers, calls = 64, 50
			start := make(chan struct{})
			var wg sync.WaitGroup
			for g := range callers {
				wg.Go(func() {
					<-start
					for i := range calls {
						write(t, c, testLog, fmt.Sprintf("g%d %d", g, i))
					}
				})
			}
			close(start)
			wg.Wait()
			st := c.Stats().Logs[testLog]
			if st.Records != callers*calls {
				t.Fatalf("Records = %d, want %d", st.Records, callers*calls)
			}
			if st.WriteCalls*4 > callers*calls {
				t.Errorf("%d write(2) calls for %d Write calls: no group commit", st.WriteCalls, callers*calls)
			}
			if d == DurabilitySync && (st.Syncs == 0 || st.Syncs > st.WriteCalls) {
				t.Errorf("%d fsyncs for %d writes", st.Syncs, st.WriteCalls)
			}
			t.Logf("%d Write calls, %d write(2), %d fsync", callers*calls, st.WriteCalls, st.Syncs)
		})
	}
}

// TestReopen: after an external tool moved the active file away, Reopen
// makes a new file at the path; records accepted before are in the old one.
func TestReopen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{}))
		active := filepath.Join(dir, testLog)
		write(t, c, testLog, "one")
		if err := c.Reopen(); err != nil { // not moved: same file kept
			t.Fatal(err)
		}
		write(t, c, testLog, "two")
		moved := filepath.Join(dir, "access.log.1")
		if err := os.Rename(active, moved); err != nil {
			t.Fatal(err)
		}
		write(t, c, testLog, "three") // still into the moved file
		time.Sleep(time.Minute)
		if err := c.Reopen(); err != nil {
			t.Fatal(err)
		}
		write(t, c, testLog, "four")
		if got := lines(t, moved); !slices.Equal(got, []string{"one", "two", "three"}) {
			t.Errorf("moved file holds %q", got)
		}
		if got := lines(t, active); !slices.Equal(got, []string{"four"}) {
			t.Errorf("new file holds %q", got)
		}
		m, err := ReadMeta(MetaPath(active))
		if err != nil || !m.CreationTime.Equal(time.Date(2000, 1, 1, 0, 1, 0, 0, time.UTC)) {
			t.Errorf("meta after reopen: %v, %v", m, err)
		}
		if n := c.Stats().OpenFiles; n != 1 {
			t.Errorf("%d open files, want 1", n)
		}
	})
}

// TestDeletedActiveFileRecreated: a file deleted by someone else is noticed
// within a second and recreated at the next write.
func TestDeletedActiveFileRecreated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{}))
		active := filepath.Join(dir, testLog)
		write(t, c, testLog, "lost")
		if err := os.Remove(active); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		write(t, c, testLog, "kept")
		if got := lines(t, active); !slices.Equal(got, []string{"kept"}) {
			t.Errorf("recreated file holds %q", got)
		}
		if n := c.Stats().Logs[testLog].Recreated; n != 1 {
			t.Errorf("Recreated = %d", n)
		}
	})
}

// TestWriteFailureAllOrNothing: a write that fails part-way (here the file
// size limit, RLIMIT_FSIZE, standing in for a full disk) is cut back off the
// file, fails every caller of that buffer, is logged once while it repeats,
// and logging resumes when the fault clears.
func TestWriteFailureAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	rec := &logRecorder{}
	opts := testOpts()
	opts.Logger = slog.New(rec)
	c, err := Open(testCfg(dir, Policy{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const limit = 1 << 20
	rec1k := strings.Repeat("k", 1023)
	write(t, c, testLog, slices.Repeat([]string{rec1k}, limit/1024-1)...) // 1 KiB below the limit

	var old syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
		t.Fatal(err)
	}
	lim := old
	lim.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &lim); err != nil {
		t.Skipf("cannot lower RLIMIT_FSIZE: %v", err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &old); err != nil {
				t.Fatal(err)
			}
		}
	}
	defer restore()
	for range 3 {
		err := c.Write(testLog, [][]byte{[]byte(strings.Repeat("a", 700)), []byte(strings.Repeat("b", 700))})
		if !errors.Is(err, syscall.EFBIG) {
			t.Fatalf("Write past the limit: %v", err)
		}
	}
	restore()
	write(t, c, testLog, "after")
	got := lines(t, filepath.Join(dir, testLog))
	if len(got) != limit/1024 || got[len(got)-1] != "after" || got[len(got)-2] != rec1k {
		t.Errorf("file has %d lines ending %.10q: the failed records were not cut", len(got), got[len(got)-2:])
	}
	if n := rec.count("log write failed"); n != 1 {
		t.Errorf("write failure logged %d times, want once", n)
	}
	if n := rec.count("work again"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
	if st := c.Stats().Logs[testLog]; st.WriteErrors != 3 {
		t.Errorf("WriteErrors = %d, want 3", st.WriteErrors)
	}
}

// TestDurability counts fsyncs: none with DurabilityWrite until Close, one
// per roll with DurabilityRoll, one per group of callers with
// DurabilitySync.
func TestDurability(t *testing.T) {
	for _, tc := range []struct {
		d                      Durability
		afterWrites, afterRoll int64
	}{
		{DurabilityWrite, 0, 0},
		{DurabilityRoll, 0, 1},
		{DurabilitySync, 3, 3},
	} {
		t.Run(fmt.Sprint(tc.d), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testCfg(dir, Policy{})
			cfg.Durability = tc.d
			c := mustOpen(t, cfg)
			for i := range 3 {
				write(t, c, testLog, fmt.Sprint(i))
			}
			if n := c.Stats().Total.Syncs; n != tc.afterWrites {
				t.Errorf("%d fsyncs after 3 sequential writes, want %d", n, tc.afterWrites)
			}
			if r, err := c.Roll(); err != nil || len(r) != 1 {
				t.Fatalf("Roll: %v, %v", r, err)
			}
			if n := c.Stats().Total.Syncs; n != tc.afterRoll {
				t.Errorf("%d fsyncs after the roll, want %d", n, tc.afterRoll)
			}
			write(t, c, testLog, "last")
			before := c.Stats().Total.Syncs
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if n := c.Stats().Total.Syncs - before; tc.d != DurabilitySync && n != 1 {
				t.Errorf("Close made %d fsyncs, want 1", n)
			}
		})
	}
}
