package records

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadBad checks every kind of error: each *.bad.toml file yields exactly
// these messages, all at once, in file order.
func TestLoadBad(t *testing.T) {
	tests := map[string][]string{
		"syntax.bad.toml": {
			`syntax.bad.toml:3:18: syntax: strings cannot contain newlines`,
		},
		"dupkey.bad.toml": {
			`dupkey.bad.toml:3:1: syntax: Key 'proxy.config.log.rolling_size_mb' has already been defined.`,
		},
		"unknown.bad.toml": {
			`unknown.bad.toml:2:1: proxy.config.log.rolling_size_mbb: unknown key (did you mean "rolling_size_mb"?)`,
			`unknown.bad.toml:3:1: proxy.config.log.hostnam: unknown key (did you mean "hostname"?)`,
			`unknown.bad.toml:4:1: proxy.config.log.completely_unknown: unknown key`,
			`unknown.bad.toml:6:2: proxy.config.ingst: unknown key (did you mean "ingest"?)`,
			`unknown.bad.toml:10:2: proxy.config.log.hostname: expected a string, got a table`,
			`unknown.bad.toml:15:1: logs[1].rolling_sise_mb: unknown key (did you mean "rolling_size_mb"?)`,
		},
		"types.bad.toml": {
			`types.bad.toml:2:19: proxy.config.log.rolling_size_mb: expected an integer, got string "big"`,
			`types.bad.toml:3:12: proxy.config.log.hostname: expected a string, got integer 42`,
			`types.bad.toml:4:19: proxy.config.log.rolling_enabled: expected an integer or a name, got float 1.5`,
			`types.bad.toml:5:23: proxy.config.log.rolling_allow_empty: expected 0 or 1, got string "yes"`,
			`types.bad.toml:6:16: proxy.config.log.logfile_perm: expected a file mode string such as "rw-r--r--", got float 644.0`,
			`types.bad.toml:7:25: proxy.config.log.max_space_mb_for_logs: expected an integer, got a date-time`,
			`types.bad.toml:10:16: proxy.config.ingest.http_listen: expected a string, got an array`,
		},
		"range.bad.toml": {
			`range.bad.toml:2:19: proxy.config.log.rolling_enabled: 7 is out of range: expected none (0), time (1), size (2), time_or_size (3), time_and_size (4), both (3), any (4)`,
			`range.bad.toml:3:27: proxy.config.log.space_scan_interval_sec: 0 is out of range: expected 1 to 86400`,
			`range.bad.toml:4:21: proxy.config.log.rolling_min_count: -1 is out of range: expected 0 to 1073741824`,
			`range.bad.toml:5:23: proxy.config.log.rolling_allow_empty: 2 is out of range: expected 0 or 1`,
			`range.bad.toml:6:14: proxy.config.log.durability: unknown value "fsync": expected write (0), roll (1), sync (2) (did you mean "sync"?)`,
			`range.bad.toml:7:25: proxy.config.log.rolled_name_separator: unknown value "-": expected . (0), _ (1) (did you mean "."?)`,
			`range.bad.toml:8:16: proxy.config.log.logfile_perm: "rwxrwxrwz" is not a file mode: expected nine characters like "rw-r--r--" or octal like "0644"`,
			`range.bad.toml:9:19: proxy.config.log.log_buffer_size: 100 is out of range: expected 512 to 67108864`,
			`range.bad.toml:10:12: proxy.config.log.hostname: "web/01" character '/' is not allowed in a host name (letters, digits, '.', '_' and '-' only)`,
			`range.bad.toml:13:15: proxy.config.ingest.http_listen: "localhost" must be host:port or empty: address localhost: missing port in address`,
			`range.bad.toml:14:15: proxy.config.ingest.max_body_mb: 100000 is out of range: expected 1 to 4096`,
		},
		"logs.bad.toml": {
			`logs.bad.toml:2:1: logs[1]: missing filename`,
			`logs.bad.toml:8:12: logs[3].filename: "access.log" is already declared by logs[2] at logs.bad.toml:5:12 (as access.log)`,
			`logs.bad.toml:11:12: logs[4].filename: "../etc/passwd" must be one path component (no '/')`,
			`logs.bad.toml:14:12: logs[5].filename: ".hidden" must not start with a dot`,
			`logs.bad.toml:17:12: logs[6].filename: "a b" character ' ' is not allowed (letters, digits, '.', '_' and '-' only)`,
			`logs.bad.toml:20:12: logs[7].filename: expected a string, got integer 7`,
			`logs.bad.toml:24:19: logs[8].rolling_enabled: unknown value "sometimes": expected none (0), time (1), size (2), time_or_size (3), time_and_size (4), both (3), any (4)`,
			`logs.bad.toml:25:21: logs[8].rolling_max_count: -3 is out of range: expected 0 to 1073741824`,
		},
		"scope.bad.toml": {
			`scope.bad.toml:2:2: "proxy.config.log.rolling_size_mb": a quoted key with dots is one key named "proxy.config.log.rolling_size_mb"; write it unquoted`,
			`scope.bad.toml:4:2: prxy: unknown key (did you mean "proxy"?)`,
			`scope.bad.toml:8:1: proxy.config.log.enabled: unknown key (did you mean "rolling_enabled"?)`,
			`scope.bad.toml:9:1: proxy.config.log.level: unknown key (it belongs in [proxy.config.diags]: proxy.config.diags.level)`,
			`scope.bad.toml:10:16: proxy.config.log.logfile_perm: 644 is a decimal number; write the mode as "0644", 0o644 or "rw-r--r--"`,
			`scope.bad.toml:11:14: proxy.config.log.durability: unknown value "SYNC": expected write (0), roll (1), sync (2) (did you mean "sync"?)`,
			`scope.bad.toml:14:15: proxy.config.ingest.http_listen: "127.0.0.1:99999" port "99999" must be a number from 0 to 65535`,
			`scope.bad.toml:18:1: logs[1].max_space_mb_for_logs: not a per-log record; set proxy.config.log.max_space_mb_for_logs in [proxy.config.log]`,
			`scope.bad.toml:21:12: logs[2].filename: "x.log.web01.20261121.06h00m00s-20261121.12h00m00s.old" must not end in ".old", the suffix of rolled files`,
		},
		"headroom.bad.toml": {
			`headroom.bad.toml:3:25: proxy.config.log.max_space_mb_headroom: max_space_mb_headroom (1000 MiB) must be less than max_space_mb_for_logs (1000 MiB): the headroom is kept free of the budget, and autodelete would delete every rolled file the moment it rolled`,
		},
		// The default headroom (1000 MiB) above a limit set in the file: at the limit.
		"headroomdefault.bad.toml": {
			`headroomdefault.bad.toml:2:25: proxy.config.log.max_space_mb_for_logs: max_space_mb_headroom (1000 MiB) must be less than max_space_mb_for_logs (500 MiB): the headroom is kept free of the budget, and autodelete would delete every rolled file the moment it rolled`,
		},
		// Inline tables in one array share the library's positions: their
		// problems point at the array.
		"inline.bad.toml": {
			`inline.bad.toml:1:9: logs[1].rolling_size_mb: expected an integer, got string "x"`,
			`inline.bad.toml:1:9: logs[3]: must be a table, got integer 5`,
		},
		// Compression names, levels beyond the format's, and rolled
		// folders that would leave logfile_dir.
		"compression.bad.toml": {
			`compression.bad.toml:3:28: proxy.config.log.rolled_compression_level: rolled_compression_level 12 is beyond gzip's levels (1-9; 0 is gzip's default, 6)`,
			`compression.bad.toml:4:14: proxy.config.log.rolled_dir: "../elsewhere" must not contain a ".." element (a relative rolled_dir resolves inside logfile_dir)`,
			`compression.bad.toml:12:22: logs[2].rolled_compression: unknown value "bzip2": expected none (0), gzip (1), zstd (2) (did you mean "gzip"?)`,
			`compression.bad.toml:13:14: logs[2].rolled_dir: "archive/../../x" must not contain a ".." element (a relative rolled_dir resolves inside logfile_dir)`,
			`compression.bad.toml:18:28: logs[3].rolled_compression_level: 23 is out of range: expected 0 to 22`,
			`compression.bad.toml:27:22: logs[5].rolled_compression: rolled_compression_level 12 is beyond gzip's levels (1-9; 0 is gzip's default, 6)`,
			`compression.bad.toml:28:14: logs[5].rolled_dir: expected a string, got integer 7`,
		},
		// Retention and calendar values (issue 19): out of range, and a
		// total that a file rolled on size fills alone, for a log's own value
		// and for the global one (reported once, with every log inheriting it).
		"lifecycle.bad.toml": {
			`lifecycle.bad.toml:4:24: proxy.config.log.rolling_max_total_mb: rolling_max_total_mb (10 MiB) must be more than rolling_size_mb (10 MiB) for a log that rolls on size (access.log, neg.log): a file rolled on size is at least rolling_size_mb, and would be deleted the moment it rolled`,
			`lifecycle.bad.toml:5:23: proxy.config.log.rolling_max_age_sec: -1 is out of range: expected 0 to 3162240000`,
			`lifecycle.bad.toml:6:20: proxy.config.log.rolling_calendar: unknown value "fortnightly": expected none (0), weekly (1), monthly (2)`,
			`lifecycle.bad.toml:14:24: logs[2].rolling_max_total_mb: rolling_max_total_mb (4 MiB) must be more than rolling_size_mb (4 MiB) for a log that rolls on size (big.log): a file rolled on size is at least rolling_size_mb, and would be deleted the moment it rolled`,
			`lifecycle.bad.toml:18:24: logs[3].rolling_max_total_mb: -2 is out of range: expected 0 to 1073741824`,
			`lifecycle.bad.toml:19:20: logs[3].rolling_calendar: 3 is out of range: expected none (0), weekly (1), monthly (2)`,
		},
		"notarray.bad.toml": {
			`notarray.bad.toml:1:8: logs: must be an array of tables ([[logs]]), not a string`,
			`notarray.bad.toml:4:10: proxy.config: must be a table, not an integer`,
		},
	}
	files, _ := filepath.Glob("testdata/*.bad.toml")
	if len(files) != len(tests) {
		t.Errorf("testdata has %d bad files, the table %d: keep them in step", len(files), len(tests))
	}
	for name, want := range tests {
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			cfg, warns, err := Load(data, name)
			if cfg != nil || warns != nil {
				t.Errorf("Load returned a config or warnings with an error")
			}
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Load error = %v, want a *LoadError", err)
			}
			got := strings.Split(le.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("errors:\n got:\n  %s\n want:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

func TestLoadGood(t *testing.T) {
	t.Run("minimal", func(t *testing.T) {
		c, warns := loadGood(t, "minimal.good.toml")
		if len(warns) != 0 {
			t.Errorf("warnings: %v", warns)
		}
		for _, ch := range Diff(Defaults(), c) { // only the paths differ (another base folder)
			if ch.Name != LogfileDir && ch.Name != LocalStateDir {
				t.Errorf("minimal differs from the defaults: %v", ch)
			}
		}
		want, _ := filepath.Abs("testdata/logs")
		if got := c.Str(LogfileDir); got != want {
			t.Errorf("logfile_dir = %q, want %q (relative to the file's folder)", got, want)
		}
	})
	t.Run("full", func(t *testing.T) {
		c, _ := loadGood(t, "full.good.toml")
		ints := map[string]int64{
			RollingEnabled: 3, RollingIntervalSec: 21600, RollingOffsetHr: 3, RollingSizeMB: 100,
			RollingMinCount: 2, RollingMaxCount: 48, RollingAllowEmpty: 1, AutoDelete: 0,
			MaxSpaceMB: 5000, HeadroomMB: 100, LogBufferSize: 65536, MaxSecsPerBuffer: 1,
			LogfilePerm: 0o640, Durability: DurabilitySync, RolledNameSep: SeparatorATS,
			SpaceScanSec: 10, ConfigWatch: 0, DiagsLevel: 0, MaxBodyMB: 64,
		}
		for name, want := range ints {
			if got := c.Int(name); got != want {
				t.Errorf("%s = %d, want %d", name, got, want)
			}
		}
		strs := map[string]string{
			LogfileDir: "/var/log/logroll", LocalStateDir: "/var/run/logroll",
			Hostname: "web01.example.com", HTTPListen: "[::1]:9000",
		}
		for name, want := range strs {
			if got := c.Str(name); got != want {
				t.Errorf("%s = %q, want %q", name, got, want)
			}
		}
		if got := c.Where(RollingSizeMB); got != "testdata/full.good.toml:18:19" {
			t.Errorf("Where(rolling_size_mb) = %q", got)
		}
		if got := c.Where(SpaceScanSec); got == "default" {
			t.Errorf("Where(space_scan_interval_sec) = default, but the file sets it")
		}
		var names []string
		for _, l := range c.Logs {
			names = append(names, l.Filename)
		}
		if strings.Join(names, ",") != "access.log,error.txt,squid.log" {
			t.Errorf("logs = %v", names)
		}
		// Effective settings: overrides, else the global value.
		checks := []struct {
			log, rec string
			want     int64
		}{
			{"access", RollingEnabled, 2}, {"access", RollingSizeMB, 1}, {"access", RollingMinCount, 4},
			{"access", RollingIntervalSec, 21600}, {"access.log", RollingMaxCount, 48},
			{"error.txt", RollingEnabled, 3}, {"error.txt", RollingSizeMB, 100},
			{"squid", RollingEnabled, 4}, {"squid", RollingIntervalSec, 3600}, {"squid", RollingOffsetHr, 0},
			{"squid", RollingAllowEmpty, 0}, {"squid", RollingMinCount, 2},
		}
		for _, ck := range checks {
			l, ok := c.Log(ck.log)
			if !ok {
				t.Fatalf("log %q missing", ck.log)
			}
			if got := l.Int(ck.rec); got != ck.want {
				t.Errorf("%s %s = %d, want %d", ck.log, ck.rec, got, ck.want)
			}
		}
		l, _ := c.Log("squid")
		if w, ok := l.Overrides(RollingIntervalSec); !ok || w != "testdata/full.good.toml:44:24" {
			t.Errorf("squid overrides interval at %q %v", w, ok)
		}
		if _, ok := l.Overrides(RollingSizeMB); ok {
			t.Errorf("squid does not override rolling_size_mb")
		}
		if k, w := l.Key(), l.Where(); k != "logs[3].filename" || w != "testdata/full.good.toml:42:12" {
			t.Errorf("squid is declared by %s at %s, want logs[3].filename at testdata/full.good.toml:42:12", k, w)
		}
		if d := &Defaults().Logs[0]; d.Key() != "logs[1].filename" || d.Where() != "default" {
			t.Errorf("the embedded log is declared by %s at %s, want logs[1].filename at default", d.Key(), d.Where())
		}
	})
	t.Run("adjust", func(t *testing.T) {
		c, warns := loadGood(t, "adjust.good.toml")
		want := []string{
			`testdata/adjust.good.toml:3:24: proxy.config.log.rolling_interval_sec: 7000 does not divide 86400; rounded up to 7200`,
			`testdata/adjust.good.toml:4:21: proxy.config.log.rolling_offset_hr: 24 is outside 0-23; using 0`,
			`testdata/adjust.good.toml:5:19: proxy.config.log.rolling_size_mb: 0 is below the 1 MiB floor; using 1`,
			`testdata/adjust.good.toml:6:25: proxy.config.log.max_space_mb_headroom: 0 means Traffic Server's built-in headroom; using 10 (write 1 for the least)`,
			`testdata/adjust.good.toml:10:24: logs[1].rolling_interval_sec: -5 is below the 1 s floor; using 1`,
			`testdata/adjust.good.toml:14:24: logs[2].rolling_interval_sec: 172800 is above a day, the longest interval; using 86400`,
		}
		var got []string
		for _, w := range warns {
			got = append(got, w.String())
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("warnings:\n got:\n  %s\n want:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
		}
		if c.Int(RollingIntervalSec) != 7200 || c.Int(RollingOffsetHr) != 0 || c.Int(RollingSizeMB) != 1 {
			t.Errorf("adjusted values not applied")
		}
		if l, _ := c.Log("access"); l.Int(RollingIntervalSec) != 1 {
			t.Errorf("per-log interval = %d, want 1", l.Int(RollingIntervalSec))
		}
		if l, _ := c.Log("weekly"); l.Int(RollingIntervalSec) != 86400 {
			t.Errorf("weekly's interval = %d, want 86400", l.Int(RollingIntervalSec))
		}
		if c.Int(HeadroomMB) != 10 {
			t.Errorf("headroom = %d, want 10", c.Int(HeadroomMB))
		}
	})
	t.Run("relative", func(t *testing.T) {
		c, _ := loadGood(t, "relative.good.toml")
		logs, _ := filepath.Abs("logs")
		state, _ := filepath.Abs("testdata/state")
		if c.Str(LogfileDir) != logs || c.Str(LocalStateDir) != state {
			t.Errorf("paths = %q, %q; want %q, %q", c.Str(LogfileDir), c.Str(LocalStateDir), logs, state)
		}
		if c.Int(LogfilePerm) != 0o600 {
			t.Errorf("perm = %o", c.Int(LogfilePerm))
		}
		if c.Logs[0].Filename != "a.b.c" {
			t.Errorf("a filename with a dot is used as is, got %q", c.Logs[0].Filename)
		}
	})
}

func loadGood(t *testing.T, name string) (*Config, []Warning) {
	t.Helper()
	c, warns, err := LoadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("LoadFile(%s): %v", name, err)
	}
	return c, warns
}

// TestLoadAllGood makes sure every *.good.toml loads and round-trips.
func TestLoadAllGood(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.good.toml")
	if len(files) == 0 {
		t.Fatal("no good files")
	}
	for _, f := range files {
		c, _, err := LoadFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		c2, _, err := Load(c.TOML(), f)
		if err != nil {
			t.Errorf("%s: re-encoded config does not load: %v\n%s", f, err, c.TOML())
			continue
		}
		if d := Diff(c, c2); len(d) != 0 {
			t.Errorf("%s: round trip changed %v", f, d)
		}
	}
}

func TestLoadFileMissing(t *testing.T) {
	_, _, err := LoadFile(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want not-exist", err)
	}
}

// TestRolledStorage checks the per-log storage records: a string record
// inherited and overridden per log, rolled_dir resolved against
// logfile_dir (or taken as it is when absolute), and the compression by
// name, through Diff and the re-encoded TOML.
func TestRolledStorage(t *testing.T) {
	src := `[proxy.config.log]
logfile_dir = "/var/log/logroll"
rolled_dir = "archive"
rolled_compression = "gzip"

[[logs]]
filename = "a"

[[logs]]
filename = "b"
rolled_dir = ""
rolled_compression = "zstd"
rolled_compression_level = 19

[[logs]]
filename = "c"
rolled_dir = "/srv/old/logs"
`
	c, warns, err := Load([]byte(src), "/etc/logroll/records.toml")
	if err != nil || len(warns) > 0 {
		t.Fatalf("Load: %v %v", err, warns)
	}
	for _, tt := range []struct {
		log, dir string
		comp     int64
		level    int64
	}{
		{"a.log", "/var/log/logroll/archive", CompressionGzip, 0},
		{"b.log", "/var/log/logroll", CompressionZstd, 19},
		{"c.log", "/srv/old/logs", CompressionGzip, 0},
	} {
		l, ok := c.Log(tt.log)
		if !ok {
			t.Fatalf("no log %s", tt.log)
		}
		if got := c.RolledDir(l); got != tt.dir {
			t.Errorf("%s: RolledDir = %q, want %q", tt.log, got, tt.dir)
		}
		if l.Int(RolledCompression) != tt.comp || l.Int(RolledCompLevel) != tt.level {
			t.Errorf("%s: compression %d level %d, want %d %d", tt.log, l.Int(RolledCompression), l.Int(RolledCompLevel), tt.comp, tt.level)
		}
	}
	if w, ok := c.Logs[1].Overrides(RolledDir); !ok || w != "/etc/logroll/records.toml:11:14" {
		t.Errorf("b's rolled_dir override at %q %v", w, ok)
	}
	again, _, err := Load(c.TOML(), "/etc/logroll/records.toml")
	if err != nil {
		t.Fatalf("re-encoded config does not load: %v\n%s", err, c.TOML())
	}
	if d := Diff(c, again); len(d) != 0 {
		t.Errorf("re-encoded config differs: %v", d)
	}
	next := strings.Replace(src, `rolled_dir = "archive"`, `rolled_dir = "old"`, 1)
	n, _, err := Load([]byte(next), "/etc/logroll/records.toml")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ch := range Diff(c, n) {
		names = append(names, ch.String())
	}
	want := []string{
		`proxy.config.log.rolled_dir: "archive" -> "old"`,
		`logs[a.log].rolled_dir: "archive" -> "old"`,
	}
	if strings.Join(names, "\n") != strings.Join(want, "\n") {
		t.Errorf("Diff:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
}
