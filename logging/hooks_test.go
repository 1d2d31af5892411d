package logging

import (
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// The space manager's hooks: OnWrite sees every byte written, OnRemove every
// rolled file the collator deletes.
func TestHooks(t *testing.T) {
	var wrote atomic.Int64
	var mu sync.Mutex
	var removed []string
	opts := testOpts()
	opts.OnWrite = func(n int64) { wrote.Add(n) }
	opts.OnRemove = func(p string) {
		mu.Lock()
		removed = append(removed, p)
		mu.Unlock()
	}
	dir := t.TempDir()
	c, err := Open(Config{Dir: dir, Hostname: "h", AutoDelete: true, Logs: []LogConfig{{
		Name: "a.log", Policy: Policy{Mode: ModeNone, Interval: time.Hour, MaxCount: 1},
	}}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	var first []Rolled
	for i := range 3 {
		write(t, c, "a.log", "record", "two")
		r, err := c.Roll("a.log")
		if err != nil || len(r) != 1 {
			t.Fatalf("roll %d: %v %v", i, r, err)
		}
		if i == 0 {
			first = r
		}
	}
	if err := c.Close(); err != nil { // waits for the deleter
		t.Fatal(err)
	}
	if got := wrote.Load(); got != int64(3*len("record\ntwo\n")) {
		t.Errorf("OnWrite total = %d, want %d", got, 3*len("record\ntwo\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(removed) != 2 || filepath.Dir(removed[0]) != dir || removed[0] != first[0].Path {
		t.Errorf("OnRemove = %v, want the 2 oldest rolled files, first %s", removed, first[0].Path)
	}
}
