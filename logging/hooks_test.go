package logging

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logroll/logroll/internal/logtest"
)

// The space manager's hooks: OnWrite sees every byte written, OnRoll every
// roll, in order, before Roll returns.
func TestHooks(t *testing.T) {
	var wrote atomic.Int64
	var mu sync.Mutex
	var rolled []Rolled
	opts := testOpts()
	opts.OnWrite = func(n int64) { wrote.Add(n) }
	opts.OnRoll = func(r Rolled) {
		mu.Lock()
		rolled = append(rolled, r)
		mu.Unlock()
	}
	dir := t.TempDir()
	c, err := Open(Config{Dir: dir, Hostname: "h", Logs: []LogConfig{{
		Name: "a.log", Policy: Policy{Mode: ModeNone, Interval: time.Hour},
	}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var want []Rolled
	for i := range 3 {
		write(t, c, "a.log", "record", "two")
		r, err := c.Roll("a.log")
		if err != nil || len(r) != 1 {
			t.Fatalf("roll %d: %v %v", i, r, err)
		}
		want = append(want, r...)
		mu.Lock()
		n := len(rolled)
		mu.Unlock()
		if n != i+1 {
			t.Fatalf("after roll %d OnRoll was called %d times", i, n)
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if got := wrote.Load(); got != int64(3*len("record\ntwo\n")) {
		t.Errorf("OnWrite total = %d, want %d", got, 3*len("record\ntwo\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.EqualFunc(rolled, want, func(a, b Rolled) bool { return a.Path == b.Path && a.Bytes == b.Bytes }) {
		t.Errorf("OnRoll saw %v, want %v", rolled, want)
	}
	for _, r := range rolled {
		if filepath.Dir(r.Path) != dir {
			t.Errorf("OnRoll path %s not in %s", r.Path, dir)
		}
	}
}

// TestNewStartsNothing: New opens, repairs and catch-up rolls, but starts no
// goroutine and calls no hook; Write is refused until Start, which reports
// the catch-up roll to OnRoll; Close works on a collator never started.
func TestNewStartsNothing(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-48 * time.Hour)
	if err := os.WriteFile(filepath.Join(dir, "a.log"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceMeta(metaPath(filepath.Join(dir, "a.log")), metaContent{CreationTime: old}, 0o644, false); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Dir: dir, Hostname: "h", Logs: []LogConfig{{Name: "a.log", Policy: Policy{Mode: ModeTime, Interval: time.Hour}}}}
	for _, start := range []bool{false, true} {
		var calls atomic.Int64
		var got []Rolled
		opts := testOpts()
		opts.OnRoll = func(r Rolled) { calls.Add(1); got = append(got, r) }
		opts.OnWrite = func(int64) { calls.Add(1) }
		c, err := New(cfg, opts)
		if err != nil {
			t.Fatal(err)
		}
		if n := calls.Load(); n != 0 {
			t.Fatalf("New called hooks %d times", n)
		}
		if err := c.Write("a.log", [][]byte{[]byte("x")}); !errors.Is(err, ErrNotStarted) {
			t.Fatalf("Write before Start = %v, want ErrNotStarted", err)
		}
		if start {
			c.Start()
			if len(got) != 0 {
				t.Errorf("second round: OnRoll saw %v, want nothing (rolled in the first)", got)
			}
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		if !start && calls.Load() != 0 {
			t.Errorf("a collator never started called hooks %d times", calls.Load())
		}
		if start {
			continue
		}
		// The first New rolled the 48-hour-old file; the second finds nothing to catch up.
		if n := len(rolledFiles(t, dir, "a.log")); n != 1 {
			t.Fatalf("%d rolled files after New, want the catch-up roll's 1", n)
		}
	}
}

// TestStartReportsCatchUpRolls: the catch-up roll made by New reaches OnRoll
// once Start has published it (at the latest when Close returns), and not
// before Start.
func TestStartReportsCatchUpRolls(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a.log"), []byte("old\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := replaceMeta(metaPath(filepath.Join(dir, "a.log")), metaContent{CreationTime: time.Now().Add(-48 * time.Hour)}, 0o644, false); err != nil {
		t.Fatal(err)
	}
	var got []Rolled
	opts := testOpts()
	opts.OnRoll = func(r Rolled) { got = append(got, r) }
	c, err := New(Config{Dir: dir, Hostname: "h", Logs: []LogConfig{{Name: "a.log", Policy: Policy{Mode: ModeTime, Interval: time.Hour}}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 0 {
		t.Fatalf("OnRoll called by New: %v", got)
	}
	c.Start()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	files := rolledFiles(t, dir, "a.log")
	if len(got) != 1 || len(files) != 1 || got[0].Path != files[0].path || got[0].Cause != CauseTime {
		t.Fatalf("OnRoll after Start saw %+v; rolled files %v", got, files)
	}
}

// TestOnDirRecreatedOncePerRemoval: when the log folder is removed and the
// writers of several logs find it gone at once (held at recreateDir's lock
// until they all have), OnDirRecreated is called
// once per removal, by the one that created the folder again: after it
// exists, and without the collator's folder lock held (the hook can take
// it).
func TestOnDirRecreatedOncePerRemoval(t *testing.T) {
	const logs, removals = 8, 5
	dir := filepath.Join(t.TempDir(), "logs")
	var pols []Policy
	for range logs {
		pols = append(pols, Policy{})
	}
	cfg := testCfg(dir, pols...)
	var calls atomic.Int64
	var c *Collator
	var problems sync.Map // what went wrong inside the hook, as keys
	rec := &logtest.Recorder{}
	opts := testOpts()
	opts.Logger = slog.New(rec)
	opts.OnDirRecreated = func() {
		calls.Add(1)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			problems.Store(fmt.Sprintf("the folder is not there in the hook: %v", err), true)
		}
		for deadline := time.Now().Add(time.Second); !c.dirMu.TryLock(); {
			if time.Now().After(deadline) {
				problems.Store("the hook runs with dirMu held", true)
				return
			}
			time.Sleep(time.Millisecond)
		}
		c.dirMu.Unlock()
	}
	var err error
	if c, err = Open(cfg, opts); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	names := c.Logs()
	for _, n := range names {
		write(t, c, n, "first")
	}
	for i := range removals {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		// Every log's writer finds its file unlinked and the folder gone,
		// and waits for the folder lock, which the test holds a moment so
		// that they all pile up there.
		c.dirMu.Lock()
		var wg sync.WaitGroup
		for _, n := range names {
			wg.Go(func() {
				if err := c.Write(n, [][]byte{[]byte("after")}); err != nil {
					t.Errorf("removal %d: Write(%s): %v", i, n, err)
				}
			})
		}
		time.Sleep(20 * time.Millisecond)
		c.dirMu.Unlock()
		wg.Wait()
		if got := calls.Load(); got != int64(i+1) {
			t.Fatalf("after %d removals, OnDirRecreated called %d times", i+1, got)
		}
	}
	problems.Range(func(k, _ any) bool {
		t.Error(k)
		return true
	})
	// The writers that found the folder already created by another one
	// open their files at once, without a failed attempt.
	if n := rec.Count("cannot recreate active log file"); n != 0 {
		t.Errorf("%d writers failed to recreate their file in a folder another one created", n)
	}
	for _, n := range names {
		if got := lines(t, filepath.Join(dir, n)); !slices.Equal(got, []string{"after"}) {
			t.Errorf("%s holds %q, want [after]", n, got)
		}
		if st := c.Stats().Logs[n]; st.Recreated != removals {
			t.Errorf("%s: Recreated %d, want %d", n, st.Recreated, removals)
		}
	}
}

// TestOnDirRecreatedWhenReplaced: someone else removes the log folder and
// creates it again before any writer finds it gone (rm -rf logs && mkdir
// logs). The writers then find only their active files gone; the first to
// open one in the new folder says the folder was replaced and calls
// OnDirRecreated, once for all the logs. A roll in an unchanged folder
// calls nothing.
func TestOnDirRecreatedWhenReplaced(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "logs")
	cfg := testCfg(dir, Policy{}, Policy{}, Policy{})
	var calls atomic.Int64
	rec := &logtest.Recorder{}
	opts := testOpts()
	opts.Logger = slog.New(rec)
	opts.OnDirRecreated = func() { calls.Add(1) }
	c, err := Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	names := c.Logs()
	for _, n := range names {
		write(t, c, n, "first")
	}
	if _, err := c.Roll(); err != nil {
		t.Fatal(err)
	}
	// Roll answers before the writers open their new active files; a
	// write is handled after that, on the same goroutine.
	for _, n := range names {
		write(t, c, n, "rolled")
	}
	if got := calls.Load(); got != 0 {
		t.Fatalf("OnDirRecreated called %d times by a roll in an unchanged folder", got)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		write(t, c, n, "after")
	}
	if got := calls.Load(); got != 1 {
		t.Errorf("OnDirRecreated called %d times after one replacement, want 1", got)
	}
	if n := rec.Count("log folder was replaced by someone else"); n != 1 {
		t.Errorf("replacement said %d times, want once", n)
	}
	if n := rec.Count("log folder was removed by someone else"); n != 0 {
		t.Errorf("a replaced folder was said removed and created by the collator %d times", n)
	}
	for _, n := range names {
		if got := lines(t, filepath.Join(dir, n)); !slices.Equal(got, []string{"after"}) {
			t.Errorf("%s holds %q, want [after]", n, got)
		}
	}
}
