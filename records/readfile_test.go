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
