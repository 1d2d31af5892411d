package ingest

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/logroll/logroll/records"
)

func TestCheckName(t *testing.T) {
	cases := []struct {
		name, active string // active "" means refused
		reason       string // substring of the refusal
	}{
		{"access", "access.log", ""},
		{"access.log", "access.log", ""},
		{"error.txt", "error.txt", ""},
		{"squid", "squid.log", ""},
		{"a-b_c.9", "a-b_c.9", ""},
		{"a..b", "a..b", ""}, // a plain file name, not a traversal
		{"ACCESS", "ACCESS.log", ""},
		{strings.Repeat("a", 96), strings.Repeat("a", 96) + ".log", ""},
		{strings.Repeat("a", 97), "", "longer than 100 bytes"},
		{strings.Repeat("a", 99) + ".", strings.Repeat("a", 99), ""},
		{strings.Repeat("a", 100) + ".", strings.Repeat("a", 100), ""},
		{strings.Repeat("a", 101) + ".", "", "longer than 100 bytes"},
		{"debug.", "debug", ""},   // Traffic Server's rule: a final dot means no extension
		{"debug..", "debug.", ""}, // and two keep one
		{"a.b.", "a.b", ""},
		{strings.Repeat("a", 101), "", "longer than 100 bytes"},
		{"", "", "empty"},
		{".", "", "dot"},
		{"..", "", "dot"},
		{".hidden", "", "dot"},
		{".access.log.meta", "", "dot"},
		{"a/b", "", `'/'`},
		{"../etc/passwd", "", "dot"},
		{"a\\b", "", `'\\'`},
		{"a\x00", "", `'\x00' at byte 1`},
		{"a b", "", "' '"},
		{"a%2Fb", "", "'%'"},
		{"café", "", "byte 0xc3 at byte 3"},
		{"a\nb", "", `'\n'`},
		{"a:b", "", "':'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			active, err := checkName(tc.name)
			if tc.active != "" {
				if err != nil || active != tc.active {
					t.Fatalf("checkName(%q) = %q, %v; want %q", tc.name, active, err, tc.active)
				}
				return
			}
			if err == nil {
				t.Fatalf("checkName(%q) = %q, want an error", tc.name, active)
			}
			if !strings.Contains(err.Error(), tc.reason) || !strings.HasPrefix(err.Error(), "invalid log name ") {
				t.Errorf("error %q, want it to contain %q", err, tc.reason)
			}
		})
	}
}

// FuzzCheckName checks that every accepted name is one plain path component
// within the length limit, that it is records.ActiveName's rule, and that a
// name that is its own active name maps to itself.
func FuzzCheckName(f *testing.F) {
	for _, s := range []string{"access", "access.log", "..", ".x", "a/b", "a\x00", "é", strings.Repeat("z", 100), "debug.", "debug..", "a.b."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		active, err := checkName(name)
		if err != nil {
			if active != "" {
				t.Fatalf("checkName(%q) returned %q with error %v", name, active, err)
			}
			return
		}
		switch {
		case active == "" || len(active) > maxNameBytes:
			t.Fatalf("checkName(%q) = %q: bad length", name, active)
		case strings.HasPrefix(active, "."), strings.ContainsAny(active, "/\\\x00"):
			t.Fatalf("checkName(%q) = %q: not a plain component", name, active)
		case filepath.Base(active) != active || filepath.Clean(active) != active || filepath.IsAbs(active):
			t.Fatalf("checkName(%q) = %q: not one path component", name, active)
		case active != records.ActiveName(name):
			t.Fatalf("checkName(%q) = %q, records.ActiveName gives %q", name, active, records.ActiveName(name))
		case strings.HasSuffix(name, "."):
			if active != name[:len(name)-1] {
				t.Fatalf("checkName(%q) = %q: not the ATS rule (a final dot is removed)", name, active)
			}
		case strings.Contains(name, "."):
			if active != name {
				t.Fatalf("checkName(%q) = %q: not the ATS rule (a name with a dot is kept)", name, active)
			}
		case active != name+".log":
			t.Fatalf("checkName(%q) = %q: not the ATS rule (.log appended)", name, active)
		}
		if i := strings.LastIndexByte(active, '.'); i >= 0 && i < len(active)-1 {
			if again, err := checkName(active); err != nil || again != active {
				t.Fatalf("checkName(%q) = %q, %v: an active name with an extension must map to itself", active, again, err)
			}
		}
	})
}

// TestFormatOfFastPath checks that formatOf's fast path agrees with
// FormatFor.
func TestFormatOfFastPath(t *testing.T) {
	for _, ct := range []string{"", "text/plain", "text/plain; charset=utf-8",
		"application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8",
		"application/x-ndjson", "application/xml", "text/plain; charset=latin1"} {
		got, gerr := formatOf(ct)
		want, werr := FormatFor(ct)
		if got != want || (gerr == nil) != (werr == nil) {
			t.Errorf("formatOf(%q) = %v, %v; FormatFor = %v, %v", ct, got, gerr, want, werr)
		}
	}
}

// TestNameCache checks that the cache answers as checkName does, for names
// that share slots, repeated, and for invalid names (never cached).
func TestNameCache(t *testing.T) {
	var c nameCache
	names := []string{"access", "access.log", "a", "b", "error.txt", "..", "a/b", "", "x", "access", "aa", "ab", "ba", ".."}
	for range 3 {
		for _, n := range names {
			wantActive, wantErr := checkName(n)
			active, err := c.check(n)
			if active != wantActive || (err == nil) != (wantErr == nil) {
				t.Errorf("check(%q) = %q, %v; checkName = %q, %v", n, active, err, wantActive, wantErr)
			}
		}
	}
	for i := range c.slots {
		if e := c.slots[i].Load(); e != nil {
			if _, err := checkName(e.name); err != nil {
				t.Errorf("invalid name %q cached", e.name)
			}
		}
	}
}
