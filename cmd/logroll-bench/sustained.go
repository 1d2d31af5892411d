package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/logroll/logroll/ctl"
)

// Sustained load with size rolls (issue 23): what a roll costs the requests
// in flight when the load never pauses, at the default durability.
//
// targetConns connections post text batches back to back into a logrolld
// whose access log rolls on size (-sustained-roll-mb, default 100 MiB), so
// that a run of -sustained-rolls × that size rolls that many times; in the
// same run, in an order that rotates with the rep, the same load goes to
// the baseline server (bufio, no rolling: the no-roll sink) and to a
// logrolld with durability "write" (plain rolls), each a fresh process on a
// fresh folder. The ratio rows are medians of per-rep ratios against the
// baseline; max is each run's longest request, its median over the reps.

// Servers of the sustained section, the reference first.
const (
	sustBaseline = "baseline"
	sustRoll     = "roll"  // logrolld, durability "roll" (the default)
	sustWrite    = "write" // logrolld, durability "write"
)

var sustainedKinds = []string{sustBaseline, sustRoll, sustWrite}

// sustainedRow is one row of the sustained table: the medians of a
// server's runs, or (Ratio set) the medians of its per-rep ratios against
// the baseline (Rolls stays a count).
type sustainedRow struct {
	Server        string  `json:"server"`
	Ratio         bool    `json:"ratio"`
	RecordsPerSec float64 `json:"records_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	CPUSecPerGB   float64 `json:"cpu_sec_per_gb"`
	// Rolls counts the files rolled during the run, published or still
	// under their hidden pending names (waiting for their fsync: a disk
	// behind the writes).
	Rolls float64 `json:"rolls"`
	// PauseMaxMs is the longest time a roll held the log's writer token
	// (the daemon's roll_pause_max_seconds; 0 for the baseline).
	PauseMaxMs float64 `json:"pause_max_ms"`
}

func (r sustainedRow) values() []float64 {
	return []float64{r.RecordsPerSec, r.P50ms, r.P99ms, r.MaxMs, r.CPUSecPerGB, r.Rolls, r.PauseMaxMs}
}

// sustainedCounts is where values' counts start: rolls and pauses are not
// divided by the baseline's.
const sustainedCounts = 5

func sustainedFrom(server string, ratio bool, v []float64) sustainedRow {
	return sustainedRow{Server: server, Ratio: ratio, RecordsPerSec: v[0], P50ms: v[1], P99ms: v[2], MaxMs: v[3], CPUSecPerGB: v[4], Rolls: v[5], PauseMaxMs: v[6]}
}

// sustainedRun is one measured run.
type sustainedRun struct {
	Rep int
	Row sustainedRow
}

// measureSustained runs every server reps times, rotating the order.
func measureSustained(ctx context.Context, e *env, rollMB, rolls int) ([]sustainedRow, error) {
	bodies := makeBatches(FormatText, e.seed, e.pool, e.batch)
	perReq := float64(runBytes(bodies, len(bodies))) / float64(len(bodies))
	requests := max(int(float64(rolls)*float64(rollMB<<20)/perReq)+1, 1)
	var runs []sustainedRun
	for rep := 0; rep < e.reps; rep++ {
		for i := range sustainedKinds {
			kind := sustainedKinds[(i+rep)%len(sustainedKinds)]
			row, err := measureSustainedRun(ctx, e, kind, rollMB, bodies, requests)
			if err != nil {
				return nil, fmt.Errorf("sustained %s: %w", kind, err)
			}
			e.progress("text %2d conns sustained %-8s rep %d: %9.0f records/s p50 %6.2f ms p99 %6.2f ms max %6.2f ms, %v rolled",
				targetConns, kind, rep+1, row.RecordsPerSec, row.P50ms, row.P99ms, row.MaxMs, row.Rolls)
			runs = append(runs, sustainedRun{rep, row})
		}
	}
	return sustainedRows(runs), nil
}

// sustainedRows aggregates runs: per server the medians, then per logrolld
// the medians of the per-rep ratios against the baseline.
func sustainedRows(runs []sustainedRun) []sustainedRow {
	by := map[string]map[int]sustainedRow{}
	for _, r := range runs {
		if by[r.Row.Server] == nil {
			by[r.Row.Server] = map[int]sustainedRow{}
		}
		by[r.Row.Server][r.Rep] = r.Row
	}
	medians := func(server string, ratio bool, cols [][]float64) sustainedRow {
		m := make([]float64, len(cols))
		for i := range cols {
			m[i] = median(cols[i])
		}
		return sustainedFrom(server, ratio, m)
	}
	var out []sustainedRow
	for _, kind := range sustainedKinds {
		if len(by[kind]) == 0 {
			continue
		}
		cols := make([][]float64, len(sustainedRow{}.values()))
		for _, r := range by[kind] {
			for i, v := range r.values() {
				cols[i] = append(cols[i], v)
			}
		}
		out = append(out, medians(kind, false, cols))
	}
	for _, kind := range sustainedKinds[1:] {
		cols := make([][]float64, len(sustainedRow{}.values()))
		for rep, r := range by[kind] {
			base, ok := by[sustBaseline][rep]
			if !ok {
				continue
			}
			bv := base.values()
			for i, v := range r.values() {
				if i < sustainedCounts {
					v /= bv[i]
				}
				cols[i] = append(cols[i], v)
			}
		}
		if len(cols[0]) > 0 {
			out = append(out, medians(kind, true, cols))
		}
	}
	return out
}

// measureSustainedRun performs one run against server kind.
func measureSustainedRun(ctx context.Context, e *env, kind string, rollMB int, bodies []batch, requests int) (sustainedRow, error) {
	row := sustainedRow{Server: kind}
	dir, err := e.tempDir("sus")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)
	var (
		proc  *child
		url   string
		check bool
		logs  string
		cl    *ctl.Client
	)
	if kind == sustBaseline {
		b, err := startBaseline(baselineText, filepath.Join(dir, "access.log"))
		if err != nil {
			return row, err
		}
		proc, url = b.child, b.url()
	} else {
		dur := ""
		if kind == sustWrite {
			dur = "write"
		}
		o := daemonOpts{durability: dur, rolling: `"size"`, extra: fmt.Sprintf("%s\nrolling_size_mb = %d\n", e.extraRecords, rollMB)}
		d, err := startDaemon(e.logrolld, dir, o)
		if err != nil {
			return row, err
		}
		proc, url, check, logs, cl = d.child, d.url(), true, d.logs, ctl.NewClient(d.socket)
	}
	defer proc.kill()
	lr, cpu, err := measuredLoad(ctx, e, proc, loadSpec{
		url: url, contentType: FormatText.contentType(), bodies: bodies, requests: requests, conns: targetConns,
		checkRecords: check,
	})
	if err != nil {
		return row, err
	}
	if cl != nil {
		if row.PauseMaxMs, _, err = rollPauses(ctx, cl); err != nil {
			return row, err
		}
	}
	proc.kill()
	if logs != "" {
		ents, err := os.ReadDir(logs)
		if err != nil {
			return row, err
		}
		for _, en := range ents {
			n := en.Name()
			if strings.HasPrefix(n, "access.log.") && strings.HasSuffix(n, ".old") ||
				strings.HasPrefix(n, ".access.log.") && strings.HasSuffix(n, ".old.raw") {
				row.Rolls++
			}
		}
	}
	secs := lr.elapsed.Seconds()
	row.RecordsPerSec = float64(lr.records) / secs
	row.P50ms = ms(percentile(lr.latencies, 50))
	row.P99ms = ms(percentile(lr.latencies, 99))
	row.MaxMs = ms(slices.Max(lr.latencies))
	row.CPUSecPerGB = cpu.Seconds() / (float64(lr.bodyBytes) / 1e9)
	return row, nil
}
