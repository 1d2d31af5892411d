package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Rolled files being compressed (rolled_compression, docs/design.md §10).

// Hidden names of a compression in progress (logging/compress.go):
// .<final>.raw and .<final>.tmp<random>, final being a compressed rolled
// name.
var (
	compressRawName   = regexp.MustCompile(`^\..+\.old\.(gz|zst)\.raw$`)
	compressTmpName   = regexp.MustCompile(`^\..+\.old\.(gz|zst)\.tmp\d+$`)
	compressFinalName = regexp.MustCompile(`^[^.].*\.old\.(gz|zst)$`)
)

// compressingFiles returns the hidden names in dirs that compressions in progress
// leave: raw files and temporaries (compressRawName, compressTmpName).
func compressingFiles(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, dir := range dirs {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			n := e.Name()
			if compressRawName.MatchString(n) || compressTmpName.MatchString(n) {
				out = append(out, filepath.Join(dir, n))
			}
		}
	}
	return out
}

// stockDecompress returns what the stock command (gzip -dc, or zstd -dcq) reads
// out of the compressed file at path; the test fails if it fails.
func stockDecompress(t *testing.T, path string) []byte {
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

// needCompressTools fails the test when gzip or zstd is missing: .ci/run
// installs them, and the output must decompress with the stock commands.
func needCompressTools(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"gzip", "zstd"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed (.ci/run installs it): the rolled files must decompress with the stock command", tool)
		}
	}
}

// waitCompressed waits until no rolled file waits for its compression
// (the compress_pending_files gauge) and no raw file or temporary is left
// in dirs.
func (d *daemon) waitCompressed(t *testing.T, dirs ...string) {
	t.Helper()
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.compress_pending_files"); v != 0 {
			return fmt.Sprintf("compress_pending_files %d", v)
		}
		if h := compressingFiles(t, dirs...); len(h) > 0 {
			return "hidden files left: " + strings.Join(h, " ")
		}
		return ""
	})
}
