package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/logroll/logroll/ctl"
)

// position returns the 1-based line and column of the first occurrence of
// sub in text.
func position(t *testing.T, text, sub string) (line, col int) {
	t.Helper()
	i := strings.Index(text, sub)
	if i < 0 {
		t.Fatalf("%q not in the config", sub)
	}
	line = strings.Count(text[:i], "\n") + 1
	col = i - strings.LastIndexByte(text[:i], '\n')
	return line, col
}

// statusField reads one "key: value" line of `config status`.
func statusField(out, key string) string {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `:\s+(.*)$`).FindStringSubmatch(out)
	if m == nil {
		return ""
	}
	return m[1]
}

// TestConfigReload drives reloads as an operator does (docs/design.md §2, §4): a
// valid edit applied by `config reload` (a changed record, a new log), an
// invalid one refused with its positions while the old configuration keeps
// running, and a SIGHUP reload that removes a log, which is rolled.
func TestConfigReload(t *testing.T) {
	dir := tempDir(t)
	c := conf{SizeMB: 10}
	path := writeConfig(t, dir, c.toml())
	d := startDaemon(t, path)

	t.Run("applied", func(t *testing.T) {
		a, err := d.do(req{log: "errors", ctype: "text/plain", body: []byte("too early\n")})
		if err != nil || a.status != http.StatusNotFound {
			t.Fatalf("POST to the undeclared log errors: %d %s %v, want 404", a.status, a.body, err)
		}

		c.SizeMB = 20
		c.Logs = []string{"access", "errors"}
		writeConfig(t, dir, c.toml())
		r := d.ctl(t, "config", "reload")
		out := lines(r.stdout)
		if !contains(out, "proxy.config.log.rolling_size_mb: 10 -> 20") {
			t.Errorf("config reload does not print the size change: %v", r)
		}
		if !containsMatch(out, `errors\.log`) {
			t.Errorf("config reload does not print the new log: %v", r)
		}
		if len(out) != 3 || !contains(out, "logs[access.log].rolling_size_mb: 10 -> 20") {
			t.Errorf("config reload: want 3 lines (the size, access.log's effective size, the new log): %v", r)
		}

		d.postText(t, "errors", "to errors 1", "to errors 2")
		d.postText(t, "access", "to access after reload")
		if v := d.configValue(t, "proxy.config.log.rolling_size_mb"); v != "20" {
			t.Errorf("config get rolling_size_mb: %s, want 20", v)
		}
		st := d.ctl(t, "config", "status").stdout
		if statusField(st, "trigger") != "ctl" || statusField(st, "result") != "ok" {
			t.Errorf("config status after the reload:\n%s\nwant trigger ctl, result ok", st)
		}
		if r := d.ctl(t, "config", "reload"); r.stdout != "no changes\n" {
			t.Errorf("reload of the same file: want \"no changes\": %v", r)
		}
	})

	t.Run("refused", func(t *testing.T) {
		bad := c
		bad.Extra = "rolling_max_count = 1.5\nhostnam = \"typo\"\n"
		text := bad.toml()
		writeConfig(t, dir, text)
		typeLine, typeCol := position(t, text, "1.5")
		keyLine, keyCol := position(t, text, "hostnam =")

		r := d.tryCtl(t, "config", "reload")
		if r.code != 1 {
			t.Fatalf("reload of an invalid file: want exit 1: %v", r)
		}
		if !strings.Contains(r.stderr, "config reload refused; the running configuration is kept:") {
			t.Errorf("stderr does not say the reload was refused: %v", r)
		}
		for _, want := range []string{
			fmt.Sprintf("records.toml:%d:%d: proxy.config.log.rolling_max_count: ", typeLine, typeCol),
			fmt.Sprintf("records.toml:%d:%d: proxy.config.log.hostnam: ", keyLine, keyCol),
		} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("stderr does not name %q: %v", want, r)
			}
		}
		if !regexp.MustCompile(`hostnam: .*did you mean "(proxy\.config\.log\.)?hostname"`).MatchString(r.stderr) {
			t.Errorf("stderr has no \"did you mean\" for hostnam: %v", r)
		}
		for _, l := range lines(r.stderr) {
			if strings.Contains(l, "records.toml:") && !strings.HasPrefix(l, dir+"/records.toml:") {
				t.Errorf("problem line %q does not start with the file's absolute path %s/records.toml", l, dir)
			}
		}
		if r.stdout != "" {
			t.Errorf("a refused reload printed on stdout: %v", r)
		}

		// The running configuration is kept: both logs take records, the
		// size is still 20.
		d.postText(t, "access", "access after refused reload")
		d.postText(t, "errors", "errors after refused reload")
		if v := d.configValue(t, "proxy.config.log.rolling_size_mb"); v != "20" {
			t.Errorf("config get rolling_size_mb after the refused reload: %s, want 20", v)
		}
		st := d.ctl(t, "config", "status").stdout
		if statusField(st, "result") != "refused" || !strings.Contains(st, fmt.Sprintf("records.toml:%d:%d", typeLine, typeCol)) {
			t.Errorf("config status after the refused reload:\n%s\nwant result refused and the error", st)
		}
		if v := d.metric(t, "proxy.process.log.config.reload_failures"); v != 1 {
			t.Errorf("config.reload_failures %d, want 1", v)
		}
	})

	t.Run("sighup removes a log", func(t *testing.T) {
		c.SizeMB = 30
		c.Logs = []string{"access"}
		writeConfig(t, dir, c.toml())
		d.signal(t, syscall.SIGHUP)
		eventually(t, func() string {
			st := d.ctl(t, "config", "status").stdout
			if statusField(st, "trigger") != "sighup" || statusField(st, "result") != "ok" {
				return "config status after SIGHUP:\n" + st
			}
			return ""
		})
		if v := d.configValue(t, "proxy.config.log.rolling_size_mb"); v != "30" {
			t.Errorf("config get rolling_size_mb after SIGHUP: %s, want 30", v)
		}
		a, err := d.do(req{log: "errors", ctype: "text/plain", body: []byte("too late\n")})
		if err != nil || a.status != http.StatusNotFound {
			t.Errorf("POST to the removed log errors: %d %s %v, want 404", a.status, a.body, err)
		}
		d.postText(t, "access", "access after sighup")

		// A removed log is flushed, closed and rolled (docs/design.md §4).
		var rolled ctl.RolledResponse
		if err := json.Unmarshal([]byte(d.ctl(t, "rolled", "--json").stdout), &rolled); err != nil {
			t.Fatal(err)
		}
		var got strings.Builder
		for _, f := range rolled.Rolled {
			if f.Log == "errors.log" {
				parseRolled(t, f.Path, d.logs, "errors.log")
				if f.Configured {
					t.Errorf("rolled --json: %s of the removed log is marked configured", f.Path)
				}
				got.WriteString(readFile(t, f.Path))
			}
		}
		if want := "to errors 1\nto errors 2\nerrors after refused reload\n"; got.String() != want {
			t.Errorf("rolled errors.log files hold %q, want %q", got.String(), want)
		}

		paths := d.roll(t, "access")
		if len(paths) != 1 {
			t.Fatalf("roll access printed %q, want one path", paths)
		}
		if got, want := readFile(t, paths[0]), "to access after reload\naccess after refused reload\naccess after sighup\n"; got != want {
			t.Errorf("access.log rolled %q, want %q", got, want)
		}
		if v := d.metric(t, "proxy.process.log.config.reload_successes"); v != 3 {
			t.Errorf("config.reload_successes %d, want 3 (applied, no changes, SIGHUP)", v)
		}
	})
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

func containsMatch(list []string, re string) bool {
	r := regexp.MustCompile(re)
	for _, l := range list {
		if r.MatchString(l) {
			return true
		}
	}
	return false
}
