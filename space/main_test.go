package space

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/logroll/logroll/internal/logtest"
	"github.com/logroll/logroll/logging"
)

// TestMain checks that no test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Test helpers. Time-driven tests run inside a testing/synctest bubble (fake
// clock from 2000-01-01 00:00:00 UTC) with Watch false, a fake Free and an
// Accept recorder; rolled names are in UTC.

// t0 is the START of the first rolled file tests create.
var t0 = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

// rolled returns the rolled name of log for the hour-long file starting at
// t0 + hour hours.
func rolled(log string, hour int) string {
	start := t0.Add(time.Duration(hour) * time.Hour)
	return logging.RolledName{Active: log, Host: "web01", Start: start, End: start.Add(time.Hour)}.String()
}

// mkfile creates dir/name with size bytes and returns its path.
func mkfile(t testing.TB, dir, name string, size int) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(strings.Repeat("x", size)), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// appendTo appends n bytes to dir/name.
func appendTo(t testing.TB, dir, name string, n int) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(strings.Repeat("y", n)); err != nil {
		t.Fatal(err)
	}
}

// exists reports whether dir/name exists.
func exists(dir, name string) bool {
	_, err := os.Lstat(filepath.Join(dir, name))
	return err == nil
}

// fakeFree is a settable Options.Free.
type fakeFree struct {
	mu                       sync.Mutex
	free                     uint64
	size, freeInodes, inodes uint64
	err                      error
	calls                    int
}

func newFree(n uint64) *fakeFree { return &fakeFree{free: n} }

func (f *fakeFree) Free(string) (Partition, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return Partition{Free: f.free, Size: f.size, FreeInodes: f.freeInodes, Inodes: f.inodes}, f.err
}

// setPartition sets the partition's size and inodes (0: unknown).
func (f *fakeFree) setPartition(size, freeInodes, inodes uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.size, f.freeInodes, f.inodes = size, freeInodes, inodes
}

func (f *fakeFree) set(n uint64, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.free, f.err = n, err
}

// acceptRec records Options.Accept calls as "false: reason" and "true".
type acceptRec struct {
	mu    sync.Mutex
	calls []string
}

func (a *acceptRec) Accept(ok bool, reason string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ok {
		a.calls = append(a.calls, fmt.Sprintf("true%s", reason))
	} else {
		a.calls = append(a.calls, "false: "+reason)
	}
}

// get returns the transitions so far, as "true" and "false" only: a
// "false" repeated with a new reason (the figures changed while
// exhausted) counts once.
func (a *acceptRec) get() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, c := range a.calls {
		v, _, _ := strings.Cut(c, ":")
		if len(out) == 0 || out[len(out)-1] != v || v == "true" {
			out = append(out, v)
		}
	}
	return out
}

// last returns the last call in full, "" if none.
func (a *acceptRec) last() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.calls) == 0 {
		return ""
	}
	return a.calls[len(a.calls)-1]
}

// env is one manager under test with its fakes.
type env struct {
	dir    string
	m      *Manager
	free   *fakeFree
	accept *acceptRec
	logs   *logtest.Recorder
}

// start creates the manager for cfg (cfg.Dir defaults to a new temporary
// folder that the caller filled with setup) and closes it at the end of the
// test. free is the partition's free space.
func start(t *testing.T, cfg Config, free uint64, setup func(dir string)) *env {
	t.Helper()
	return startWith(t, cfg, free, setup, nil)
}

// startWith is start with remove as the manager's file deletion (nil: os.Remove).
func startWith(t *testing.T, cfg Config, free uint64, setup func(dir string), remove func(string) error) *env {
	t.Helper()
	return startHold(t, cfg, free, setup, remove, nil)
}

// startHold is startWith with hold as Options.Hold.
func startHold(t *testing.T, cfg Config, free uint64, setup func(dir string), remove func(string) error, hold func(File) Hold) *env {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if setup != nil {
		setup(cfg.Dir)
	}
	e := &env{dir: cfg.Dir, free: newFree(free), accept: &acceptRec{}, logs: &logtest.Recorder{}}
	m, err := New(cfg, Options{
		Location: time.UTC,
		Free:     e.free.Free,
		Accept:   e.accept.Accept,
		Logger:   slog.New(e.logs),
		Hold:     hold,
		remove:   remove,
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.m = m
	t.Cleanup(func() {
		if err := m.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return e
}

// plenty is a partition free space that never matters.
const plenty = 1 << 40
