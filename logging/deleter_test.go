package logging

import (
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestDeletionsOffTheWriter: deletions beyond MaxCount run on the deleter
// goroutine, so a deletion that hangs blocks neither Write nor Roll; a roll
// while the deleter is busy is covered by another pass; Close waits for the
// pending deletions.
func TestDeletionsOffTheWriter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeNone, MaxCount: 1})
		cfg.AutoDelete = true
		release := make(chan struct{})
		var removed []string
		remove := func(p string) error {
			<-release
			removed = append(removed, filepath.Base(p)) // deleter goroutine only
			return os.Remove(p)
		}
		c, err := open(cfg, testOpts(), fsOps{remove: remove})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var paths []string
		rollOne := func(rec string) {
			t.Helper()
			time.Sleep(time.Minute)
			write(t, c, testLog, rec)
			r, err := c.Roll()
			if err != nil || len(r) != 1 {
				t.Fatalf("Roll: %v, %v", r, err)
			}
			paths = append(paths, filepath.Base(r[0].Path))
		}
		rollOne("1")
		rollOne("2")
		synctest.Wait() // the deleter now hangs in the deletion of the first file
		rollOne("3")    // neither Write nor Roll waits for it
		if n := c.Stats().Logs[testLog].Deleted; n != 0 {
			t.Fatalf("Deleted = %d while the deletion hangs", n)
		}

		var closed atomic.Bool
		go func() {
			_ = c.Close()
			closed.Store(true)
		}()
		synctest.Wait()
		if closed.Load() {
			t.Fatal("Close returned before the pending deletions")
		}
		close(release)
		synctest.Wait()
		if !closed.Load() {
			t.Fatal("Close did not return after the deletions")
		}
		if want := paths[:2]; !slices.Equal(removed, want) {
			t.Errorf("deleted %q, want %q", removed, want)
		}
		if n := c.Stats().Logs[testLog].Deleted; n != 2 {
			t.Errorf("Deleted = %d, want 2", n)
		}
	})
}
