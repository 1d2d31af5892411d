package ingest

import (
	"bytes"
	"runtime"
	"slices"
	"testing"
	"unsafe"
)

// TestDecodeBlock checks the block Decode lays the records out in: the
// records each followed by '\n', and where it lives — in the body itself
// (a prefix of it, nothing copied) when the body begins with its records'
// lines, else in the Records' own buffer of len(body)+1 bytes.
func TestDecodeBlock(t *testing.T) {
	tests := []struct {
		name    string
		f       Format
		body    string
		block   string
		inPlace bool
	}{
		{"text lines", Text, "a\nbb\n", "a\nbb\n", true},
		{"text trailing empty lines", Text, "a\nbb\n\n\r\n\n", "a\nbb\n", true},
		{"text no final newline", Text, "a\nbb", "a\nbb\n", false},
		{"text leading empty line", Text, "\na\n", "a\n", false},
		{"text empty line between", Text, "a\n\nb\n", "a\nb\n", false},
		{"text crlf", Text, "a\r\nb\r\n", "a\nb\n", false},
		{"text crlf on the last line only", Text, "a\nb\r\n", "a\nb\n", false},
		{"text blank-line separated", Text, "a\n\nb\n\n", "a\nb\n", false},
		{"text record ending in cr", Text, "\r\n\r\r\n", "\r\n", false}, // the body begins with the block's bytes, not with its line
		{"text empty body", Text, "", "", false},
		{"ndjson compact", NDJSON, "{}\n[1]\n\"s\"\n", "{}\n[1]\n\"s\"\n", true},
		{"ndjson compact, blank lines after", NDJSON, "{}\n \n\t\r\n", "{}\n", true},
		{"ndjson crlf", NDJSON, "{}\r\n{}\r\n", "{}\n{}\n", false},
		{"ndjson space to remove on line 2", NDJSON, "{}\n{ }\n{}\n", "{}\n{}\n{}\n", false},
		{"ndjson leading space", NDJSON, " {}\n", "{}\n", false},
		{"ndjson trailing space", NDJSON, "{} \n", "{}\n", false},
		{"ndjson no final newline", NDJSON, "{}\n{}", "{}\n{}\n", false},
		{"json object with newline", JSON, "{\"a\":1}\n", "{\"a\":1}\n", true},
		{"json object", JSON, "{\"a\":1}", "{\"a\":1}\n", false},
		{"json object compacted", JSON, "{ \"a\" : [ 1 , 2 ] }\n", "{\"a\":[1,2]}\n", false},
		{"json array", JSON, "[{},{\"a\":1}]", "{}\n{\"a\":1}\n", false},
		{"json array spaced", JSON, "[ { } ,\n{ \"a\" : 1 } ]\n", "{}\n{\"a\":1}\n", false},
		{"json empty array", JSON, "[]", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			var recs Records
			if err := Decode(tt.f, body, &recs); err != nil {
				t.Fatalf("Decode(%s, %q) = %v", tt.f, tt.body, err)
			}
			recordsOf(t, body, &recs) // the invariants, and the in-place rule
			if got := string(recs.Block()); got != tt.block {
				t.Errorf("Block = %q, want %q", got, tt.block)
			}
			inPlace := len(recs.Block()) > 0 && unsafe.SliceData(recs.Block()) == unsafe.SliceData(body)
			if inPlace != tt.inPlace {
				t.Errorf("block in the body: %v, want %v", inPlace, tt.inPlace)
			}
			if c := cap(recs.buf); tt.inPlace && c != 0 || !tt.inPlace && tt.block != "" && c != len(body)+1 {
				t.Errorf("own buffer of %d bytes for a %d-byte body, want %d", c, len(body), map[bool]int{true: 0, false: len(body) + 1}[tt.inPlace])
			}
		})
	}
}

// TestRecordsHold checks that the block buffer's memory is taken from the
// request's hold — once, len(body)+1 bytes, none for a body that is its own
// block — that a refusal fails Decode with errNoMemory and leaves nothing,
// and that the record slices kept for a plain Writer (split) are held too.
func TestRecordsHold(t *testing.T) {
	crlf := bytes.Repeat([]byte("a\r\n"), 1000)
	lf := bytes.Repeat([]byte("a\n"), 1000)

	var b budget
	b.max.Store(1 << 20)
	h := hold{b: &b}
	recs := Records{hold: &h}
	if err := Decode(Text, lf, &recs); err != nil || recs.Len() != 1000 {
		t.Fatalf("Decode(lf) = %v, %d records", err, recs.Len())
	}
	if h.n != 0 {
		t.Errorf("a body that is its own block took %d bytes, want 0", h.n)
	}
	if err := Decode(Text, crlf, &recs); err != nil || recs.Len() != 1000 {
		t.Fatalf("Decode(crlf) = %v, %d records", err, recs.Len())
	}
	if want := int64(len(crlf) + 1); h.n != want || int64(cap(recs.buf)) != want || b.used.Load() != want {
		t.Errorf("held %d (budget %d), buffer %d; want %d", h.n, b.used.Load(), cap(recs.buf), want)
	}
	// The buffer is reused: a body no larger takes nothing more.
	if err := Decode(NDJSON, bytes.Repeat([]byte("{ }\n"), 700), &recs); err != nil || h.n != int64(len(crlf)+1) {
		t.Errorf("reuse: Decode = %v, held %d, want %d", err, h.n, len(crlf)+1)
	}
	// A plain Writer's record slices are held too, doubling from 64.
	recs.split = true
	if err := Decode(NDJSON, bytes.Repeat([]byte("{ }\n"), 700), &recs); err != nil || len(recs.recs) != 700 {
		t.Fatalf("Decode with split = %v, %d slices, want 700", err, len(recs.recs))
	}
	if want := int64(len(crlf)+1) + 1024*recSize; h.n != want || cap(recs.recs) != 1024 {
		t.Errorf("with split: held %d, %d slices of capacity; want %d, 1024", h.n, cap(recs.recs), want)
	}
	for _, l := range recs.recs {
		if string(l) != "{}" {
			t.Fatalf("split gives %q", l)
		}
	}
	h.release()

	// Refused: another request holds most of the budget.
	other := hold{b: &b}
	if !other.add(1<<20 - 100) {
		t.Fatal("the other request got nothing")
	}
	for _, tc := range []struct {
		f    Format
		body []byte
	}{
		{Text, crlf},
		{NDJSON, bytes.Repeat([]byte("{}\r\n"), 100)},
		{NDJSON, bytes.Repeat([]byte("{ }\n"), 100)}, // refused inside a record's compaction
		{JSON, []byte("[" + string(bytes.Repeat([]byte("{},"), 100)) + "{}]")},
	} {
		small := Records{hold: &hold{b: &b}}
		if err := Decode(tc.f, tc.body, &small); err != errNoMemory || small.Len() != 0 || len(small.Block()) != 0 {
			t.Errorf("Decode(%s, %.20q...) beside a full budget = %v, %d records; want errNoMemory, none", tc.f, tc.body, err, small.Len())
		}
		if small.hold.n != 0 {
			t.Errorf("a refused Decode holds %d bytes", small.hold.n)
		}
		// A body that needs no buffer passes beside it.
		if err := Decode(Text, lf, &small); err != nil || small.Len() != 1000 {
			t.Errorf("Decode(lf) beside a full budget = %v", err)
		}
		small.split = true
		if err := Decode(Text, lf, &small); err != errNoMemory || small.Len() != 0 || len(small.recs) != 0 {
			t.Errorf("Decode(lf) with split beside a full budget = %v, %d records; want errNoMemory, none", err, small.Len())
		}
		small.hold.release()
	}
	other.release()
	if u := b.used.Load(); u != 0 {
		t.Errorf("budget holds %d bytes after everyone released, want 0", u)
	}
}

// TestDecodeMemory checks what decoding a 1 MiB body of one- or two-byte
// records allocates: at most one buffer of the body's size, never anything
// per record, and nothing at all when the body is its own block or the
// Records was used before.
func TestDecodeMemory(t *testing.T) {
	const n = 1 << 20 / 3
	for _, tc := range tinyBodies(n) {
		t.Run(tc.name, func(t *testing.T) {
			var recs Records
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := Decode(tc.f, tc.body, &recs)
			runtime.ReadMemStats(&after)
			if err != nil || recs.Len() != n {
				t.Fatalf("Decode = %v, %d records, want %d", err, recs.Len(), n)
			}
			most := uint64(64 << 10) // rounding of a large allocation, and slack
			if tc.copied {
				most += uint64(len(tc.body) + 1)
			}
			if got := after.TotalAlloc - before.TotalAlloc; got > most {
				t.Errorf("Decode of %d records in %d bytes allocated %d bytes, want at most %d", n, len(tc.body), got, most)
			}
			if allocs := testing.AllocsPerRun(3, func() { Decode(tc.f, tc.body, &recs) }); allocs != 0 {
				t.Errorf("Decode again into the same Records: %v allocations, want 0", allocs)
			}
		})
	}
}

// TestRecordsAll checks All's early stop and Reset.
func TestRecordsAll(t *testing.T) {
	var recs Records
	if err := Decode(Text, []byte("a\nb\r\nc\n"), &recs); err != nil {
		t.Fatal(err)
	}
	var got []string
	for rec := range recs.All() {
		got = append(got, string(rec))
		if len(got) == 2 {
			break
		}
	}
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("All, stopped after 2: %q", got)
	}
	recs.Reset()
	if recs.Len() != 0 || recs.Size() != 0 || recs.Block() != nil {
		t.Errorf("after Reset: Len %d, Size %d, Block %q", recs.Len(), recs.Size(), recs.Block())
	}
	for range recs.All() {
		t.Error("All yields a record after Reset")
	}
}
