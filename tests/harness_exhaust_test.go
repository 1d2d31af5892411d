package tests

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// The log space exhausted on purpose: how the shippers' tests make the
// daemon refuse with 503, and free it again (d.removeRolled, as an
// operator's script would).

// exhaustibleConf is a records.toml whose log space is exhausted after
// about 6 MiB (headroom 2 MiB, no autodelete), with 1 MiB size rolls and
// the given logs.
func exhaustibleConf(logs ...string) string {
	return conf{
		MaxBodyMB:      4,
		RollingEnabled: `"size"`,
		SizeMB:         1,
		Logs:           logs,
		Extra:          "max_space_mb_for_logs = 6\nmax_space_mb_headroom = 2\nauto_delete_rolled_files = 0\n",
	}.toml()
}

// exhaust posts 256 KiB text batches to log until the daemon refuses one
// with 503 (its log space is exhausted), at most 64 batches, and returns the
// number of batches accepted. The records are "fill NNNNNNNN xxx…".
func (d *daemon) exhaust(t *testing.T, log string) int {
	t.Helper()
	const batch = 2048
	line := strings.Repeat("x", 110)
	for b := 0; b < 64; b++ {
		var body strings.Builder
		for i := range batch {
			fmt.Fprintf(&body, "fill %08d %s\n", b*batch+i, line)
		}
		a := d.mustDo(t, req{log: log, ctype: "text/plain", body: []byte(body.String())})
		switch a.status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			if a.header.Get("Retry-After") == "" {
				t.Errorf("503 without Retry-After: %s", a.body)
			}
			return b
		default:
			t.Fatalf("POST /v1/logs/%s: status %d %s, want 200 or 503", log, a.status, a.body)
		}
	}
	t.Fatalf("64 batches of 256 KiB accepted and no 503: the space budget is not what the test set")
	return 0
}
