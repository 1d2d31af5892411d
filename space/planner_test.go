package space

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/logroll/logroll/logging"
)

// pf builds a planner File: log, START hour, mtime second.
func pf(log string, startHour, mtimeSec int) File {
	start := t0.Add(time.Duration(startHour) * time.Hour)
	return File{
		Name:    fmt.Sprintf("%s@%d@%d", log, startHour, mtimeSec),
		Log:     log,
		Start:   start,
		At:      start, // a foreign file: At from the name, END = START here
		ModTime: t0.Add(time.Duration(mtimeSec) * time.Second),
	}
}

// rf builds a planner File with its real rolled name, as the accounting
// does: log, START hour, END START + endSec seconds, collision number seq;
// every mtime the same.
func rf(log string, startHour, endSec, seq int) File {
	start := t0.Add(time.Duration(startHour) * time.Hour)
	end := start.Add(time.Duration(endSec) * time.Second)
	name := logging.RolledName{Active: log, Host: "h", Start: start, End: end, Seq: seq}.String()
	return File{Name: name, Log: log, Start: start, End: end, At: end, Seq: seq, ModTime: t0}
}

func TestPlan(t *testing.T) {
	tests := []struct {
		name  string
		logs  []Log
		files []File
		want  []string // names in deletion order
	}{
		{
			name:  "empty",
			logs:  []Log{{Name: "a.log", MinCount: 1}},
			files: nil,
			want:  []string{},
		},
		{
			// Traffic Server: three files of one log, same START, mtimes 30/60/45.
			name:  "same START: by mtime 30 45 60",
			logs:  []Log{{Name: "a.log", MinCount: 0}},
			files: []File{pf("a.log", 0, 30), pf("a.log", 0, 60), pf("a.log", 0, 45)},
			want:  []string{"a.log@0@30", "a.log@0@45", "a.log@0@60"},
		},
		{
			name:  "START before mtime",
			logs:  []Log{{Name: "a.log", MinCount: 1}},
			files: []File{pf("a.log", 2, 1), pf("a.log", 1, 99), pf("a.log", 3, 50)},
			want:  []string{"a.log@1@99", "a.log@2@1", "a.log@3@50"},
		},
		{
			// Traffic Server: min_count 1, 3 and 0 with one file each.
			name: "min 1 first, min 0 last",
			logs: []Log{{Name: "zero.log", MinCount: 0}, {Name: "three.log", MinCount: 3}, {Name: "one.log", MinCount: 1}},
			files: []File{
				pf("zero.log", 0, 0), pf("three.log", 1, 0), pf("one.log", 2, 0),
			},
			want: []string{"one.log@2@0", "three.log@1@0", "zero.log@0@0"},
		},
		{
			// Traffic Server: min 1 with 1 file vs min 3 with 4 files: 4/3 > 1/1.
			// Then 3/3 = 1/1: the older head (three.log's) goes first.
			name: "min 3 with 4 files before min 1 with 1",
			logs: []Log{{Name: "one.log", MinCount: 1}, {Name: "three.log", MinCount: 3}},
			files: []File{
				pf("one.log", 10, 0),
				pf("three.log", 1, 0), pf("three.log", 2, 0), pf("three.log", 3, 0), pf("three.log", 4, 0),
			},
			want: []string{"three.log@1@0", "three.log@2@0", "one.log@10@0", "three.log@3@0", "three.log@4@0"},
		},
		{
			name: "ratio recomputed after each deletion",
			logs: []Log{{Name: "a.log", MinCount: 2}, {Name: "b.log", MinCount: 1}},
			files: []File{
				pf("a.log", 1, 0), pf("a.log", 2, 0), pf("a.log", 3, 0), pf("a.log", 4, 0), pf("a.log", 5, 0), pf("a.log", 6, 0),
				pf("b.log", 10, 0), pf("b.log", 11, 0),
			},
			// a 6/2=3 > b 2/1: a1; a 5/2 > 2: a2; a 4/2 = 2 = b 2: older head a3;
			// a 3/2 < 2: b10; a 3/2 > 1: a4; a 2/2 = 1 = b 1: a5 older; b 1 > 1/2: b11; a6.
			want: []string{"a.log@1@0", "a.log@2@0", "a.log@3@0", "b.log@10@0", "a.log@4@0", "a.log@5@0", "b.log@11@0", "a.log@6@0"},
		},
		{
			name: "logs not configured go first, most files first",
			logs: []Log{{Name: "a.log", MinCount: 1}},
			files: []File{
				pf("a.log", 0, 0), pf("a.log", 1, 0), pf("a.log", 2, 0),
				pf("old.log", 20, 0), pf("gone.log", 30, 0), pf("gone.log", 31, 0),
			},
			// gone.log 2 > old.log 1; then 1 = 1: old.log's head is older.
			want: []string{"gone.log@30@0", "old.log@20@0", "gone.log@31@0", "a.log@0@0", "a.log@1@0", "a.log@2@0"},
		},
		{
			name: "min 0 logs: most files first, then older head",
			logs: []Log{{Name: "a.log"}, {Name: "b.log"}, {Name: "c.log", MinCount: 5}},
			files: []File{
				pf("a.log", 5, 0), pf("b.log", 1, 0), pf("b.log", 2, 0), pf("c.log", 9, 0),
			},
			// c.log (min 5) first; then b.log 2 files > a.log 1; then 1 = 1: b.log's head is older.
			want: []string{"c.log@9@0", "b.log@1@0", "b.log@2@0", "a.log@5@0"},
		},
		{
			// Rolls within one second and one mtime tick (a size roll, then a
			// forced one): the real names, whose string order is not their
			// age — ".1.old" < ".old", ".10.old" < ".9.old".
			name:  "same START and mtime: by END, then collision number, not by name",
			logs:  []Log{{Name: "a.log"}},
			files: []File{rf("a.log", 1, 2, 10), rf("a.log", 1, 1, 9), rf("a.log", 1, 1, 0), rf("a.log", 1, 1, 1)},
			want: []string{
				"a.log.h.20261121.01h00m00s-20261121.01h00m01s.old",
				"a.log.h.20261121.01h00m00s-20261121.01h00m01s.1.old",
				"a.log.h.20261121.01h00m00s-20261121.01h00m01s.9.old",
				"a.log.h.20261121.01h00m00s-20261121.01h00m02s.10.old",
			},
		},
		{
			name: "equal rank and equal heads: by log name",
			logs: []Log{{Name: "b.log", MinCount: 1}, {Name: "a.log", MinCount: 1}},
			files: []File{
				pf("b.log", 1, 0), pf("a.log", 1, 0),
			},
			want: []string{"a.log@1@0", "b.log@1@0"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.files)
			got := []string{}
			for _, f := range Plan(in, tt.logs) {
				got = append(got, f.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Plan order\n got %v\nwant %v", got, tt.want)
			}
			if !slices.Equal(in, tt.files) {
				t.Errorf("Plan modified its input")
			}
		})
	}
}
