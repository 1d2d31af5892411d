package ingest

import (
	"bytes"
	"errors"
	"testing"
	"unicode/utf8"
)

// textReference splits body the simple way: lines on '\n', one trailing '\r'
// dropped, empty lines skipped; ok is false if the body must be refused.
func textReference(body []byte) (recs [][]byte, ok bool) {
	if !utf8.Valid(body) || bytes.IndexByte(body, 0) >= 0 {
		return nil, false
	}
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > 0 {
			recs = append(recs, line)
		}
	}
	return recs, true
}

// FuzzDecodeText checks Decode(Text) against textReference, and the precise
// scanner decodeTextChecked as well on every input (Decode only uses it for
// bodies it refuses), with the block's invariants (recordsOf): in the body
// itself exactly when the body begins with its records' lines.
func FuzzDecodeText(f *testing.F) {
	f.Add([]byte("a\r\n\nb\n"))
	f.Add([]byte("caf\xc3\xa9\nna\xefve\n"))
	f.Add([]byte("a\nb\n\n\r\n"))
	f.Add([]byte("a\nb\r\nc"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkTextDecoder(t, "Decode", func(b []byte, r *Records) error { return decodeBoth(t, Text, b, r) }, body)
		checkTextDecoder(t, "decodeTextChecked", func(b []byte, r *Records) error {
			r.start(b)
			err := decodeTextChecked(b, r)
			if err != nil {
				r.Reset() // as Decode does
			}
			return err
		}, body)
	})
}

// checkTextDecoder checks one text decoder on body against textReference.
func checkTextDecoder(t *testing.T, name string, decode func([]byte, *Records) error, body []byte) {
	t.Helper()
	var recs Records
	err := decode(body, &recs)
	want, ok := textReference(body)
	if !ok {
		var se *SyntaxError
		if !errors.As(err, &se) || recs.Len() != 0 {
			t.Fatalf("%s(%q) = %v with %d records, want a *SyntaxError", name, body, err, recs.Len())
		}
		if c := body[se.Offset]; c != 0 && utf8.Valid(body[:se.Offset+1]) {
			t.Fatalf("%s(%q): error at byte %d (%#x) which is fine", name, body, se.Offset, c)
		}
		if !utf8.Valid(body[:se.Offset]) || bytes.IndexByte(body[:se.Offset], 0) >= 0 {
			t.Fatalf("%s(%q): error at byte %d is not the first fault", name, body, se.Offset)
		}
		return
	}
	if err != nil || recs.Len() != len(want) {
		t.Fatalf("%s(%q) = %v with %d records, want %d", name, body, err, recs.Len(), len(want))
	}
	for i, rec := range recordsOf(t, body, &recs) {
		if !bytes.Equal(rec, want[i]) {
			t.Fatalf("%s(%q) record %d = %q, want %q", name, body, i, rec, want[i])
		}
	}
}
