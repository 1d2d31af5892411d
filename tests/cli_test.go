package tests

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The command lines themselves, as a new user meets them: help, version,
// usage errors, and --json's promise of exactly one JSON document whatever
// happens (docs/daemon.md, docs/logrollctl.md).

// runDaemonCmd runs logrolld with args to its end (for the flags that do not
// start it) and returns stdout, stderr and the exit code.
func runDaemonCmd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	r := runProgram(t, daemonBin, args...)
	return r.stdout, r.stderr, r.code
}

// checkVersionLine checks one -version line of program: its name, the Go
// version the tests were built with (the binaries are built by the same
// toolchain), and, when the binary knows its commit, that it is the
// checkout's.
func checkVersionLine(t *testing.T, program, line string) {
	t.Helper()
	if !strings.HasPrefix(line, program+" ") || strings.Count(line, "\n") != 1 || !strings.Contains(line, runtime.Version()) {
		t.Errorf("%s version: %q, want one line naming the program and %s", program, line, runtime.Version())
	}
	if m := regexp.MustCompile(`commit ([0-9a-f]+)`).FindStringSubmatch(line); m != nil {
		root, _ := moduleRoot()
		head, err := exec.Command("git", "-C", root, "rev-parse", "HEAD").Output()
		if err == nil && strings.TrimSpace(string(head)) != m[1] {
			t.Errorf("%s version names commit %s, the checkout is at %s", program, m[1], head)
		}
	}
}

// TestDaemonHelpAndVersion: -h (and -help, --help) prints on stdout what
// logrolld does, its flags, signals, exit codes and where the docs are, and
// exits 0; -version prints one line and exits 0; a usage error prints the
// error, the one usage line and where the help is, and exits 2.
func TestDaemonHelpAndVersion(t *testing.T) {
	for _, flag := range []string{"-h", "-help", "--help"} {
		stdout, stderr, code := runDaemonCmd(t, flag)
		if code != 0 || stderr != "" {
			t.Errorf("logrolld %s: exit %d, stderr %q, want 0 and nothing", flag, code, stderr)
		}
		for _, want := range []string{"logroll's daemon", "usage: logrolld", "-config FILE", "-version",
			"Signals:", "SIGHUP", "SIGTERM", "SIGUSR2", "Retry-After", "Exit codes:", "docs/daemon.md"} {
			if !strings.Contains(stdout, want) {
				t.Errorf("logrolld %s does not say %q:\n%s", flag, want, stdout)
			}
		}
	}
	stdout, stderr, code := runDaemonCmd(t, "-version")
	if code != 0 || stderr != "" {
		t.Errorf("logrolld -version: exit %d, stderr %q", code, stderr)
	}
	checkVersionLine(t, "logrolld", stdout)

	for _, args := range [][]string{{"-frob"}, {"-config"}, {"extra"}, {"-version=maybe"}} {
		stdout, stderr, code := runDaemonCmd(t, args...)
		ls := lines(stderr)
		if code != 2 || stdout != "" || len(ls) != 3 || !strings.HasPrefix(ls[0], "logrolld: ") ||
			ls[1] != "usage: logrolld [-config FILE] [-version]" || !strings.Contains(ls[2], "logrolld -h") {
			t.Errorf("logrolld %q: exit %d, stdout %q, stderr %q; want 2, the error, the usage line and the help hint", args, code, stdout, stderr)
		}
	}
}

// TestCtlHelpAndVersion: logrollctl's help is on stdout with exit 0; its
// version needs no daemon; status shows the daemon's version, which is
// logrolld -version's.
func TestCtlHelpAndVersion(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"-h"}, {"--help"}, {"roll", "--help"}} {
		r := runCtl(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("want exit 0 and no stderr: %v", r)
		}
		for _, want := range []string{"controls a running logrolld", "Verbs:", "Flags", "--json", "Exit codes:", "docs/logrollctl.md"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("logrollctl %q does not say %q:\n%s", args, want, r.stdout)
			}
		}
	}
	for _, args := range [][]string{{"version"}, {"-version"}, {"-socket", "/nonexistent/x.sock", "version"}} {
		r := runCtl(t, args...)
		if r.code != 0 || r.stderr != "" {
			t.Errorf("want exit 0 and no stderr: %v", r)
		}
		checkVersionLine(t, "logrollctl", r.stdout)
	}

	d := startDaemon(t, writeConfig(t, tempDir(t), conf{}.toml()))
	daemonVersion, _, _ := runDaemonCmd(t, "-version")
	want := strings.TrimPrefix(strings.TrimSpace(daemonVersion), "logrolld ")
	if got := statusField(d.ctl(t, "status").stdout, "version"); got != want {
		t.Errorf("status version %q, want logrolld -version's %q", got, want)
	}
}

// TestCtlUsageErrorIsShort: a usage error prints the error, one usage line
// (the verb's own when the verb is known) and where the help is, not the
// whole help, which would scroll the error away.
func TestCtlUsageErrorIsShort(t *testing.T) {
	for _, tc := range []struct {
		args []string
		line string
	}{
		{[]string{"frobnicate"}, "usage: logrollctl [-config FILE | -socket PATH] [--json] VERB [ARG…]"},
		{[]string{"--frob", "status"}, "usage: logrollctl [-config FILE | -socket PATH] [--json] VERB [ARG…]"},
		{[]string{"config", "describe"}, "usage: logrollctl config describe NAME"},
		{[]string{"metric", "match", "a", "b"}, "usage: logrollctl metric match REGEX"},
	} {
		r := runCtl(t, tc.args...)
		ls := lines(r.stderr)
		if r.code != 2 || r.stdout != "" || len(ls) != 3 || !strings.HasPrefix(ls[0], "logrollctl: ") ||
			ls[1] != tc.line || !strings.Contains(ls[2], "logrollctl help") {
			t.Errorf("want exit 2 and three lines: the error, %q, the help hint: %v", tc.line, r)
		}
	}
}

// TestCtlJSONEveryOutcome runs verbs with --json in every outcome: done,
// refused or failed (1), usage error (2), daemon not reachable (3). Each
// prints exactly one JSON document on stdout; a failure without a document
// of its own prints {"error": …, "exit_code": N} with its exit code, and
// the problems of an invalid file under "problems".
func TestCtlJSONEveryOutcome(t *testing.T) {
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	missing := filepath.Join(dir, "none", "logrolld.sock")
	bad := filepath.Join(tempDir(t), "records.toml")
	badText := conf{Extra: "rolling_size_mb = \"big\"\n"}.toml()
	writeConfig(t, filepath.Dir(bad), badText)
	line, col := position(t, badText, `"big"`)
	badProblem := bad + ":" + itoa(line) + ":" + itoa(col) + ": proxy.config.log.rolling_size_mb: "

	type doc struct {
		Error    *string  `json:"error"`
		Exit     int      `json:"exit_code"`
		Problems []string `json:"problems"`
	}
	check := func(t *testing.T, r runResult, code int, errorDoc bool, problem string) {
		t.Helper()
		if r.code != code {
			t.Errorf("want exit %d: %v", code, r)
		}
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		var d doc
		if err := dec.Decode(&d); err != nil || dec.More() {
			t.Fatalf("stdout is not exactly one JSON document (%v): %v", err, r)
		}
		switch {
		case errorDoc && (d.Error == nil || *d.Error == "" || d.Exit != code):
			t.Errorf("want an error document with exit_code %d: %v", code, r)
		case !errorDoc && d.Error != nil:
			t.Errorf("want the verb's own document: %v", r)
		case problem != "" && (len(d.Problems) == 0 || !strings.HasPrefix(d.Problems[0], problem)):
			t.Errorf("want problems starting with %q: %v", problem, r)
		}
	}

	type jsonCase struct {
		name     string
		args     []string
		code     int
		errorDoc bool   // {"error", "exit_code"} rather than the verb's document
		problem  string // the first of "problems" starts with it
	}
	for _, tc := range []jsonCase{
		{"unknown verb", []string{"--json", "frobnicate"}, 2, true, ""},
		{"unknown flag", []string{"--frob", "status", "--json"}, 2, true, ""},
		{"missing argument", []string{"config", "describe", "--json"}, 2, true, ""},
		{"bad flag value", []string{"status", "--json=maybe"}, 2, true, ""},
		{"config check without a file", []string{"config", "check", "--json"}, 2, true, ""},
		{"unreachable", []string{"-socket", missing, "status", "--json"}, 3, true, ""},
		{"unreachable roll", []string{"--json", "-config", path, "roll"}, 3, true, ""},
		{"config check bad", []string{"config", "check", bad, "--json"}, 1, false, ""},
		{"config check good", []string{"config", "check", path, "--json"}, 0, false, ""},
		{"version", []string{"version", "--json"}, 0, false, ""},
		{"help", []string{"help", "--json"}, 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, runCtl(t, tc.args...), tc.code, tc.errorDoc, tc.problem)
		})
	}

	d := startDaemon(t, path)
	for _, tc := range []jsonCase{
		{"status", []string{"status"}, 0, false, ""},
		{"roll unknown log", []string{"roll", "nosuchlog"}, 1, true, ""},
		{"config describe unknown", []string{"config", "describe", "nosuch"}, 1, true, ""},
		{"metric match bad regex", []string{"metric", "match", "("}, 1, true, ""},
		{"config diff invalid file", []string{"-config", bad, "-socket", d.socket, "config", "diff"}, 1, true, badProblem},
		{"config diff", []string{"config", "diff"}, 0, false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			check(t, d.tryCtl(t, append(tc.args, "--json")...), tc.code, tc.errorDoc, tc.problem)
		})
	}
}
