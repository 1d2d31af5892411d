package records

import "testing"

func TestConvert(t *testing.T) {
	tests := []struct {
		rec  string
		raw  any
		want any
		warn bool
		err  string
	}{
		{RollingEnabled, int64(3), int64(3), false, ""},
		{RollingEnabled, "both", int64(3), false, ""},
		{RollingEnabled, "any", int64(4), false, ""},
		{RollingEnabled, "time_and_size", int64(4), false, ""},
		{RollingEnabled, "none", int64(0), false, ""},
		{RollingEnabled, int64(5), nil, false, "5 is out of range: expected none (0), time (1), size (2), time_or_size (3), time_and_size (4), both (3), any (4)"},
		{RollingIntervalSec, int64(3600), int64(3600), false, ""},
		{RollingIntervalSec, int64(7), int64(8), true, ""},
		{RollingIntervalSec, int64(1), int64(1), false, ""},
		{RollingIntervalSec, int64(0), int64(1), true, ""},
		{RollingIntervalSec, int64(50000), int64(86400), true, ""},
		{RollingIntervalSec, int64(86401), int64(86400), true, ""},
		{RollingIntervalSec, int64(604800), int64(86400), true, ""},
		{HeadroomMB, int64(0), int64(10), true, ""},
		{HeadroomMB, int64(-3), int64(10), true, ""},
		{HeadroomMB, int64(1), int64(1), false, ""},
		{RollingOffsetHr, int64(23), int64(23), false, ""},
		{RollingOffsetHr, int64(-1), int64(0), true, ""},
		{RollingSizeMB, int64(-4), int64(1), true, ""},
		{RollingAllowEmpty, true, int64(1), false, ""},
		{RollingAllowEmpty, false, int64(0), false, ""},
		{LogfilePerm, "rw-r-----", int64(0o640), false, ""},
		{LogfilePerm, "rwxrwxrwx", int64(0o777), false, ""},
		{LogfilePerm, "0600", int64(0o600), false, ""},
		{LogfilePerm, int64(0o644), int64(0o644), false, ""},
		{LogfilePerm, "999", nil, false, `"999" is not a file mode: expected nine characters like "rw-r--r--" or octal like "0644"`},
		{LogfilePerm, int64(0o1777), nil, false, "01777 is not a file mode (0 to 0777)"},
		{HTTPListen, "", "", false, ""},
		{HTTPListen, "[::1]:80", "[::1]:80", false, ""},
		{Hostname, "", "", false, ""},
		{Hostname, " web", nil, false, `" web" character ' ' is not allowed in a host name (letters, digits, '.', '_' and '-' only)`},
		{Hostname, "web01.example.com", "web01.example.com", false, ""},
		{HTTPListen, "127.0.0.1:65536", nil, false, `"127.0.0.1:65536" port "65536" must be a number from 0 to 65535`},
		{LogfileDir, "", nil, false, `"" must not be empty`},
		{Durability, "write", int64(0), false, ""},
		{Durability, int64(2), int64(2), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.rec, func(t *testing.T) {
			v, warn, msg := convert(lookup(tt.rec), tt.raw)
			if msg != tt.err {
				t.Fatalf("convert(%v) error %q, want %q", tt.raw, msg, tt.err)
			}
			if v != tt.want {
				t.Errorf("convert(%v) = %v, want %v", tt.raw, v, tt.want)
			}
			if (warn != "") != tt.warn {
				t.Errorf("convert(%v) warning %q, want one: %v", tt.raw, warn, tt.warn)
			}
		})
	}
}

func TestFormatPerm(t *testing.T) {
	for m, want := range map[int64]string{0o644: "rw-r--r--", 0o600: "rw-------", 0o777: "rwxrwxrwx", 0: "---------"} {
		if got := formatPerm(m); got != want {
			t.Errorf("formatPerm(%o) = %q, want %q", m, got, want)
		}
		if back, ok := parsePerm(want); !ok || back != m {
			t.Errorf("parsePerm(%q) = %o, %v", want, back, ok)
		}
	}
}

func TestDidYouMean(t *testing.T) {
	cands := []string{"rolling_size_mb", "rolling_enabled", "hostname"}
	for key, want := range map[string]string{
		"rolling_size_md": ` (did you mean "rolling_size_mb"?)`,
		"hostnme":         ` (did you mean "hostname"?)`,
		"zzz":             "",
		"completely_else": "",
	} {
		if got := didYouMean(key, cands); got != want {
			t.Errorf("didYouMean(%q) = %q, want %q", key, got, want)
		}
	}
}
