package logging

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/internal/logtest"
)

// TestForcedRoll returns absolute paths, counts and the forced cause, and
// rolls nothing for an empty log.
func TestForcedRoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{}, Policy{}))
		time.Sleep(90 * time.Second)
		write(t, c, testLog, "a", "bb", "ccc")
		time.Sleep(time.Minute)
		rolled, err := c.Roll()
		if err != nil {
			t.Fatal(err)
		}
		want := Rolled{
			Log:      testLog,
			Path:     filepath.Join(dir, "access.log.web01.20000101.00h01m30s-20000101.00h02m30s.old"),
			Dir:      dir,
			Start:    time.Date(2000, 1, 1, 0, 1, 30, 0, time.UTC),
			End:      time.Date(2000, 1, 1, 0, 2, 30, 0, time.UTC),
			Bytes:    9,
			RawBytes: 9,
			Records:  3,
			Cause:    CauseForced,
		}
		if len(rolled) != 1 || rolled[0] != want {
			t.Fatalf("Roll() = %+v, want [%+v]", rolled, want)
		}
		if !filepath.IsAbs(rolled[0].Path) {
			t.Errorf("path %s is not absolute", rolled[0].Path)
		}
		if got := lines(t, rolled[0].Path); !slices.Equal(got, []string{"a", "bb", "ccc"}) {
			t.Errorf("rolled file holds %q", got)
		}
		if _, err := c.Roll("nope.log"); !errors.Is(err, ErrUnknownLog) {
			t.Errorf("Roll(unknown) = %v, want ErrUnknownLog", err)
		}
		if r, err := c.Roll(testLog); err != nil || len(r) != 0 {
			t.Errorf("Roll of an empty log = %v, %v; want nothing", r, err)
		}
	})
}

// TestWriteErrors: unknown log, bad record, space refusal, closed collator;
// WriteLines skipping the newline check; WriteBlock's errors and its block
// written as it is.
func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	c := mustOpen(t, testCfg(dir, Policy{}))
	if err := c.Write("other.log", [][]byte{[]byte("x")}); !errors.Is(err, ErrUnknownLog) || !strings.Contains(err.Error(), "other.log") {
		t.Errorf("unknown log: %v", err)
	}
	if err := c.WriteBlock("other.log", []byte("x\n"), 1); !errors.Is(err, ErrUnknownLog) || !strings.Contains(err.Error(), "other.log") {
		t.Errorf("unknown log, WriteBlock: %v", err)
	}
	for _, bad := range []struct {
		block string
		n     int
	}{{"no newline", 1}, {"\nempty first", 1}, {"x\n", 0}, {"", 1}} {
		if err := c.WriteBlock(testLog, []byte(bad.block), bad.n); !errors.Is(err, ErrBadRecord) {
			t.Errorf("WriteBlock(%q, %d) = %v, want ErrBadRecord", bad.block, bad.n, err)
		}
	}
	if err := c.Write(testLog, [][]byte{[]byte("ok"), []byte("a\nb")}); !errors.Is(err, ErrBadRecord) {
		t.Errorf("record with newline: %v", err)
	}
	c.SetAccepting(false, "log space exhausted: 100 MiB used of 100 MiB")
	if err := c.Write(testLog, [][]byte{[]byte("x")}); !errors.Is(err, ErrSpaceExhausted) {
		t.Errorf("refused: %v", err)
	}
	if err := c.WriteLines(testLog, [][]byte{[]byte("x")}); !errors.Is(err, ErrSpaceExhausted) {
		t.Errorf("refused WriteLines: %v", err)
	}
	if err := c.WriteBlock(testLog, []byte("x\ny\n"), 2); !errors.Is(err, ErrSpaceExhausted) {
		t.Errorf("refused WriteBlock: %v", err)
	}
	c.SetAccepting(true, "")
	write(t, c, testLog, "resumed")
	// WriteLines trusts its caller: no check, the record is written as is.
	if err := c.WriteLines(testLog, [][]byte{[]byte("split"), []byte("a\nb")}); err != nil {
		t.Errorf("WriteLines: %v", err)
	}
	block := []byte("blk1\nblk2\n")
	if err := c.WriteBlock(testLog, block, 2); err != nil {
		t.Errorf("WriteBlock: %v", err)
	}
	copy(block, "XXXXXXXXXX") // not kept after the call
	if st := c.Stats(); st.RefusedWrites != 3 || st.RefusedRecords != 4 {
		t.Errorf("refused %d writes, %d records; want 3, 4", st.RefusedWrites, st.RefusedRecords)
	}
	if st := c.Stats().Logs[testLog]; st.Records != 5 { // "a\nb" counts as one
		t.Errorf("%d records written, want 5", st.Records)
	}
	if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"resumed", "split", "a", "b", "blk1", "blk2"}) {
		t.Errorf("file holds %q, want only the accepted records", got)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := c.Write(testLog, [][]byte{[]byte("x")}); !errors.Is(err, ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if err := c.WriteBlock(testLog, []byte("x\n"), 1); !errors.Is(err, ErrClosed) {
		t.Errorf("WriteBlock after Close: %v", err)
	}
	if _, err := c.Roll(); !errors.Is(err, ErrClosed) {
		t.Errorf("Roll after Close: %v", err)
	}
	if err := c.Apply(testCfg(dir, Policy{})); !errors.Is(err, ErrClosed) {
		t.Errorf("Apply after Close: %v", err)
	}
	if n := c.Stats().OpenFiles; n != 0 {
		t.Errorf("%d files open after Close", n)
	}
}

// TestOpenErrors: invalid configs are reported at once; an unusable folder
// is an error naming it.
func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"relative dir", Config{Dir: "logs", Hostname: "h"}, []string{`"logs" must be an absolute path`}},
		{"all at once", Config{Dir: dir, Logs: []LogConfig{
			{Name: "../x"},
			{Name: "a.log", Policy: Policy{Mode: ModeTime, Interval: 7 * time.Second}},
			{Name: "a.log", Policy: Policy{Mode: ModeSize}},
		}}, []string{"hostname", `"../x"`, "interval 7s", "declared twice", "size 0"}},
		{"folder is a file", Config{Dir: filepath.Join(file, "logs"), Hostname: "h"}, []string{filepath.Join(file, "logs")}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Open(tc.cfg, testOpts())
			if err == nil {
				t.Fatal("Open succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	t.Run("unwritable folder", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("running as root, which ignores folder permissions")
		}
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o555); err != nil {
			t.Fatal(err)
		}
		_, err := Open(testCfg(ro, Policy{}), testOpts())
		if err == nil || !strings.Contains(err.Error(), ro) || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("Open on a read-only folder: %v", err)
		}
	})
}

// TestRenameFailureKeepsLogging: a failed rename keeps the active file and
// logging goes on; the error names the paths, is logged once for the whole
// streak (boundaries and their retries included) and every attempt is
// counted; a later roll holds everything and ends the retries.
func TestRenameFailureKeepsLogging(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		var failing atomic.Bool
		var fails atomic.Int64
		failing.Store(true)
		rename := func(from, to string) error {
			if failing.Load() {
				fails.Add(1)
				return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrPermission}
			}
			return os.Rename(from, to)
		}
		rec := &logtest.Recorder{}
		opts := testOpts()
		opts.Logger = slog.New(rec)
		c, err := open(testCfg(dir, timePolicy(time.Hour)), opts, fsOps{rename: rename})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		write(t, c, testLog, "1")
		_, err = c.Roll()
		if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, testLog)) || !strings.Contains(err.Error(), ".old") {
			t.Fatalf("Roll with failing rename: %v", err)
		}
		write(t, c, testLog, "2")
		time.Sleep(2 * time.Hour) // two boundaries and their retries, all fail
		write(t, c, testLog, "3")
		if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"1", "2", "3"}) {
			t.Errorf("active file holds %q", got)
		}
		if n := rec.Count("roll failed"); n != 1 {
			t.Errorf("roll failure logged %d times, want once", n)
		}
		failing.Store(false)
		r, err := c.Roll()
		if err != nil || len(r) != 1 || r[0].Records != 3 {
			t.Fatalf("Roll after recovery: %+v, %v", r, err)
		}
		if rec.Count("rolls work again") != 1 {
			t.Errorf("recovery not logged")
		}
		st := c.Stats().Logs[testLog]
		if st.RollFailures != fails.Load() || st.RollFailures < 3 || st.RollsForced != 1 {
			t.Errorf("RollFailures = %d, RollsForced = %d; want %d (> 3), 1", st.RollFailures, st.RollsForced, fails.Load())
		}
		time.Sleep(10 * time.Minute) // the forced roll ended the retries
		if n := len(rolledFiles(t, dir, testLog)); n != 1 || c.Stats().Logs[testLog].RollsTime != 0 {
			t.Errorf("%d rolled files after the recovery, want the forced one only", n)
		}
	})
}

// TestReadOnlyFolderRollFailure: a real fault, as a non-root user.
func TestReadOnlyFolderRollFailure(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root, which ignores folder permissions (TestRenameFailureKeepsLogging injects the fault instead)")
	}
	dir := t.TempDir()
	c := mustOpen(t, testCfg(dir, Policy{}))
	write(t, c, testLog, "1")
	if err := os.Chmod(dir, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o755)
	if _, err := c.Roll(); err == nil {
		t.Fatal("roll in a read-only folder succeeded")
	}
	write(t, c, testLog, "2")
	if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"1", "2"}) {
		t.Errorf("active file holds %q", got)
	}
}

// TestLogs lists the declared names in order.
func TestLogs(t *testing.T) {
	c := mustOpen(t, testCfg(t.TempDir(), Policy{}, Policy{}, Policy{}))
	if got, want := c.Logs(), []string{testLog, "b.log", "c.log"}; !slices.Equal(got, want) {
		t.Errorf("Logs() = %q, want %q", got, want)
	}
}

// TestPermAndSymlink: files get cfg.Perm; a symlink planted at the active
// path is refused.
func TestPermAndSymlink(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Perm = 0o600
	c := mustOpen(t, cfg)
	write(t, c, testLog, "x")
	fi, err := os.Stat(filepath.Join(dir, testLog))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("active file mode %v, %v; want 0600", fi.Mode(), err)
	}
	c.Close()

	dir2 := t.TempDir()
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Symlink(target, filepath.Join(dir2, testLog)); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(testCfg(dir2, Policy{}), testOpts()); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("Open over a planted symlink: %v", err)
	}
	if _, err := os.Stat(target); err == nil {
		t.Errorf("the symlink was followed")
	}
}

// TestApply: an unchanged log keeps its open file and START, a lowered size
// limit rolls at the next write, a removed log is written out and rolled
// (cause reload) and then unknown, an added log appears.
func TestApply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 10000}, Policy{}, timePolicy(time.Hour))
		c := mustOpen(t, cfg)
		time.Sleep(time.Minute)
		for _, l := range c.Logs() {
			write(t, c, l, strings.Repeat("x", 99), strings.Repeat("y", 99)) // 200 bytes
		}
		before, err := os.Stat(filepath.Join(dir, "b.log"))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)

		next := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 100}, Policy{}) // c.log removed
		next.Logs = append(next.Logs, LogConfig{Name: "d.log"})
		if err := c.Apply(next); err != nil {
			t.Fatal(err)
		}
		if got, want := c.Logs(), []string{testLog, "b.log", "d.log"}; !slices.Equal(got, want) {
			t.Errorf("Logs() = %q, want %q", got, want)
		}

		// Removed: rolled with its records, then unknown.
		gone := rolledFiles(t, dir, "c.log")
		if len(gone) != 1 || span(gone[0].RolledName) != "00:01:00-00:02:00" || len(lines(t, gone[0].path)) != 2 {
			t.Errorf("removed log rolled into %q", spans(gone))
		}
		if err := c.Write("c.log", [][]byte{[]byte("x")}); !errors.Is(err, ErrUnknownLog) {
			t.Errorf("Write to removed log: %v", err)
		}
		st := c.Stats()
		if _, ok := st.Logs["c.log"]; ok || st.Total.RollsReload != 1 || st.Total.Records != 6 {
			t.Errorf("stats after removal: %+v", st)
		}
		if m, err := readMeta(metaPath(filepath.Join(dir, "c.log"))); err != nil || m.names.high != "20000101.00h02m00s" ||
			!m.LastEnd.Equal(time.Date(2000, 1, 1, 0, 2, 0, 0, time.UTC)) {
			t.Errorf("removed log's .meta: %+v, %v; want its final roll's END and name", m, err)
		}

		// Lowered size: the next write rolls.
		write(t, c, testLog, "z")
		synctest.Wait() // the roll follows the acknowledgement
		if got := rolledFiles(t, dir, testLog); len(got) != 1 || len(lines(t, got[0].path)) != 3 {
			t.Errorf("lowered size limit: rolled %q", spans(got))
		}

		// Unchanged: same file, same START.
		write(t, c, "b.log", "after")
		after, err := os.Stat(filepath.Join(dir, "b.log"))
		if err != nil || !os.SameFile(before, after) {
			t.Fatalf("b.log was replaced: %v", err)
		}
		r, err := c.Roll("b.log")
		if err != nil || len(r) != 1 || r[0].Start != time.Date(2000, 1, 1, 0, 1, 0, 0, time.UTC) || r[0].Records != 3 {
			t.Errorf("b.log after Apply: %+v, %v", r, err)
		}

		// Added.
		write(t, c, "d.log", "new")
		if got := lines(t, filepath.Join(dir, "d.log")); !slices.Equal(got, []string{"new"}) {
			t.Errorf("d.log holds %q", got)
		}

		// Refused: nothing changes.
		moved := next
		moved.Dir = t.TempDir()
		if err := c.Apply(moved); !errors.Is(err, ErrRestartRequired) {
			t.Errorf("Apply with a new Dir: %v", err)
		}
		bad := next
		bad.Logs = append(slices.Clone(next.Logs), LogConfig{Name: "e.log", Policy: Policy{Mode: 9}})
		if err := c.Apply(bad); err == nil || !strings.Contains(err.Error(), "mode 9") {
			t.Errorf("Apply of an invalid config: %v", err)
		}
		if got, want := c.Logs(), []string{testLog, "b.log", "d.log"}; !slices.Equal(got, want) {
			t.Errorf("Logs() after refused Applies = %q, want %q", got, want)
		}
	})
}

// TestApplyRedeclaredLogNoNameTwice: a log removed by a reload and declared
// again in the same second does not produce its final roll's name again,
// even once that file is gone (shipped and deleted: its name is a key in the
// store).
func TestApplyRedeclaredLogNoNameTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c, with := removeB(t, dir, "A")
		first := rolledFiles(t, dir, "b.log")
		if len(first) != 1 {
			t.Fatalf("removed log rolled into %q", spans(first))
		}
		if err := os.Remove(first[0].path); err != nil { // handed on and deleted
			t.Fatal(err)
		}
		if err := c.Apply(with); err != nil {
			t.Fatal(err)
		}
		write(t, c, "b.log", "B")
		r, err := c.Roll("b.log")
		if err != nil || len(r) != 1 {
			t.Fatalf("roll: %+v, %v", r, err)
		}
		if filepath.Base(r[0].Path) == filepath.Base(first[0].path) {
			t.Errorf("rolled name %s produced twice", filepath.Base(r[0].Path))
		}
	})
}

// removeB opens a collator in dir with logs testLog and b.log, writes
// recs to b.log, and removes b.log with Apply; it returns the collator and
// the configuration with both logs.
func removeB(t *testing.T, dir string, recs ...string) (*Collator, Config) {
	t.Helper()
	with := testCfg(dir, Policy{}, Policy{})
	c := mustOpen(t, with)
	for _, r := range recs {
		write(t, c, "b.log", r)
	}
	if err := c.Apply(testCfg(dir, Policy{})); err != nil {
		t.Fatal(err)
	}
	return c, with
}

// TestApplyRemovedLogCounters: a removed log's counters, its final roll
// (cause reload) included, stay in Stats().Removed; declared again, the log
// goes on from them, so that its series never go back (an outside
// tester's finding: /metrics lost the reload rolls and reset the counts).
func TestApplyRemovedLogCounters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, with := removeB(t, t.TempDir(), "A", "B")
		st := c.Stats()
		if r, ok := st.Removed["b.log"]; !ok || r.Records != 2 || r.RollsReload != 1 {
			t.Errorf("removed b.log's counters %+v (%v), want 2 records and its reload roll", r, ok)
		}
		if _, ok := st.Logs["b.log"]; ok {
			t.Error("the removed log is still among the declared ones")
		}
		if err := c.Apply(with); err != nil {
			t.Fatal(err)
		}
		write(t, c, "b.log", "C")
		st = c.Stats()
		if l := st.Logs["b.log"]; l.Records != 3 || l.RollsReload != 1 {
			t.Errorf("b.log declared again: %d records, %d reload rolls; want 3 and 1, counted on", l.Records, l.RollsReload)
		}
		if len(st.Removed) != 0 {
			t.Errorf("Removed %v after the log was declared again", st.Removed)
		}
	})
}

// TestApplyInterval: a new interval re-arms the timer from the reload on.
func TestApplyInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, timePolicy(24*time.Hour)))
		time.Sleep(10 * time.Minute)
		write(t, c, testLog, "a")
		time.Sleep(20 * time.Minute)
		if err := c.Apply(testCfg(dir, timePolicy(time.Hour))); err != nil {
			t.Fatal(err)
		}
		time.Sleep(31 * time.Minute)
		got := spans(rolledFiles(t, dir, testLog))
		if want := []string{"00:10:00-01:00:00"}; !slices.Equal(got, want) {
			t.Errorf("rolled %q, want %q", got, want)
		}
	})
}

// TestApplyKeepsDueBoundary: Apply while a boundary of the old policy is due
// but not yet noticed (no write since, the timer not yet run) queues that
// roll before changing the policy, instead of re-arming past it.
func TestApplyKeepsDueBoundary(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var jump atomic.Int64
		opts := testOpts()
		opts.Now = func() time.Time { return time.Now().Add(time.Duration(jump.Load())) }
		dir := t.TempDir()
		p := timePolicy(time.Hour)
		c, err := Open(testCfg(dir, p), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		time.Sleep(50 * time.Minute)
		write(t, c, testLog, "before")
		jump.Store(int64(11 * time.Minute)) // collator clock 01:01; the timer (01:00 real) has not fired
		p.MinCount = 5                      // an unrelated change
		if err := c.Apply(testCfg(dir, p)); err != nil {
			t.Fatal(err)
		}
		write(t, c, testLog, "after")
		files := rolledFiles(t, dir, testLog)
		if got, want := spans(files), []string{"00:50:00-01:00:00"}; !slices.Equal(got, want) {
			t.Fatalf("rolled %q, want %q", got, want)
		}
		if got := lines(t, files[0].path); !slices.Equal(got, []string{"before"}) {
			t.Errorf("rolled file holds %q", got)
		}
		if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"after"}) {
			t.Errorf("active file holds %q", got)
		}
	})
}

// TestDurabilityDefault: a Config that leaves Durability zero gets
// DurabilityRoll (docs/design.md §5: fsync at roll by default); DurabilityWrite must
// be asked for; values outside the levels are refused.
func TestDurabilityDefault(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Durability = DurabilityDefault
	if n, err := normalize(cfg); err != nil || n.Durability != DurabilityRoll {
		t.Fatalf("normalize(zero Durability) = %v, %v; want roll", n.Durability, err)
	}
	for _, d := range []Durability{-1, DurabilitySync + 1} {
		cfg.Durability = d
		if _, err := normalize(cfg); err == nil {
			t.Errorf("normalize accepted durability %d", int(d))
		}
	}
	if !(DurabilityWrite < DurabilityRoll && DurabilityRoll < DurabilitySync) {
		t.Errorf("durability levels out of order")
	}
	cfg.Durability = DurabilityDefault
	c := mustOpen(t, cfg)
	write(t, c, testLog, "x")
	if _, err := c.Roll(); err != nil {
		t.Fatal(err)
	}
	if n := c.Stats().Total.Syncs; n != 1 {
		t.Errorf("%d fsyncs at a roll with the default durability, want 1", n)
	}
}
