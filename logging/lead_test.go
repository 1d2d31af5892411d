package logging

import (
	"bytes"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestLeadersWithRolls drives the writer token (lead.go) through every
// hand-over at once, on the real clock so that record stamps tell instants
// apart: callers leading and handing on, size rolls a leader leaves to the
// writer goroutine, forced rolls and reopens queued between them, at each
// durability. Half the callers use WriteBlock (their blocks are
// overwritten once the call returns). Every record must be in exactly one file, files must not
// overlap in time (a record stamped after a file's END in it means a leader
// wrote past a roll), and each caller's records must keep their order.
func TestLeadersWithRolls(t *testing.T) {
	for _, d := range []Durability{DurabilityWrite, DurabilityRoll, DurabilitySync} {
		t.Run(fmt.Sprint(d), func(t *testing.T) {
			dir := t.TempDir()
			cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 2 << 10})
			cfg.BufferSize = 300
			cfg.Durability = d
			c := mustOpen(t, cfg)
			const writers, calls = 8, 300
			var wg sync.WaitGroup
			var done atomic.Int64 // Write calls returned
			for g := range writers {
				wg.Go(func() {
					for i := range calls {
						a, b := stamp(fmt.Sprintf("g%d-%d-a", g, i)), stamp(fmt.Sprintf("g%d-%d-b", g, i))
						if g%2 == 1 {
							writeBlock(t, c, testLog, a, b)
						} else {
							write(t, c, testLog, a, b)
						}
						done.Add(1)
					}
				})
			}
			stop := make(chan struct{})
			var ctl sync.WaitGroup
			ctl.Go(func() {
				// A forced roll or reopen every 30 Write calls: often enough
				// to meet leaders, rarely enough for size rolls in between.
				for n := 0; ; n++ {
					for done.Load() < int64(30*(n+1)) {
						select {
						case <-stop:
							return
						default:
							runtime.Gosched()
						}
					}
					var err error
					if n%4 == 3 {
						err = c.Reopen()
					} else {
						_, err = c.Roll(testLog)
					}
					if err != nil {
						t.Error(err)
					}
				}
			})
			wg.Wait()
			close(stop)
			ctl.Wait()
			if _, err := c.Roll(); err != nil {
				t.Fatal(err)
			}
			checkLeaderRecords(t, checkPartition(t, dir, testLog), writers, calls)
			st := c.Stats().Logs[testLog]
			if st.RollsSize == 0 || st.RollsForced == 0 {
				t.Errorf("rolls: %d size, %d forced; want both kinds", st.RollsSize, st.RollsForced)
			}
			t.Logf("%d write(2) for %d calls; %d size rolls, %d forced", st.WriteCalls, writers*calls, st.RollsSize, st.RollsForced)
		})
	}
}

// writeBlock writes records with WriteBlock, then overwrites the block:
// the collator must not have kept it.
func writeBlock(t *testing.T, c *Collator, log string, records ...string) {
	t.Helper()
	block := []byte(strings.Join(records, "\n") + "\n")
	if err := c.WriteBlock(log, block, len(records)); err != nil {
		t.Fatalf("WriteBlock(%s): %v", log, err)
	}
	for i := range block {
		block[i] = 'X'
	}
}

// checkLeaderRecords checks that got holds every record of TestLeadersWithRolls's
// writers once, each writer's in its order.
func checkLeaderRecords(t *testing.T, got []string, writers, calls int) {
	t.Helper()
	if len(got) != 2*writers*calls {
		t.Fatalf("%d records in rolled files, want %d", len(got), 2*writers*calls)
	}
	last := map[int]int{}
	for _, rec := range got {
		tag, _, _ := strings.Cut(rec, "@")
		f := strings.Split(strings.TrimPrefix(tag, "g"), "-")
		g, _ := strconv.Atoi(f[0])
		i, _ := strconv.Atoi(f[1])
		seq := 2*i + map[string]int{"a": 0, "b": 1}[f[2]]
		if prev, ok := last[g]; (ok && seq != prev+1) || (!ok && seq != 0) {
			t.Fatalf("writer %d: record %q follows its record %d", g, rec, prev)
		}
		last[g] = seq
	}
}

// TestTokenReachesWriter: control operations queued while callers lead and
// hand the token on get the writer goroutine at once — a roll or reopen
// never waits for a timer (inside the bubble, waiting would move the clock;
// no policy here has one).
func TestTokenReachesWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 4 << 10})
		cfg.BufferSize = 300
		c := mustOpen(t, cfg)
		const writers, calls = 6, 200
		var wg sync.WaitGroup
		for g := range writers {
			wg.Go(func() {
				for i := range calls {
					write(t, c, testLog, stamp(fmt.Sprintf("g%d-%d-a", g, i)), stamp(fmt.Sprintf("g%d-%d-b", g, i)))
					if i%25 == 0 {
						time.Sleep(time.Millisecond)
					}
				}
			})
		}
		for n := range 60 {
			t0 := time.Now()
			var err error
			if n%3 == 2 {
				err = c.Reopen()
			} else {
				_, err = c.Roll(testLog)
			}
			if err != nil {
				t.Fatal(err)
			}
			if waited := time.Since(t0); waited != 0 {
				t.Fatalf("operation %d waited %v of the bubble's clock", n, waited)
			}
			time.Sleep(500 * time.Microsecond)
		}
		wg.Wait()
		if _, err := c.Roll(); err != nil {
			t.Fatal(err)
		}
		checkLeaderRecords(t, checkPartition(t, dir, testLog), writers, calls)
	})
}

// TestLoneWriteLeads: a Write call with nobody else around writes its
// records itself — the write(2) happens on the calling goroutine, inside
// its Collator.write, as OnWrite's stack shows — and leaves the writer token free, with no wake-up
// of the writer goroutine pending.
func TestLoneWriteLeads(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var onCaller, elsewhere atomic.Int64
		opts := testOpts()
		opts.OnWrite = func(int64) {
			buf := make([]byte, 64<<10)
			if bytes.Contains(buf[:runtime.Stack(buf, false)], []byte("logging.(*Collator).write(")) {
				onCaller.Add(1)
			} else {
				elsewhere.Add(1)
			}
		}
		c, err := Open(testCfg(t.TempDir(), Policy{}), opts)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		synctest.Wait()
		l := (*c.logs.Load())[testLog]
		for i := range 3 {
			write(t, c, testLog, fmt.Sprint("record ", i))
			l.acc.mu.Lock()
			owner, toWriter, woken := l.acc.tok.owner, l.acc.tok.toWriter, len(l.work)
			l.acc.mu.Unlock()
			if owner != ownerNone || toWriter || woken != 0 {
				t.Fatalf("after Write %d: owner %d, toWriter %v, %d wake-ups pending; want the token free and the writer not asked", i, owner, toWriter, woken)
			}
		}
		if onCaller.Load() != 3 || elsewhere.Load() != 0 {
			t.Errorf("%d writes on the calling goroutine, %d elsewhere; want 3, 0", onCaller.Load(), elsewhere.Load())
		}
		if st := c.Stats().Logs[testLog]; st.WriteCalls != 3 || st.Records != 3 {
			t.Errorf("%d write(2) calls, %d records; want 3, 3", st.WriteCalls, st.Records)
		}
	})
}
