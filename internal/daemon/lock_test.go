package daemon

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logroll/logroll/records"
)

// tryLock tries to flock dir's lock file from a new open file description
// (as another process would). It reports the flock error, nil when it got
// the lock (then held until the test ends).
func tryLock(t *testing.T, dir string) error {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, LockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// TestFolderRemovedRelocked: a log folder removed while the daemon runs is
// created again by the next write, and the daemon then holds the lock of
// the new folder, and its space manager watches it.
func TestFolderRemovedRelocked(t *testing.T) {
	d, _, stderr := start(t, baseConfig)
	dir := d.initial.Str(records.LogfileDir)
	if code := post(t, d, "access", "before\n"); code != 200 {
		t.Fatalf("post: %d", code)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if code := post(t, d, "access", "after\n"); code != 200 {
		t.Fatalf("post after the removal: %d", code)
	}
	if err := tryLock(t, dir); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("flock of the recreated folder's lock file = %v, want EWOULDBLOCK (held by the daemon)", err)
	}
	if n := strings.Count(stderr.String(), "log folder lock taken again"); n != 1 {
		t.Errorf("relock said %d times, want once:\n%s", n, stderr.String())
	}
	// The space manager watches the new folder: it sees a roll there, and
	// a deletion by someone else, long before its next scan (60 s).
	resp, err := d.Roll(context.Background(), []string{"access"})
	if err != nil || len(resp.Rolled) != 1 {
		t.Fatalf("Roll = %+v, %v", resp, err)
	}
	waitRolled := func(what string, n int) {
		t.Helper()
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			st := d.Status()
			if len(st.Logs) == 1 && st.Logs[0].Rolled == n {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: status %+v, want %d rolled files", what, st.Logs, n)
			}
		}
	}
	waitRolled("after the roll in the recreated folder", 1)
	if err := os.Remove(resp.Rolled[0].Path); err != nil {
		t.Fatal(err)
	}
	waitRolled("after someone deleted the rolled file", 0)
	// Shutdown releases the lock it took again.
	if err := d.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if err := tryLock(t, dir); err != nil {
		t.Errorf("flock after Shutdown = %v, want the lock free", err)
	}
}

// TestRelockTakenByAnother: when another process took the recreated
// folder's lock first, the daemon says that two daemons now share the
// folder, keeps running, and keeps its old descriptor; release still works.
func TestRelockTakenByAnother(t *testing.T) {
	d, _, stderr := start(t, baseConfig)
	dir := d.initial.Str(records.LogfileDir)
	held := d.lock.f
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := tryLock(t, dir); err != nil {
		t.Fatalf("the other process's flock: %v", err)
	}
	d.relock()
	if out := stderr.String(); !strings.Contains(out, "level=ERROR") || !strings.Contains(out, "two daemons now write the same files") {
		t.Errorf("no error saying two daemons share the folder:\n%s", out)
	}
	if _, err := d.lock.retake(); !errors.Is(err, ErrFolderLocked) {
		t.Errorf("retake = %v, want ErrFolderLocked", err)
	}
	if d.lock.f != held {
		t.Error("the old lock descriptor was dropped")
	}
	if code := post(t, d, "access", "still\n"); code != 200 {
		t.Fatalf("post: %d", code)
	}
	if err := d.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if took, err := d.lock.retake(); took || err != nil || d.lock.f != nil {
		t.Errorf("retake after release = %v, %v, holding %v; want nothing done", took, err, d.lock.f)
	}
}
