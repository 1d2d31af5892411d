package logging

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/internal/logtest"
)

// failingRename is an fsOps.rename that fails while failing is set and
// records when each attempt on the active file happened (bubble time).
type failingRename struct {
	mu       sync.Mutex
	failing  bool
	attempts []time.Time // every rename attempt
	fails    int64       // failed ones
}

func (f *failingRename) rename(from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts = append(f.attempts, time.Now())
	if f.failing {
		f.fails++
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrPermission}
	}
	return os.Rename(from, to)
}

func (f *failingRename) set(failing bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failing = failing
}

// gaps returns the intervals between the attempts, and their number.
func (f *failingRename) gaps() ([]time.Duration, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Duration
	for i := 1; i < len(f.attempts); i++ {
		out = append(out, f.attempts[i].Sub(f.attempts[i-1]))
	}
	return out, len(f.attempts)
}

// openFailing opens a collator on dir whose renames go through fr, with
// its log messages in rec.
func openFailing(t *testing.T, cfg Config, fr *failingRename, rec *logtest.Recorder) *Collator {
	t.Helper()
	opts := testOpts()
	opts.Logger = slog.New(rec)
	c, err := open(cfg, opts, fsOps{rename: fr.rename})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestFailedTimeRollRetried: a time roll whose rename fails is retried by the
// writer's timer after 1 s, 2 s, 4 s, … up to one minute, without any write;
// the failure is logged once and the recovery once, every attempt counted.
// The retried roll's END is its own instant, not the boundary: the file also
// holds records accepted after the boundary (and right up to the retry), and
// the partition START ≤ record ≤ END, START(next) ≥ END holds.
func TestFailedTimeRollRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		fr := &failingRename{failing: true}
		rec := &logtest.Recorder{}
		c := openFailing(t, testCfg(dir, timePolicy(time.Hour)), fr, rec)
		time.Sleep(30 * time.Minute)
		write(t, c, testLog, stamp("a")) // 00:30:00
		time.Sleep(30*time.Minute + 2*time.Second)
		write(t, c, testLog, stamp("b")) // 01:00:02, after the failed boundary roll
		time.Sleep(5*time.Minute - 2*time.Second)
		// 01:05:00: the boundary roll at 01:00:00 and 9 retries failed.
		gaps, n := fr.gaps()
		want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60}
		for i := range want {
			want[i] *= time.Second
		}
		if !slices.Equal(gaps, want) {
			t.Errorf("attempts %d apart, want %v", gaps, want)
		}
		if len(rolledFiles(t, dir, testLog)) != 0 {
			t.Fatal("rolled while the rename fails")
		}
		if got := rec.Count("roll failed"); got != 1 {
			t.Errorf("failure logged %d times, want once", got)
		}

		fr.set(false)
		// Writers around the next retry (01:05:03): each record lands in
		// the file whose START-END covers it.
		var wg sync.WaitGroup
		for g := range 3 {
			wg.Go(func() {
				for i := range 40 {
					write(t, c, testLog, stamp(strings.Repeat("c", g+i%3)))
					time.Sleep(150 * time.Millisecond)
				}
			})
		}
		wg.Wait()
		_, n2 := fr.gaps()
		if n2 != n+1 {
			t.Errorf("%d rename attempts after the recovery, want 1", n2-n)
		}
		files := rolledFiles(t, dir, testLog)
		if len(files) != 1 || span(files[0].RolledName) != "00:30:00-01:05:03" {
			t.Fatalf("rolled %q, want [00:30:00-01:05:03]", spans(files))
		}
		if _, err := c.Roll(); err != nil {
			t.Fatal(err)
		}
		recs := checkPartition(t, dir, testLog)
		if len(recs) != 2+3*40 {
			t.Errorf("%d records rolled, want %d", len(recs), 2+3*40)
		}
		if got := lines(t, files[0].path); len(got) < 3 || !strings.HasPrefix(got[1], "b@") {
			t.Errorf("retried file holds %q…, want a, b and the first c records", got[:min(3, len(got))])
		}
		if got := rec.Count("rolls work again"); got != 1 {
			t.Errorf("recovery logged %d times, want once", got)
		}
		st := c.Stats().Logs[testLog]
		if st.RollsTime != 1 || st.RollFailures != int64(n) {
			t.Errorf("RollsTime = %d, RollFailures = %d; want 1, %d", st.RollsTime, st.RollFailures, n)
		}
	})
}

// TestFailedSizeRollRetried: a size roll whose rename fails is retried by the
// timer, not by later writes (which do not try one each), and rolls even if
// nothing is written after the fault clears.
func TestFailedSizeRollRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		fr := &failingRename{failing: true}
		rec := &logtest.Recorder{}
		c := openFailing(t, testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 1000}), fr, rec)
		write(t, c, testLog, stamp(strings.Repeat("x", 1000))) // reaches the limit: fails
		for range 10 {
			time.Sleep(50 * time.Millisecond)
			write(t, c, testLog, stamp("over the limit"))
		}
		if _, n := fr.gaps(); n != 1 {
			t.Errorf("%d rename attempts within 0.5 s, want 1 (retries wait for the timer)", n)
		}
		time.Sleep(2 * time.Second) // retry at 1 s fails; next at 3 s
		fr.set(false)
		time.Sleep(2 * time.Second) // nothing written: the timer rolls
		files := rolledFiles(t, dir, testLog)
		if len(files) != 1 || span(files[0].RolledName) != "00:00:00-00:00:03" {
			t.Fatalf("rolled %q, want [00:00:00-00:00:03]", spans(files))
		}
		if got := len(lines(t, files[0].path)); got != 11 {
			t.Errorf("rolled file holds %d records, want 11", got)
		}
		st := c.Stats().Logs[testLog]
		if st.RollsSize != 1 || st.RollFailures != 2 || st.Size != 0 {
			t.Errorf("RollsSize = %d, RollFailures = %d, Size = %d; want 1, 2, 0", st.RollsSize, st.RollFailures, st.Size)
		}
		if rec.Count("roll failed") != 1 || rec.Count("rolls work again") != 1 {
			t.Errorf("failure and recovery logged %d and %d times, want once each",
				rec.Count("roll failed"), rec.Count("rolls work again"))
		}
		checkPartition(t, dir, testLog)
	})
}

// TestFailedForcedRollNotRetried: a forced roll's caller has the error; the
// collator does not try again by itself.
func TestFailedForcedRollNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		fr := &failingRename{failing: true}
		c := openFailing(t, testCfg(dir, Policy{}), fr, &logtest.Recorder{})
		write(t, c, testLog, "1")
		if _, err := c.Roll(); err == nil {
			t.Fatal("Roll with a failing rename worked")
		}
		fr.set(false)
		time.Sleep(10 * time.Minute)
		if _, n := fr.gaps(); n != 1 {
			t.Errorf("%d rename attempts, want 1", n)
		}
		if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"1"}) {
			t.Errorf("active file holds %q", got)
		}
	})
}

// TestFailedCatchUpRollRetried: the catch-up roll at Open, when its rename
// fails, is retried by the writer once it runs.
func TestFailedCatchUpRollRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		seedActive(t, dir, "old\n", time.Date(1999, 12, 31, 22, 0, 0, 0, time.UTC))
		fr := &failingRename{failing: true}
		rec := &logtest.Recorder{}
		c := openFailing(t, testCfg(dir, timePolicy(time.Hour)), fr, rec)
		fr.set(false)
		time.Sleep(1500 * time.Millisecond)
		files := rolledFiles(t, dir, testLog)
		if len(files) != 1 || span(files[0].RolledName) != "Dec31 22:00:00-00:00:01" {
			t.Fatalf("rolled %q, want [Dec31 22:00:00-00:00:01]", spans(files))
		}
		if st := c.Stats().Logs[testLog]; st.RollsTime != 1 || st.RollFailures != 1 {
			t.Errorf("RollsTime = %d, RollFailures = %d; want 1, 1", st.RollsTime, st.RollFailures)
		}
	})
}
