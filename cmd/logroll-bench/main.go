// Command logroll-bench measures the real logrolld end to end against a
// baseline measured in the same run (issue 6): ingest throughput, latency,
// server CPU per GB and peak RSS for text and Logstash json_batch bodies at
// several connection counts; forced-roll round trips; the stall rolls cause
// to writers; start-up time with many rolled files; and ingest with
// rolled files compressed against compression off. It prints one report
// with PASS/FAIL against the project's targets. docs/performance.md
// ("Benchmark command") defines every measurement.
//
// Usage:
//
//	logroll-bench [-quick] [-json] [-strict] [-logrolld PATH -logrollctl PATH] [flags]
//
// Without -logrolld/-logrollctl it builds both with `go build` from the
// module above the working directory into a temporary folder. Everything
// runs on loopback, in temporary folders (under -dir), and every child
// process is killed on the way out, on errors and on Ctrl-C too.
//
// Exit codes: 0 measured (even when targets fail: it is a measurement tool),
// 1 the bench could not run, 2 usage error, 3 -strict was given and a
// target failed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Sections of a run.
const (
	secThroughput = "throughput"
	secRoll       = "roll"
	secStall      = "stall"
	secStartup    = "startup"
	secInputs     = "inputs"
	secShip       = "ship"
	secCompress   = "compress"
	secSustained  = "sustained"
)

var allSections = []string{secThroughput, secRoll, secStall, secStartup, secInputs, secShip, secCompress, secSustained}

// env is the configuration shared by the measurements.
type env struct {
	logrolld, logrollctl string
	root                 string // temporary folder of this run
	seed                 uint64
	textRecords          int
	jsonRecords          int
	batch                int
	pool                 int // distinct bodies per format
	reps                 int
	conns                []int
	jsonBaseline         string
	extraRecords         string
	inputs               []string // the input comparisons of the inputs section (inSyslog, inTLS, inPipe)
	prefault             bool     // write and delete a run's bytes just before it (prefault.go)
	stderr               io.Writer
}

// daemonOpts returns the options of a bench logrolld with durability dur
// ("" for the default).
func (e *env) daemonOpts(dur string) daemonOpts {
	return daemonOpts{durability: dur, extra: e.extraRecords}
}

// tempDir makes a new folder in the run's temporary folder.
func (e *env) tempDir(prefix string) (string, error) { return os.MkdirTemp(e.root, prefix) }

// progress writes one progress line on stderr.
func (e *env) progress(format string, args ...any) {
	fmt.Fprintf(e.stderr, "logroll-bench: "+format+"\n", args...)
}

// options are the command line.
type options struct {
	quick, jsonOut, strict  bool
	noPrefault              bool
	logrolld, logrollctl    string
	dir                     string
	sections                string
	inputs                  string
	reps, text, json, batch int
	conns                   string
	seed                    uint64
	jsonBaseline            string
	extraRecords            string
	rolls                   int
	stall                   time.Duration
	rolledFiles, starts     int
	compressRollMB          int
	compressPace            float64
	compressPaced           time.Duration
	sustainedRollMB         int
	sustainedRolls          int
	serveBaseline           string
	baselineFile            string
}

// applyDefaults fills the zero values with the full or quick defaults.
func (o *options) applyDefaults() {
	def := func(p *int, full, quick int) {
		if *p == 0 {
			*p = full
			if o.quick {
				*p = quick
			}
		}
	}
	def(&o.reps, 3, 1)
	def(&o.text, 2_000_000, 20_000)
	def(&o.json, 500_000, 10_000)
	def(&o.rolls, 200, 10)
	def(&o.rolledFiles, 100_000, 2_000)
	def(&o.starts, 5, 2)
	def(&o.compressRollMB, 64, 1)
	if o.compressPaced == 0 {
		o.compressPaced = 10 * time.Second
		if o.quick {
			o.compressPaced = time.Second
		}
	}
	def(&o.sustainedRollMB, 100, 1)
	def(&o.sustainedRolls, 10, 3)
	if o.stall == 0 {
		o.stall = 10 * time.Second
		if o.quick {
			o.stall = 1700 * time.Millisecond
		}
	}
}

// parseConns parses "1,4,16".
func parseConns(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || n > 1024 {
			return nil, fmt.Errorf("-conns: %q is not a connection count (1-1024)", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseSections parses "throughput,roll".
func parseSections(s string) ([]string, error) { return parseNames("-only", "section", s, allSections) }

// parseInputs parses "syslog,pipe".
func parseInputs(s string) ([]string, error) { return parseNames("-inputs", "input", s, allInputs) }

// parseNames parses a comma-separated subset of all ("" or "all": all of
// them), for the flag named flag.
func parseNames(flag, what, s string, all []string) ([]string, error) {
	if s == "" || s == "all" {
		return all, nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !slices.Contains(all, f) {
			return nil, fmt.Errorf("%s: unknown %s %q (want some of %s)", flag, what, f, strings.Join(all, ","))
		}
		out = append(out, f)
	}
	return out, nil
}

// run is the command without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	var o options
	fl := flag.NewFlagSet("logroll-bench", flag.ContinueOnError)
	fl.SetOutput(stderr)
	fl.BoolVar(&o.quick, "quick", false, "small totals: finishes in seconds (what the tests run); figures not meaningful")
	fl.BoolVar(&o.jsonOut, "json", false, "print the results as JSON instead of the report")
	fl.BoolVar(&o.noPrefault, "no-prefault", false, "do not write and delete a run's bytes in its folder just before it (see docs/performance.md, \"The machine\")")
	fl.BoolVar(&o.strict, "strict", false, "exit 3 when a target fails (default: exit 0, it is a measurement tool)")
	fl.StringVar(&o.logrolld, "logrolld", "", "`path` of logrolld (default: go build ./cmd/logrolld into a temporary folder)")
	fl.StringVar(&o.logrollctl, "logrollctl", "", "`path` of logrollctl (default: go build ./cmd/logrollctl into a temporary folder)")
	fl.StringVar(&o.dir, "dir", "", "`folder` for the temporary folders (default: $TMPDIR or /tmp; try /dev/shm for tmpfs)")
	fl.StringVar(&o.sections, "only", "all", "`sections` to run, comma-separated: "+strings.Join(allSections, ","))
	fl.StringVar(&o.inputs, "inputs", "all", "`inputs` the inputs section compares with their baselines, comma-separated: "+strings.Join(allInputs, ","))
	fl.IntVar(&o.reps, "reps", 0, "alternating runs per server, format and connection count (default 3, quick 1)")
	fl.IntVar(&o.text, "text-records", 0, "text records per run (default 2000000, quick 20000)")
	fl.IntVar(&o.json, "json-records", 0, "json_batch records per run (default 500000, quick 10000)")
	fl.IntVar(&o.batch, "batch", 1000, "records per request")
	fl.StringVar(&o.conns, "conns", "1,4,16", "connection `counts`, comma-separated")
	fl.Uint64Var(&o.seed, "seed", 1, "seed of the record generator")
	fl.StringVar(&o.jsonBaseline, "json-baseline", baselineJSONMap, "JSON baseline: json-map ([]map[string]any + json.Marshal) or json-raw ([]json.RawMessage + json.Compact)")
	fl.StringVar(&o.extraRecords, "extra-records", "", "TOML `lines` added to [proxy.config.log] of every logrolld started, e.g. 'log_buffer_size = 262144' (experiments)")
	fl.IntVar(&o.rolls, "rolls", 0, "forced rolls per durability and path (default 200, quick 10)")
	fl.DurationVar(&o.stall, "stall-duration", 0, "length of the writer-stall measurement per durability (default 10s, quick 1.7s)")
	fl.IntVar(&o.rolledFiles, "rolled-files", 0, "rolled files in the folder for the start-up measurement (default 100000, quick 2000)")
	fl.IntVar(&o.starts, "starts", 0, "starts per start-up measurement (default 5, quick 2)")
	fl.IntVar(&o.compressRollMB, "compress-roll-mb", 0, "rolling_size_mb of the compression runs (default 64, quick 1)")
	fl.Float64Var(&o.compressPace, "compress-pace", 0.2, "rate of the paced compression runs, as a `fraction` of what compression off sustained in the rep (0: no paced runs)")
	fl.DurationVar(&o.compressPaced, "compress-paced-duration", 0, "length of a paced compression run (default 10s, quick 1s)")
	fl.IntVar(&o.sustainedRollMB, "sustained-roll-mb", 0, "rolling_size_mb of the sustained-load runs (default 100, quick 1)")
	fl.IntVar(&o.sustainedRolls, "sustained-rolls", 0, "size rolls per sustained-load run: its length (default 10, quick 3)")
	// Internal: the baseline server mode (the bench re-executes itself).
	fl.StringVar(&o.serveBaseline, "serve-baseline", "", "internal: serve as the baseline of `kind` text, json-map or json-raw")
	fl.StringVar(&o.baselineFile, "baseline-file", "", "internal: the baseline's output file")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: logroll-bench [-quick] [-json] [-strict] [-logrolld PATH -logrollctl PATH] [flags]")
		fl.VisitAll(func(f *flag.Flag) {
			if f.Name == "serve-baseline" || f.Name == "baseline-file" {
				return
			}
			name, usage := flag.UnquoteUsage(f)
			fmt.Fprintf(stderr, "  -%s %s\n    \t%s\n", f.Name, name, usage)
		})
	}
	if err := fl.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "logroll-bench: unexpected argument %q\n", fl.Arg(0))
		return 2
	}
	if o.serveBaseline != "" {
		return serveBaseline(o.serveBaseline, o.baselineFile)
	}
	o.applyDefaults()
	conns, err := parseConns(o.conns)
	if err == nil && (o.batch < 1 || o.reps < 1 || o.rolls < 1 || o.starts < 1 || o.text < 1 || o.json < 1 || o.rolledFiles < 0 || o.compressRollMB < 1 || o.compressPace < 0 || o.compressPace > 1 || o.compressPaced < 0 || o.sustainedRollMB < 1 || o.sustainedRolls < 1) {
		err = errors.New("-batch, -reps, -rolls, -starts, -compress-roll-mb, -sustained-roll-mb, -sustained-rolls and the record totals must be positive, -compress-pace within 0..1")
	}
	if err == nil && o.jsonBaseline != baselineJSONMap && o.jsonBaseline != baselineJSONRaw {
		err = fmt.Errorf("-json-baseline %q: want json-map or json-raw", o.jsonBaseline)
	}
	sections, serr := parseSections(o.sections)
	inputs, ierr := parseInputs(o.inputs)
	if err = errors.Join(err, serr, ierr); err != nil {
		fmt.Fprintf(stderr, "logroll-bench: %v\n", err)
		return 2
	}

	// Every child dies and every temporary folder goes on an interrupt.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	go func() {
		if sig, ok := <-sigs; ok {
			fmt.Fprintf(stderr, "logroll-bench: %v: killing the child processes\n", sig)
			killAll()
			os.Exit(130)
		}
	}()

	root, err := os.MkdirTemp(o.dir, "lrb")
	if err != nil {
		fmt.Fprintf(stderr, "logroll-bench: %v\n", err)
		return 1
	}
	registerDir(root)
	defer os.RemoveAll(root)

	e := &env{
		logrolld: o.logrolld, logrollctl: o.logrollctl, root: root, seed: o.seed,
		textRecords: o.text, jsonRecords: o.json, batch: o.batch, pool: 32, reps: o.reps,
		conns: conns, jsonBaseline: o.jsonBaseline, extraRecords: o.extraRecords, inputs: inputs, stderr: stderr,
		prefault: !o.noPrefault,
	}
	if o.quick {
		e.pool = 8
	}
	// The daemons run in their own folders: a relative path given on the
	// command line is relative to here.
	for _, p := range []*string{&e.logrolld, &e.logrollctl} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				fmt.Fprintf(stderr, "logroll-bench: %v\n", err)
				return 1
			}
		}
	}
	if e.logrolld == "" || e.logrollctl == "" {
		e.progress("building logrolld and logrollctl")
		bins, err := buildBinaries(root, "logrolld", "logrollctl")
		if err != nil {
			fmt.Fprintf(stderr, "logroll-bench: %v\n", err)
			return 1
		}
		if e.logrolld == "" {
			e.logrolld = bins[0]
		}
		if e.logrollctl == "" {
			e.logrollctl = bins[1]
		}
	}

	res, err := measure(context.Background(), e, o, sections)
	if err != nil {
		if interrupted() {
			select {} // the signal handler exits
		}
		fmt.Fprintf(stderr, "logroll-bench: %v\n", err)
		return 1
	}
	if o.jsonOut {
		if err := writeJSON(stdout, res); err != nil {
			fmt.Fprintf(stderr, "logroll-bench: %v\n", err)
			return 1
		}
	} else {
		writeReport(stdout, res)
	}
	if o.strict {
		for _, t := range res.Targets {
			if t.Status == statusFail {
				return 3
			}
		}
	}
	return 0
}

// measure runs the sections and evaluates the targets.
func measure(ctx context.Context, e *env, o options, sections []string) (*Results, error) {
	start := time.Now()
	res := &Results{Info: runInfo{
		Quick: o.quick, Sections: sections, Reps: e.reps, TextRecords: e.textRecords, JSONRecords: e.jsonRecords,
		Batch: e.batch, Conns: e.conns, Seed: e.seed, JSONBaseline: e.jsonBaseline, Rolls: o.rolls,
		RolledFiles: o.rolledFiles, GoVersion: runtime.Version(), CPUs: runtime.NumCPU(), LoadStart: loadAverage(),
		PageReportingOrder: pageReportingOrder(), Prefault: e.prefault,
		TextRecordBytes: avgRecordBytes(makeBatches(FormatText, e.seed, e.pool, e.batch)),
		JSONRecordBytes: avgRecordBytes(makeBatches(FormatJSON, e.seed, e.pool, e.batch)),
	}}
	has := func(s string) bool { return slices.Contains(sections, s) }
	if has(secThroughput) {
		runs, err := measureThroughput(ctx, e)
		if err != nil {
			return nil, err
		}
		res.Runs, res.Throughput = runs, aggregate(runs)
	}
	if has(secRoll) {
		for _, dur := range []string{"write", "roll"} {
			rows, err := measureRolls(ctx, e, dur, o.rolls)
			if err != nil {
				return nil, fmt.Errorf("forced rolls (durability %s): %w", dur, err)
			}
			for _, r := range rows {
				what := "forced roll"
				if r.Via == viaExec {
					what = "no roll    " // logrollctl -h alone, in turn with the rolls
				}
				e.progress("%s, durability %-5s via %-10s: p50 %.2f ms p99 %.2f ms", what, r.Durability, r.Via, r.P50ms, r.P99ms)
			}
			res.Roll = append(res.Roll, rows...)
		}
	}
	if has(secStall) {
		for _, dur := range []string{"write", "roll"} {
			s, err := measureStall(ctx, e, dur, o.stall)
			if err != nil {
				return nil, fmt.Errorf("writer stall (durability %s): %w", dur, err)
			}
			e.progress("writer stall, durability %-5s: %d rolls, stall %.2f ms (noise %.2f ms)", dur, s.Rolls, s.StallMs, s.NoiseMs)
			res.Stall = append(res.Stall, s)
		}
	}
	if has(secStartup) {
		counts := []int{0}
		if o.rolledFiles > 0 {
			counts = append(counts, o.rolledFiles)
		}
		for _, n := range counts {
			row, err := measureStartup(ctx, e, n, o.starts)
			if err != nil {
				return nil, fmt.Errorf("start-up with %d rolled files: %w", n, err)
			}
			e.progress("start-up with %d rolled files: healthz %.1f ms", n, row.HealthzMs)
			res.Startup = append(res.Startup, row)
		}
	}
	if has(secInputs) {
		runs, rows, err := measureInputs(ctx, e)
		if err != nil {
			return nil, fmt.Errorf("inputs: %w", err)
		}
		res.InputRuns, res.Inputs = runs, rows
	}
	if has(secShip) {
		sr, err := measureShip(ctx, e, o.quick)
		if err != nil {
			return nil, fmt.Errorf("shipping: %w", err)
		}
		res.Ship = sr
	}
	if has(secCompress) {
		rows, err := measureCompress(ctx, e, o.compressRollMB, o.compressPace, o.compressPaced)
		if err != nil {
			return nil, fmt.Errorf("compression: %w", err)
		}
		res.Compress = rows
		res.Info.CompressRollMB = o.compressRollMB
		if o.compressPace > 0 {
			res.Info.CompressPace, res.Info.CompressPacedSec = o.compressPace, o.compressPaced.Seconds()
		}
	}
	if has(secSustained) {
		rows, err := measureSustained(ctx, e, o.sustainedRollMB, o.sustainedRolls)
		if err != nil {
			return nil, fmt.Errorf("sustained load: %w", err)
		}
		res.Sustained = rows
		res.Info.SustainedRollMB, res.Info.SustainedRolls = o.sustainedRollMB, o.sustainedRolls
	}
	res.Targets = evalTargets(res)
	res.Info.LoadEnd = loadAverage()
	res.Info.Seconds = time.Since(start).Seconds()
	return res, nil
}

// loadAverage returns the 1-minute load average, "?" when unknown.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return "?"
	}
	return f[0]
}
