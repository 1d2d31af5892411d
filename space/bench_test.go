package space

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/logroll/logroll/logging"
)

// BenchmarkScan measures a full scan of a folder of 100,000 rolled files
// (plus the active files), the start-up case of the issue; the target is
// ≤ 0.5 s per scan on the project's 2-core machine. Scans run on the
// manager's goroutine only: Wrote (the write path) never scans.
func BenchmarkScan(b *testing.B) {
	dir := b.TempDir()
	logs := []string{"a.log", "b.log", "c.log", "d.log"}
	for _, l := range logs {
		mkfile(b, dir, l, 10)
	}
	const n = 100_000
	for i := range n {
		start := t0.Add(time.Duration(i) * time.Minute)
		name := logging.RolledName{Active: logs[i%len(logs)], Host: "web01", Start: start, End: start.Add(time.Minute)}.String()
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			b.Fatal(err)
		}
		f.Close()
	}
	// serial is the baseline: one goroutine stats and parses every file.
	for _, procs := range []int{1, 0} {
		name := "parallel"
		if procs == 1 {
			name = "serial"
		}
		b.Run(name, func(b *testing.B) {
			a := newAcct(dir, nil, time.UTC, logs, "web01")
			a.procs = procs
			for b.Loop() {
				if err := a.scan(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if len(a.files) != n+len(logs) || a.candidates != n {
				b.Fatalf("scan found %d files, %d rolled", len(a.files), a.candidates)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1e6, "ms/scan")
		})
	}
}

// BenchmarkPlan orders 100,000 rolled files of 4 logs: the work of the
// first check that finds the folder low.
func BenchmarkPlan(b *testing.B) {
	logs := []Log{{Name: "a.log", MinCount: 1}, {Name: "b.log", MinCount: 3}, {Name: "c.log"}}
	files := make([]File, 100_000)
	for i := range files {
		files[i] = File{
			Name:  fmt.Sprint(i),
			Log:   []string{"a.log", "b.log", "c.log", "gone.log"}[i%4],
			Start: t0.Add(time.Duration(i*7919%100_000) * time.Minute),
		}
	}
	for b.Loop() {
		Plan(files, logs)
	}
}
