package tests

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// readFile returns a file's content.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// lines splits s into lines, without a trailing empty one.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// rolledName matches a rolled file's name (docs/design.md §5) for host e2ehost:
// the active name, the host, START-END, an optional collision number, and
// the extension of a compressed file (rolled_compression, docs/design.md §10).
var rolledName = regexp.MustCompile(`^(.+)\.e2ehost\.(\d{8}\.\d{2}h\d{2}m\d{2}s)-(\d{8}\.\d{2}h\d{2}m\d{2}s)(\.\d+)?\.old(\.gz|\.zst)?$`)

// rolledTimeLayout is %Y%m%d.%Hh%Mm%Ss.
const rolledTimeLayout = "20060102.15h04m05s"

// parseRolled checks that path is a rolled file of log (active name) in dir
// and returns its START and END.
func parseRolled(t *testing.T, path, dir, log string) (start, end time.Time) {
	t.Helper()
	if !filepath.IsAbs(path) {
		t.Errorf("rolled path %q is not absolute", path)
	}
	if filepath.Dir(path) != dir {
		t.Errorf("rolled path %q is not in the log folder %s", path, dir)
	}
	m := rolledName.FindStringSubmatch(filepath.Base(path))
	if m == nil || m[1] != log {
		t.Fatalf("rolled name %q does not match %s.e2ehost.START-END[.N].old[.gz|.zst]", filepath.Base(path), log)
	}
	start, err1 := time.ParseInLocation(rolledTimeLayout, m[2], time.Local)
	end, err2 := time.ParseInLocation(rolledTimeLayout, m[3], time.Local)
	if err := errors.Join(err1, err2); err != nil {
		t.Fatalf("rolled name %q: %v", path, err)
	}
	if start.After(end) {
		t.Errorf("rolled name %q: START after END", path)
	}
	return start, end
}

// logFiles returns the rolled files of log in dir, oldest first (by START,
// END and collision number, checking that they never overlap in time), then
// its active file. Any other file but the daemon's hidden ones is an error.
func logFiles(t *testing.T, dir, log string) []string {
	t.Helper()
	return logFilesIn(t, []string{dir}, log)
}

// logFilesIn is logFiles over the folders dirs, the log folder (with the
// active file) first, then rolled_dir folders: the rolled files of every
// folder in time order, then the active file.
func logFilesIn(t *testing.T, dirs []string, log string) []string {
	t.Helper()
	type rolled struct {
		path       string
		start, end time.Time
		seq        int
	}
	var rs []rolled
	for _, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			n := e.Name()
			switch m := rolledName.FindStringSubmatch(n); {
			case n == log || strings.HasPrefix(n, ".") || e.IsDir(): // a folder: a rolled_dir, read on its own
			case m != nil && m[1] == log:
				p := filepath.Join(dir, n)
				start, end := parseRolled(t, p, dir, log)
				seq, _ := strconv.Atoi(strings.TrimPrefix(m[4], "."))
				rs = append(rs, rolled{p, start, end, seq})
			default:
				t.Errorf("unexpected file %s in %s", n, dir)
			}
		}
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if !a.start.Equal(b.start) {
			return a.start.Before(b.start)
		}
		if !a.end.Equal(b.end) {
			return a.end.Before(b.end)
		}
		return a.seq < b.seq
	})
	var out []string
	for i, r := range rs {
		if i > 0 && r.start.Before(rs[i-1].end) {
			t.Errorf("%s starts before the end of %s: rolled files overlap", filepath.Base(r.path), filepath.Base(rs[i-1].path))
		}
		out = append(out, r.path)
	}
	if _, err := os.Stat(filepath.Join(dirs[0], log)); err == nil {
		out = append(out, filepath.Join(dirs[0], log))
	}
	return out
}

// filesOf returns the files of log in the order their records were
// written, as the daemon knows them: the rolled files `logrollctl rolled`
// lists (oldest first), then the active file. Unlike logFiles, other logs
// may share the folder.
func (d *daemon) filesOf(t *testing.T, log string) []string {
	t.Helper()
	var paths []string
	for _, f := range d.rolled(t, log) {
		paths = append(paths, f.Path)
	}
	return append(paths, filepath.Join(d.logs, log))
}

// removeRolled deletes the rolled files of log, as an operator's script
// freeing space would, and returns how many.
func (d *daemon) removeRolled(t *testing.T, log string) int {
	t.Helper()
	files := d.rolled(t, log)
	for _, f := range files {
		if err := os.Remove(f.Path); err != nil {
			t.Fatal(err)
		}
	}
	return len(files)
}

// readRolled returns the content of a log file: a compressed rolled file
// (.old.gz, .old.zst) decompressed by klauspost/compress's readers, any
// other file as it is. A compressed file that does not decompress whole
// (truncated, corrupt) is an error.
func readRolled(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".old.gz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	case strings.HasSuffix(path, ".old.zst"):
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	default:
		return data, nil
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// entry is what a folder snapshot records of one directory entry.
type entry struct {
	size int64
	mode fs.FileMode
	ino  uint64
}

// snapshot lists dir: each entry's name, size, mode (of the entry itself,
// not of what a symlink points to) and inode. An entry removed while it is
// listed is left out.
func snapshot(t *testing.T, dir string) map[string]entry {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	m := make(map[string]entry, len(ents))
	for _, e := range ents {
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatalf("lstat: %v", err)
		}
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		m[e.Name()] = entry{size: fi.Size(), mode: fi.Mode(), ino: ino}
	}
	return m
}

// snapshotDiff describes how after differs from before, "" when equal.
func snapshotDiff(before, after map[string]entry) string {
	var diffs []string
	for n, b := range before {
		a, ok := after[n]
		switch {
		case !ok:
			diffs = append(diffs, n+" removed")
		case a != b:
			diffs = append(diffs, fmt.Sprintf("%s changed: %d bytes %v inode %d -> %d bytes %v inode %d", n, b.size, b.mode, b.ino, a.size, a.mode, a.ino))
		}
	}
	for n, a := range after {
		if _, ok := before[n]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s appeared (%d bytes %v)", n, a.size, a.mode))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// listing describes the entries of dirs in one string, to see whether they
// changed.
func listing(t *testing.T, dirs ...string) string {
	t.Helper()
	var b strings.Builder
	for _, dir := range dirs {
		m := snapshot(t, dir)
		for _, n := range slices.Sorted(maps.Keys(m)) {
			fmt.Fprintf(&b, "%s/%s %d %d\n", dir, n, m[n].size, m[n].ino)
		}
	}
	return b.String()
}
