package logging

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestDroppedDirs: the rolled folders a new configuration no longer has;
// the log folder never, a folder another log keeps never.
func TestDroppedDirs(t *testing.T) {
	logs := func(dirs ...string) []LogConfig {
		var out []LogConfig
		for i, d := range dirs {
			out = append(out, LogConfig{Name: string(rune('a'+i)) + ".log", Storage: Storage{Dir: d}})
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		before, after []LogConfig
		want          []string
	}{
		{"unchanged", logs("/l/a", ""), logs("/l/a", ""), nil},
		{"to the log folder", logs("/l/a"), logs(""), []string{"/l/a"}},
		{"to another", logs("/l/a", "/l/b"), logs("/l/c", "/l/b"), []string{"/l/a"}},
		{"kept by another log", logs("/l/a", "/l/b"), logs("/l/b", "/l/a"), nil},
		{"a log removed", logs("/l/a", "/l/b"), logs("/l/a"), []string{"/l/b"}},
		{"from the log folder", logs(""), logs("/l/a"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := droppedDirs("/l", tc.before, tc.after); !slices.Equal(got, tc.want) {
				t.Errorf("droppedDirs = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestReadFormerDirs: absolute paths, one a line, each once; anything
// else skipped; no file, no folders.
func TestReadFormerDirs(t *testing.T) {
	dir := t.TempDir()
	if got, err := readFormerDirs(dir); err != nil || got != nil {
		t.Fatalf("no file: %q, %v", got, err)
	}
	content := "/l/a\n\nrelative/b\n/l/c/\n/l/a/\n  /l/d  \n"
	if err := os.WriteFile(filepath.Join(dir, formerDirsName), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readFormerDirs(dir)
	if want := []string{"/l/a", "/l/c", "/l/d"}; err != nil || !slices.Equal(got, want) {
		t.Errorf("readFormerDirs = %q, %v; want %q", got, err, want)
	}
	if got, err := formerDirsAtStart(dir, []string{dir, "/l/c"}); err != nil || !slices.Equal(got, []string{"/l/a", "/l/d"}) {
		t.Errorf("formerDirsAtStart = %q, want the folders not configured", got)
	}
}

// TestRolledIn: the rolled files a dropped folder holds keep it listed; a
// folder gone is 0, one that cannot be read -1 (kept: its files may be
// readable at the next start).
func TestRolledIn(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"a.log.h.20261121.06h00m00s-20261121.07h00m00s.old", "b.old.zst", ".a.log.old.raw", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if n := rolledIn(dir); n != 2 {
		t.Errorf("rolledIn = %d, want 2", n)
	}
	if n := rolledIn(filepath.Join(dir, "gone")); n != 0 {
		t.Errorf("rolledIn(gone) = %d, want 0", n)
	}
	if n := rolledIn(filepath.Join(dir, "notes.txt")); n != 0 {
		t.Errorf("rolledIn(a file) = %d, want 0", n)
	}
	// A folder that cannot be read, for root too: a symlink loop (ELOOP).
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", loop); err != nil {
		t.Fatal(err)
	}
	if n := rolledIn(loop); n != -1 {
		t.Errorf("rolledIn(unreadable) = %d, want -1", n)
	}
}

// TestOpenUnreadableFormerDirs: a list of dropped folders that cannot be
// read (a folder under its name) is said at start, and left as it is.
func TestOpenUnreadableFormerDirs(t *testing.T) {
	dir := t.TempDir()
	list := filepath.Join(dir, formerDirsName)
	if err := os.Mkdir(list, 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	opts := testOpts()
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	c, err := Open(testCfg(dir, Policy{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "cannot read the list of rolled folders a reload dropped") || !strings.Contains(logs.String(), list) {
		t.Errorf("start did not say the list cannot be read:\n%s", logs.String())
	}
	if fi, err := os.Stat(list); err != nil || !fi.IsDir() {
		t.Errorf("the list was touched: %v", err)
	}
}
