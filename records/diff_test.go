package records

import (
	"strings"
	"testing"
)

func mustLoad(t *testing.T, src string) *Config {
	t.Helper()
	c, _, err := Load([]byte(src), "/etc/logroll/records.toml")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestDiff(t *testing.T) {
	base := `
[proxy.config.log]
rolling_size_mb = 10
logfile_dir = "logs"
[[logs]]
filename = "access"
[[logs]]
filename = "error"
rolling_enabled = 2
`
	tests := []struct {
		name string
		new  string
		want []string
	}{
		{"same", base, nil},
		{"global change reaches inheriting logs", strings.Replace(base, "rolling_size_mb = 10", "rolling_size_mb = 20", 1), []string{
			"proxy.config.log.rolling_size_mb: 10 -> 20",
			"logs[access.log].rolling_size_mb: 10 -> 20",
			"logs[error.log].rolling_size_mb: 10 -> 20",
		}},
		{"restart required", strings.Replace(base, `logfile_dir = "logs"`, `logfile_dir = "/srv/logs"`, 1), []string{
			`proxy.config.log.logfile_dir: "/etc/logroll/logs" -> "/srv/logs" (restart required)`,
		}},
		{"log removed and added", strings.Replace(base, `filename = "error"`, `filename = "audit"`, 1), []string{
			"logs[error.log]: declared -> (none)",
			"logs[audit.log]: (none) -> declared",
		}},
		{"per-log override", base + "rolling_size_mb = 1\n", []string{
			"logs[error.log].rolling_size_mb: 10 -> 1",
		}},
		{"listener off", base + "\n[proxy.config]\nlocal_state_dir = \"run\"\n[proxy.config.ingest]\nhttp_listen = \"\"\n", []string{
			`proxy.config.ingest.http_listen: "127.0.0.1:8480" -> "" (restart required)`,
		}},
		{"enum shown by name", strings.Replace(base, "rolling_size_mb = 10", "rolling_size_mb = 10\ndurability = 2\nrolling_enabled = \"both\"", 1), []string{
			"proxy.config.log.rolling_enabled: 1 -> 3",
			`proxy.config.log.durability: "roll" -> "sync"`,
			"logs[access.log].rolling_enabled: 1 -> 3",
		}},
	}
	old := mustLoad(t, base)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range Diff(old, mustLoad(t, tt.new)) {
				got = append(got, c.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("Diff:\n got:\n  %s\n want:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
	if r := NeedsRestart(Diff(old, mustLoad(t, tests[2].new))); len(r) != 1 || r[0].Name != LogfileDir {
		t.Errorf("NeedsRestart = %v", r)
	}
}

func TestRunning(t *testing.T) {
	started, _, err := Load([]byte("[proxy.config.log]\nlogfile_dir = \"a\"\nrolling_size_mb = 5\n"), "/etc/r.toml")
	if err != nil {
		t.Fatal(err)
	}
	next, _, err := Load([]byte("[proxy.config.log]\nlogfile_dir = \"b\"\nrolling_size_mb = 7\n"), "/etc/r.toml")
	if err != nil {
		t.Fatal(err)
	}
	run := Running(next, started)
	if got := run.Str(LogfileDir); got != "/etc/a" {
		t.Errorf("logfile_dir = %q, want the started value /etc/a", got)
	}
	if got := run.Int(RollingSizeMB); got != 7 {
		t.Errorf("rolling_size_mb = %d, want the new value 7", got)
	}
	if got := next.Str(LogfileDir); got != "/etc/b" {
		t.Errorf("Running modified next: logfile_dir = %q", got)
	}
	changes := NeedsRestart(Diff(run, next))
	if len(changes) != 1 || changes[0].Name != LogfileDir {
		t.Errorf("Diff(running, file) restart changes = %v, want logfile_dir pending", changes)
	}
	if len(Diff(started, run)) != 1 {
		t.Errorf("Diff(started, running) = %v, want only rolling_size_mb", Diff(started, run))
	}
}
