package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Results is everything one bench run measured; the report and -json print
// it.
type Results struct {
	Info       runInfo        `json:"info"`
	Runs       []runResult    `json:"runs,omitempty"`
	Throughput []tpRow        `json:"throughput,omitempty"`
	Roll       []rollRow      `json:"roll,omitempty"`
	Stall      []stallResult  `json:"stall,omitempty"`
	Startup    []startupRow   `json:"startup,omitempty"`
	InputRuns  []inputRun     `json:"input_runs,omitempty"`
	Inputs     []inputRow     `json:"inputs,omitempty"`
	Ship       *shipResult    `json:"ship,omitempty"`
	Compress   []compressRow  `json:"compress,omitempty"`
	Sustained  []sustainedRow `json:"sustained,omitempty"`
	Targets    []targetResult `json:"targets"`
}

// runInfo describes the run.
type runInfo struct {
	Quick           bool     `json:"quick"`
	Sections        []string `json:"sections"`
	Reps            int      `json:"reps"`
	TextRecords     int      `json:"text_records"`
	JSONRecords     int      `json:"json_records"`
	Batch           int      `json:"batch"`
	Conns           []int    `json:"conns"`
	Seed            uint64   `json:"seed"`
	TextRecordBytes float64  `json:"text_record_bytes"` // mean, in the log file
	JSONRecordBytes float64  `json:"json_record_bytes"`
	JSONBaseline    string   `json:"json_baseline"`
	Rolls           int      `json:"rolls"`
	RolledFiles     int      `json:"rolled_files"`
	GoVersion       string   `json:"go_version"`
	CPUs            int      `json:"cpus"`
	LoadStart       string   `json:"load_average_start"`
	LoadEnd         string   `json:"load_average_end"`
	Seconds         float64  `json:"seconds"`
	// PageReportingOrder is the guest's free page reporting order
	// (prefault.go), -1 when the machine has none.
	PageReportingOrder int  `json:"page_reporting_order"`
	Prefault           bool `json:"prefault"`
	// CompressRollMB is rolling_size_mb of the compression runs.
	CompressRollMB int `json:"compress_roll_mb,omitempty"`
	// CompressPace and CompressPacedSec shape the paced compression runs.
	CompressPace     float64 `json:"compress_pace,omitempty"`
	CompressPacedSec float64 `json:"compress_paced_seconds,omitempty"`
	// SustainedRollMB and SustainedRolls shape the sustained runs.
	SustainedRollMB int `json:"sustained_roll_mb,omitempty"`
	SustainedRolls  int `json:"sustained_rolls,omitempty"`
}

// jnum is a float for JSON: null when not finite (encoding/json refuses NaN
// and ±Inf; a ratio over a zero CPU time is +Inf).
func jnum(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// MarshalJSON writes non-finite figures as null.
func (r tpRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Format        Format   `json:"format"`
		Conns         int      `json:"conns"`
		Server        string   `json:"server"`
		RecordsPerSec *float64 `json:"records_per_sec"`
		MBPerSec      *float64 `json:"mb_per_sec"`
		P50ms         *float64 `json:"p50_ms"`
		P99ms         *float64 `json:"p99_ms"`
		CPUSecPerGB   *float64 `json:"cpu_sec_per_gb"`
		PeakRSSMiB    *float64 `json:"peak_rss_mib"`
	}{r.Format, r.Conns, r.Server, jnum(r.RecordsPerSec), jnum(r.MBPerSec), jnum(r.P50ms), jnum(r.P99ms), jnum(r.CPUSecPerGB), jnum(r.PeakRSSMiB)})
}

// MarshalJSON writes non-finite figures as null.
func (r inputRow) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Input        string   `json:"input"`
		Baseline     string   `json:"baseline"`
		InputRate    *float64 `json:"records_per_sec"`
		BaselineRate *float64 `json:"baseline_records_per_sec"`
		Ratio        *float64 `json:"ratio"`
		InputCPU     *float64 `json:"cpu_us_per_record"`
		BaselineCPU  *float64 `json:"baseline_cpu_us_per_record"`
		Note         string   `json:"note,omitempty"`
	}{r.Input, r.Baseline, jnum(r.InputRate), jnum(r.BaselineRate), jnum(r.Ratio), jnum(r.InputCPU), jnum(r.BaselineCPU), r.Note})
}

// MarshalJSON writes a missing measurement as null.
func (t targetResult) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Name     string   `json:"name"`
		Measured *float64 `json:"measured"`
		Limit    float64  `json:"limit"`
		Unit     string   `json:"unit"`
		AtMost   bool     `json:"at_most"`
		Status   string   `json:"status"`
	}{t.Name, jnum(t.Measured), t.Limit, t.Unit, t.AtMost, t.Status})
}

// writeJSON writes r as indented JSON.
func writeJSON(w io.Writer, r *Results) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// fnum formats x with prec decimals, "-" when not finite.
func fnum(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

// fratio formats a ratio as "0.95×".
func fratio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', 2, 64) + "×"
}

// tpCells returns a throughput row's cells after format, conns, server.
func tpCells(r tpRow) []string {
	if r.Server == serverRatio {
		v := r.values()
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = fratio(x)
		}
		return out
	}
	return []string{fnum(r.RecordsPerSec, 0), fnum(r.MBPerSec, 1), fnum(r.P50ms, 2), fnum(r.P99ms, 2), fnum(r.CPUSecPerGB, 3), fnum(r.PeakRSSMiB, 1)}
}

// throughputHeader is the header of the throughput table.
var throughputHeader = []string{"format", "conns", "server", "records/s", "MB/s", "p50 ms", "p99 ms", "CPU s/GB", "peak RSS MiB"}

// table writes rows as right-aligned columns (the first left-aligned),
// two spaces apart.
func table(w io.Writer, header []string, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	line := func(cells []string) {
		// tabwriter aligns right for every cell; pad the first by hand.
		fmt.Fprintln(tw, strings.Join(cells, "\t")+"\t")
	}
	first := 0
	for _, r := range append([][]string{header}, rows...) {
		first = max(first, len(r[0]))
	}
	pad := func(r []string) []string {
		c := append([]string(nil), r...)
		c[0] = c[0] + strings.Repeat(" ", first-len(c[0]))
		return c
	}
	line(pad(header))
	for _, r := range rows {
		line(pad(r))
	}
	tw.Flush()
}

// writeReport writes the human-readable report of r.
func writeReport(w io.Writer, r *Results) {
	in := r.Info
	mode := "full"
	if in.Quick {
		mode = "quick (-quick: small totals, figures not meaningful)"
	}
	fmt.Fprintf(w, "logroll-bench: %s run, %d CPUs, %s, load average %s at start, %s at end, %.0f s\n",
		mode, in.CPUs, in.GoVersion, in.LoadStart, in.LoadEnd, in.Seconds)
	if o := in.PageReportingOrder; o >= 0 && o < pageReportingQuiet {
		fmt.Fprintf(w, "warning: this VM hands freed memory of order >= %d back to its host (free page reporting); page-cache writes into it cost up to 10x more\n", o)
		fmt.Fprintf(w, "and throughput ratios vary with which server gets such memory (prefault %v); see docs/performance.md, \"The machine\"\n", in.Prefault)
	}

	if len(r.Throughput) > 0 {
		fmt.Fprintf(w, "\nthroughput: logrolld vs baseline, %d text records (%.0f B each on average) and %d json_batch records (%.0f B) per run,\n",
			in.TextRecords, in.TextRecordBytes, in.JSONRecords, in.JSONRecordBytes)
		fmt.Fprintf(w, "batches of %d on keep-alive connections, medians of %d alternating runs; ratio = logroll ÷ baseline (median of per-run ratios)\n", in.Batch, in.Reps)
		fmt.Fprintf(w, "baseline: net/http + bufio.Writer, no rolling, answers before writing (text); %s (json)\n", jsonBaselineDesc(in.JSONBaseline))
		var rows [][]string
		for _, x := range r.Throughput {
			rows = append(rows, append([]string{string(x.Format), strconv.Itoa(x.Conns), x.Server}, tpCells(x)...))
		}
		table(w, throughputHeader, rows)
	}

	if len(r.Roll) > 0 {
		fmt.Fprintf(w, "\nforced roll: post 10 records, roll, delete the rolled file; write = plain, roll = durable (fsync file and folder)\n")
		fmt.Fprintf(w, "socket = POST /v1/roll from the bench: the daemon's own latency (the target); logrollctl = exec of `logrollctl -socket S roll access`\n")
		fmt.Fprintf(w, "until reaped (what a cron script waits for); exec only = exec of `logrollctl %s` until reaped, no roll, timed in turn with the rolls\n", strings.Join(execOnlyArgs, " "))
		var rows [][]string
		for _, x := range r.Roll {
			rows = append(rows, []string{x.Durability, x.Via, strconv.Itoa(x.Rolls), fnum(x.P50ms, 2), fnum(x.P99ms, 2), fnum(x.MaxMs, 2)})
		}
		table(w, []string{"durability", "via", "runs", "p50 ms", "p99 ms", "max ms"}, rows)
		for _, l := range rollSums(r.Roll) {
			fmt.Fprintln(w, l)
		}
	}

	if len(r.Stall) > 0 {
		s0 := r.Stall[0]
		fmt.Fprintf(w, "\nwriter stall under rolls: %d conns posting %d-record text batches back to back for %.0f s, a forced roll every second;\n", s0.Conns, s0.Batch, s0.Seconds)
		fmt.Fprintf(w, "stall = max latency of requests overlapping a roll - p50 of the others; noise = max - p50 of the others (client side);\n")
		fmt.Fprintf(w, "pause = how long a roll held the log's writer token, so that requests waited (daemon's roll_pause metrics: max and mean; the target)\n")
		var rows [][]string
		for _, x := range r.Stall {
			rows = append(rows, []string{x.Durability, strconv.Itoa(x.Rolls), fnum(x.RollMaxMs, 2),
				strconv.Itoa(x.During), strconv.Itoa(x.Outside), fnum(x.P50OutsideMs, 2), fnum(x.P99OutsideMs, 2),
				fnum(x.MaxOutsideMs, 2), fnum(x.MaxDuringMs, 2), fnum(x.StallMs, 2), fnum(x.NoiseMs, 2),
				fnum(x.PauseMaxMs, 2), fnum(x.PauseMeanMs, 2)})
		}
		table(w, []string{"durability", "rolls", "roll max ms", "reqs in rolls", "reqs outside", "p50 ms", "p99 ms", "max outside ms", "max in rolls ms", "stall ms", "noise ms", "pause max ms", "pause mean ms"}, rows)
	}

	if len(r.Startup) > 0 {
		fmt.Fprintf(w, "\nstart-up: from exec to the ingest line on stderr, and to the first /healthz 200 (medians)\n")
		var rows [][]string
		for _, x := range r.Startup {
			rows = append(rows, []string{strconv.Itoa(x.RolledFiles), strconv.Itoa(x.Starts), fnum(x.LineMs, 1), fnum(x.HealthzMs, 1), fnum(x.HealthzMaxMs, 1)})
		}
		table(w, []string{"rolled files", "starts", "line ms", "healthz ms", "healthz max ms"}, rows)
	}

	if len(r.Inputs) > 0 {
		fmt.Fprintf(w, "\ninputs: %d text records per run, each input against its baseline in the same run (medians of %d alternating runs);\n", in.TextRecords, in.Reps)
		fmt.Fprintf(w, "syslog tcp and https + token: %d connections to logrolld, against its http text path; logrollctl pipe: into logrolld, against rotatelogs writing a file\n", inputConns)
		fmt.Fprintf(w, "CPU µs/record: the receiving side's (logrolld; logrolld + logrollctl for the pipe; rotatelogs), not the load generator's\n")
		var rows [][]string
		for _, x := range r.Inputs {
			rows = append(rows, []string{x.Input, x.Baseline, fnum(x.InputRate, 0), fnum(x.BaselineRate, 0), fratio(x.Ratio), fnum(x.InputCPU, 3), fnum(x.BaselineCPU, 3), x.Note})
		}
		table(w, []string{"input", "baseline", "records/s", "baseline records/s", "ratio", "CPU µs/record", "baseline CPU µs/record", "note"}, rows)
	}

	if r.Ship != nil {
		writeShipReport(w, r.Ship)
	}

	if len(r.Compress) > 0 {
		fmt.Fprintf(w, "\ncompression: %d text records per run at %d conns, size rolls at %d MiB, rolled_compression none / zstd / gzip in turn,\n",
			in.TextRecords, targetConns, in.CompressRollMB)
		fmt.Fprintf(w, "medians of %d runs each; ratio = setting ÷ none (median of per-rep ratios); CPU includes the compression threads (nice 19);\n", in.Reps)
		fmt.Fprintf(w, "paced = %.0f s at %.2f of the rep's saturated none records/s, so that compression runs beside ingest; compressed = files in their final form when the run ended\n",
			in.CompressPacedSec, in.CompressPace)
		var rows [][]string
		for _, x := range r.Compress {
			name, f := x.Compression, fnum
			if x.Paced {
				name += " paced"
			}
			if x.Ratio {
				name += " ÷ none"
				f = func(v float64, _ int) string { return fratio(v) }
			}
			rows = append(rows, []string{name, f(x.RecordsPerSec, 0), f(x.P50ms, 2), f(x.P99ms, 2), f(x.MaxMs, 2), f(x.CPUSecPerGB, 2), fnum(x.Rolled, 0), fnum(x.Compressed, 0)})
		}
		table(w, []string{"compression", "records/s", "p50 ms", "p99 ms", "max ms", "CPU s/GB", "rolled", "compressed"}, rows)
	}

	if len(r.Sustained) > 0 {
		fmt.Fprintf(w, "\nsustained load: %d conns posting %d-record text batches back to back, logrolld rolling on size every %d MiB (%d rolls a run);\n",
			targetConns, in.Batch, in.SustainedRollMB, in.SustainedRolls)
		fmt.Fprintf(w, "baseline = the no-roll sink; roll = default durability, write = durability \"write\"; medians of %d runs each, in turn;\n", in.Reps)
		fmt.Fprintf(w, "ratio = server ÷ baseline (median of per-rep ratios); max = the run's longest request; pause max = the longest a roll held the writer token (daemon)\n")
		var rows [][]string
		for _, x := range r.Sustained {
			name, f := x.Server, fnum
			if x.Ratio {
				name += " ÷ baseline"
				f = func(v float64, _ int) string { return fratio(v) }
			}
			rows = append(rows, []string{name, f(x.RecordsPerSec, 0), f(x.P50ms, 2), f(x.P99ms, 2), f(x.MaxMs, 2), f(x.CPUSecPerGB, 2), fnum(x.Rolls, 0), fnum(x.PauseMaxMs, 2)})
		}
		table(w, []string{"server", "records/s", "p50 ms", "p99 ms", "max ms", "CPU s/GB", "rolls", "pause max ms"}, rows)
	}

	fmt.Fprintf(w, "\ntargets\n")
	counts := map[string]int{}
	for _, t := range r.Targets {
		counts[t.Status]++
		op := "≥"
		if t.AtMost {
			op = "≤"
		}
		fmt.Fprintf(w, "%-4s  %-78s  %s  (%s %s)\n", t.Status, t.Name, fmtMeasure(t.Measured, t.Unit), op, fmtMeasure(t.Limit, t.Unit))
	}
	fmt.Fprintf(w, "%d PASS, %d FAIL, %d n/a\n", counts[statusPass], counts[statusFail], counts[statusNA])
}

// rollSums returns, for each durability with all three paths measured, a
// line comparing the logrollctl round trip with exec only + socket (p50s).
func rollSums(rows []rollRow) []string {
	var durs []string
	p50 := map[[2]string]float64{}
	for _, x := range rows {
		if !slices.Contains(durs, x.Durability) {
			durs = append(durs, x.Durability)
		}
		p50[[2]string{x.Durability, x.Via}] = x.P50ms
	}
	var out []string
	for _, d := range durs {
		c, okC := p50[[2]string{d, viaCtl}]
		e, okE := p50[[2]string{d, viaExec}]
		s, okS := p50[[2]string{d, viaSocket}]
		if okC && okE && okS {
			out = append(out, fmt.Sprintf("%s: logrollctl p50 %s ms vs exec only + socket p50 %s + %s = %s ms",
				d, fnum(c, 2), fnum(e, 2), fnum(s, 2), fnum(e+s, 2)))
		}
	}
	return out
}

// fmtMeasure formats a target figure with its unit.
func fmtMeasure(x float64, unit string) string {
	switch unit {
	case "×":
		return fratio(x)
	case "records/s":
		return fnum(x, 0) + " records/s"
	}
	return fnum(x, 2) + " " + unit
}

// jsonBaselineDesc describes the JSON baseline kind.
func jsonBaselineDesc(kind string) string {
	if kind == baselineJSONRaw {
		return "encoding/json into []json.RawMessage + json.Compact per event"
	}
	return "encoding/json into []map[string]any + json.Marshal per event"
}
