package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
)

func TestSocketDiscovery(t *testing.T) {
	dir := shortDir(t)
	st := &ctltest.Fake{StatusResp: ctl.Status{PID: 7}}
	ctltest.ServeAt(t, st, filepath.Join(dir, "st", "logrolld.sock"))  // local_state_dir = "st"
	ctltest.ServeAt(t, st, filepath.Join(dir, "run", "logrolld.sock")) // the default
	ctltest.ServeAt(t, st, filepath.Join(dir, "abs", "logrolld.sock")) // an absolute local_state_dir
	other := shortDir(t)
	for _, tc := range []struct {
		name, config string
		want         string // the socket, relative to dir
	}{
		{"valid", "[proxy.config]\nlocal_state_dir = \"st\"\n", "st"},
		{"valid absolute", "[proxy.config]\nlocal_state_dir = \"" + filepath.Join(dir, "abs") + "\"\n", "abs"},
		{"valid default", "[proxy.config.log]\nrolling_size_mb = 5\n", "run"},
		{"invalid", "[proxy.config]\nlocal_state_dir = \"st\"\nbogus = 1\n[proxy.config.log]\nrolling_size_mb = \"x\"\n", "st"},
		{"invalid state dir type", "[proxy.config]\nlocal_state_dir = 5\n", "run"},
		{"syntax error", "[proxy.config]\nlocal_state_dir = \"st\"\n[[[\n", "run"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := writeFile(t, filepath.Join(dir, "records.toml"), tc.config)
			if got, want := stateDir(cfg), filepath.Join(dir, tc.want); got != want {
				t.Errorf("stateDir = %q, want %q", got, want)
			}
			r := ctlRun(t, "-config", cfg, "status", "--json")
			r.want(t, 0, "*")
			var s ctl.Status
			r.decodeJSON(t, &s)
			// -socket wins over -config.
			r = ctlRun(t, "-config", cfg, "-socket", filepath.Join(other, "none.sock"), "status")
			r.want(t, 3, "")
		})
	}
	t.Run("missing config", func(t *testing.T) {
		ctlRun(t, "-config", filepath.Join(dir, "missing.toml"), "status").want(t, 0, "*")
	})
	t.Run("relative config", func(t *testing.T) {
		writeFile(t, filepath.Join(dir, "records.toml"), "[proxy.config]\nlocal_state_dir = \"st\"\n")
		t.Chdir(filepath.Dir(dir))
		ctlRun(t, "-config", filepath.Join(filepath.Base(dir), "records.toml"), "status").want(t, 0, "*")
	})
	t.Run("default", func(t *testing.T) {
		t.Chdir(dir)
		ctlRun(t, "status", "--json").want(t, 0, "*")
		t.Chdir(other)
		r := ctlRun(t, "status")
		r.want(t, 3, "")
		if !strings.Contains(r.stderr, "logrollctl: logrolld is not reachable on ./run/logrolld.sock: no such file or directory") {
			t.Errorf("stderr = %q", r.stderr)
		}
	})
}

func TestUnreachable(t *testing.T) {
	dir := shortDir(t)
	regular := writeFile(t, filepath.Join(dir, "file"), "")
	cfg := writeFile(t, filepath.Join(dir, "records.toml"), "[proxy.config]\nlocal_state_dir = \"st\"\n")
	sock := filepath.Join(dir, "st", "logrolld.sock")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-socket", filepath.Join(dir, "none.sock"), "roll"}, "logrolld is not reachable on " + filepath.Join(dir, "none.sock") + ": no such file or directory"},
		{[]string{"-socket", regular, "config", "reload"}, "logrolld is not reachable on " + regular + ": connection refused"},
		{[]string{"-config", cfg, "status", "--json"}, "logrolld is not reachable on " + sock + " (local_state_dir of " + cfg + "): no such file"},
		{[]string{"-config", cfg, "config", "get", "hostname"}, sock},
		{[]string{"-config", cfg, "config", "diff"}, sock},
		{[]string{"-config", cfg, "metric", "match", "x"}, sock},
		{[]string{"-config", cfg, "rolled"}, sock},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := ctlRun(t, tc.args...)
			if slices.Contains(tc.args, "--json") {
				r.want(t, 3, "*")
				var doc errorOutput
				r.decodeJSON(t, &doc)
				if doc.Exit != 3 || !strings.Contains(doc.Error, tc.msg) {
					t.Errorf("--json document %+v, want exit_code 3 and an error with %q", doc, tc.msg)
				}
			} else {
				r.want(t, 3, "")
			}
			if !strings.Contains(r.stderr, tc.msg) || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr = %q, want one line with %q", r.stderr, tc.msg)
			}
		})
	}
	if _, err := os.Stat(regular); err != nil {
		t.Errorf("regular file: %v", err)
	}
}
