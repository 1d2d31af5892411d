package logging

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMetaFileRewrite: the writer's .meta is rewritten in place (same
// inode) with exactly one line, whatever was there before; a .meta deleted
// or replaced by someone else is written again at its path; a new one gets
// the configured mode exactly; a symlink, a FIFO (without blocking on it)
// or a folder at the path is refused with an error naming it.
func TestMetaFileRewrite(t *testing.T) {
	start := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	const want = metaText1795240800
	tests := []struct {
		name    string
		before  func(t *testing.T, path string, mf *metaFile) // between a first write and the checked one
		perm    os.FileMode
		wantErr string // substring of the checked write's error
	}{
		{name: "in place", perm: 0o644},
		{name: "private", perm: 0o600},
		{name: "longer content before", perm: 0o644, before: func(t *testing.T, path string, mf *metaFile) {
			if err := os.WriteFile(path, []byte("# edited\ncreation_time = 1\nobject_signature = 12345678901234567890\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "deleted", perm: 0o640, before: func(t *testing.T, path string, mf *metaFile) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "replaced by rename", perm: 0o644, before: func(t *testing.T, path string, mf *metaFile) {
			if err := replaceMeta(path, metaContent{CreationTime: time.Unix(7, 0)}, 0o644, false); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "symlink planted", perm: 0o644, wantErr: "symlink", before: func(t *testing.T, path string, mf *metaFile) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(filepath.Join(filepath.Dir(path), "elsewhere"), path); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "fifo planted", perm: 0o644, wantErr: "not a regular file", before: func(t *testing.T, path string, mf *metaFile) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := syscall.Mkfifo(path, 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "folder planted", perm: 0o644, wantErr: "is a directory", before: func(t *testing.T, path string, mf *metaFile) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := metaPath(filepath.Join(t.TempDir(), "access.log"))
			var mf metaFile
			defer mf.close()
			if err := mf.write(path, metaContent{CreationTime: start.Add(-time.Hour)}, tt.perm, true); err != nil {
				t.Fatalf("first write: %v", err)
			}
			first := inode(t, path)
			if tt.before != nil {
				tt.before(t, path, &mf)
			}
			err := mf.write(path, metaContent{CreationTime: start.Add(900 * time.Millisecond)}, tt.perm, false)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), path) {
					t.Fatalf("write = %v, want an error naming %s and saying %q", err, path, tt.wantErr)
				}
				if _, err := os.Stat(filepath.Join(filepath.Dir(path), "elsewhere")); err == nil {
					t.Error("the write followed the symlink")
				}
				return
			}
			if err != nil {
				t.Fatalf("write: %v", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(data) != want {
				t.Errorf("content = %q, want %q", data, want)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != tt.perm && tt.before == nil {
				t.Errorf("mode = %v, want %v", fi.Mode().Perm(), tt.perm)
			}
			if tt.before == nil && inode(t, path) != first {
				t.Error("the .meta was replaced, not rewritten in place")
			}
			if m, err := readMeta(path); err != nil || !m.CreationTime.Equal(start) {
				t.Errorf("readMeta = %v, %v; want %v", m.CreationTime, err, start)
			}
		})
	}
}

// TestMetaFileModeUnderUmask: a .meta the writer creates gets the
// configured mode, not the one the umask leaves.
func TestMetaFileModeUnderUmask(t *testing.T) {
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	path := metaPath(filepath.Join(t.TempDir(), "access.log"))
	var mf metaFile
	defer mf.close()
	if err := mf.write(path, metaContent{CreationTime: time.Unix(1, 0)}, 0o644, false); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode = %v, want 0644", fi.Mode().Perm())
	}
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
