package records

import "testing"

// TestSuggestApart: the name proposed keeps the shorter name's style, and
// no longer begins with it and a separator.
func TestSuggestApart(t *testing.T) {
	for _, tc := range []struct{ long, short, want string }{
		{"access.log.eu", "access.log", "access-eu.log"},
		{"access.log.eu.web", "access.log", "access-eu-web.log"},
		{"access.log_eu", "access.log", "access-eu.log"},
		{"err.txt.x", "err.txt", "err-x.txt"},
		{"err.x", "err", "err-x."},
		{"err_x.log", "err", "err-x-log."},
	} {
		got := suggestApart(tc.long, tc.short)
		if got != tc.want {
			t.Errorf("suggestApart(%q, %q) = %q, want %q", tc.long, tc.short, got, tc.want)
		}
		if a := ActiveName(got); startsWithSep(a, tc.short) || a == tc.short {
			t.Errorf("suggestApart(%q, %q) = %q: its active name %q still begins with %q", tc.long, tc.short, got, a, tc.short)
		}
	}
}
