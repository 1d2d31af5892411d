package main

import (
	"context"
	"flag"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
	"github.com/logroll/logroll/internal/buildinfo"
)

func oldFile(log string, n int) ctl.RolledFile {
	return ctl.RolledFile{
		Log: log, Host: "web01", Start: t0, End: t0.Add(6 * 3600e9), Bytes: int64(1000 * n), Configured: true,
		Path: fmt.Sprintf("/var/log/logroll/%s.web01.20261121.06h00m00s-20261121.12h00m00s.%d.old", log, n),
	}
}

// rollFake rolls "access.log" and "error.log" (both when none is named);
// "empty.log" has nothing to roll, "broken.log" fails, others are unknown.
func rollFake() *ctltest.Fake {
	return &ctltest.Fake{RollFunc: func(_ context.Context, logs []string) (ctl.RollResponse, error) {
		if len(logs) == 0 {
			logs = []string{"access.log", "error.log", "empty.log"}
		}
		var r ctl.RollResponse
		for _, l := range logs {
			switch l {
			case "access", "access.log", "error.log":
				r.Rolled = append(r.Rolled, oldFile(strings.TrimSuffix(l, ".log")+".log", 1))
			case "empty.log":
			case "broken.log":
				r.Errors = append(r.Errors, "roll broken.log: rename: permission denied")
			default:
				return ctl.RollResponse{}, fmt.Errorf("roll: %w %q", ctl.ErrUnknownLog, l)
			}
		}
		return r, nil
	}}
}

func TestRoll(t *testing.T) {
	f := rollFake()
	sock := serveFake(t, f)
	access := oldFile("access.log", 1).Path + "\n"
	errorLog := oldFile("error.log", 1).Path + "\n"
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
		err  string
	}{
		{"all", []string{"roll"}, 0, access + errorLog, ""},
		{"one", []string{"roll", "access"}, 0, access, ""},
		{"nothing to roll", []string{"roll", "empty.log"}, 0, "", ""},
		{"flags after", []string{"roll", "access", "-socket", sock[1]}, 0, access, ""},
		{"partial", []string{"roll", "access", "broken.log"}, 1, access, "logrollctl: roll: roll broken.log: rename: permission denied\n"},
		{"unknown log", []string{"roll", "nope"}, 1, "", "logrollctl: roll: unknown log \"nope\"\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := tc.args
			if !slices.Contains(args, "-socket") {
				args = append(slices.Clone(sock), args...)
			}
			r := ctlRun(t, args...)
			r.want(t, tc.code, tc.out)
			if r.stderr != tc.err {
				t.Errorf("stderr = %q, want %q", r.stderr, tc.err)
			}
		})
	}
}

func TestRollJSONInterspersed(t *testing.T) {
	f := rollFake()
	sock := serveFake(t, f)
	for _, args := range [][]string{
		{"roll", "--json", "access"},
		{"roll", "access", "--json"},
		{"--json", "roll", "access"},
		{"roll", "-json", "access", "-socket", sock[1]},
		{"roll", "--json=true", "--", "access"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			if !slices.Contains(args, "-socket") {
				args = append(slices.Clone(sock), args...)
			}
			r := ctlRun(t, args...)
			r.want(t, 0, "*")
			var resp ctl.RollResponse
			r.decodeJSON(t, &resp)
			if len(resp.Rolled) != 1 || resp.Rolled[0] != oldFile("access.log", 1) {
				t.Errorf("rolled = %+v", resp.Rolled)
			}
		})
	}
	for _, c := range f.Calls() {
		if !slices.Equal(c.Logs, []string{"access"}) {
			t.Errorf("the daemon was asked to roll %q, want [access]", c.Logs)
		}
	}
	// A partial roll prints its JSON and still exits 1.
	r := ctlRun(t, append(sock, "roll", "--json", "access", "broken.log")...)
	r.want(t, 1, "*")
	var resp ctl.RollResponse
	r.decodeJSON(t, &resp)
	if len(resp.Errors) != 1 || len(resp.Rolled) != 1 {
		t.Errorf("partial roll JSON = %+v", resp)
	}
}

func TestRolled(t *testing.T) {
	f := &ctltest.Fake{RolledFunc: func(logs []string) ([]ctl.RolledFile, error) {
		if slices.Contains(logs, "nope") {
			return nil, fmt.Errorf("rolled: %w %q", ctl.ErrUnknownLog, "nope")
		}
		return []ctl.RolledFile{oldFile("access.log", 1), oldFile("access.log", 2)}, nil
	}}
	sock := serveFake(t, f)
	r := ctlRun(t, append(sock, "rolled", "access")...)
	p1, p2 := oldFile("access.log", 1).Path, oldFile("access.log", 2).Path
	r.want(t, 0, p1+"\taccess.log\tweb01\t2026-11-21T06:00:00Z\t2026-11-21T12:00:00Z\t1000\n"+
		p2+"\taccess.log\tweb01\t2026-11-21T06:00:00Z\t2026-11-21T12:00:00Z\t2000\n")

	r = ctlRun(t, append(sock, "rolled", "--json")...)
	r.want(t, 0, "*")
	var resp ctl.RolledResponse
	r.decodeJSON(t, &resp)
	if len(resp.Rolled) != 2 || resp.Rolled[1] != oldFile("access.log", 2) {
		t.Errorf("rolled --json = %+v", resp)
	}

	ctlRun(t, append(sock, "rolled", "nope")...).want(t, 1, "")
	calls := f.Calls()
	if !slices.Equal(calls[0].Logs, []string{"access"}) || calls[1].Logs != nil {
		t.Errorf("calls = %+v", calls)
	}
}

func metricsFake() *ctltest.Fake {
	return &ctltest.Fake{MetricList: []ctl.Metric{
		{Name: "proxy.process.log.records_written", Type: "counter", Value: 12345678901},
		{Name: "proxy.process.log.records_written", Labels: map[string]string{"log": "error.log"}, Type: "counter", Value: 1},
		{Name: "proxy.process.log.records_written", Labels: map[string]string{"log": "access.log"}, Type: "counter", Value: 12345678900},
		{Name: "proxy.process.log.rolls", Labels: map[string]string{"log": "access.log", "cause": "size"}, Type: "counter", Value: 2},
		{Name: "proxy.process.log.space_free_ratio", Type: "gauge", Value: 0.5},
	}}
}

func TestMetric(t *testing.T) {
	sock := serveFake(t, metricsFake())
	written := "proxy.process.log.records_written 12345678901\n" +
		"proxy.process.log.records_written{log=\"access.log\"} 12345678900\n" +
		"proxy.process.log.records_written{log=\"error.log\"} 1\n"
	rolls := "proxy.process.log.rolls{cause=\"size\",log=\"access.log\"} 2\n"
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"metric", "get", "proxy.process.log.rolls", "proxy.process.log.records_written"}, 0, rolls + written, ""},
		{[]string{"metric", "get", "proxy.process.log.space_free_ratio"}, 0, "proxy.process.log.space_free_ratio 0.5\n", ""},
		{[]string{"metric", "get", "proxy.process.log.roll", "proxy.process.log.rolls"}, 1, rolls,
			"logrollctl: metric get: no metric \"proxy.process.log.roll\" (did you mean \"proxy.process.log.rolls\"?)\n"},
		{[]string{"metric", "match", "records"}, 0, written, ""},
		{[]string{"metric", "match", "^nothing$"}, 0, "", ""},
		{[]string{"metric", "match", "("}, 1, "", "*"},
		{[]string{"metric", "get"}, 2, "", "*"},
		{[]string{"metric", "match", "a", "b"}, 2, "", "*"},
		{[]string{"metric"}, 2, "", "*"},
		{[]string{"metric", "list"}, 2, "", "*"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := ctlRun(t, append(slices.Clone(sock), tc.args...)...)
			r.want(t, tc.code, tc.out)
			if tc.err != "*" && r.stderr != tc.err {
				t.Errorf("stderr = %q, want %q", r.stderr, tc.err)
			}
		})
	}
	r := ctlRun(t, append(sock, "metric", "match", "--json", "rolls|ratio")...)
	r.want(t, 0, "*")
	var resp ctl.MetricsResponse
	r.decodeJSON(t, &resp)
	if len(resp.Metrics) != 2 || resp.Metrics[0].Name != "proxy.process.log.rolls" {
		t.Errorf("metric match --json = %+v", resp)
	}
}

func TestStatus(t *testing.T) {
	st := ctl.Status{
		PID: 4242, Started: t0, Config: "/etc/logroll/records.toml", Dir: "/var/log/logroll", Host: "web01",
		Socket: "/run/logroll/logrolld.sock", Accepting: true,
		Space: &ctl.SpaceStatus{State: "low", Reason: "used 3.0 GiB + headroom 1.0 GiB ≥ limit 4.0 GiB", Used: 3 << 30, Limit: 4 << 30, Headroom: 1 << 30,
			PartitionFree: 100 << 30, PartitionHeadroom: 1 << 30, PartitionFreeInodes: -1, AutoDelete: true, DeletedFiles: 3, DeletedBytes: 30 << 20,
			DeletedByRule: map[string]int64{"budget": 2, "max_count": 1}},
		Logs: []ctl.LogStatus{
			{Name: "access.log", ActiveBytes: 1536, Start: t0, Rolled: 4, RolledBytes: 40 << 20},
			{Name: "error.log"},
		},
	}
	sock := serveFake(t, &ctltest.Fake{StatusResp: st})
	r := ctlRun(t, append(sock, "status")...)
	r.want(t, 0, `pid:         4242
started:     2026-11-21T06:00:00Z
config:      /etc/logroll/records.toml
dir:         /var/log/logroll
host:        web01
listen:      (disabled)
socket:      /run/logroll/logrolld.sock
accepting:   yes
space:
  state:          low
  reason:         used 3.0 GiB + headroom 1.0 GiB ≥ limit 4.0 GiB
  used:           3.0 GiB
  limit:          4.0 GiB
  headroom:       1.0 GiB
  partition free: 100.0 GiB (headroom kept: 1.0 GiB)
  auto delete:    yes
  deleted:        3 files, 30.0 MiB (budget 2, max_count 1, max_age 0, max_total 0, shipped 0)
logs:
  NAME        ACTIVE   START                 ROLLED  ROLLED BYTES
  access.log  1.5 KiB  2026-11-21T06:00:00Z  4       40.0 MiB
  error.log   0 B      -                     0       0 B
`)
	r = ctlRun(t, append(sock, "status", "--json")...)
	r.want(t, 0, "*")
	var got ctl.Status
	r.decodeJSON(t, &got)
	if got.PID != 4242 || got.Space == nil || got.Space.Used != 3<<30 || len(got.Logs) != 2 {
		t.Errorf("status --json = %+v", got)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{nil, 2},
		{[]string{"bogus"}, 2},
		{[]string{"config"}, 2},
		{[]string{"config", "bogus"}, 2},
		{[]string{"config", "get"}, 2},
		{[]string{"config", "describe"}, 2},
		{[]string{"config", "describe", "a", "b"}, 2},
		{[]string{"config", "reload", "x"}, 2},
		{[]string{"config", "check", "a", "b"}, 2},
		{[]string{"status", "x"}, 2},
		{[]string{"status", "-bogus"}, 2},
		{[]string{"-socket"}, 2},
		{[]string{"roll", "--json=maybe"}, 2},
		{[]string{"-h"}, 0},
		{[]string{"help"}, 0},
		{[]string{"roll", "--help"}, 0},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := ctlRun(t, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d; stderr:\n%s", r.code, tc.code, r.stderr)
			}
			if tc.code == 2 {
				// The error, one usage line and where the help is: three
				// lines, so that the error stays in sight.
				ls := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
				if (r.stdout != "") != wantsJSON(tc.args) || len(ls) != 3 || !strings.HasPrefix(ls[0], "logrollctl: ") ||
					!strings.HasPrefix(ls[1], "usage: logrollctl") || !strings.Contains(ls[2], "logrollctl help") {
					t.Errorf("usage error: stdout %q, stderr %q", r.stdout, r.stderr)
				}
				// --json: the same, and one JSON document saying it.
				j := ctlRun(t, append(slices.Clone(tc.args), "--json")...)
				if len(tc.args) > 0 && tc.args[len(tc.args)-1] == "-socket" {
					j = ctlRun(t, append([]string{"--json"}, tc.args...)...)
				}
				var doc errorOutput
				j.decodeJSON(t, &doc)
				if j.code != 2 || doc.Exit != 2 || doc.Error == "" || j.stderr != r.stderr {
					t.Errorf("usage error with --json: exit %d, document %+v, stderr %q", j.code, doc, j.stderr)
				}
			} else if !strings.Contains(r.stdout, "usage: logrollctl") || !strings.Contains(r.stdout, "Exit codes:") || r.stderr != "" {
				t.Errorf("help: stdout %q, stderr %q", r.stdout, r.stderr)
			}
		})
	}
}

// TestUsageLineOfVerb: a verb given the wrong number of arguments prints
// its own usage line.
func TestUsageLineOfVerb(t *testing.T) {
	r := ctlRun(t, "config", "describe")
	if r.code != 2 || !strings.Contains(r.stderr, "\nusage: logrollctl config describe NAME\n") {
		t.Errorf("exit %d, stderr %q, want 2 and the verb's usage line", r.code, r.stderr)
	}
}

// TestVersion: `version` and -version print the build in one line, --json
// as one document; no daemon is needed.
func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"-version"}, {"-socket", "/nonexistent", "version"}} {
		r := ctlRun(t, args...)
		if r.code != 0 || !strings.HasPrefix(r.stdout, "logrollctl ") || strings.Count(r.stdout, "\n") != 1 ||
			!strings.Contains(r.stdout, runtime.Version()) || r.stderr != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
	r := ctlRun(t, "version", "--json")
	var info buildinfo.Info
	r.decodeJSON(t, &info)
	if r.code != 0 || info.Program != "logrollctl" || info.Version == "" || info.Go != runtime.Version() {
		t.Errorf("version --json: exit %d, %+v", r.code, info)
	}
}

func TestParseInterspersed(t *testing.T) {
	for _, tc := range []struct {
		args []string
		pos  []string
		json bool
		cfg  string
	}{
		{[]string{"roll", "a", "--json", "b"}, []string{"roll", "a", "b"}, true, ""},
		{[]string{"-config", "f", "roll"}, []string{"roll"}, false, "f"},
		{[]string{"roll", "-config=f", "a"}, []string{"roll", "a"}, false, "f"},
		{[]string{"metric", "match", "--", "-x", "--json"}, []string{"metric", "match", "-x", "--json"}, false, ""},
		{[]string{"-config", "--", "roll", "--json"}, []string{"roll"}, true, "--"},
		{[]string{"roll", "-", "x"}, []string{"roll", "-", "x"}, false, ""},
		{nil, nil, false, ""},
	} {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		var json bool
		var cfg string
		fs.BoolVar(&json, "json", false, "")
		fs.StringVar(&cfg, "config", "", "")
		pos, err := parseInterspersed(fs, tc.args)
		if err != nil || !slices.Equal(pos, tc.pos) || json != tc.json || cfg != tc.cfg {
			t.Errorf("parse %q = %q json=%v config=%q, %v; want %q json=%v config=%q", tc.args, pos, json, cfg, err, tc.pos, tc.json, tc.cfg)
		}
	}
}

func TestFormatBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 10 << 20: "10.0 MiB", 5 << 40: "5.0 TiB", 5 << 50: "5120.0 TiB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}
