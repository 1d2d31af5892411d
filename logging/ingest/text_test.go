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

func FuzzDecodeText(f *testing.F) {
	f.Add([]byte("a\r\n\nb\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var recs Records
		err := Decode(Text, body, &recs)
		want, ok := textReference(body)
		if !ok {
			var se *SyntaxError
			if !errors.As(err, &se) || recs.Len() != 0 {
				t.Fatalf("Decode(Text, %q) = %v with %d records, want a *SyntaxError", body, err, recs.Len())
			}
			if c := body[se.Offset]; c != 0 && utf8.Valid(body[:se.Offset+1]) {
				t.Fatalf("Decode(Text, %q): error at byte %d (%#x) which is fine", body, se.Offset, c)
			}
			if !utf8.Valid(body[:se.Offset]) || bytes.IndexByte(body[:se.Offset], 0) >= 0 {
				t.Fatalf("Decode(Text, %q): error at byte %d is not the first fault", body, se.Offset)
			}
			return
		}
		if err != nil || recs.Len() != len(want) {
			t.Fatalf("Decode(Text, %q) = %v with %d records, want %d", body, err, recs.Len(), len(want))
		}
		for i, rec := range recs.Recs {
			if !bytes.Equal(rec, want[i]) {
				t.Fatalf("Decode(Text, %q) record %d = %q, want %q", body, i, rec, want[i])
			}
		}
	})
}
