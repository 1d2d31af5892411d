package logging

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// TestActiveFilePermIgnoresUmask checks that the active file (and so the
// rolled file, and the next active file) gets Perm exactly under a umask
// that would take bits off it, as the .meta does, while an existing file
// keeps its mode. It changes the process umask, so it must not run in
// parallel with other tests.
func TestActiveFilePermIgnoresUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Perm = 0o664
	c := mustOpen(t, cfg)
	write(t, c, testLog, "one")
	rolled, err := c.Roll()
	if err != nil || len(rolled) != 1 {
		t.Fatalf("Roll = %v, %v; want one file", rolled, err)
	}
	write(t, c, testLog, "two")
	for _, p := range []string{filepath.Join(dir, testLog), metaPath(filepath.Join(dir, testLog)), rolled[0].Path} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o664 {
			t.Errorf("%s: mode %v, %v; want 0664 under umask 077", filepath.Base(p), fi.Mode(), err)
		}
	}
	c.Close()

	// An existing file keeps its mode.
	dir2 := t.TempDir()
	p := filepath.Join(dir2, testLog)
	if err := os.WriteFile(p, []byte("kept\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c2 := mustOpen(t, testCfg(dir2, Policy{}))
	write(t, c2, testLog, "three")
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("existing active file: mode %v, %v; want its 0600 kept", fi.Mode(), err)
	}
}

// TestRollRefusesReplacedActive checks that a roll does not rename what
// replaced the open active file into a rolled name when it must not adopt
// it either — a symlink, a FIFO, a rolled file hard-linked back to the
// active path (adopting it would append to a finished .old): the roll
// fails with errActiveReplaced, what was planted stays where it was, the
// victim is untouched, and once it is gone logging and rolling work again.
// (Another regular file is adopted: TestRollOfDisplacedActiveFile.)
func TestRollRefusesReplacedActive(t *testing.T) {
	for _, kind := range []string{"symlink", "fifo", "hard link"} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(t.TempDir(), "victim")
			want := "victim\n"
			if err := os.WriteFile(victim, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			c := mustOpen(t, testCfg(dir, Policy{}))
			active := filepath.Join(dir, testLog)
			if kind == "hard link" {
				write(t, c, testLog, "rolled before")
				r, err := c.Roll()
				if err != nil || len(r) != 1 {
					t.Fatalf("first Roll = %v, %v", r, err)
				}
				victim, want = r[0].Path, "rolled before\n"
			}
			write(t, c, testLog, "in the file that is replaced")
			if err := os.Remove(active); err != nil {
				t.Fatal(err)
			}
			var err error
			switch kind {
			case "symlink":
				err = os.Symlink(victim, active)
			case "fifo":
				err = syscall.Mkfifo(active, 0o600)
			default:
				err = os.Link(victim, active)
			}
			if err != nil {
				t.Fatal(err)
			}

			before := rolledFiles(t, dir, testLog)
			rolled, err := c.Roll()
			if !errors.Is(err, errActiveReplaced) || len(rolled) != 0 {
				t.Fatalf("Roll = %v, %v; want no file and errActiveReplaced", rolled, err)
			}
			if !strings.Contains(err.Error(), active) || kind == "symlink" && !strings.Contains(err.Error(), "a symlink") {
				t.Errorf("error %q does not name the path and what is there", err)
			}
			if got := rolledFiles(t, dir, testLog); !slices.Equal(got, before) {
				t.Errorf("rolled files %v after a refused roll, want %v", got, before)
			}
			if data, err := os.ReadFile(victim); err != nil || string(data) != want {
				t.Errorf("victim holds %q, %v; want %q", data, err, want)
			}
			fi, err := os.Lstat(active)
			if err != nil || (kind == "symlink") != (fi.Mode().Type() == fs.ModeSymlink) || (kind == "fifo") != (fi.Mode().Type() == fs.ModeNamedPipe) {
				t.Errorf("what was planted at the active path was not left in place: %v, %v", fi, err)
			}

			if err := os.Remove(active); err != nil {
				t.Fatal(err)
			}
			write(t, c, testLog, "after")
			rolled, err = c.Roll()
			if err != nil || len(rolled) != 1 {
				t.Fatalf("Roll after the link was removed = %v, %v; want one file", rolled, err)
			}
			if data, err := os.ReadFile(rolled[0].Path); err != nil || string(data) != "after\n" {
				t.Errorf("rolled %q, %v; want \"after\\n\"", data, err)
			}
			if data, err := os.ReadFile(victim); err != nil || string(data) != want {
				t.Errorf("victim holds %q, %v at the end; want %q", data, err, want)
			}
		})
	}
}
