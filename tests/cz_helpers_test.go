package tests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// Helpers of the tests of the finished file's lifecycle, compression and
// rolled folders (compress_test.go; docs/design.md §10). Every name starts with cz.

// czFiles returns the files of log (its active name) in the folders dirs,
// the log folder first: the rolled files of every folder in time order,
// checked not to overlap, then the active file (in the log folder).
func czFiles(t *testing.T, dirs []string, log string) []string {
	t.Helper()
	type rolled struct {
		path       string
		start, end time.Time
		seq        int
	}
	var rs []rolled
	var active string
	for _, dir := range dirs {
		for _, p := range logFiles(t, dir, log) {
			m := rolledName.FindStringSubmatch(filepath.Base(p))
			if m == nil {
				active = p
				continue
			}
			start, end := parseRolled(t, p, dir, log)
			seq, _ := strconv.Atoi(strings.TrimPrefix(m[4], "."))
			rs = append(rs, rolled{p, start, end, seq})
		}
	}
	slices.SortFunc(rs, func(a, b rolled) int {
		if c := a.start.Compare(b.start); c != 0 {
			return c
		}
		if c := a.end.Compare(b.end); c != 0 {
			return c
		}
		return a.seq - b.seq
	})
	var out []string
	for i, r := range rs {
		if i > 0 && r.start.Before(rs[i-1].end) {
			t.Errorf("%s starts before the end of %s: rolled files overlap", r.path, rs[i-1].path)
		}
		out = append(out, r.path)
	}
	if active != "" {
		out = append(out, active)
	}
	return out
}

// czReadLog is relReadLog over the folders dirs (the log folder first):
// every file of log, compressed ones decompressed, read until the folders
// did not change during the reading.
func czReadLog(t *testing.T, dirs []string, log string) *relDisk {
	t.Helper()
	return relReadStable(t, func() string {
		var b strings.Builder
		for _, d := range dirs {
			b.WriteString(relListing(t, d))
		}
		return b.String()
	}, func() []string { return czFiles(t, dirs, log) })
}

// czHidden returns the hidden names in dirs that compressions in progress
// leave: raw files and temporaries (czRawName, czTmpName).
func czHidden(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			n := e.Name()
			if czRawName.MatchString(n) || czTmpName.MatchString(n) {
				out = append(out, filepath.Join(dir, n))
			}
		}
	}
	return out
}

// czStock returns what the stock command (gzip -dc, or zstd -dcq) reads
// out of the compressed file at path; the test fails if it fails.
func czStock(t *testing.T, path string) []byte {
	t.Helper()
	var cmd *exec.Cmd
	switch {
	case strings.HasSuffix(path, ".gz"):
		cmd = exec.Command("gzip", "-dc", path)
	case strings.HasSuffix(path, ".zst"):
		cmd = exec.Command("zstd", "-dcq", path)
	default:
		t.Fatalf("%s is not compressed", path)
	}
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s: %v %s", strings.Join(cmd.Args, " "), err, stderr)
	}
	return out
}

// czNeedTools fails the test when gzip or zstd is missing: .ci/run
// installs them, and the output must decompress with the stock commands.
func czNeedTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"gzip", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (.ci/run installs it): the rolled files must decompress with the stock command", tool)
		}
	}
}

// czRolled runs `logrollctl rolled --json` and returns the files.
func (d *daemon) czRolled(logs ...string) []ctl.RolledFile {
	d.t.Helper()
	r := d.mustCtl(append([]string{"rolled", "--json"}, logs...)...)
	var resp ctl.RolledResponse
	if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
		d.t.Fatalf("rolled --json: %v\n%v", err, r)
	}
	return resp.Rolled
}

// czWaitCompressed waits until no rolled file waits for its compression
// (the compress_pending_files gauge) and no raw file or temporary is left
// in dirs.
func (d *daemon) czWaitCompressed(dirs ...string) {
	d.t.Helper()
	eventually(d.t, func() string {
		if v := d.metricValue("proxy.process.log.compress_pending_files"); v != "0" {
			return "compress_pending_files " + v
		}
		if h := czHidden(d.t, dirs...); len(h) > 0 {
			return "hidden files left: " + strings.Join(h, " ")
		}
		return ""
	})
}
