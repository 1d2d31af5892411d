package logging

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// TestRollFsyncsAfterToken: at DurabilityRoll no fsync of a roll happens
// under the token: the writer goroutine fsyncs the new .meta and the
// folder after passing the token on — a Write completes while the folder
// fsync is held up — and the publisher then fsyncs the hidden pending file
// before its rolled name exists, and the folder after the rename; Roll
// returns only after all of them. At DurabilitySync every fsync stays
// under the token.
func TestRollFsyncsAfterToken(t *testing.T) {
	for _, d := range []Durability{DurabilityRoll, DurabilitySync} {
		t.Run(d.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { testRollFsyncsAfterToken(t, d) })
		})
	}
}

func testRollFsyncsAfterToken(t *testing.T, d Durability) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Durability = d
	var (
		c        *Collator
		gate     atomic.Bool // record the fsyncs
		hold     atomic.Bool // hold the next folder fsync up
		held     = make(chan struct{})
		resume   = make(chan struct{})
		mu       sync.Mutex // guards seq and early
		seq      []string   // fsyncs of the roll, in order
		early    []string   // rolled files present at the pending file's fsync
		ownerNow owner
	)
	add := func(s string) {
		mu.Lock()
		seq = append(seq, s)
		mu.Unlock()
	}
	ownerOf := func() owner {
		l := (*c.logs.Load())[testLog]
		l.acc.mu.Lock()
		defer l.acc.mu.Unlock()
		return l.acc.tok.owner
	}
	fsys := fsOps{
		syncDir: func(p string) error {
			if gate.Load() {
				add("dir")
			}
			if hold.Load() {
				ownerNow = ownerOf()
				// Only the roll's own: the new file's (DurabilitySync) follows
				// Roll's answer, and would race with the checks below.
				hold.Store(false)
				if d == DurabilityRoll {
					close(held)
					<-resume
				}
			}
			return syncPath(p)
		},
		syncFile: func(f *os.File) error {
			name := filepath.Base(f.Name())
			if strings.HasSuffix(name, ".raw") {
				add("file pending")
				rolled, _ := filepath.Glob(filepath.Join(dir, testLog+".*.old"))
				mu.Lock()
				early = append(early, rolled...)
				mu.Unlock()
				return f.Sync()
			}
			if gate.Load() && d == DurabilityRoll { // at DurabilitySync, writers fsync too
				add("file " + name)
			}
			return f.Sync()
		},
	}
	var err error
	c, err = open(cfg, testOpts(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, testLog, "before")
	gate.Store(true)
	hold.Store(true)
	type result struct {
		rolled []Rolled
		err    error
	}
	done := make(chan result, 1)
	go func() {
		r, err := c.Roll(testLog)
		done <- result{r, err}
	}()
	if d == DurabilitySync {
		res := <-done
		if res.err != nil || len(res.rolled) != 1 {
			t.Fatalf("Roll = %v, %v", res.rolled, res.err)
		}
		if ownerNow != ownerWriter {
			t.Errorf("folder fsync with token owner %d, want the writer goroutine (%d)", ownerNow, ownerWriter)
		}
		return
	}
	<-held
	resumed := false
	defer func() {
		if !resumed {
			close(resume) // a failed check: let the writer goroutine go on
		}
	}()
	synctest.Wait()
	select {
	case res := <-done:
		t.Fatalf("Roll returned (%v, %v) before its folder fsync", res.rolled, res.err)
	default:
	}
	if ownerNow == ownerWriter {
		t.Errorf("folder fsync while the writer goroutine holds the token")
	}
	write(t, c, testLog, "during") // must not wait for the fsync
	close(resume)
	resumed = true
	res := <-done
	if res.err != nil || len(res.rolled) != 1 {
		t.Fatalf("Roll = %v, %v", res.rolled, res.err)
	}
	mu.Lock()
	if want := []string{"file ." + testLog + ".meta", "dir", "file pending", "dir"}; !slices.Equal(seq, want) {
		t.Errorf("fsyncs of the roll: %q, want %q (the .meta, the folder, then the pending file, the folder after its rename)", seq, want)
	}
	if len(early) > 0 {
		t.Errorf("rolled files %q existed when the pending file was fsynced", early)
	}
	mu.Unlock()
	if got := lines(t, res.rolled[0].Path); !slices.Equal(got, []string{"before"}) {
		t.Errorf("rolled file holds %q", got)
	}
	if got := lines(t, filepath.Join(dir, testLog)); !slices.Equal(got, []string{"during"}) {
		t.Errorf("active file holds %q", got)
	}
	m, err := readMeta(metaPath(filepath.Join(dir, testLog)))
	if err != nil {
		t.Fatal(err)
	}
	if want := res.rolled[0].End.Unix(); m.CreationTime.Unix() < want {
		t.Errorf(".meta START %v before the roll's END %v", m.CreationTime, res.rolled[0].End)
	}
	if _, err := os.Stat(res.rolled[0].Path); err != nil {
		t.Error(err)
	}
}
