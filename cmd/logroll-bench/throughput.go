package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Throughput: logrolld against the baseline, same load, same run.
//
// For each format and connection count, reps runs of each server
// alternate (logroll first on even reps, the baseline first on odd ones).
// Every run starts a fresh server process on a fresh folder, sends one
// warm-up request per connection, then the fixed total of requests, and
// kills the server (SIGKILL: a graceful stop would fsync the file, which is
// not measured). Server CPU is the process's CPU time between the end of
// the warm-up and the last answer; peak RSS is its VmHWM then (start-up and
// warm-up included). For logroll, the active file's size is then checked
// against what was acknowledged.

// Server names in results.
const (
	serverLogroll  = "logroll"
	serverBaseline = "baseline"
	serverRatio    = "ratio"
)

// runResult is one measured run.
type runResult struct {
	Format        Format  `json:"format"`
	Conns         int     `json:"conns"`
	Server        string  `json:"server"`
	Rep           int     `json:"rep"`
	Requests      int     `json:"requests"`
	Records       int64   `json:"records"`
	BodyBytes     int64   `json:"body_bytes"`
	Seconds       float64 `json:"seconds"`
	CPUSeconds    float64 `json:"cpu_seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	CPUSecPerGB   float64 `json:"cpu_sec_per_gb"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
}

// tpRow is one row of the throughput table: the medians of a server's runs,
// or (Server "ratio") the medians of the per-rep ratios logroll ÷ baseline.
type tpRow struct {
	Format        Format  `json:"format"`
	Conns         int     `json:"conns"`
	Server        string  `json:"server"`
	RecordsPerSec float64 `json:"records_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	P50ms         float64 `json:"p50_ms"`
	P99ms         float64 `json:"p99_ms"`
	CPUSecPerGB   float64 `json:"cpu_sec_per_gb"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"`
}

// values returns the measured columns in table order.
func (r tpRow) values() [6]float64 {
	return [6]float64{r.RecordsPerSec, r.MBPerSec, r.P50ms, r.P99ms, r.CPUSecPerGB, r.PeakRSSMiB}
}

// values returns the measured columns in table order.
func (r runResult) values() [6]float64 {
	return [6]float64{r.RecordsPerSec, r.MBPerSec, r.P50ms, r.P99ms, r.CPUSecPerGB, r.PeakRSSMiB}
}

func fromValues(f Format, conns int, server string, v [6]float64) tpRow {
	return tpRow{Format: f, Conns: conns, Server: server,
		RecordsPerSec: v[0], MBPerSec: v[1], P50ms: v[2], P99ms: v[3], CPUSecPerGB: v[4], PeakRSSMiB: v[5]}
}

// aggregate turns runs into table rows: for each (format, conns) in order of
// first appearance, the logroll row, the baseline row and the ratio row.
// Ratios pair the runs of the same rep.
func aggregate(runs []runResult) []tpRow {
	type key struct {
		f Format
		c int
	}
	var keys []key
	byKey := map[key]map[string]map[int]runResult{}
	for _, r := range runs {
		k := key{r.Format, r.Conns}
		if byKey[k] == nil {
			keys = append(keys, k)
			byKey[k] = map[string]map[int]runResult{}
		}
		if byKey[k][r.Server] == nil {
			byKey[k][r.Server] = map[int]runResult{}
		}
		byKey[k][r.Server][r.Rep] = r
	}
	var rows []tpRow
	for _, k := range keys {
		med := func(server string) ([6]float64, bool) {
			var cols [6][]float64
			for _, r := range byKey[k][server] {
				v := r.values()
				for i := range cols {
					cols[i] = append(cols[i], v[i])
				}
			}
			var out [6]float64
			for i := range out {
				out[i] = median(cols[i])
			}
			return out, len(cols[0]) > 0
		}
		lr, okL := med(serverLogroll)
		bl, okB := med(serverBaseline)
		if okL {
			rows = append(rows, fromValues(k.f, k.c, serverLogroll, lr))
		}
		if okB {
			rows = append(rows, fromValues(k.f, k.c, serverBaseline, bl))
		}
		var cols [6][]float64
		for rep, l := range byKey[k][serverLogroll] {
			b, ok := byKey[k][serverBaseline][rep]
			if !ok {
				continue
			}
			lv, bv := l.values(), b.values()
			for i := range cols {
				cols[i] = append(cols[i], lv[i]/bv[i])
			}
		}
		if len(cols[0]) > 0 {
			var out [6]float64
			for i := range out {
				out[i] = median(cols[i])
			}
			rows = append(rows, fromValues(k.f, k.c, serverRatio, out))
		}
	}
	return rows
}

// measureRun performs one run of server on format f with conns connections.
func measureRun(ctx context.Context, e *env, f Format, conns int, server string, rep int, bodies []batch, requests int) (runResult, error) {
	res := runResult{Format: f, Conns: conns, Server: server, Rep: rep}
	dir, err := e.tempDir("tp")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	var (
		url    string
		proc   *child
		check  bool
		active string
	)
	if server == serverLogroll {
		d, err := startDaemon(e.logrolld, dir, e.daemonOpts(""))
		if err != nil {
			return res, err
		}
		url, proc, check, active = d.url(), d.child, true, d.activeFile()
	} else {
		kind := baselineText
		if f == FormatJSON {
			kind = e.jsonBaseline
		}
		b, err := startBaseline(kind, filepath.Join(dir, "access.log"))
		if err != nil {
			return res, err
		}
		url, proc = b.url(), b.child
	}
	defer proc.kill()
	pid := proc.pid()
	lr, cpuSpent, err := measuredLoad(ctx, e, proc, loadSpec{
		url: url, contentType: f.contentType(), bodies: bodies, requests: requests, conns: conns,
		checkRecords: check,
	})
	if err != nil {
		return res, fmt.Errorf("%s %s %d conns: %w", server, f, conns, err)
	}
	hwm, err := peakRSS(pid)
	if err != nil {
		return res, fmt.Errorf("server peak RSS: %w", err)
	}
	proc.kill()
	if active != "" {
		n, err := logBytes(filepath.Dir(active), filepath.Base(active))
		if err != nil {
			return res, fmt.Errorf("logroll's log files: %w", err)
		}
		if n != lr.lineBytes {
			return res, fmt.Errorf("logroll's log files hold %d bytes, %d acknowledged", n, lr.lineBytes)
		}
	}
	secs := lr.elapsed.Seconds()
	cpu := cpuSpent.Seconds()
	res.Requests, res.Records, res.BodyBytes = lr.requests, lr.records, lr.bodyBytes
	res.Seconds, res.CPUSeconds = secs, cpu
	res.RecordsPerSec = float64(lr.records) / secs
	res.MBPerSec = float64(lr.bodyBytes) / secs / 1e6
	res.P50ms = ms(percentile(lr.latencies, 50))
	res.P99ms = ms(percentile(lr.latencies, 99))
	res.CPUSecPerGB = cpu / (float64(lr.bodyBytes) / 1e9)
	res.PeakRSSMiB = float64(hwm) / (1 << 20)
	return res, nil
}

// measuredLoad runs the load spec against the server proc, after the
// prefault of its bytes (when asked), and returns what it measured and the
// server's CPU time from the end of the warm-up to the last answer.
func measuredLoad(ctx context.Context, e *env, proc *child, spec loadSpec) (loadResult, time.Duration, error) {
	pid := proc.pid()
	var cpu0 time.Duration
	var cpuErr error
	spec.onStart = func() {
		if e.prefault {
			// Beside the run's folder, on the same file system: not in
			// logrolld's log folder, where its space manager would count it.
			if err := prefault(e.root, runBytes(spec.bodies, spec.requests)); err != nil {
				e.progress("prefault: %v", err)
			}
		}
		cpu0, cpuErr = cpuTime(pid)
	}
	lr, err := runLoad(ctx, spec)
	if err != nil {
		return lr, 0, fmt.Errorf("%w; server stderr:\n%s", err, proc.output())
	}
	cpu1, err := cpuTime(pid)
	if err != nil || cpuErr != nil {
		return lr, 0, fmt.Errorf("server CPU time: %v %v", err, cpuErr)
	}
	return lr, cpu1 - cpu0, nil
}

// logBytes returns the bytes in the files of dir whose name starts with
// active: the active file and its rolled files (a run crossing midnight
// rolls), not the hidden .meta.
func logBytes(dir, active string) (int64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, e := range ents {
		if !strings.HasPrefix(e.Name(), active) || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return 0, err
		}
		n += fi.Size()
	}
	return n, nil
}

// measureThroughput runs every format × connection count × rep × server.
func measureThroughput(ctx context.Context, e *env) ([]runResult, error) {
	var runs []runResult
	for _, f := range []Format{FormatText, FormatJSON} {
		total := e.textRecords
		if f == FormatJSON {
			total = e.jsonRecords
		}
		bodies := makeBatches(f, e.seed, e.pool, e.batch)
		requests := max(total/e.batch, 1)
		for _, conns := range e.conns {
			for rep := 0; rep < e.reps; rep++ {
				order := []string{serverLogroll, serverBaseline}
				if rep%2 == 1 {
					order = []string{serverBaseline, serverLogroll}
				}
				for _, server := range order {
					r, err := measureRun(ctx, e, f, conns, server, rep, bodies, requests)
					if err != nil {
						return runs, err
					}
					e.progress("%-4s %2d conns %-8s rep %d: %9.0f records/s %7.1f MB/s p99 %6.2f ms CPU %.2f s/GB RSS %5.1f MiB",
						f, conns, server, rep+1, r.RecordsPerSec, r.MBPerSec, r.P99ms, r.CPUSecPerGB, r.PeakRSSMiB)
					runs = append(runs, r)
				}
			}
		}
	}
	return runs, nil
}
