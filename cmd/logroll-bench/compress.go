package main

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"time"
)

// Compression: ingest with rolled_compression on against off, same load,
// same run (issue 19: "ingest latency and throughput while files are being
// compressed stay within 10 % of compression off").
//
// Text records at targetConns connections into a log that rolls on size
// (-compress-roll-mb), so that several files roll during each run and are
// compressed while the load goes on. For each rep, one run with
// rolled_compression = "none", one with "zstd" and one with "gzip", in an
// order that rotates with the rep; each run is a fresh logrolld on a fresh
// folder, measured as the throughput runs are (warm-up, then the fixed
// total). The ratio rows are the medians of the per-rep ratios against
// "none". The compressions a run leaves unfinished when it ends are not
// waited for: the run measures ingest, and with compression at the lowest
// priority (logging/chunks.go) a saturated machine leaves them for later.
//
// A saturated run therefore measures ingest beside a compressor that hardly
// runs. So each rep then runs the three settings again at a paced load,
// -compress-pace (0.2) of what "none" sustained in the rep's saturated run,
// for -compress-paced-duration: the CPU to spare lets compression run at full
// speed, and those runs measure ingest while files are being compressed
// (their "compressed" column says how many were). The p99 target is read
// from them, the throughput target from the saturated runs.

// Compression settings measured, "none" first (the reference).
var compressKinds = []string{"none", "zstd", "gzip"}

// compressRow is one row of the compression table: the medians of a
// setting's runs, or (Ratio set) the medians of the per-rep ratios of a
// setting against "none" (the files rolled and compressed stay counts).
type compressRow struct {
	Compression   string  `json:"compression"`
	Paced         bool    `json:"paced"` // a paced run (records/s is then the rate achieved)
	Ratio         bool    `json:"ratio"`
	RecordsPerSec float64 `json:"records_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	MaxMs         float64 `json:"max_ms"`
	CPUSecPerGB   float64 `json:"cpu_sec_per_gb"`
	Rolled        float64 `json:"rolled_files"`     // files rolled during the run
	Compressed    float64 `json:"compressed_files"` // of them, in their compressed form when it ended
}

// compressRun is one measured run.
type compressRun struct {
	Compression string
	Rep         int
	Row         compressRow
}

// compressLoad is the load of the compression runs: saturated (pace 0) or
// paced at rate requests a second for n requests.
type compressLoad struct {
	rate float64
	n    int
}

// measureCompress runs every setting reps times, rotating the order,
// saturated then paced (pace of the rep's saturated "none" rate, for
// paced).
func measureCompress(ctx context.Context, e *env, rollMB int, pace float64, paced time.Duration) ([]compressRow, error) {
	bodies := makeBatches(FormatText, e.seed, e.pool, e.batch)
	requests := max(e.textRecords/e.batch, 1)
	var runs, pacedRuns []compressRun
	for rep := 0; rep < e.reps; rep++ {
		var noneRate float64
		for i := range compressKinds {
			kind := compressKinds[(i+rep)%len(compressKinds)]
			row, err := measureCompressRun(ctx, e, kind, rollMB, bodies, compressLoad{n: requests})
			if err != nil {
				return nil, fmt.Errorf("compression %s: %w", kind, err)
			}
			e.progress("text %2d conns compression %-4s rep %d: %9.0f records/s p99 %6.2f ms CPU %.2f s/GB, %v rolled, %v compressed",
				targetConns, kind, rep+1, row.RecordsPerSec, row.P99ms, row.CPUSecPerGB, row.Rolled, row.Compressed)
			runs = append(runs, compressRun{kind, rep, row})
			if kind == "none" {
				noneRate = row.RecordsPerSec
			}
		}
		if pace <= 0 || paced <= 0 {
			continue
		}
		rate := pace * noneRate / float64(e.batch)
		load := compressLoad{rate: rate, n: max(int(rate*paced.Seconds()), 1)}
		for i := range compressKinds {
			kind := compressKinds[(i+rep)%len(compressKinds)]
			row, err := measureCompressRun(ctx, e, kind, rollMB, bodies, load)
			if err != nil {
				return nil, fmt.Errorf("compression %s, paced: %w", kind, err)
			}
			e.progress("text  4 conns compression %-4s rep %d paced at %.0f req/s: %9.0f records/s p99 %6.2f ms max %6.2f ms CPU %.2f s/GB, %v rolled, %v compressed",
				kind, rep+1, rate, row.RecordsPerSec, row.P99ms, row.MaxMs, row.CPUSecPerGB, row.Rolled, row.Compressed)
			pacedRuns = append(pacedRuns, compressRun{kind, rep, row})
		}
	}
	out := compressRows(runs)
	for _, r := range compressRows(pacedRuns) {
		r.Paced = true
		out = append(out, r)
	}
	return out, nil
}

// compressRows aggregates runs: per setting the medians, then per setting
// but "none" the medians of the per-rep ratios against "none".
func compressRows(runs []compressRun) []compressRow {
	by := map[string]map[int]compressRow{}
	for _, r := range runs {
		if by[r.Compression] == nil {
			by[r.Compression] = map[int]compressRow{}
		}
		by[r.Compression][r.Rep] = r.Row
	}
	vals := func(r compressRow) []float64 {
		return []float64{r.RecordsPerSec, r.P50ms, r.P99ms, r.MaxMs, r.CPUSecPerGB, r.Rolled, r.Compressed}
	}
	row := func(kind string, ratio bool, cols [][]float64) compressRow {
		m := make([]float64, len(cols))
		for i := range cols {
			m[i] = median(cols[i])
		}
		return compressRow{Compression: kind, Ratio: ratio, RecordsPerSec: m[0], P50ms: m[1], P99ms: m[2], MaxMs: m[3], CPUSecPerGB: m[4], Rolled: m[5], Compressed: m[6]}
	}
	var out []compressRow
	for _, kind := range compressKinds {
		if len(by[kind]) == 0 {
			continue
		}
		cols := make([][]float64, 7)
		for _, r := range by[kind] {
			for i, v := range vals(r) {
				cols[i] = append(cols[i], v)
			}
		}
		out = append(out, row(kind, false, cols))
	}
	for _, kind := range compressKinds[1:] {
		cols := make([][]float64, 7)
		for rep, r := range by[kind] {
			base, ok := by["none"][rep]
			if !ok {
				continue
			}
			bv := vals(base)
			for i, v := range vals(r) {
				if i < 5 { // the files rolled and compressed stay counts
					v /= bv[i]
				}
				cols[i] = append(cols[i], v)
			}
		}
		if len(cols[0]) > 0 {
			out = append(out, row(kind, true, cols))
		}
	}
	return out
}

// Names in a log folder after a run: rolled files in their final forms,
// and raw files waiting for their compression.
var (
	rolledFinal = regexp.MustCompile(`^access\.log\.` + benchHost + `\..*\.old(\.gz|\.zst)?$`)
	compressed  = regexp.MustCompile(`\.old\.(gz|zst)$`)
	rawWaiting  = regexp.MustCompile(`^\.access\.log\..*\.old\.(gz|zst)\.raw$`)
)

// measureCompressRun performs one run with rolled_compression kind.
func measureCompressRun(ctx context.Context, e *env, kind string, rollMB int, bodies []batch, load compressLoad) (compressRow, error) {
	var row compressRow
	dir, err := e.tempDir("cz")
	if err != nil {
		return row, err
	}
	defer os.RemoveAll(dir)
	o := daemonOpts{rolling: `"size"`, extra: fmt.Sprintf("%s\nrolling_size_mb = %d\nrolled_compression = %q\n", e.extraRecords, rollMB, kind)}
	d, err := startDaemon(e.logrolld, dir, o)
	if err != nil {
		return row, err
	}
	defer d.kill()
	var lr loadResult
	var cpu time.Duration
	if load.rate == 0 {
		lr, cpu, err = measuredLoad(ctx, e, d.child, loadSpec{
			url: d.url(), contentType: FormatText.contentType(), bodies: bodies, requests: load.n, conns: targetConns,
			checkRecords: true,
		})
	} else {
		lr, cpu, err = measuredPaced(ctx, e, d.child, pacedSpec{
			url: d.url(), contentType: FormatText.contentType(), bodies: bodies, requests: load.n, conns: targetConns,
			rate: load.rate, checkRecords: true,
		})
	}
	if err != nil {
		return row, err
	}
	d.kill()
	ents, err := os.ReadDir(d.logs)
	if err != nil {
		return row, err
	}
	for _, en := range ents {
		switch n := en.Name(); {
		case rolledFinal.MatchString(n):
			row.Rolled++
			if compressed.MatchString(n) {
				row.Compressed++
			}
		case rawWaiting.MatchString(n):
			row.Rolled++
		}
	}
	secs := lr.elapsed.Seconds()
	row.Compression = kind
	row.RecordsPerSec = float64(lr.records) / secs
	row.P50ms = ms(percentile(lr.latencies, 50))
	row.P99ms = ms(percentile(lr.latencies, 99))
	row.MaxMs = ms(percentile(lr.latencies, 100))
	row.CPUSecPerGB = cpu.Seconds() / (float64(lr.bodyBytes) / 1e9)
	return row, nil
}

// measuredPaced is runPaced with the server's CPU time over the run, after
// the prefault (e.prefault) as measuredLoad.
func measuredPaced(ctx context.Context, e *env, proc *child, spec pacedSpec) (loadResult, time.Duration, error) {
	if e.prefault {
		if err := prefault(e.root, runBytes(spec.bodies, spec.requests)); err != nil {
			e.progress("prefault: %v", err)
		}
	}
	pid := proc.pid()
	cpu0, err := cpuTime(pid)
	if err != nil {
		return loadResult{}, 0, fmt.Errorf("server CPU time: %w", err)
	}
	lr, err := runPaced(ctx, spec)
	if err != nil {
		return lr, 0, fmt.Errorf("%w; server stderr:\n%s", err, proc.output())
	}
	cpu1, err := cpuTime(pid)
	if err != nil {
		return lr, 0, fmt.Errorf("server CPU time: %w", err)
	}
	return lr, cpu1 - cpu0, nil
}
