package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// Helpers of the ecosystem tests (syslog-ng, the cron script, the curl
// recipe, the files in etc/). Every name starts with "eco" so that they do
// not collide with the other tests of the package.

// ecoRepoFile returns the absolute path of rel (slash-separated) in the
// module, and fails the test if it does not exist.
func ecoRepoFile(t *testing.T, rel string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return path
}

// ecoWait polls cond every 20 ms until it returns "" or limit passes; then
// the test fails with cond's last message. It is eventually with a limit of
// the caller's choice, for waits that include a client's retry interval.
func ecoWait(t *testing.T, limit time.Duration, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		msg := cond()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", limit, msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ecoProm reads one series of the daemon's Prometheus /metrics, written as
// it appears there (name{labels}); a series not exported yet reads 0.
func (d *daemon) ecoProm(series string) int64 {
	d.t.Helper()
	resp, err := httpClient.Get("http://" + d.addr + "/metrics")
	if err != nil {
		d.t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		d.t.Fatalf("GET /metrics: status %d", resp.StatusCode)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), series+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
		if err != nil {
			d.t.Fatalf("/metrics %s: %q: %v", series, rest, err)
		}
		return int64(v)
	}
	if err := sc.Err(); err != nil {
		d.t.Fatalf("GET /metrics: %v", err)
	}
	return 0
}

// ecoWritten is the number of records written to the log with active name
// log, from /metrics.
func (d *daemon) ecoWritten(log string) int64 {
	d.t.Helper()
	return d.ecoProm(fmt.Sprintf("proxy_process_log_records_written_total{log=%q}", log))
}

// ecoRolled lists the rolled files of log (oldest first) with `logrollctl
// rolled --json LOG`.
func (d *daemon) ecoRolled(log string) []ctl.RolledFile {
	d.t.Helper()
	r := d.mustCtl("rolled", "--json", log)
	var resp ctl.RolledResponse
	if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
		d.t.Fatalf("rolled --json %s: %v\n%s", log, err, r.stdout)
	}
	return resp.Rolled
}

// ecoExhaust posts 256 KiB text batches to log until the daemon refuses one
// with 503 (its log space is exhausted), at most 64 batches, and returns the
// number of batches accepted. The records are "fill NNNNNNNN xxx…".
func (d *daemon) ecoExhaust(log string) int {
	d.t.Helper()
	const batch = 2048
	line := strings.Repeat("x", 110)
	for b := 0; b < 64; b++ {
		var body strings.Builder
		for i := range batch {
			fmt.Fprintf(&body, "fill %08d %s\n", b*batch+i, line)
		}
		a, err := d.do(req{log: log, ctype: "text/plain", body: []byte(body.String())})
		if err != nil {
			d.t.Fatalf("POST /v1/logs/%s: %v", log, err)
		}
		switch a.status {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			if a.header.Get("Retry-After") == "" {
				d.t.Errorf("503 without Retry-After: %s", a.body)
			}
			return b
		default:
			d.t.Fatalf("POST /v1/logs/%s: status %d %s, want 200 or 503", log, a.status, a.body)
		}
	}
	d.t.Fatalf("64 batches of 256 KiB accepted and no 503: the space budget is not what the test set")
	return 0
}

// ecoRemoveRolled deletes the rolled files of log, as an operator's script
// freeing space would.
func (d *daemon) ecoRemoveRolled(log string) int {
	d.t.Helper()
	files := d.ecoRolled(log)
	for _, f := range files {
		if err := os.Remove(f.Path); err != nil {
			d.t.Fatal(err)
		}
	}
	return len(files)
}

// ecoLogFiles returns the files of log in the order their records were
// written: the rolled files as `logrollctl rolled` lists them (oldest
// first), then the active file.
func (d *daemon) ecoLogFiles(log string) []string {
	d.t.Helper()
	var paths []string
	for _, f := range d.ecoRolled(log) {
		paths = append(paths, f.Path)
	}
	return append(paths, filepath.Join(d.logs, log))
}

// ecoSpaceConf is a records.toml whose log space is exhausted after about
// 6 MiB (headroom 2 MiB, no autodelete), with 1 MiB size rolls and the
// given logs.
func ecoSpaceConf(logs ...string) string {
	return conf{
		MaxBodyMB:      4,
		RollingEnabled: `"size"`,
		SizeMB:         1,
		Logs:           logs,
		Extra:          "max_space_mb_for_logs = 6\nmax_space_mb_headroom = 2\nauto_delete_rolled_files = 0\n",
	}.toml()
}
