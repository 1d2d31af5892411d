package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/internal/s3test"
)

// The binaries TestMain builds: the bench itself (it re-executes itself as
// the baseline server, which a test binary cannot do), logrolld and
// logrollctl.
var benchBin, daemonBin, ctlBin string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "lrb-test-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bins, err := buildBinaries(dir, "logroll-bench", "logrolld", "logrollctl")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	benchBin, daemonBin, ctlBin = bins[0], bins[1], bins[2]
	return m.Run()
}

// runBench runs the bench binary with args and returns stdout, failing the
// test unless it exits 0.
func runBench(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	args = append([]string{"-logrolld", daemonBin, "-logrollctl", ctlBin, "-dir", tmp}, args...)
	cmd := exec.CommandContext(ctx, benchBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("logroll-bench %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	// Everything it made under -dir is gone.
	if ents, err := os.ReadDir(tmp); err != nil || len(ents) != 0 {
		t.Errorf("logroll-bench left %d entries in -dir (%v)", len(ents), err)
	}
	return stdout.String()
}

// TestQuick runs `logroll-bench -quick` and checks that the report has every
// row and a verdict for every target. Figures are not checked: the machine
// is shared and noisy, and -quick totals are too small to mean anything.
//
// The ship section needs versitygw and the aws CLI (.ci/run installs
// both); without them it is left out and its two targets are n/a.
func TestQuick(t *testing.T) {
	args, na := []string{"-quick"}, 0
	if _, err := exec.LookPath("aws"); err != nil || s3test.Binary() == "" {
		t.Logf("versitygw or the aws CLI missing: the ship section is left out")
		args, na = append(args, "-only", "throughput,roll,stall,startup,inputs,compress,sustained"), 2
	}
	out := runBench(t, args...)
	t.Logf("report:\n%s", out)
	rows := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		if m := reportRow.FindStringSubmatch(l); m != nil {
			rows[m[1]+"/"+m[2]+"/"+m[3]] = true
		}
	}
	for _, f := range []string{"text", "json"} {
		for _, c := range []string{"1", "4", "16"} {
			for _, s := range []string{serverLogroll, serverBaseline, serverRatio} {
				if !rows[f+"/"+c+"/"+s] {
					t.Errorf("no throughput row %s %s %s", f, c, s)
				}
			}
		}
	}
	for _, re := range []string{
		`(?m)^\s*write\s+logrollctl\s+10\s`, `(?m)^\s*write\s+socket\s+10\s`, `(?m)^\s*write\s+exec only\s+10\s`,
		`(?m)^\s*roll\s+logrollctl\s+10\s`, `(?m)^\s*roll\s+socket\s+10\s`, `(?m)^\s*roll\s+exec only\s+10\s`,
		`(?m)^write: logrollctl p50 [\d.]+ ms vs exec only \+ socket p50 [\d.]+ \+ [\d.]+ = [\d.]+ ms$`,
		`(?m)^roll: logrollctl p50 [\d.]+ ms vs exec only \+ socket p50 [\d.]+ \+ [\d.]+ = [\d.]+ ms$`,
		`(?m)^(PASS|FAIL)\s+forced roll p99, durable, daemon \(POST /v1/roll on the admin socket\)\s`,
		`(?m)^\s*write\s+\d+\s+[\d.]+\s+\d+\s+\d+(\s+[\d.]+){8}\s*$`, // stall rows
		`(?m)^\s*roll\s+\d+\s+[\d.]+\s+\d+\s+\d+(\s+[\d.]+){8}\s*$`,
		`(?m)^\s*0\s+2(\s+[\d.]+){3}\s*$`, `(?m)^\s*2000\s+2(\s+[\d.]+){3}\s*$`, // start-up rows
		`(?m)^\s*none(\s+[\d.]+){7}\s*$`, `(?m)^\s*zstd(\s+[\d.]+){7}\s*$`, `(?m)^\s*gzip(\s+[\d.]+){7}\s*$`, // compression rows
		`(?m)^\s*zstd ÷ none(\s+([\d.]+×|-)){5}(\s+[\d.]+){2}\s*$`, `(?m)^\s*gzip ÷ none(\s+([\d.]+×|-)){5}(\s+[\d.]+){2}\s*$`, // "-": a ratio over a CPU time too short to measure
		`(?m)^\s*none paced(\s+[\d.]+){7}\s*$`, `(?m)^\s*zstd paced(\s+[\d.]+){7}\s*$`, `(?m)^\s*gzip paced(\s+[\d.]+){7}\s*$`,
		`(?m)^\s*zstd paced ÷ none(\s+([\d.]+×|-)){5}(\s+[\d.]+){2}\s*$`, `(?m)^\s*gzip paced ÷ none(\s+([\d.]+×|-)){5}(\s+[\d.]+){2}\s*$`,
		`(?m)^\s*baseline(\s+[\d.]+){5}\s+0\s+0\.00\s*$`, `(?m)^\s*roll(\s+[\d.]+){5}\s+3\s+[\d.]+\s*$`, `(?m)^\s*write(\s+[\d.]+){5}\s+3\s+[\d.]+\s*$`, // sustained rows
		`(?m)^\s*roll ÷ baseline(\s+([\d.]+×|-)){5}\s+3\s+[\d.]+\s*$`, `(?m)^\s*write ÷ baseline(\s+([\d.]+×|-)){5}\s+3\s+[\d.]+\s*$`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("report has no line matching %s", re)
		}
	}
	for _, re := range []string{ // input rows
		`(?m)^\s*syslog tcp\s+http text\s+\d+\s+\d+\s+[\d.]+×`,
		`(?m)^\s*https \+ token\s+http text\s+\d+\s+\d+\s+[\d.]+×`,
		`(?m)^\s*logrollctl pipe\s+rotatelogs\s+\d+\s+\d+\s+[\d.]+×`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("report has no line matching %s", re)
		}
	}
	verdicts := regexp.MustCompile(`(?m)^(PASS|FAIL|n/a)\s+\S`).FindAllString(out, -1)
	if len(verdicts) != 20 {
		t.Errorf("%d target lines, want 20", len(verdicts))
	}
	if na == 0 && !regexp.MustCompile(`(?m)^\s*1\s+\d+\s+\d+\s+[\d.]+×?\s*$`).MatchString(out) {
		t.Errorf("no shipping row")
	}
	if !regexp.MustCompile(fmt.Sprintf(`(?m)^\d+ PASS, \d+ FAIL, %d n/a$`, na)).MatchString(out) {
		t.Errorf("no target summary with every target measured")
	}
}

// TestJSONOutput runs one section with -json.
func TestJSONOutput(t *testing.T) {
	out := runBench(t, "-quick", "-json", "-only", "startup", "-rolled-files", "10", "-starts", "1")
	var r struct {
		Startup []startupRow `json:"startup"`
		Targets []struct {
			Status string `json:"status"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-json output does not decode: %v\n%s", err, out)
	}
	if len(r.Startup) != 2 || r.Startup[1].RolledFiles != 10 || r.Startup[1].HealthzMs <= 0 {
		t.Errorf("startup = %+v", r.Startup)
	}
	if len(r.Targets) != 20 {
		t.Errorf("%d targets, want 20", len(r.Targets))
	}
}

// TestJSONRoll runs the forced-roll section with -json: three paths per
// durability, exec only included, and the target read from the socket row.
func TestJSONRoll(t *testing.T) {
	out := runBench(t, "-quick", "-json", "-only", "roll", "-rolls", "3")
	var r struct {
		Roll    []rollRow `json:"roll"`
		Targets []struct {
			Name     string   `json:"name"`
			Measured *float64 `json:"measured"`
			Status   string   `json:"status"`
		} `json:"targets"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-json output does not decode: %v\n%s", err, out)
	}
	var got []string
	for _, x := range r.Roll {
		got = append(got, x.Durability+"/"+x.Via)
		if x.Rolls != 3 || x.P50ms <= 0 || x.P99ms < x.P50ms || x.MaxMs < x.P99ms {
			t.Errorf("roll row %+v", x)
		}
	}
	want := []string{"write/logrollctl", "write/socket", "write/exec only", "roll/logrollctl", "roll/socket", "roll/exec only"}
	if !slices.Equal(got, want) {
		t.Errorf("roll rows %q, want %q", got, want)
	}
	if len(r.Targets) != 20 || r.Targets[4].Status == statusNA || r.Targets[4].Measured == nil || *r.Targets[4].Measured != r.Roll[4].P99ms {
		t.Errorf("roll target = %+v, want the p99 of roll/socket (%+v)", r.Targets[4], r.Roll[4])
	}
}

// TestUsage checks the usage errors' exit code.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-conns", "0"}, {"-only", "nope"}, {"-json-baseline", "x"}, {"-compress-pace", "1.5"}, {"extra"}} {
		cmd := exec.Command(benchBin, args...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
			t.Errorf("logroll-bench %s: %v, want exit 2\n%s", strings.Join(args, " "), err, out)
		}
	}
}

// TestBuildFindsModule checks the module lookup used to build the binaries.
func TestBuildFindsModule(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := moduleRoot(wd)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "logrolld")); err != nil {
		t.Errorf("module root %s has no cmd/logrolld: %v", root, err)
	}
	if _, err := moduleRoot(t.TempDir()); err == nil {
		t.Error("moduleRoot found logroll above a temporary folder")
	}
}
