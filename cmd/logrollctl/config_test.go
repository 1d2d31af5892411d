package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
)

func TestConfigReload(t *testing.T) {
	var res ctl.ReloadResult
	f := &ctltest.Fake{ReloadFunc: func(context.Context) (ctl.ReloadResult, error) { return res, nil }}
	sock := serveFake(t, f)
	listen := ctl.Change{Name: "proxy.config.ingest.http_listen", Old: `"127.0.0.1:8480"`, New: `"127.0.0.1:9000"`, Restart: true}
	dir := ctl.Change{Name: "proxy.config.log.logfile_dir", Old: `"/a"`, New: `"/b"`, Restart: true}
	for _, tc := range []struct {
		name string
		res  ctl.ReloadResult
		code int
		out  string
		err  string
	}{
		{"no changes", ctl.ReloadResult{OK: true}, 0, "no changes\n", ""},
		{"changes", ctl.ReloadResult{OK: true, Warnings: []string{"r.toml:4:24: proxy.config.log.rolling_interval_sec: 7 rounded up to 8"},
			Changes: []ctl.Change{
				{Name: "proxy.config.log.rolling_size_mb", Old: "10", New: "20"},
				{Name: "logs[debug.log]", New: "declared"},
				listen,
			},
			RestartRequired: []ctl.Change{dir, listen}},
			0, "proxy.config.log.rolling_size_mb: 10 -> 20\n" +
				"logs[debug.log]: (none) -> declared\n" +
				"proxy.config.ingest.http_listen: \"127.0.0.1:8480\" -> \"127.0.0.1:9000\" (restart required)\n" +
				"proxy.config.log.logfile_dir: \"/a\" -> \"/b\" (restart required)\n",
			"warning: r.toml:4:24: proxy.config.log.rolling_interval_sec: 7 rounded up to 8\n"},
		{"refused", ctl.ReloadResult{Error: "r.toml:3:19: proxy.config.log.rolling_size_mb: must be at least 1\nr.toml:9:1: logs[1].filename: missing"},
			1, "", "logrollctl: config reload refused; the running configuration is kept:\n" +
				"r.toml:3:19: proxy.config.log.rolling_size_mb: must be at least 1\nr.toml:9:1: logs[1].filename: missing\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res = tc.res
			r := ctlRun(t, append(slices.Clone(sock), "config", "reload")...)
			r.want(t, tc.code, tc.out)
			if r.stderr != tc.err {
				t.Errorf("stderr:\n%s\nwant:\n%s", r.stderr, tc.err)
			}
			r = ctlRun(t, append(slices.Clone(sock), "config", "reload", "--json")...)
			r.want(t, tc.code, "*")
			var got ctl.ReloadResult
			r.decodeJSON(t, &got)
			if got.OK != tc.res.OK || got.Error != tc.res.Error || len(got.Changes) != len(tc.res.Changes) {
				t.Errorf("--json = %+v, want %+v", got, tc.res)
			}
		})
	}
	f.ReloadFunc = nil // not read concurrently any more: no request is in flight
	sock = serveFake(t, &ctltest.Fake{ReloadFunc: func(context.Context) (ctl.ReloadResult, error) {
		return ctl.ReloadResult{}, ctl.ErrUnavailable
	}})
	r := ctlRun(t, append(sock, "config", "reload")...)
	r.want(t, 1, "")
	if r.stderr != "logrollctl: daemon is stopping\n" {
		t.Errorf("stderr = %q", r.stderr)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, filepath.Join(dir, "good.toml"), testConfig)
	warn := writeFile(t, filepath.Join(dir, "warn.toml"), "[proxy.config.log]\nrolling_interval_sec = 7\n")
	bad := writeFile(t, filepath.Join(dir, "bad.toml"), "[proxy.config.log]\nrolling_enabled = 9\nrolling_intervl_sec = 60\n")
	missing := filepath.Join(dir, "missing.toml")
	for _, tc := range []struct {
		name string
		args []string
		code int
		out  string
		errs []string // substrings of stderr
	}{
		{"good", []string{"config", "check", good}, 0, "ok\n", nil},
		{"good -config", []string{"-config", good, "config", "check"}, 0, "ok\n", nil},
		{"FILE wins", []string{"-config", bad, "config", "check", good}, 0, "ok\n", nil},
		{"warning", []string{"config", "check", warn}, 0, "ok\n", []string{"warning: " + warn + ":2:24: proxy.config.log.rolling_interval_sec: "}},
		{"bad", []string{"config", "check", bad}, 1, "", []string{
			bad + ":2:19: proxy.config.log.rolling_enabled: ",
			bad + ":3:1: proxy.config.log.rolling_intervl_sec: unknown key (did you mean \"rolling_interval_sec\"?)",
		}},
		{"missing", []string{"config", "check", missing}, 1, "", []string{"no such file"}},
		{"no file", []string{"config", "check"}, 2, "", []string{"no file to check", "usage:"}},
		{"no daemon needed", []string{"-socket", "/nonexistent/s.sock", "config", "check", good}, 0, "ok\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ctlRun(t, tc.args...)
			r.want(t, tc.code, tc.out)
			for _, s := range tc.errs {
				if !strings.Contains(r.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, r.stderr)
				}
			}
			if tc.errs == nil && r.stderr != "" {
				t.Errorf("stderr = %q", r.stderr)
			}
		})
	}
	for _, tc := range []struct {
		file            string
		ok              bool
		problems, warns int
	}{{good, true, 0, 0}, {warn, true, 0, 1}, {bad, false, 2, 0}, {missing, false, 1, 0}} {
		r := ctlRun(t, "config", "check", "--json", tc.file)
		var got checkResult
		r.decodeJSON(t, &got)
		if got.OK != tc.ok || len(got.Problems) != tc.problems || len(got.Warnings) != tc.warns || got.Problems == nil || got.Warnings == nil {
			t.Errorf("check --json %s = %+v", tc.file, got)
		}
		if (r.code == 0) != tc.ok {
			t.Errorf("check --json %s: exit %d", tc.file, r.code)
		}
	}
}

// configFake serves the configuration testConfig, loaded from a file in dir.
func configFake(t *testing.T, dir string) (*ctltest.Fake, []string) {
	cfg := loadConfig(t, dir, testConfig)
	f := &ctltest.Fake{ConfigResp: configResponse(cfg, ctl.ReloadResult{
		Time: t0, Trigger: "sighup", Source: cfg.Source, OK: false,
		Error:           cfg.Source + ":2:19: proxy.config.log.rolling_size_mb: must be at least 1",
		RestartRequired: []ctl.Change{{Name: "proxy.config.log.logfile_dir", Old: `"/a"`, New: `"/b"`, Restart: true}},
	})}
	return f, serveFake(t, f)
}

func TestConfigGet(t *testing.T) {
	dir := shortDir(t)
	_, sock := configFake(t, dir)
	logs := `"` + filepath.Join(dir, "logs") + `"`
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"proxy.config.log.logfile_dir"}, 0, "proxy.config.log.logfile_dir " + logs + "\n", ""},
		{[]string{"proxy.config.log.rolling_size_mb", "ingest.http_listen"}, 0,
			"proxy.config.log.rolling_size_mb 10\nlogs[access.log].rolling_size_mb 100\nlogs[error.log].rolling_size_mb 10\n" +
				"proxy.config.ingest.http_listen \"127.0.0.1:8480\"\n", ""},
		{[]string{"durability"}, 0, "proxy.config.log.durability \"roll\"\n", ""},
		{[]string{"logs[access].rolling_size_mb"}, 0, "logs[access.log].rolling_size_mb 100\n", ""},
		{[]string{"proxy.config.log.rolling_size_mbb", "hostname"}, 1, "proxy.config.log.hostname \"localhost\"\n",
			"logrollctl: config get: unknown record \"proxy.config.log.rolling_size_mbb\" (did you mean \"proxy.config.log.rolling_size_mb\"?)\n"},
		{[]string{"logs[acess.log].rolling_size_mb"}, 1, "", "logrollctl: config get: no log \"acess.log\" is declared (did you mean \"access.log\"?)\n"},
		{[]string{"logs[access.log].hostname"}, 1, "", "logrollctl: config get: proxy.config.log.hostname is not a per-log record\n"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := ctlRun(t, append(append(slices.Clone(sock), "config", "get"), tc.args...)...)
			r.want(t, tc.code, tc.out)
			if r.stderr != tc.err {
				t.Errorf("stderr = %q, want %q", r.stderr, tc.err)
			}
		})
	}
	r := ctlRun(t, append(sock, "config", "get", "--json", "rolling_size_mb")...)
	r.want(t, 0, "*")
	var got getOutput
	r.decodeJSON(t, &got)
	if len(got.Records) != 1 || got.Records[0].Value != "10" || len(got.Logs) != 2 || got.Logs[0].Records[0].Value != "100" {
		t.Errorf("get --json = %+v", got)
	}
}

func TestConfigDescribe(t *testing.T) {
	dir := shortDir(t)
	_, sock := configFake(t, dir)
	src := filepath.Join(dir, "records.toml")
	r := ctlRun(t, append(sock, "config", "describe", "rolling_size_mb")...)
	r.want(t, 0, "*")
	for _, line := range []string{
		"name:        proxy.config.log.rolling_size_mb\n",
		"value:       10\n",
		"default:     10\n",
		"kind:        int\n",
		"unit:        MiB\n",
		"reloadable:  yes\n",
		"per-log:     yes\n",
		"source:      " + src + ":3:19\n",
		"logs[access.log]: 100 (" + src + ":7:19)\n",
		"logs[error.log]: 10 (global " + src + ":3:19)\n",
	} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("describe lacks %q:\n%s", line, r.stdout)
		}
	}
	if strings.Count(r.stdout, "\n") != 12 {
		t.Errorf("describe prints %d lines, want 12:\n%s", strings.Count(r.stdout, "\n"), r.stdout)
	}
	r = ctlRun(t, append(sock, "config", "describe", "proxy.config.ingest.http_listen")...)
	if !strings.Contains(r.stdout, "reloadable:  no (restart required)\n") || !strings.Contains(r.stdout, "source:      default\n") {
		t.Errorf("describe http_listen:\n%s", r.stdout)
	}
	r = ctlRun(t, append(sock, "--json", "config", "describe", "rolling_size_mb")...)
	var got describeOutput
	r.decodeJSON(t, &got)
	if got.Name != "proxy.config.log.rolling_size_mb" || got.Kind != "int" || len(got.Logs) != 2 || got.Logs[0].Value != "100" {
		t.Errorf("describe --json = %+v", got)
	}
	ctlRun(t, append(sock, "config", "describe", "nope")...).want(t, 1, "")
	// The keys of [[logs]] tables that are not records.
	for _, name := range []string{"syslog_app_name", "logs[access].syslog_facility", "filename"} {
		r = ctlRun(t, append(sock, "config", "describe", name)...)
		if r.code != 0 || !strings.Contains(r.stdout, "per-log:     only: a key of [[logs]] tables") || !strings.Contains(r.stdout, "description: ") {
			t.Errorf("describe %s: exit %d\n%s%s", name, r.code, r.stdout, r.stderr)
		}
	}
}

func TestConfigDiff(t *testing.T) {
	dir := shortDir(t)
	_, sock := configFake(t, dir)
	path := filepath.Join(dir, "records.toml")
	ctlRun(t, append(slices.Clone(sock), "config", "diff")...).want(t, 0, "no differences\n")

	writeFile(t, path, strings.Replace(testConfig, "logfile_dir = \"logs\"", "logfile_dir = \"other\"", 1)+
		"rolling_size_mb = 20\n\n[[logs]]\nfilename = \"debug.txt\"\n")
	r := ctlRun(t, append(slices.Clone(sock), "config", "diff")...)
	r.want(t, 0, "proxy.config.log.logfile_dir: \""+filepath.Join(dir, "logs")+"\" -> \""+filepath.Join(dir, "other")+"\" (restart required)\n"+
		"logs[error.log].rolling_size_mb: 10 -> 20\n"+
		"logs[debug.txt]: (none) -> declared\n")

	// -config names another file to compare with; its paths resolve
	// against its own folder.
	other := filepath.Join(dir, "sub", "other.toml")
	if err := os.Mkdir(filepath.Dir(other), 0o700); err != nil {
		t.Fatal(err)
	}
	writeFile(t, other, testConfig)
	ctlRun(t, append(slices.Clone(sock), "-config", other, "config", "diff")...).want(t, 0,
		"proxy.config.log.logfile_dir: \""+filepath.Join(dir, "logs")+"\" -> \""+filepath.Join(dir, "sub", "logs")+"\" (restart required)\n"+
			"proxy.config.local_state_dir: \""+filepath.Join(dir, "run")+"\" -> \""+filepath.Join(dir, "sub", "run")+"\" (restart required)\n")

	r = ctlRun(t, append(slices.Clone(sock), "config", "diff", "--json")...)
	var got diffOutput
	r.decodeJSON(t, &got)
	if got.File != path || len(got.Changes) != 3 || !got.Changes[0].Restart {
		t.Errorf("diff --json = %+v", got)
	}

	writeFile(t, path, "[proxy.config.log]\nrolling_sizemb = 1\n")
	r = ctlRun(t, append(slices.Clone(sock), "config", "diff")...)
	r.want(t, 1, "")
	if !strings.Contains(r.stderr, path+":2:1: proxy.config.log.rolling_sizemb: unknown key") {
		t.Errorf("stderr = %q", r.stderr)
	}
	// --json: one document with the problems.
	r = ctlRun(t, append(slices.Clone(sock), "config", "diff", "--json")...)
	var doc errorOutput
	r.decodeJSON(t, &doc)
	if r.code != 1 || doc.Exit != 1 || !strings.Contains(doc.Error, path+" is invalid") ||
		len(doc.Problems) != 1 || !strings.HasPrefix(doc.Problems[0], path+":2:1: proxy.config.log.rolling_sizemb: unknown key") {
		t.Errorf("diff --json of an invalid file: exit %d, %+v", r.code, doc)
	}
}

func TestConfigStatus(t *testing.T) {
	dir := shortDir(t)
	_, sock := configFake(t, dir)
	src := filepath.Join(dir, "records.toml")
	r := ctlRun(t, append(sock, "config", "status")...)
	r.want(t, 0, "time:        2026-11-21T06:00:00Z\n"+
		"trigger:     sighup\n"+
		"source:      "+src+"\n"+
		"result:      refused\n"+
		"error:\n  "+src+":2:19: proxy.config.log.rolling_size_mb: must be at least 1\n"+
		"changes:     none\n"+
		"restart required:\n  proxy.config.log.logfile_dir: \"/a\" -> \"/b\" (restart required)\n")
	r = ctlRun(t, append(sock, "config", "status", "--json")...)
	var got ctl.ReloadResult
	r.decodeJSON(t, &got)
	if got.Trigger != "sighup" || got.OK || len(got.RestartRequired) != 1 {
		t.Errorf("status --json = %+v", got)
	}
}
