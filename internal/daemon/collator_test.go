package daemon

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/space"
)

func TestCollatorConfig(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		toml string
		want func(*logging.Config) bool
	}{
		{"no [[logs]]: defaults, no log", "[proxy.config]\n", func(c *logging.Config) bool {
			return c.Dir == filepath.Join(dir, "logs") && c.BufferSize == 9216 && c.FlushInterval == 5*time.Second &&
				c.Perm == 0o644 && c.Durability == logging.DurabilityRoll && c.Form == logging.FormDot &&
				len(c.Logs) == 0
		}},
		{"one log with the defaults", "[[logs]]\nfilename = \"access\"\n", func(c *logging.Config) bool {
			return len(c.Logs) == 1 && c.Logs[0].Name == "access.log" &&
				c.Logs[0].Policy == logging.Policy{Mode: logging.ModeTime, Interval: 24 * time.Hour, SizeBytes: 10 << 20}
		}},
		{"durability write maps by name", "[proxy.config.log]\ndurability = \"write\"\n", func(c *logging.Config) bool {
			return c.Durability == logging.DurabilityWrite
		}},
		{"durability sync", "[proxy.config.log]\ndurability = \"sync\"\n", func(c *logging.Config) bool {
			return c.Durability == logging.DurabilitySync
		}},
		{"ats separator", "[proxy.config.log]\nrolled_name_separator = \"_\"\n", func(c *logging.Config) bool {
			return c.Form == logging.FormATS
		}},
		{"globals", "[proxy.config.log]\nlogfile_dir = \"/var/log/x\"\nlog_buffer_size = 4096\nmax_secs_per_buffer = 2\nlogfile_perm = \"rw-------\"\nauto_delete_rolled_files = 0\n", func(c *logging.Config) bool {
			return c.Dir == "/var/log/x" && c.BufferSize == 4096 && c.FlushInterval == 2*time.Second && c.Perm == 0o600
		}},
		{"per-log overrides", `
[proxy.config.log]
rolling_enabled = "time_or_size"
rolling_interval_sec = 21600
rolling_offset_hr = 3

[[logs]]
filename = "access"
rolling_size_mb = 100
rolling_min_count = 4
rolling_max_count = 7
rolling_allow_empty = 1

[[logs]]
filename = "error.txt"
rolling_enabled = "none"
`, func(c *logging.Config) bool {
			return len(c.Logs) == 2 &&
				c.Logs[0] == logging.LogConfig{Name: "access.log", Policy: logging.Policy{Mode: logging.ModeTimeOrSize, Interval: 6 * time.Hour, OffsetHours: 3, SizeBytes: 100 << 20, MinCount: 4, AllowEmpty: true}} &&
				c.Logs[1] == logging.LogConfig{Name: "error.txt", Policy: logging.Policy{Mode: logging.ModeNone, Interval: 6 * time.Hour, OffsetHours: 3, SizeBytes: 10 << 20}}
		}},
		{"storage: rolled_dir, compression and level, global and per log", `
[proxy.config.log]
logfile_dir = "/var/log/x"
rolled_compression = "zstd"
rolled_dir = "archive"

[[logs]]
filename = "a"

[[logs]]
filename = "b"
rolled_compression = "gzip"
rolled_compression_level = 1
rolled_dir = ""

[[logs]]
filename = "c"
rolled_compression = "none"
rolled_dir = "/var/log/x"
`, func(c *logging.Config) bool {
			return len(c.Logs) == 3 &&
				c.Logs[0].Storage == logging.Storage{Dir: "/var/log/x/archive", Compression: logging.CompressionZstd} &&
				c.Logs[1].Storage == logging.Storage{Compression: logging.CompressionGzip, Level: 1} &&
				c.Logs[2].Storage == logging.Storage{}
		}},
		{"calendars map by name", `
[proxy.config.log]
rolling_calendar = "weekly"
rolling_offset_hr = 6

[[logs]]
filename = "access"

[[logs]]
filename = "monthly"
rolling_calendar = "monthly"

[[logs]]
filename = "interval"
rolling_calendar = "none"
`, func(c *logging.Config) bool {
			return len(c.Logs) == 3 && c.Logs[0].Policy.Calendar == logging.CalendarWeekly && c.Logs[0].Policy.OffsetHours == 6 &&
				c.Logs[1].Policy.Calendar == logging.CalendarMonthly && c.Logs[2].Policy.Calendar == logging.CalendarNone
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "records.toml")
			if err := os.WriteFile(path, []byte(tt.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, _, err := records.LoadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got := collatorConfig(cfg)
			if !tt.want(&got) {
				t.Errorf("collatorConfig = %+v", got)
			}
		})
	}
}

// TestSpaceConfig: the space manager gets every retention and budget record
// (rolling_max_count is its own since it owns every deletion).
func TestSpaceConfig(t *testing.T) {
	cfg, _, err := records.Load([]byte(`
[proxy.config.log]
hostname = "web07"
auto_delete_rolled_files = 0
max_space_mb_for_logs = 300
max_space_mb_headroom = 20
rolling_max_count = 2
rolling_max_age_sec = 3600

[[logs]]
filename = "access"
rolling_min_count = 4
rolling_max_total_mb = 50

[[logs]]
filename = "errors"
rolling_max_count = 9
rolling_max_age_sec = 0
`), "r.toml")
	if err != nil {
		t.Fatal(err)
	}
	got := spaceConfig(cfg, "/var/log/x")
	want := space.Config{
		Dir: "/var/log/x", Limit: 300 << 20, Headroom: 20 << 20, AutoDelete: false, ScanInterval: time.Minute,
		MinFree: 1 << 20, MinFreeInodes: 3, Host: "web07",
		Logs: []space.Log{{Name: "access.log", MinCount: 4, MaxCount: 2, MaxAge: time.Hour, MaxTotal: 50 << 20}, {Name: "errors.log", MaxCount: 9}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("spaceConfig =\n%+v, want\n%+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
}

func TestCollatorConfigEmbeddedDefaults(t *testing.T) {
	got := collatorConfig(records.Defaults())
	wd, _ := os.Getwd()
	if got.Dir != filepath.Join(wd, "logs") || len(got.Logs) != 1 || got.Logs[0].Name != "access.log" {
		t.Errorf("collatorConfig(Defaults()) = %+v, want ./logs with access.log", got)
	}
}

func TestSlogLevel(t *testing.T) {
	for _, tt := range []struct {
		level string
		want  string
	}{{"debug", "DEBUG"}, {"info", "INFO"}, {"warn", "WARN"}, {"error", "ERROR"}} {
		cfg, _, err := records.Load([]byte("[proxy.config.diags]\nlevel = \""+tt.level+"\"\n"), "r.toml")
		if err != nil {
			t.Fatal(err)
		}
		if got := slogLevel(cfg).String(); got != tt.want {
			t.Errorf("level %s → %s, want %s", tt.level, got, tt.want)
		}
	}
}
