package main

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// goodResults returns results that meet every target, for tests to spoil.
func goodResults() *Results {
	return &Results{
		Throughput: []tpRow{
			{Format: FormatText, Conns: 4, Server: serverLogroll, RecordsPerSec: 2e6, P99ms: 2, CPUSecPerGB: 0.8, PeakRSSMiB: 20},
			{Format: FormatText, Conns: 4, Server: serverBaseline, RecordsPerSec: 2e6, P99ms: 2, CPUSecPerGB: 0.7, PeakRSSMiB: 10},
			{Format: FormatText, Conns: 4, Server: serverRatio, RecordsPerSec: 0.95, P99ms: 1.1},
			{Format: FormatText, Conns: 16, Server: serverLogroll, PeakRSSMiB: 40},
			{Format: FormatJSON, Conns: 4, Server: serverLogroll, RecordsPerSec: 1.2e6},
			{Format: FormatJSON, Conns: 4, Server: serverRatio, RecordsPerSec: 9},
			{Format: FormatJSON, Conns: 16, Server: serverLogroll, PeakRSSMiB: 50},
		},
		Roll: []rollRow{
			{Durability: "write", Via: viaSocket, P99ms: 9}, // plain: not a target
			{Durability: "roll", Via: viaSocket, P50ms: 1.5, P99ms: 4},
			{Durability: "roll", Via: viaCtl, P50ms: 6, P99ms: 9}, // through logrollctl: reported, not the target
			{Durability: "roll", Via: viaExec, P50ms: 4, P99ms: 8},
		},
		Stall:   []stallResult{{Durability: "write", PauseMaxMs: 50}, {Durability: "roll", PauseMaxMs: 1.5, StallMs: 9}},
		Startup: []startupRow{{RolledFiles: 0, HealthzMs: 900}, {RolledFiles: 100000, HealthzMs: 300}},
		Inputs: []inputRow{
			{Input: inSyslog, Baseline: inHTTP, Ratio: 0.85},
			{Input: inTLS, Baseline: inHTTP, Ratio: 0.9},
			{Input: inPipe, Baseline: inRotatelog, Ratio: 0.8},
		},
		Ship: &shipResult{Ratio: 1.3, P99Ratio: 1.02},
		Compress: []compressRow{
			{Compression: "none", RecordsPerSec: 2e6, P99ms: 2},
			{Compression: "zstd", RecordsPerSec: 1.9e6, P99ms: 2.1},
			{Compression: "zstd", Ratio: true, RecordsPerSec: 0.95, P99ms: 1.5}, // saturated p99: reported, not the target
			{Compression: "gzip", Ratio: true, RecordsPerSec: 0.5, P99ms: 3},    // not the target
			{Compression: "none", Paced: true, RecordsPerSec: 1e6, P99ms: 1, Rolled: 20},
			{Compression: "zstd", Paced: true, RecordsPerSec: 1e6, P99ms: 1.05, Rolled: 20, Compressed: 18},
			{Compression: "zstd", Paced: true, Ratio: true, RecordsPerSec: 0.5, P99ms: 1.05}, // paced records/s: not a target
		},
		Sustained: []sustainedRow{
			{Server: sustBaseline, RecordsPerSec: 2e6, P99ms: 4, MaxMs: 20},
			{Server: sustRoll, RecordsPerSec: 1.8e6, P99ms: 5, MaxMs: 9},
			{Server: sustWrite, RecordsPerSec: 1.9e6, P99ms: 4, MaxMs: 30}, // not the target
			{Server: sustRoll, Ratio: true, RecordsPerSec: 0.9, P99ms: 1.25, MaxMs: 0.45},
			{Server: sustWrite, Ratio: true, RecordsPerSec: 0.5, P99ms: 3, MaxMs: 1.5}, // not the target
		},
	}
}

func TestEvalTargets(t *testing.T) {
	for _, tc := range []struct {
		name  string
		spoil func(r *Results)
		want  map[int]string // target index → status; the others PASS
	}{
		{"all good", func(*Results) {}, nil},
		{"text ratio just below", func(r *Results) { r.Throughput[2].RecordsPerSec = 0.89 }, map[int]string{0: statusFail}},
		{"text ratio at the limit", func(r *Results) { r.Throughput[2].RecordsPerSec = 0.9 }, nil},
		{"json rate", func(r *Results) { r.Throughput[4].RecordsPerSec = 999999 }, map[int]string{1: statusFail}},
		{"json ratio", func(r *Results) { r.Throughput[5].RecordsPerSec = 3.4 }, map[int]string{2: statusFail}},
		{"p99 ratio", func(r *Results) { r.Throughput[2].P99ms = 1.25 }, map[int]string{3: statusFail}},
		{"durable roll", func(r *Results) { r.Roll[1].P99ms = 5.01 }, map[int]string{4: statusFail}},
		{"durable roll at the limit", func(r *Results) { r.Roll[1].P99ms = 5 }, nil},
		{"plain roll is not the target", func(r *Results) { r.Roll[0].P99ms = 50 }, nil},
		{"logrollctl and exec only are not the target", func(r *Results) { r.Roll[2].P99ms, r.Roll[3].P99ms = 50, 40 }, nil},
		{"no durable socket row", func(r *Results) { r.Roll = slices.Delete(r.Roll, 1, 2) }, map[int]string{4: statusNA}},
		{"stall", func(r *Results) { r.Stall[1].PauseMaxMs = 2.5 }, map[int]string{5: statusFail}},
		{"start-up", func(r *Results) { r.Startup[1].HealthzMs = 501 }, map[int]string{6: statusFail}},
		{"rss: the worse of text and json", func(r *Results) { r.Throughput[6].PeakRSSMiB = 65 }, map[int]string{7: statusFail}},
		{"cpu per GB", func(r *Results) { r.Throughput[0].CPUSecPerGB = 1.01 }, map[int]string{8: statusFail}},
		{"no throughput", func(r *Results) { r.Throughput = nil },
			map[int]string{0: statusNA, 1: statusNA, 2: statusNA, 3: statusNA, 7: statusNA, 8: statusNA}},
		{"no 4 connections", func(r *Results) {
			var keep []tpRow
			for _, x := range r.Throughput {
				if x.Conns != 4 {
					keep = append(keep, x)
				}
			}
			r.Throughput = keep
		}, map[int]string{0: statusNA, 1: statusNA, 2: statusNA, 3: statusNA, 8: statusNA}},
		{"no roll, stall, start-up", func(r *Results) { r.Roll, r.Stall, r.Startup = nil, nil, nil },
			map[int]string{4: statusNA, 5: statusNA, 6: statusNA}},
		{"syslog ratio", func(r *Results) { r.Inputs[0].Ratio = 0.79 }, map[int]string{9: statusFail}},
		{"TLS ratio", func(r *Results) { r.Inputs[1].Ratio = 0.5 }, map[int]string{10: statusFail}},
		{"pipe ratio at the limit", func(r *Results) { r.Inputs[2].Ratio = 0.8 }, nil},
		{"pipe without rotatelogs", func(r *Results) { r.Inputs[2].Ratio = math.NaN() }, map[int]string{11: statusNA}},
		{"no inputs", func(r *Results) { r.Inputs = nil }, map[int]string{9: statusNA, 10: statusNA, 11: statusNA}},
		{"shipping slower than the aws CLI", func(r *Results) { r.Ship.Ratio = 0.99 }, map[int]string{12: statusFail}},
		{"shipping at the limit", func(r *Results) { r.Ship.Ratio = 1 }, nil},
		{"ingest p99 while shipping", func(r *Results) { r.Ship.P99Ratio = 1.11 }, map[int]string{13: statusFail}},
		{"no ship section", func(r *Results) { r.Ship = nil }, map[int]string{12: statusNA, 13: statusNA}},
		{"compression throughput", func(r *Results) { r.Compress[2].RecordsPerSec = 0.89 }, map[int]string{14: statusFail}},
		{"compression throughput at the limit", func(r *Results) { r.Compress[2].RecordsPerSec = 0.9 }, nil},
		{"compression p99 is the paced one", func(r *Results) { r.Compress[6].P99ms = 1.11 }, map[int]string{15: statusFail}},
		{"compression p99 at the limit", func(r *Results) { r.Compress[6].P99ms = 1.1 }, nil},
		{"nothing compressed in a paced run", func(r *Results) { r.Compress[5].Compressed = 0 }, map[int]string{16: statusFail}},
		{"compressed share at the limit", func(r *Results) { r.Compress[5].Compressed = 10 }, nil},
		{"no paced runs", func(r *Results) { r.Compress = r.Compress[:4] }, map[int]string{15: statusNA, 16: statusNA}},
		{"no compression section", func(r *Results) { r.Compress = nil }, map[int]string{14: statusNA, 15: statusNA, 16: statusNA}},
		{"sustained throughput", func(r *Results) { r.Sustained[3].RecordsPerSec = 0.79 }, map[int]string{17: statusFail}},
		{"sustained throughput at the limit", func(r *Results) { r.Sustained[3].RecordsPerSec = 0.8 }, nil},
		{"sustained p99", func(r *Results) { r.Sustained[3].P99ms = 1.51 }, map[int]string{18: statusFail}},
		{"sustained max is the roll row's, in ms", func(r *Results) { r.Sustained[1].MaxMs = 10.5 }, map[int]string{19: statusFail}},
		{"sustained max at the limit", func(r *Results) { r.Sustained[1].MaxMs = 10 }, nil},
		{"no sustained section", func(r *Results) { r.Sustained = nil }, map[int]string{17: statusNA, 18: statusNA, 19: statusNA}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := goodResults()
			tc.spoil(r)
			got := evalTargets(r)
			if len(got) != 20 {
				t.Fatalf("%d targets, want 20", len(got))
			}
			for i, tr := range got {
				want := statusPass
				if s, ok := tc.want[i]; ok {
					want = s
				}
				if tr.Status != want {
					t.Errorf("target %d %q: %s (measured %v, limit %v), want %s", i, tr.Name, tr.Status, tr.Measured, tr.Limit, want)
				}
				if want == statusNA && !math.IsNaN(tr.Measured) {
					t.Errorf("target %d: n/a with measured %v", i, tr.Measured)
				}
			}
		})
	}
}

// TestRollTargetName checks that the forced-roll target says which path it
// is read from.
func TestRollTargetName(t *testing.T) {
	got := evalTargets(goodResults())[4]
	if !strings.Contains(got.Name, "durable") || !strings.Contains(got.Name, "admin socket") || strings.Contains(got.Name, "logrollctl") {
		t.Errorf("target 4 is %q, want the durable roll on the admin socket", got.Name)
	}
	if got.Measured != 4 {
		t.Errorf("target 4 measured %v, want the durable socket p99 (4)", got.Measured)
	}
}
