package ingest

import (
	"bytes"
	"errors"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// TestDecompressMembers checks that a body of several gzip members is read
// whole, and that one whose next member is cut short anywhere in its
// header is corrupt, not taken for the end of the body (the gzip reader's
// multistream mode took a next member cut inside its file name or comment
// for a clean end, and the first member's records were accepted).
func TestDecompressMembers(t *testing.T) {
	member := func(name, comment string, data string) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Name, w.Comment = name, comment
		w.Write([]byte(data))
		w.Close()
		return b.Bytes()
	}
	first := member("", "", "one\ntwo\n")
	named := member("a-file-name", "", "three\n")
	commented := member("", "a comment", "four\n")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for _, tc := range []struct {
		name string
		body []byte
		want string // "" means corrupt
	}{
		{"two members", cat(first, named), "one\ntwo\nthree\n"},
		{"three members", cat(first, named, commented), "one\ntwo\nthree\nfour\n"},
		{"empty member", cat(first, member("", "", ""), commented), "one\ntwo\nfour\n"},
		{"next cut in its name", cat(first, named[:14]), ""},
		{"next cut in its comment", cat(first, commented[:14]), ""},
		{"next cut in its fixed header", cat(first, named[:5]), ""},
		{"next magic only", cat(first, named[:2]), ""},
		{"next cut in its data", cat(first, named[:len(named)-10]), ""},
		{"fuzz crasher c511997820cd6cef", []byte("\x1f\x8b\b\x00000000\xca\xcfK\xe5*)\xcf\xe7\x02$\x00\x00\xff\xff\xe6\v\xba\x12\b\x00\x00\x00\x1f\x8b\b0000000"), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst bytes.Buffer
			err := Decompress(bytes.NewReader(tc.body), 1<<20, &dst)
			var corrupt *CorruptError
			switch {
			case tc.want == "" && !errors.As(err, &corrupt):
				t.Errorf("Decompress = %q, %v; want a *CorruptError", dst.Bytes(), err)
			case tc.want != "" && (err != nil || dst.String() != tc.want):
				t.Errorf("Decompress = %q, %v; want %q", dst.Bytes(), err, tc.want)
			}
		})
	}
}
