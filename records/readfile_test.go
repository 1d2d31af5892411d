package records

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestReadFile: a configuration file is a regular file of at most
// MaxFileBytes; a FIFO, a device, a folder or a larger file is refused at
// once with what it is, never waited on nor read without end.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "records.toml")
	if err := os.WriteFile(regular, []byte("[proxy.config]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "tokens")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.pem")
	if err := os.WriteFile(huge, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(huge, MaxFileBytes+1); err != nil {
		t.Fatal(err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{regular, ""},
		{fifo, "not a regular file (a FIFO)"},
		{zero, "not a regular file (a character device)"},
		{dir, "not a regular file (a folder)"},
		{huge, "more than the 16777216 a configuration file may have"},
		{filepath.Join(dir, "missing"), "no such file or directory"},
	} {
		data, err := ReadFile(tc.path)
		switch {
		case tc.want == "" && (err != nil || string(data) != "[proxy.config]\n"):
			t.Errorf("ReadFile(%s) = %q, %v", tc.path, data, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("ReadFile(%s): %v, want an error with %q", tc.path, err, tc.want)
		}
	}
}

// TestLoadEmpty: a file that sets nothing (empty, blank, comments only) is
// refused at 1:1, as a reload of a file caught while being written would
// otherwise remove every log; a file with a table and no key still loads.
func TestLoadEmpty(t *testing.T) {
	for _, src := range []string{"", "\n\n", "# records.toml\n  # nothing yet\n"} {
		_, _, err := Load([]byte(src), "r.toml")
		if err == nil || !strings.HasPrefix(err.Error(), "r.toml:1:1: the file sets nothing") {
			t.Errorf("Load(%q): %v, want a refusal at r.toml:1:1", src, err)
		}
	}
	if _, _, err := Load([]byte("[proxy.config]\n"), "r.toml"); err != nil {
		t.Errorf("a file with one empty table: %v", err)
	}
}
