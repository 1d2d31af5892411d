package main

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strings"
	"testing"
)

func TestAggregate(t *testing.T) {
	run := func(server string, rep int, rate, p99 float64) runResult {
		return runResult{Format: FormatText, Conns: 4, Server: server, Rep: rep,
			RecordsPerSec: rate, MBPerSec: rate / 1000, P50ms: 1, P99ms: p99, CPUSecPerGB: 1, PeakRSSMiB: 10}
	}
	runs := []runResult{
		run(serverLogroll, 0, 90, 2), run(serverBaseline, 0, 100, 2),
		run(serverBaseline, 1, 200, 4), run(serverLogroll, 1, 100, 8), // a slow pair: ratio 0.5
		run(serverLogroll, 2, 95, 3), run(serverBaseline, 2, 100, 2),
		{Format: FormatJSON, Conns: 1, Server: serverLogroll, Rep: 0, RecordsPerSec: 7},
	}
	rows := aggregate(runs)
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4 (text logroll, baseline, ratio; json logroll): %+v", len(rows), rows)
	}
	for i, want := range []struct {
		server string
		rate   float64
		p99    float64
	}{
		{serverLogroll, 95, 3},
		{serverBaseline, 100, 2},
		{serverRatio, 0.9, 1.5}, // medians of per-rep ratios: 0.9, 0.5, 0.95 and 1, 2, 1.5
	} {
		r := rows[i]
		if r.Format != FormatText || r.Conns != 4 || r.Server != want.server ||
			math.Abs(r.RecordsPerSec-want.rate) > 1e-9 || math.Abs(r.P99ms-want.p99) > 1e-9 {
			t.Errorf("row %d = %+v, want %s rate %v p99 %v", i, r, want.server, want.rate, want.p99)
		}
	}
	if r := rows[3]; r.Format != FormatJSON || r.Server != serverLogroll || r.RecordsPerSec != 7 {
		t.Errorf("row 3 = %+v, want json logroll 7", r)
	}
}

// reportRow matches a throughput row of the report.
var reportRow = regexp.MustCompile(`^\s*(text|json)\s+(\d+)\s+(logroll|baseline|ratio)((?:\s+\S+){6})\s*$`)

func TestReport(t *testing.T) {
	r := goodResults()
	r.Throughput = append(r.Throughput, tpRow{Format: FormatJSON, Conns: 1, Server: serverRatio,
		RecordsPerSec: math.Inf(1), MBPerSec: math.NaN(), P50ms: 0.5, P99ms: 0.25, CPUSecPerGB: 1, PeakRSSMiB: 2})
	r.Targets = evalTargets(r)
	var b bytes.Buffer
	writeReport(&b, r)
	out := b.String()
	var rows int
	for _, l := range strings.Split(out, "\n") {
		if m := reportRow.FindStringSubmatch(l); m != nil {
			rows++
			cells := strings.Fields(m[4])
			if m[3] == serverRatio {
				for _, c := range cells {
					if c != "-" && !strings.HasSuffix(c, "×") {
						t.Errorf("ratio cell %q in %q has no ×", c, l)
					}
				}
			}
		}
	}
	if rows != len(r.Throughput) {
		t.Errorf("%d throughput rows in the report, want %d:\n%s", rows, len(r.Throughput), out)
	}
	for _, re := range []string{
		`(?m)^\s*roll\s+socket\s+0\s+1\.50\s+4\.00\s`,
		`(?m)^\s*roll\s+logrollctl\s+0\s+6\.00\s+9\.00\s`,
		`(?m)^\s*roll\s+exec only\s+0\s+4\.00\s+8\.00\s`,
		`(?m)^roll: logrollctl p50 6\.00 ms vs exec only \+ socket p50 4\.00 \+ 1\.50 = 5\.50 ms$`,
		`(?m)^PASS\s+forced roll p99, durable, daemon \(POST /v1/roll on the admin socket\)\s+4\.00 ms\s+\(≤ 5\.00 ms\)$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("report has no line matching %s:\n%s", re, out)
		}
	}
	if re := regexp.MustCompile(`(?m)^\s*syslog tcp\s+http text\s+0\s+0\s+0\.85×\s+0\.000\s+0\.000\s*$`); !re.MatchString(out) {
		t.Errorf("report has no line matching %s:\n%s", re, out)
	}
	if strings.Contains(out, "write: logrollctl p50") {
		t.Errorf("report compares the paths of durability write, which has only a socket row:\n%s", out)
	}
	for _, want := range []string{
		"PASS  text records/s at 4 conns, logroll ÷ baseline",
		"0.95×  (≥ 0.90×)",
		"1200000 records/s  (≥ 1000000 records/s)",
		"20 PASS, 0 FAIL, 0 n/a",
		"PASS  logrollctl pipe records/s ÷ rotatelogs",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if re := regexp.MustCompile(`(?m)^\s*json\s+1\s+ratio\s+-\s+-\s+0\.50×\s+0\.25×\s+1\.00×\s+2\.00×$`); !re.MatchString(out) {
		t.Errorf("report has no line matching %s:\n%s", re, out)
	}

	// -json: non-finite figures become null, and the document decodes.
	b.Reset()
	if err := writeJSON(&b, r); err != nil {
		t.Fatal(err)
	}
	var back struct {
		Throughput []map[string]any `json:"throughput"`
		Roll       []map[string]any `json:"roll"`
		Targets    []map[string]any `json:"targets"`
	}
	if err := json.Unmarshal(b.Bytes(), &back); err != nil {
		t.Fatalf("JSON output does not decode: %v\n%s", err, b.String())
	}
	last := back.Throughput[len(back.Throughput)-1]
	if last["records_per_sec"] != nil || last["mb_per_sec"] != nil || last["p50_ms"] != 0.5 {
		t.Errorf("last row = %v, want null rates and p50 0.5", last)
	}
	if len(back.Roll) != 4 || back.Roll[3]["via"] != viaExec || back.Roll[3]["durability"] != "roll" ||
		back.Roll[3]["p50_ms"] != 4.0 || back.Roll[3]["p99_ms"] != 8.0 {
		t.Errorf("roll = %v, want the exec only row last", back.Roll)
	}
	if len(back.Targets) != 20 || back.Targets[0]["status"] != statusPass {
		t.Errorf("targets = %v", back.Targets)
	}
}
