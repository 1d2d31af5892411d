package tests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// TestCtlJSON decodes the --json output of the verbs a script reads into
// the ctl types and checks it against what the test did (docs/design.md §2).
// --json is given before, after and between the verb's words.
func TestCtlJSON(t *testing.T) {
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	begin := time.Now().Truncate(time.Second)
	d := startDaemon(t, path)
	d.postText(t, "access", "one", "two", "three")

	var roll ctl.RollResponse
	d.ctlJSON(t, &roll, "roll", "--json")
	if len(roll.Rolled) != 1 || len(roll.Errors) != 0 {
		t.Fatalf("roll --json: %+v, want one file and no errors", roll)
	}
	f := roll.Rolled[0]
	start, end := parseRolled(t, f.Path, d.logs, "access.log")
	fi, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Log != "access.log" || f.Host != "e2ehost" || f.Records != 3 || f.Cause != "forced" || f.Bytes != fi.Size() || f.Bytes != int64(len("one\ntwo\nthree\n")) {
		t.Errorf("roll --json file %+v, want access.log e2ehost 3 records forced %d bytes", f, fi.Size())
	}
	if !f.Start.Equal(start) || !f.End.Equal(end) || f.Start.Before(begin) {
		t.Errorf("roll --json times %v-%v, want %v-%v from the name, after %v", f.Start, f.End, start, end, begin)
	}

	var none ctl.RollResponse
	d.ctlJSON(t, &none, "--json", "roll", "access")
	if len(none.Rolled) != 0 {
		t.Errorf("roll --json with nothing to roll: %+v, want no file", none)
	}

	var rolled ctl.RolledResponse
	d.ctlJSON(t, &rolled, "rolled", "access", "--json")
	if len(rolled.Rolled) != 1 {
		t.Fatalf("rolled --json: %+v, want one file", rolled)
	}
	if g := rolled.Rolled[0]; g.Path != f.Path || g.Log != f.Log || g.Host != f.Host || g.Bytes != f.Bytes || !g.Start.Equal(f.Start) || !g.End.Equal(f.End) || !g.Configured {
		t.Errorf("rolled --json %+v, want the rolled file %+v, configured", g, f)
	}

	var st ctl.Status
	d.ctlJSON(t, &st, "status", "--json")
	if st.PID != d.pid() || st.Config != path || st.Dir != d.logs || st.Host != "e2ehost" ||
		st.Listen != d.addr || st.Socket != d.socket || !st.Accepting {
		t.Errorf("status --json: %+v\nwant pid %d config %s dir %s host e2ehost listen %s socket %s accepting",
			st, d.pid(), path, d.logs, d.addr, d.socket)
	}
	if len(st.Logs) != 1 || st.Logs[0].Name != "access.log" || st.Logs[0].Path != filepath.Join(d.logs, "access.log") ||
		st.Logs[0].ActiveBytes != 0 || st.Logs[0].Rolled != 1 || st.Logs[0].RolledBytes != f.Bytes {
		t.Errorf("status --json logs: %+v, want access.log, empty, 1 rolled file of %d bytes", st.Logs, f.Bytes)
	}

	// An active file with no record yet has no START: the field is left
	// out, not written as the zero time; the first record gives it one.
	startOf := func() (string, bool) {
		var raw struct {
			Logs []map[string]json.RawMessage `json:"logs"`
		}
		if err := json.Unmarshal([]byte(d.ctl(t, "status", "--json").stdout), &raw); err != nil || len(raw.Logs) != 1 {
			t.Fatalf("status --json: %v %+v", err, raw)
		}
		s, ok := raw.Logs[0]["start"]
		return string(s), ok
	}
	if s, ok := startOf(); ok {
		t.Errorf("status --json of an empty active file has start %s, want no start field", s)
	}
	before := time.Now().Truncate(time.Second)
	d.postText(t, "access", "four")
	if s, ok := startOf(); !ok {
		t.Errorf("status --json after a record has no start")
	} else if ts, err := time.Parse(`"`+time.RFC3339Nano+`"`, s); err != nil || ts.Before(before) {
		t.Errorf("status --json start %s (%v), want a time after %v", s, err, before)
	}

	var ms ctl.MetricsResponse
	d.ctlJSON(t, &ms, "metric", "--json", "get", "proxy.process.log.records_written")
	got := map[string]float64{}
	for _, m := range ms.Metrics {
		if m.Name != "proxy.process.log.records_written" {
			t.Errorf("metric get returned %s", m.Name)
		}
		got[fmt.Sprint(m.Labels)] = m.Value
	}
	if want := map[string]float64{"map[]": 4, "map[log:access.log]": 4}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("metric get --json records_written: %v, want %v", got, want)
	}

	var rr ctl.ReloadResult
	d.ctlJSON(t, &rr, "config", "status", "--json")
	if rr.Trigger != "start" || !rr.OK || rr.Source != path || rr.Time.Before(begin) {
		t.Errorf("config status --json: %+v, want the start, ok, source %s", rr, path)
	}
}

// TestCtlExitCodes checks logrollctl's exit codes (docs/design.md §2): 0 done,
// 1 refused or failed, 2 usage, 3 daemon not reachable.
func TestCtlExitCodes(t *testing.T) {
	dir := tempDir(t)
	good := conf{}.toml()
	path := writeConfig(t, dir, good)
	badDir := tempDir(t)
	bad := conf{Extra: "rolling_size_mb = 0.5\n"}.toml()
	badPath := writeConfig(t, badDir, bad)
	badLine, badCol := position(t, bad, "0.5")
	missingSocket := filepath.Join(dir, "run", "logrolld.sock")

	// Without a daemon.
	noDaemon := []struct {
		name   string
		args   []string
		code   int
		stdout string         // exact, when not "-"
		stderr *regexp.Regexp // nil: not checked
	}{
		{"unknown verb", []string{"-config", path, "frobnicate"}, 2, "", regexp.MustCompile(`unknown verb "frobnicate"`)},
		{"unknown sub-verb", []string{"-config", path, "config", "frob"}, 2, "", regexp.MustCompile(`unknown verb`)},
		{"missing sub-verb", []string{"metric"}, 2, "", nil},
		{"unknown flag", []string{"--frob", "status"}, 2, "", nil},
		{"too many arguments", []string{"-config", path, "config", "describe", "a", "b"}, 2, "", nil},
		{"status, no daemon", []string{"-config", path, "status"}, 3, "", regexp.MustCompile(regexp.QuoteMeta(missingSocket))},
		{"roll, no daemon", []string{"-socket", missingSocket, "roll"}, 3, "", regexp.MustCompile(`not reachable`)},
		{"roll --json, no daemon", []string{"roll", "--json", "-socket", missingSocket}, 3, "-", nil},
		{"config reload, no daemon", []string{"-config", path, "config", "reload"}, 3, "", nil},
		{"config check good", []string{"config", "check", path}, 0, "ok\n", nil},
		{"config check -config good", []string{"-config", path, "config", "check"}, 0, "ok\n", nil},
		{"config check bad", []string{"config", "check", badPath}, 1, "",
			regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%s:%d:%d: proxy.config.log.rolling_size_mb: ", badPath, badLine, badCol)))},
		{"config check missing file", []string{"config", "check", filepath.Join(dir, "nosuch.toml")}, 1, "", nil},
	}
	for _, tt := range noDaemon {
		t.Run(tt.name, func(t *testing.T) {
			r := runCtl(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("want exit %d: %v", tt.code, r)
			}
			if tt.stdout != "-" && r.stdout != tt.stdout {
				t.Errorf("want stdout %q: %v", tt.stdout, r)
			}
			if tt.stderr != nil && !tt.stderr.MatchString(r.stderr) {
				t.Errorf("stderr does not match %v: %v", tt.stderr, r)
			}
		})
	}

	// With a daemon.
	d := startDaemon(t, path)
	withDaemon := []struct {
		name string
		args []string
		code int
		want string // in stdout or stderr
	}{
		{"status", []string{"status"}, 0, "access.log"},
		{"roll unknown log", []string{"roll", "nosuchlog"}, 1, "nosuchlog"},
		{"rolled unknown log", []string{"rolled", "nosuchlog"}, 1, "nosuchlog"},
		{"metric get unknown", []string{"metric", "get", "proxy.process.log.nosuch"}, 1, "nosuch"},
		{"config get unknown", []string{"config", "get", "rolling_size"}, 1, "did you mean"},
		{"config describe", []string{"config", "describe", "rolling_size_mb"}, 0, "reloadable"},
		{"config diff", []string{"config", "diff"}, 0, "no differences"},
		{"bad regex", []string{"metric", "match", "("}, 1, ""},
	}
	for _, tt := range withDaemon {
		t.Run(tt.name, func(t *testing.T) {
			r := d.tryCtl(t, tt.args...)
			if r.code != tt.code {
				t.Errorf("want exit %d: %v", tt.code, r)
			}
			if !strings.Contains(r.stdout+r.stderr, tt.want) {
				t.Errorf("output does not mention %q: %v", tt.want, r)
			}
		})
	}
}

// TestMetrics posts records and reads the written counters through
// logrollctl and through Prometheus /metrics (docs/design.md §7).
func TestMetrics(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	const n = 25
	for i := range 5 {
		d.postText(t, "access", fmt.Sprintf("text %d a", i), fmt.Sprintf("text %d b", i), fmt.Sprintf("text %d c", i))
	}
	d.post(t, req{log: "access", ctype: "application/json", body: []byte(`[{"i":1},{"i":2},{"i":3},{"i":4},{"i":5}]`)}, 5)
	d.post(t, req{log: "access.log", ctype: "application/x-ndjson", body: []byte("{\"j\":1}\n{\"j\":2}\n{\"j\":3}\n{\"j\":4}\n{\"j\":5}\n")}, 5)
	fi, err := os.Stat(filepath.Join(d.logs, "access.log"))
	if err != nil {
		t.Fatal(err)
	}

	want := []string{
		fmt.Sprintf("proxy.process.log.records_written %d", n),
		fmt.Sprintf(`proxy.process.log.records_written{log="access.log"} %d`, n),
	}
	eventually(t, func() string {
		r := d.ctl(t, "metric", "get", "proxy.process.log.records_written")
		if got := lines(r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
			return fmt.Sprintf("metric get records_written:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
		}
		return ""
	})
	if v := d.metric(t, "proxy.process.log.bytes_written"); v != fi.Size() {
		t.Errorf("bytes_written %d, want the file's size %d", v, fi.Size())
	}
	if v := d.metric(t, "proxy.process.log.ingest.requests", "status", "200"); v != 7 {
		t.Errorf(`ingest.requests{status="200"} %d, want 7`, v)
	}
	if v := d.metric(t, "proxy.process.log.open_files"); v != 1 {
		t.Errorf("open_files %d, want 1", v)
	}
	r := d.ctl(t, "metric", "match", `records_written$`)
	if got := lines(r.stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("metric match records_written$:\n%s\nwant:\n%s", r.stdout, strings.Join(want, "\n"))
	}

	status, body := d.get(t, "/metrics")
	if status != 200 {
		t.Fatalf("GET /metrics: %d", status)
	}
	for _, w := range []string{
		"# TYPE proxy_process_log_records_written_total counter",
		fmt.Sprintf(`proxy_process_log_records_written_total{log="access.log"} %d`, n),
		fmt.Sprintf(`proxy_process_log_bytes_written_total{log="access.log"} %d`, fi.Size()),
	} {
		if !containsLine(body, w) {
			t.Errorf("/metrics has no line %q", w)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
}

func containsLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if l == line {
			return true
		}
	}
	return false
}
