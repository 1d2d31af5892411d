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
	"sync/atomic"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/internal/logtest"
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
		m, err := readMeta(metaPath(active))
		if err != nil || !m.CreationTime.Equal(time.Date(2000, 1, 1, 0, 1, 0, 0, time.UTC)) {
			t.Errorf("meta after reopen: %v, %v", m, err)
		}
		if n := c.Stats().OpenFiles; n != 1 {
			t.Errorf("%d open files, want 1", n)
		}
	})
}

// TestDeletedActiveFileRecreated: a file deleted by someone else is noticed
// and recreated at the next write.
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
	rec := &logtest.Recorder{}
	opts := testOpts()
	opts.Logger = slog.New(rec)
	var hooked []error // Options.OnWriteError, called on the writer goroutine
	var hookMu sync.Mutex
	opts.OnWriteError = func(err error) {
		hookMu.Lock()
		hooked = append(hooked, err)
		hookMu.Unlock()
	}
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
	if n := rec.Count("log write failed"); n != 1 {
		t.Errorf("write failure logged %d times, want once", n)
	}
	if n := rec.Count("work again"); n != 1 {
		t.Errorf("recovery logged %d times, want once", n)
	}
	if st := c.Stats().Logs[testLog]; st.WriteErrors != 3 {
		t.Errorf("WriteErrors = %d, want 3", st.WriteErrors)
	}
	hookMu.Lock()
	defer hookMu.Unlock()
	if len(hooked) != 3 || !errors.Is(hooked[0], syscall.EFBIG) {
		t.Errorf("OnWriteError called with %v, want 3 times with EFBIG (the space manager resamples the partition)", hooked)
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
		{DurabilityRoll, 0, 1}, // the publisher's fsync of the rolled file
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

// TestDeletedActiveFileCheckedEveryWrite: the link check runs before every
// write group, not once a second, so a record written right after someone
// deleted the file is acknowledged only once it is in the recreated file.
func TestDeletedActiveFileCheckedEveryWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{}))
		active := filepath.Join(dir, testLog)
		write(t, c, testLog, "before")
		time.Sleep(1500 * time.Millisecond)
		write(t, c, testLog, "probe")
		if err := os.Remove(active); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		write(t, c, testLog, "acked-after-delete")
		if got := lines(t, active); !slices.Equal(got, []string{"acked-after-delete"}) {
			t.Errorf("recreated file holds %q", got)
		}
		if n := c.Stats().Logs[testLog].Recreated; n != 1 {
			t.Errorf("Recreated = %d, want 1", n)
		}
	})
}

// fsRecorder counts the collator's folder fsyncs and .meta writes, and fails
// file fsyncs on demand.
type fsRecorder struct {
	dirSyncs, metaSyncs atomic.Int64
	failSync, failMeta  atomic.Bool
}

func (r *fsRecorder) ops() fsOps {
	return fsOps{
		syncFile: func(f *os.File) error {
			if r.failSync.Load() {
				return syscall.EIO
			}
			return f.Sync()
		},
		syncDir: func(dir string) error {
			r.dirSyncs.Add(1)
			return syncPath(dir)
		},
		writeMeta: func(mf *metaFile, path string, m metaContent, perm os.FileMode, sync bool) error {
			if r.failMeta.Load() {
				return syscall.EIO
			}
			if sync {
				r.metaSyncs.Add(1)
			}
			return mf.write(path, m, perm, sync)
		},
	}
}

// TestFolderSyncedForNewActiveFiles: with Durability ≥ Roll the folder is
// fsynced after an active file is created — at Open (before anything is
// acknowledged), by Reopen, by a recreation after deletion, and when the
// .meta write that normally does it fails — and never with DurabilityWrite.
func TestFolderSyncedForNewActiveFiles(t *testing.T) {
	for _, d := range []Durability{DurabilityWrite, DurabilityRoll, DurabilitySync} {
		t.Run(d.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testCfg(dir, Policy{})
			cfg.Durability = d
			r := &fsRecorder{}
			c, err := open(cfg, testOpts(), r.ops())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			durable := d >= DurabilityRoll
			entrySyncs := func() int64 { return r.dirSyncs.Load() }
			check := func(when string, want int64) {
				t.Helper()
				if !durable {
					want = 0
				}
				if n := entrySyncs(); n != want {
					t.Errorf("%s: %d folder fsyncs, want %d", when, n, want)
				}
			}
			check("after Open", 1)
			write(t, c, testLog, "1")
			check("after the first write", 1)

			active := filepath.Join(dir, testLog)
			if err := os.Rename(active, active+".moved"); err != nil {
				t.Fatal(err)
			}
			if err := c.Reopen(); err != nil {
				t.Fatal(err)
			}
			check("after Reopen", 2)

			if err := os.Remove(active); err != nil {
				t.Fatal(err)
			}
			write(t, c, testLog, "2") // recreates the file first
			check("after the recreation", 3)

			r.failMeta.Store(true)
			if err := os.Remove(active); err != nil {
				t.Fatal(err)
			}
			write(t, c, testLog, "3")
			check("after a recreation whose .meta failed", 4)
			if got := lines(t, active); !slices.Equal(got, []string{"3"}) {
				t.Errorf("active file holds %q", got)
			}
		})
	}
}

// TestSyncFailureCutsRecords: with DurabilitySync, a failed fsync fails its
// callers and cuts their records back off the file, so that a client that
// retries does not duplicate them; it is logged once and counted.
func TestSyncFailureCutsRecords(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Durability = DurabilitySync
	r := &fsRecorder{}
	rec := &logtest.Recorder{}
	opts := testOpts()
	opts.Logger = slog.New(rec)
	c, err := open(cfg, opts, r.ops())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, testLog, "a")
	r.failSync.Store(true)
	for range 2 {
		if err := c.Write(testLog, [][]byte{[]byte("b"), []byte("c")}); !errors.Is(err, syscall.EIO) {
			t.Fatalf("Write with a failing fsync: %v", err)
		}
	}
	active := filepath.Join(dir, testLog)
	if got := lines(t, active); !slices.Equal(got, []string{"a"}) {
		t.Errorf("after failed fsyncs the file holds %q, want only the acknowledged record", got)
	}
	r.failSync.Store(false)
	write(t, c, testLog, "b", "c") // the client's retry
	if got := lines(t, active); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("after the retry the file holds %q", got)
	}
	if n := rec.Count("log sync failed"); n != 1 {
		t.Errorf("sync failure logged %d times, want once", n)
	}
	if st := c.Stats().Logs[testLog]; st.WriteErrors != 2 {
		t.Errorf("WriteErrors = %d, want 2", st.WriteErrors)
	}
	rolled, err := c.Roll()
	if err != nil || len(rolled) != 1 || rolled[0].Records != 3 || rolled[0].Bytes != 6 {
		t.Errorf("Roll: %+v, %v; want 3 records, 6 bytes", rolled, err)
	}
}

// syncProbe is an fsOps.syncFile that records the file's size at each fsync
// and fails the next failNext calls.
type syncProbe struct {
	mu       sync.Mutex
	sizes    []int64
	failNext int
}

func (p *syncProbe) syncFile(f *os.File) error {
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sizes = append(p.sizes, fi.Size())
	if p.failNext > 0 {
		p.failNext--
		return syscall.EIO
	}
	return f.Sync()
}

// take returns the sizes recorded since the last call and fails the next n.
func (p *syncProbe) take(n int) []int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.sizes
	p.sizes, p.failNext = nil, n
	return s
}

// TestSyncFailureCutIsSynced: the cut after a failed group fsync is itself
// fsynced, once the file is back to its acknowledged size. If that fsync
// fails as well, the file stays dirty, so the next fsync (here Close's)
// makes the cut durable.
func TestSyncFailureCutIsSynced(t *testing.T) {
	for _, tc := range []struct {
		name       string
		fail       int     // fsyncs failing: the group's, then the cut's
		afterCut   []int64 // fsync sizes for the failing Write
		afterClose []int64 // fsync sizes at Close
	}{
		// "a\n" acknowledged (2 bytes); "bb\n" (3) fails and is cut back.
		{"cut synced", 1, []int64{5, 2}, nil},
		{"cut sync fails too", 2, []int64{5, 2}, []int64{2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testCfg(dir, Policy{})
			cfg.Durability = DurabilitySync
			p := &syncProbe{}
			c, err := open(cfg, testOpts(), fsOps{syncFile: p.syncFile})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			write(t, c, testLog, "a")
			p.take(tc.fail)
			if err := c.Write(testLog, [][]byte{[]byte("bb")}); !errors.Is(err, syscall.EIO) {
				t.Fatalf("Write with a failing fsync: %v", err)
			}
			if got := p.take(0); !slices.Equal(got, tc.afterCut) {
				t.Errorf("fsyncs at sizes %v, want %v (the group's, then the cut's)", got, tc.afterCut)
			}
			if fi, err := os.Stat(filepath.Join(dir, testLog)); err != nil || fi.Size() != 2 {
				t.Fatalf("after the cut: %v; want 2 bytes", err)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if got := p.take(0); !slices.Equal(got, tc.afterClose) {
				t.Errorf("Close fsynced at sizes %v, want %v", got, tc.afterClose)
			}
			if st := c.Stats().Logs[testLog]; st.WriteErrors != 1 {
				t.Errorf("WriteErrors = %d, want 1", st.WriteErrors)
			}
		})
	}
}

// TestRollOfDisplacedActiveFile: a roll whose active file someone moved
// away or deleted, leaving nothing at its path, does not try to rename the
// path (which would fail, and be retried, for ever): it says so once,
// counts it with the recreations, and logging goes on in a new file at the
// path; a size roll of a moved file is not retried; later rolls work.
// Another regular file put in its place is adopted (its last line ended
// with a newline if it lacks one); a symlink, a FIFO or a hard link is
// refused by checkPath: TestRollRefusesReplacedActive.
func TestRollOfDisplacedActiveFile(t *testing.T) {
	for _, tc := range []struct {
		name      string
		displace  func(t *testing.T, active, elsewhere string)
		how       string
		moved     []string // what the moved file holds at the end; nil: none
		continued []string // what the next rolled file holds
	}{
		{"moved away", func(t *testing.T, active, elsewhere string) {
			if err := os.Rename(active, elsewhere); err != nil {
				t.Fatal(err)
			}
		}, "moved away", []string{"a", "b"}, []string{"c"}},
		{"deleted", func(t *testing.T, active, _ string) {
			if err := os.Remove(active); err != nil {
				t.Fatal(err)
			}
		}, "deleted", nil, []string{"c"}},
		// logrotate's `create` without a SIGUSR2: the file moved, an empty
		// one made in its place. The roll adopts it, as Reopen would.
		{"moved and replaced", func(t *testing.T, active, elsewhere string) {
			if err := os.Rename(active, elsewhere); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(active, nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "replaced", []string{"a", "b"}, []string{"c"}},
		// The same with a file whose last line has no newline: it gets one,
		// so that it does not merge with the log's first record.
		{"replaced without a final newline", func(t *testing.T, active, elsewhere string) {
			if err := os.Rename(active, elsewhere); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(active, []byte("partial"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "replaced", []string{"a", "b"}, []string{"partial", "c"}},
		// Someone deleted the file and wrote another at its path before the
		// next write: the write adopts it (it recreates the path, finding a
		// regular file there), and so would a roll. Its lines stay first.
		{"deleted and replaced", func(t *testing.T, active, _ string) {
			if err := os.Remove(active); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(active, []byte("planted\n"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, "", nil, []string{"planted", "b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				active := filepath.Join(dir, testLog)
				elsewhere := filepath.Join(t.TempDir(), "moved.log")
				rec := &logtest.Recorder{}
				opts := testOpts()
				opts.Logger = slog.New(rec)
				c, err := Open(testCfg(dir, Policy{}), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				write(t, c, testLog, "a")
				tc.displace(t, active, elsewhere)
				if tc.name != "deleted" {
					write(t, c, testLog, "b") // a move is followed (logrotate, before SIGUSR2)
				}
				if tc.how == "" {
					// The write adopted the planted file: there is nothing
					// displaced left for the roll.
					write(t, c, testLog, "c")
					r, err := c.Roll()
					if err != nil || len(r) != 1 {
						t.Fatalf("Roll = %+v, %v", r, err)
					}
					if got := lines(t, r[0].Path); !slices.Equal(got, tc.continued) {
						t.Errorf("rolled file holds %q, want %q", got, tc.continued)
					}
					if n := rec.Count("active log file was deleted; recreating it"); n != 1 {
						t.Errorf("deletion logged %d times, want once: %q", n, rec.Messages())
					}
					return
				}
				r, err := c.Roll()
				if len(r) != 0 || err == nil || !strings.Contains(err.Error(), "was "+tc.how+" by someone else") {
					t.Fatalf("Roll of a displaced file = %+v, %v; want nothing rolled and an error saying %q", r, err, tc.how)
				}
				if errors.Is(err, errActiveReplaced) {
					t.Errorf("Roll error %v wraps errActiveReplaced, which means refused and retried", err)
				}
				write(t, c, testLog, "c")
				r, err = c.Roll()
				if err != nil || len(r) != 1 {
					t.Fatalf("Roll after = %+v, %v", r, err)
				}
				if got := lines(t, r[0].Path); !slices.Equal(got, tc.continued) {
					t.Errorf("next rolled file holds %q, want %q", got, tc.continued)
				}
				if tc.moved != nil {
					if got := lines(t, elsewhere); !slices.Equal(got, tc.moved) {
						t.Errorf("moved file holds %q, want %q", got, tc.moved)
					}
				}
				if n := rec.Count("active log file was " + tc.how); n != 1 {
					t.Errorf("%q logged %d times, want once: %q", tc.how, n, rec.Messages())
				}
				st := c.Stats().Logs[testLog]
				if st.Recreated != 1 || st.RollFailures != 0 || st.RollsForced != 1 {
					t.Errorf("Recreated %d, RollFailures %d, RollsForced %d; want 1, 0, 1", st.Recreated, st.RollFailures, st.RollsForced)
				}
			})
		})
	}
	t.Run("size roll of a moved file", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			active := filepath.Join(dir, testLog)
			rec := &logtest.Recorder{}
			opts := testOpts()
			opts.Logger = slog.New(rec)
			c, err := Open(testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 10}), opts)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			write(t, c, testLog, "a")
			if err := os.Rename(active, filepath.Join(dir, "kept.log")); err != nil {
				t.Fatal(err)
			}
			write(t, c, testLog, "bbbbbbbbbb") // reaches the limit: a size roll
			synctest.Wait()
			time.Sleep(10 * time.Minute) // no retry: there is nothing to retry
			write(t, c, testLog, "c")
			if got := lines(t, active); !slices.Equal(got, []string{"c"}) {
				t.Errorf("new active file holds %q", got)
			}
			if n := rec.Count("roll failed"); n != 0 {
				t.Errorf("roll failures logged: %q", rec.Messages())
			}
			if st := c.Stats().Logs[testLog]; st.RollFailures != 0 || st.Recreated != 1 || st.RollsSize != 0 {
				t.Errorf("RollFailures %d, Recreated %d, RollsSize %d; want 0, 1, 0", st.RollFailures, st.Recreated, st.RollsSize)
			}
		})
	})
}

// TestRemovedFolderRecreated: a log folder removed while the collator runs
// is created again by the next write (logged once, counted as the active
// file's recreation), instead of every write failing until someone creates
// it; rolls work in it.
func TestRemovedFolderRecreated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "logs")
		rec := &logtest.Recorder{}
		opts := testOpts()
		opts.Logger = slog.New(rec)
		cfg := testCfg(dir, Policy{}, Policy{})
		c, err := Open(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		write(t, c, testLog, "a")
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Second)
		write(t, c, testLog, "b")
		write(t, c, "b.log", "other")
		if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"b"}) {
			t.Errorf("active file holds %q, want [b]", got)
		}
		if n := rec.Count("log folder was removed"); n != 1 {
			t.Errorf("folder recreation logged %d times, want once: %q", n, rec.Messages())
		}
		if n := rec.Count("log write failed"); n != 0 {
			t.Errorf("write failures logged: %q", rec.Messages())
		}
		r, err := c.Roll(testLog)
		if err != nil || len(r) != 1 {
			t.Fatalf("Roll = %+v, %v", r, err)
		}
		if st := c.Stats(); st.Logs[testLog].Recreated != 1 || st.Logs["b.log"].Recreated != 1 || st.Total.WriteErrors != 0 {
			t.Errorf("Recreated %d and %d, WriteErrors %d; want 1, 1, 0", st.Logs[testLog].Recreated, st.Logs["b.log"].Recreated, st.Total.WriteErrors)
		}
	})
}
