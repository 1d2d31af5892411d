package buildinfo

import (
	"runtime"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Info
		want string
	}{
		{Info{Program: "logrolld", Version: "(devel)", Go: "go1.26.8"}, "logrolld (devel) (go1.26.8)"},
		{Info{Program: "logrollctl", Version: "v1.2.0", Revision: "0123abc", Time: "2026-11-21T09:35:00Z", Go: "go1.26.8"},
			"logrollctl v1.2.0 (commit 0123abc, 2026-11-21T09:35:00Z; go1.26.8)"},
		{Info{Program: "logrolld", Version: "v0.0.0-20261121093500-0123456789ab+dirty", Revision: "0123456789ab", Modified: true, Go: "go1.26.8"},
			"logrolld v0.0.0-20261121093500-0123456789ab+dirty (commit 0123456789ab, modified; go1.26.8)"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

// TestRead: a test binary has build information (its module's), and the
// Go version is the running one.
func TestRead(t *testing.T) {
	i := Read("x")
	if i.Program != "x" || i.Version == "" || i.Go != runtime.Version() {
		t.Errorf("Read = %+v", i)
	}
}
