package logging

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMetaPath(t *testing.T) {
	tests := []struct{ in, want string }{
		{"logs/access.log", "logs/.access.log.meta"},
		{"/var/log/logroll/access.log", "/var/log/logroll/.access.log.meta"},
		{"access.log", ".access.log.meta"},
		{"/logs/error", "/logs/.error.meta"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := metaPath(tt.in); got != tt.want {
				t.Errorf("metaPath(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMeta(t *testing.T) {
	const sec = 1795240800
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"as written", "creation_time = 1795240800\n", sec},
		{"no newline", "creation_time = 1795240800", sec},
		{"no spaces", "creation_time=1795240800\n", sec},
		{"crlf and tabs", "\tcreation_time\t=  1795240800 \r\n", sec},
		{"comments and blank lines", "# written by logroll\n\n  # indented comment\ncreation_time = 1795240800\n\n", sec},
		{"traffic server file", "creation_time = 1795240800\nobject_signature = 12345678901234567890\n", sec},
		{"unknown keys before", "version = 2\nnote = a = b\ncreation_time = 1795240800\n", sec},
		{"epoch", "creation_time = 0\n", 0},
		{"before epoch", "creation_time = -86400\n", -86400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := parseMeta([]byte(tt.in))
			if err != nil {
				t.Fatalf("parseMeta(%q) error: %v", tt.in, err)
			}
			if got := m.CreationTime.Unix(); got != tt.want || m.CreationTime.Nanosecond() != 0 {
				t.Errorf("parseMeta(%q) = %v, want Unix %d", tt.in, m.CreationTime, tt.want)
			}
		})
	}
}

func TestParseMetaErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		line int
		want string // a part of the message
	}{
		{"empty", "", 0, "no creation_time"},
		{"only comments", "# nothing\n\n", 0, "no creation_time"},
		{"other keys only", "object_signature = 1\n", 0, "no creation_time"},
		{"no equals", "# c\ncreation_time 1795240800\n", 2, "is not key = value"},
		{"empty key", "= 5\n", 1, "empty key"},
		{"not a number", "creation_time = yesterday\n", 1, `"yesterday" is not a number`},
		{"fraction", "creation_time = 1795240800.5\n", 1, "is not a number"},
		{"empty value", "creation_time =\n", 1, "is not a number"},
		{"overflow", "creation_time = 99999999999999999999\n", 1, "is not a number"},
		{"twice", "creation_time = 1\ncreation_time = 2\n", 2, "given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseMeta([]byte(tt.in))
			var me *metaError
			if !errors.As(err, &me) {
				t.Fatalf("parseMeta(%q) error = %v, want a *metaError", tt.in, err)
			}
			if me.Line != tt.line {
				t.Errorf("line = %d, want %d (%v)", me.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestWriteReadMeta(t *testing.T) {
	start := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		perm os.FileMode
		sync bool
	}{
		{"no sync", 0o644, false},
		{"sync", 0o644, true},
		{"private", 0o600, true},
		{"group readable", 0o640, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := metaPath(filepath.Join(dir, "access.log"))
			if err := replaceMeta(path, metaContent{CreationTime: start.Add(-time.Hour)}, tt.perm, tt.sync); err != nil {
				t.Fatalf("first replaceMeta: %v", err)
			}
			// Overwrite, with a fraction of a second that must be dropped.
			if err := replaceMeta(path, metaContent{CreationTime: start.Add(900 * time.Millisecond)}, tt.perm, tt.sync); err != nil {
				t.Fatalf("second replaceMeta: %v", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := string(data), metaText1795240800; got != want {
				t.Errorf("content = %q, want %q", got, want)
			}
			m, err := readMeta(path)
			if err != nil {
				t.Fatalf("readMeta: %v", err)
			}
			if !m.CreationTime.Equal(start) {
				t.Errorf("CreationTime = %v, want %v", m.CreationTime, start)
			}
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := info.Mode().Perm(); got != tt.perm {
				t.Errorf("mode = %v, want %v", got, tt.perm)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(entries) != 1 || entries[0].Name() != ".access.log.meta" {
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				t.Errorf("folder holds %q, want only .access.log.meta", names)
			}
		})
	}
}

func TestReadMetaErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name     string
		path     string
		notExist bool
		want     []string // parts of the message
	}{
		{"missing", filepath.Join(dir, ".missing.log.meta"), true, []string{".missing.log.meta"}},
		{"malformed", write(".bad.log.meta", "# x\ncreation_time = soon\n"), false, []string{".bad.log.meta", "line 2", `"soon"`}},
		{"empty", write(".empty.log.meta", ""), false, []string{".empty.log.meta", "no creation_time"}},
		{"too large", write(".big.log.meta", strings.Repeat("#\n", metaMaxSize)), false, []string{".big.log.meta", "larger than"}},
		{"a folder", dir, false, []string{dir}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readMeta(tt.path)
			if err == nil {
				t.Fatalf("readMeta(%s) succeeded", tt.path)
			}
			if got := errors.Is(err, fs.ErrNotExist); got != tt.notExist {
				t.Errorf("errors.Is(%v, fs.ErrNotExist) = %v, want %v", err, got, tt.notExist)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestWriteMetaErrors(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing folder", func(t *testing.T) {
		path := filepath.Join(dir, "nope", ".access.log.meta")
		err := replaceMeta(path, metaContent{CreationTime: time.Unix(1, 0)}, 0o644, true)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), path) {
			t.Errorf("replaceMeta = %v, want a not-exist error naming %s", err, path)
		}
	})
	t.Run("target is a folder", func(t *testing.T) {
		path := filepath.Join(dir, ".taken.meta")
		if err := os.Mkdir(path, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(path, "x"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := replaceMeta(path, metaContent{CreationTime: time.Unix(1, 0)}, 0o644, false); err == nil {
			t.Fatal("replaceMeta over a non-empty folder succeeded")
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp") {
				t.Errorf("temporary file %s left behind", e.Name())
			}
		}
	})
}

// metaText1795240800 is what replaceMeta and metaFile write for metaContent{CreationTime:
// 1795240800} and nothing else known: fixed-width values.
const metaText1795240800 = "creation_time = 1795240800\n" +
	"rolled_end = 0000000000\n" +
	"rolled_high = 00000000.00h00m00s\n" +
	"rolled_high_seq = -0000000001\n" +
	"rolled_max_seq = 00000000000\n"

// TestMetaRoundTrip: everything a .meta holds is read back as written, and
// every content has the same length.
func TestMetaRoundTrip(t *testing.T) {
	for _, m := range []metaContent{
		{CreationTime: time.Unix(1795240800, 0)},
		{CreationTime: time.Unix(1795240800, 0), LastEnd: time.Unix(1795240799, 0),
			names: nameState{high: "20261121.06h00m00s", highSeq: -1, maxSeq: 3}, hasNames: true},
		{CreationTime: time.Unix(1795240800, 0), LastEnd: time.Unix(1795240799, 0),
			names: nameState{high: "20261121.06h00m00s", highSeq: 12, maxSeq: 40}, hasNames: true},
	} {
		b := appendMeta(nil, m)
		if len(b) != len(metaText1795240800) {
			t.Errorf("content %q: %d bytes, want %d like every other", b, len(b), len(metaText1795240800))
		}
		got, err := parseMeta(b)
		if err != nil {
			t.Fatalf("parseMeta(%q): %v", b, err)
		}
		want := m
		want.hasNames = true
		if m.names.high == "" {
			want.names = nameState{highSeq: -1}
		}
		if !got.CreationTime.Equal(want.CreationTime) || !got.LastEnd.Equal(want.LastEnd) || got.names != want.names || !got.hasNames {
			t.Errorf("parseMeta(appendMeta(%+v)) = %+v", m, got)
		}
	}
	for _, bad := range []string{
		"creation_time = 1\nrolled_high = 2026\n",
		"creation_time = 1\nrolled_high_seq = -2\n",
		"creation_time = 1\nrolled_max_seq = -1\n",
		"creation_time = 1\nrolled_end = -5\n",
		"creation_time = 1\nrolled_end = 1\nrolled_end = 2\n",
	} {
		if _, err := parseMeta([]byte(bad)); err == nil {
			t.Errorf("parseMeta(%q) = nil error", bad)
		}
	}
}
