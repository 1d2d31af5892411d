package main

import (
	"reflect"
	"testing"
)

// TestSustainedRows checks the aggregation: medians per server, then the
// medians of per-rep ratios against the baseline of the same rep (a rep
// without a baseline run counts for no ratio), rolls kept as counts.
func TestSustainedRows(t *testing.T) {
	run := func(rep int, server string, rate, p99, maxMs float64, rolls float64) sustainedRun {
		return sustainedRun{rep, sustainedRow{Server: server, RecordsPerSec: rate, P50ms: 1, P99ms: p99, MaxMs: maxMs, CPUSecPerGB: 1, Rolls: rolls}}
	}
	runs := []sustainedRun{
		run(0, sustBaseline, 100, 2, 10, 0), run(0, sustRoll, 50, 4, 40, 6), run(0, sustWrite, 90, 2, 20, 6),
		run(1, sustRoll, 80, 2, 8, 6), run(1, sustBaseline, 100, 4, 8, 0), run(1, sustWrite, 100, 4, 8, 6),
		run(2, sustWrite, 70, 3, 9, 5), run(2, sustBaseline, 200, 3, 9, 0), run(2, sustRoll, 120, 3, 9, 6),
		run(3, sustRoll, 1, 100, 1000, 1), // no baseline in rep 3: in the medians, in no ratio
	}
	got := sustainedRows(runs)
	want := []sustainedRow{
		{Server: sustBaseline, RecordsPerSec: 100, P50ms: 1, P99ms: 3, MaxMs: 9, CPUSecPerGB: 1, Rolls: 0},
		{Server: sustRoll, RecordsPerSec: 65, P50ms: 1, P99ms: 3.5, MaxMs: 24.5, CPUSecPerGB: 1, Rolls: 6},
		{Server: sustWrite, RecordsPerSec: 90, P50ms: 1, P99ms: 3, MaxMs: 9, CPUSecPerGB: 1, Rolls: 6},
		{Server: sustRoll, Ratio: true, RecordsPerSec: 0.6, P50ms: 1, P99ms: 1, MaxMs: 1, CPUSecPerGB: 1, Rolls: 6},
		{Server: sustWrite, Ratio: true, RecordsPerSec: 0.9, P50ms: 1, P99ms: 1, MaxMs: 1, CPUSecPerGB: 1, Rolls: 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sustainedRows:\n got %+v\nwant %+v", got, want)
	}
}
