package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The files in etc/ that operators copy: the systemd unit, the shipper
// recipes, the crontab line; and the fields `logrollctl rolled` gives the
// cron script.

// unitKeys parses a systemd unit: section → key → values (a key may be
// repeated).
func unitKeys(text string) map[string]map[string][]string {
	units := map[string]map[string][]string{}
	section := ""
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "" || strings.HasPrefix(l, "#") || strings.HasPrefix(l, ";"):
		case strings.HasPrefix(l, "[") && strings.HasSuffix(l, "]"):
			section = l[1 : len(l)-1]
			units[section] = map[string][]string{}
		default:
			k, v, _ := strings.Cut(l, "=")
			units[section][k] = append(units[section][k], v)
		}
	}
	return units
}

// TestSystemdUnit checks etc/logrolld.service: SIGHUP on reload, the
// hardening the README promises with the log and state folders writable,
// and `systemd-analyze verify` when it is installed (the binary path
// pointed at the one under test).
func TestSystemdUnit(t *testing.T) {
	path := repoFile(t, "etc/logrolld.service")
	text := readFile(t, path)
	svc := unitKeys(text)["Service"]
	want := map[string]string{
		"ExecStart":             "/usr/local/bin/logrolld -config /etc/logroll/records.toml",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
		"KillSignal":            "SIGTERM",
		"NoNewPrivileges":       "yes",
		"ProtectSystem":         "strict",
		"PrivateTmp":            "yes",
		"LogsDirectory":         "logroll",
		"RuntimeDirectory":      "logroll",
		"ReadWritePaths":        "-/var/log/logroll -/run/logroll",
		"CapabilityBoundingSet": "",
		"User":                  "logroll",
	}
	for k, v := range want {
		if got := svc[k]; len(got) != 1 || got[0] != v {
			t.Errorf("[Service] %s = %q, want %q", k, got, v)
		}
	}
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Logf("systemd-analyze is not installed: the unit's syntax is not verified")
		return
	}
	unit := filepath.Join(tempDir(t), "logrolld.service")
	if err := os.WriteFile(unit, []byte(strings.ReplaceAll(text, "/usr/local/bin/logrolld", daemonBin)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("systemd-analyze", "verify", unit).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}

// TestShipperRecipes checks that every recipe in etc/shippers says
// whether it is tested: "TESTED: tests/FILE" where that test file names the
// recipe, or "UNTESTED"; and that it states the retry of 429 and 503.
func TestShipperRecipes(t *testing.T) {
	dir := filepath.Dir(repoFile(t, "etc/shippers/syslog-ng.conf"))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	tested := regexp.MustCompile(`TESTED: (tests/\S+_test\.go)`)
	for _, e := range entries {
		rel := "etc/shippers/" + e.Name()
		text := readFile(t, filepath.Join(dir, e.Name()))
		m := tested.FindStringSubmatch(text)
		switch {
		case m != nil:
			if test := readFile(t, repoFile(t, m[1])); !strings.Contains(test, rel) {
				t.Errorf("%s says it is tested by %s, which does not use it", rel, m[1])
			}
		case strings.Contains(text, "UNTESTED"):
		default:
			t.Errorf("%s says neither TESTED: tests/… nor UNTESTED", rel)
		}
		if !strings.Contains(text, "429") || !strings.Contains(text, "503") {
			t.Errorf("%s does not say how 429 and 503 are retried", rel)
		}
	}
}

// TestCronCrontab checks etc/cron/logroll (a cron.d file: five time fields,
// the user, the command) and that the script parses and is executable.
func TestCronCrontab(t *testing.T) {
	script := repoFile(t, "etc/cron/process-rolled.sh")
	if fi, err := os.Stat(script); err != nil || fi.Mode()&0o111 == 0 {
		t.Errorf("etc/cron/process-rolled.sh is not executable: %v", err)
	}
	if out, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Errorf("bash -n etc/cron/process-rolled.sh: %v\n%s", err, out)
	}
	if _, err := exec.LookPath("shellcheck"); err == nil {
		for _, f := range []string{script, repoFile(t, "etc/shippers/curl-ship.sh")} {
			if out, err := exec.Command("shellcheck", f).CombinedOutput(); err != nil {
				t.Errorf("shellcheck %s: %v\n%s", f, err, out)
			}
		}
	}
	jobs := 0
	field := regexp.MustCompile(`^(\*|\*/\d+|\d+(-\d+)?(,\d+(-\d+)?)*)$`)
	for _, l := range lines(readFile(t, repoFile(t, "etc/cron/logroll"))) {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") || regexp.MustCompile(`^[A-Z_]+=`).MatchString(l) {
			continue
		}
		f := strings.Fields(l)
		if len(f) < 7 {
			t.Errorf("crontab line %q: want minute hour day month weekday user command", l)
			continue
		}
		for _, tf := range f[:5] {
			if !field.MatchString(tf) {
				t.Errorf("crontab line %q: time field %q", l, tf)
			}
		}
		if f[5] != "logroll" || !strings.HasSuffix(f[6], "/process-rolled.sh") {
			t.Errorf("crontab line %q: want user logroll running process-rolled.sh", l)
		}
		jobs++
	}
	if jobs != 1 {
		t.Errorf("etc/cron/logroll has %d jobs, want 1", jobs)
	}
}

// TestCronRolledFields checks what the cron script reads: `logrollctl
// rolled --json` has the keys log, host, path, start, end (RFC 3339) and
// bytes for every file, and its plain output carries the same fields, so
// that the script's jq expression and its fallback see the same thing.
func TestCronRolledFields(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	d.postText(t, "access", "GET / 200", "GET /x 404")
	d.roll(t, "access")
	d.postText(t, "access", "GET /y 200")
	d.roll(t, "access")

	raw := d.ctl(t, "rolled", "--json", "access").stdout
	var doc struct {
		Rolled []map[string]any `json:"rolled"`
	}
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		t.Fatalf("rolled --json: %v\n%s", err, raw)
	}
	plain := lines(d.ctl(t, "rolled", "access").stdout)
	if len(doc.Rolled) != 2 || len(plain) != 2 {
		t.Fatalf("rolled --json %s\nplain %q\nwant two files each", raw, plain)
	}
	for i, f := range doc.Rolled {
		for _, k := range []string{"log", "host", "path", "start", "end", "bytes", "configured"} {
			if _, ok := f[k]; !ok {
				t.Errorf("rolled --json file %d has no %q: %v", i, k, f)
			}
		}
		path, _ := f["path"].(string)
		start, end := parseRolled(t, path, d.logs, "access.log")
		js, _ := time.Parse(time.RFC3339, f["start"].(string))
		je, _ := time.Parse(time.RFC3339, f["end"].(string))
		if !js.Equal(start) || !je.Equal(end) {
			t.Errorf("rolled --json start %v end %v, want %v and %v from the name", f["start"], f["end"], start, end)
		}
		fi, err := os.Stat(path)
		if err != nil || f["bytes"] != float64(fi.Size()) || f["log"] != "access.log" || f["host"] != "e2ehost" {
			t.Errorf("rolled --json %v: want log access.log, host e2ehost, bytes %v", f, fi)
		}
		// The script's jq expression, by hand: PATH LOG HOST START END BYTES.
		want := strings.Join([]string{path, "access.log", "e2ehost", f["start"].(string), f["end"].(string), strings.TrimSpace(string(mustJSON(t, f["bytes"])))}, "\t")
		if plain[i] != want {
			t.Errorf("plain rolled line %d:\n%q\nwant the JSON's fields\n%q", i, plain[i], want)
		}
	}
	if _, err := exec.LookPath("jq"); err == nil {
		cmd := exec.Command("jq", "-r", `.rolled[] | [.path, .log, .host, .start, .end, (.bytes | tostring)] | @tsv`)
		cmd.Stdin = strings.NewReader(raw)
		out, err := cmd.Output()
		if err != nil || string(out) != strings.Join(plain, "\n")+"\n" {
			t.Errorf("the script's jq expression gives\n%s(%v)\nthe plain output\n%s", out, err, strings.Join(plain, "\n"))
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
