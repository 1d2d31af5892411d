package logging

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"
)

func TestNameStateFirst(t *testing.T) {
	const (
		t1 = "20261101.01h30m00s"
		t2 = "20261101.01h30m05s"
		t3 = "20261101.01h30m10s"
	)
	st := func(high string, highSeq, maxSeq int) nameState {
		return nameState{high: high, highSeq: highSeq, maxSeq: maxSeq}
	}
	tests := []struct {
		name       string
		s          nameState
		start, end string
		want       int
	}{
		{"nothing produced", nameState{highSeq: -1}, t1, t2, 0},
		{"after everything", st(t1, -1, 4), t2, t3, 0},
		{"starts at high", st(t2, -1, 4), t2, t3, 0},
		{"one second: first repeat", st(t2, -1, 4), t2, t2, 0},
		{"one second: after .0", st(t2, 0, 4), t2, t2, 1},
		{"one second: after .2", st(t2, 2, 4), t2, t2, 3},
		{"clock went back", st(t3, -1, 4), t1, t2, 5},
		{"clock went back, end at high", st(t3, 7, 7), t1, t3, 8},
		{"repeated hour, START after END", st(t2, -1, 0), t3, t1, 1},
		{"repeated hour, START after high", st(t2, -1, 0), t3, t2, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.first(tt.start, tt.end); got != tt.want {
				t.Errorf("first(%s, %s) = %d, want %d", tt.start, tt.end, got, tt.want)
			}
		})
	}
}

// TestNameStateNeverRepeats plays rolls through a wall clock that goes
// forward, stays within a second, jumps back an hour (a fall-back) and
// back 5 hours (a zone change), and checks that no name repeats, however
// files are deleted in between (first never looks at the folder).
func TestNameStateNeverRepeats(t *testing.T) {
	base := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	wall := func(sec int) string { return base.Add(time.Duration(sec) * time.Second).Format(nameTimeLayout) }
	// Wall seconds of successive roll instants.
	var instants []int
	for i := 0; i < 50; i++ {
		instants = append(instants, 3600+i*5) // every 5 s
	}
	for i := 0; i < 5; i++ {
		instants = append(instants, 3600+250) // five rolls within one second
	}
	for i := 0; i < 800; i++ {
		instants = append(instants, 3600+250-3600+i*5) // the clock went back an hour
	}
	for i := 0; i < 20; i++ {
		instants = append(instants, 3600+250-3600+4000-5*3600+i*7) // and 5 hours more
	}
	s := nameState{highSeq: -1}
	seen := map[string]bool{}
	prev := instants[0]
	for _, at := range instants {
		start, end := wall(prev), wall(at)
		seq := s.first(start, end)
		name := fmt.Sprintf("%s-%s.%d", start, end, seq)
		if seen[name] {
			t.Fatalf("name %s produced twice (state %+v)", name, s)
		}
		seen[name] = true
		s.add(start, end, seq)
		prev = at
	}
}

// TestRolledNamesNeverReused: a rolled file deleted right after its roll
// does not free its name, within one second nor across a restart.
func TestRolledNamesNeverReused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		seen := map[string]bool{}
		for restart := range 3 {
			c := mustOpen(t, testCfg(dir, Policy{Mode: ModeNone}))
			for i := range 3 {
				write(t, c, testLog, "r")
				r, err := c.Roll()
				if err != nil || len(r) != 1 {
					t.Fatalf("roll: %v %v", r, err)
				}
				name := filepath.Base(r[0].Path)
				if seen[name] {
					t.Fatalf("restart %d roll %d: %s produced again", restart, i, name)
				}
				seen[name] = true
				if err := os.Remove(r[0].Path); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// TestRolledModTimeIsEnd: a rolled file's modification time is its END,
// the instant of the roll, whatever its last write's time.
func TestRolledModTimeIsEnd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		c := mustOpen(t, testCfg(dir, Policy{Mode: ModeNone}))
		defer c.Close()
		write(t, c, testLog, "r")
		time.Sleep(90 * time.Minute)
		at := time.Now()
		r, err := c.Roll()
		if err != nil || len(r) != 1 {
			t.Fatalf("roll: %v %v", r, err)
		}
		fi, err := os.Stat(r[0].Path)
		if err != nil {
			t.Fatal(err)
		}
		if d := fi.ModTime().Sub(at); d < -time.Microsecond || d > time.Microsecond {
			t.Errorf("mtime %v, want the roll instant %v", fi.ModTime(), at)
		}
		if !r[0].End.Equal(at.Truncate(time.Second)) {
			t.Errorf("END %v, want %v", r[0].End, at.Truncate(time.Second))
		}
	})
}
