package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// decodeBoth is Decode(f, body, recs) that also decodes body as the Server
// does for a Writer without WriteBlock (split: no block, every record kept
// as a slice as it goes), and checks that the two agree: the same error, the
// same records, without spare capacity, the same Len and Size.
func decodeBoth(t testing.TB, f Format, body []byte, recs *Records) error {
	t.Helper()
	err := Decode(f, body, recs)
	split := Records{split: true}
	serr := Decode(f, body, &split)
	if fmt.Sprint(err) != fmt.Sprint(serr) || split.Len() != recs.Len() || split.Size() != recs.Size() ||
		len(split.recs) != split.Len() || split.Block() != nil {
		t.Fatalf("Decode(%s, %q): %v with %d records of %d bytes; with split: %v with %d records (%d slices) of %d bytes, block %q",
			f, body, err, recs.Len(), recs.Size(), serr, split.Len(), len(split.recs), split.Size(), split.Block())
	}
	i := 0
	for rec := range recs.All() {
		if got := split.recs[i]; !bytes.Equal(got, rec) || cap(got) != len(got) {
			t.Fatalf("Decode(%s, %q) with split: record %d = %q (capacity %d), want %q", f, body, i, got, cap(got), rec)
		}
		i++
	}
	return err
}

// recordsOf returns the records r holds after decoding body, checking
// what Records promises about them: Block is the records, each followed by
// '\n', none empty; Len and Size agree with it; each record from All has no
// spare capacity; and the block is the body's own bytes (its prefix, not a
// copy) exactly when the body begins with the records' lines and no record
// ends in '\r' (the zero-copy case, never given up for nothing, never taken
// wrongly). A text record "x\r" (from a line "x\r\r") can never be in
// place: "x\r\n" in the body is the line "x"; yet the body may begin with
// those bytes elsewhere, as "\r\n\r\r\n" does, whose one record is "\r".
func recordsOf(t testing.TB, body []byte, r *Records) [][]byte {
	t.Helper()
	var recs [][]byte
	var joined []byte
	size, cr := 0, false
	for rec := range r.All() {
		if len(rec) == 0 || bytes.IndexByte(rec, '\n') >= 0 || cap(rec) != len(rec) {
			t.Fatalf("body %q: record %d = %q (capacity %d): want a non-empty line without spare capacity", body, len(recs), rec, cap(rec))
		}
		recs = append(recs, rec)
		joined = append(append(joined, rec...), '\n')
		size += len(rec)
		cr = cr || rec[len(rec)-1] == '\r'
	}
	if !bytes.Equal(r.Block(), joined) || r.Len() != len(recs) || r.Size() != size {
		t.Fatalf("body %q: Block %q, Len %d, Size %d; the records are %q", body, r.Block(), r.Len(), r.Size(), recs)
	}
	if len(recs) > 0 {
		inPlace := unsafe.SliceData(r.Block()) == unsafe.SliceData(body)
		if want := bytes.HasPrefix(body, joined) && !cr; inPlace != want {
			t.Fatalf("body %q: block in the body %v, want %v (block %q)", body, inPlace, want, r.Block())
		}
	}
	return recs
}

// decodeCase is one body and what Decode must make of it: the records, or the
// error's Error() text ("line L, byte B: msg").
type decodeCase struct {
	name string
	body string
	want []string // records, when err is ""
	err  string
}

// short abbreviates a body for a failure message.
func short(b string) string {
	if len(b) > 80 {
		return b[:60] + "..." + b[len(b)-17:]
	}
	return b
}

func runDecodeCases(t *testing.T, f Format, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := short(tc.body)
			var recs Records
			if err := Decode(Text, []byte("stale\r\n"), &recs); err != nil || recs.Len() != 1 {
				t.Fatalf("Decode of a stale record: %v", err) // Decode must replace it
			}
			in := []byte(tc.body)
			err := decodeBoth(t, f, in, &recs)
			if tc.err != "" {
				var se *SyntaxError
				if !errors.As(err, &se) {
					t.Fatalf("Decode(%s, %q) = %v, want a *SyntaxError %q", f, body, err, tc.err)
				}
				if err.Error() != tc.err {
					t.Errorf("Decode(%s, %q) error\n got %q\nwant %q", f, body, err.Error(), tc.err)
				}
				if recs.Len() != 0 {
					t.Errorf("after an error Records holds %d records, want 0", recs.Len())
				}
				return
			}
			if err != nil {
				t.Fatalf("Decode(%s, %q) = %v, want no error", f, body, err)
			}
			got := make([]string, 0, recs.Len())
			for _, r := range recordsOf(t, in, &recs) {
				got = append(got, string(r))
			}
			if strings.Join(got, "\x00") != strings.Join(tc.want, "\x00") || len(got) != len(tc.want) {
				t.Errorf("Decode(%s, %q)\n got %q\nwant %q", f, body, got, tc.want)
			}
		})
	}
}

func TestDecodeText(t *testing.T) {
	runDecodeCases(t, Text, []decodeCase{
		{name: "empty body", body: "", want: nil},
		{name: "one line no newline", body: "hello", want: []string{"hello"}},
		{name: "one line newline", body: "hello\n", want: []string{"hello"}},
		{name: "lines", body: "a\nbb\nccc\n", want: []string{"a", "bb", "ccc"}},
		{name: "crlf", body: "a\r\nbb\r\n", want: []string{"a", "bb"}},
		{name: "only one cr dropped", body: "a\r\r\n", want: []string{"a\r"}},
		{name: "inner cr kept", body: "a\rb\n", want: []string{"a\rb"}},
		{name: "empty lines skipped", body: "\n\na\n\r\n\nb\n\n", want: []string{"a", "b"}},
		{name: "spaces kept", body: "  \n\tx \n", want: []string{"  ", "\tx "}},
		{name: "utf8", body: "café ☕ 𝄞\nß\n", want: []string{"café ☕ 𝄞", "ß"}},
		{name: "long line", body: strings.Repeat("abcdefgh", 100) + "\n", want: []string{strings.Repeat("abcdefgh", 100)}},
		{name: "controls other than NUL kept", body: "a\tb\x1bc\x7f\n", want: []string{"a\tb\x1bc\x7f"}},
		{name: "NUL", body: "ok\nab\x00c\n", err: "line 2, byte 5: NUL byte in text line"},
		{name: "NUL in word scan", body: "0123456789\x00abcdef", err: "line 1, byte 10: NUL byte in text line"},
		{name: "invalid UTF-8", body: "ok\nok\ncaf\xe9\n", err: "line 3, byte 9: invalid UTF-8 in text line"},
		{name: "truncated UTF-8 at end", body: "abc\xe2\x98", err: "line 1, byte 3: invalid UTF-8 in text line"},
		{name: "surrogate UTF-8", body: "\xed\xa0\x80", err: "line 1, byte 0: invalid UTF-8 in text line"},
		{name: "overlong UTF-8", body: "0123456789\xc0\xaf", err: "line 1, byte 10: invalid UTF-8 in text line"},
		{name: "error line counts empty lines", body: "\n\n\n\xff", err: "line 4, byte 3: invalid UTF-8 in text line"},
	})
}

func TestDecodeNDJSON(t *testing.T) {
	runDecodeCases(t, NDJSON, []decodeCase{
		{name: "empty body", body: "", want: nil},
		{name: "blank lines", body: "\n  \r\n\t\n", want: nil},
		{name: "objects", body: `{"a":1}` + "\n" + `{"b":2}` + "\n", want: []string{`{"a":1}`, `{"b":2}`}},
		{name: "no final newline", body: `{"a":1}` + "\n" + `{"b":2}`, want: []string{`{"a":1}`, `{"b":2}`}},
		{name: "crlf and spaces", body: " { \"a\" : [ 1 , 2 ] } \r\n\r\n[ ]\r\n", want: []string{`{"a":[1,2]}`, `[]`}},
		{name: "any value", body: "1\n\"s\"\ntrue\nnull\n-0.5e+3\n", want: []string{"1", `"s"`, "true", "null", "-0.5e+3"}},
		{name: "strings untouched", body: `{"k":"a\u00e9\n\"\\\/ é"}`, want: []string{`{"k":"a\u00e9\n\"\\\/ é"}`}},
		{name: "value spans lines", body: "{\"a\":\n1}\n", err: "line 1, byte 5: unexpected end of line: one JSON value per line"},
		{name: "two values on a line", body: "{\"a\":1}\n{} {}\n", err: "line 2, byte 11: invalid character '{' after JSON value: one value per line"},
		{name: "truncated last line", body: "{}\n{\"a\":", err: "line 2, byte 8: unexpected end of JSON input"},
		{name: "bad second line", body: "{}\n{\"a\":01}\n", err: "line 2, byte 9: invalid character '1' after object key:value pair"},
		{name: "invalid UTF-8", body: "{\"a\":\"\xff\"}\n", err: "line 1, byte 6: invalid UTF-8 in string"},
	})
}

func TestDecodeJSON(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
	tooDeep := strings.Repeat(`{"a":`, 1001) + "1" + strings.Repeat("}", 1001)
	arrDeep := "[" + strings.Repeat(`{"a":`, 999) + "1" + strings.Repeat("}", 999) + "]"
	arrTooDeep := "[" + strings.Repeat(`{"a":[`, 500) + strings.Repeat("]}", 500) + "]"
	runDecodeCases(t, JSON, []decodeCase{
		// Good bodies.
		{name: "object", body: `{"a":1,"b":"x"}`, want: []string{`{"a":1,"b":"x"}`}},
		{name: "empty object", body: ` {} `, want: []string{`{}`}},
		{name: "object with whitespace", body: "{\n  \"a\" : 1 ,\r\n\t\"b\" : [ true , false , null ] ,\"c\":{ }\n}\n", want: []string{`{"a":1,"b":[true,false,null],"c":{}}`}},
		{name: "array of objects", body: "[{\"a\":1},\n {\"b\": 2} ]", want: []string{`{"a":1}`, `{"b":2}`}},
		{name: "empty array", body: " [ ] ", want: nil},
		{name: "key order and duplicates kept", body: `{"z":1,"a":2,"z":3}`, want: []string{`{"z":1,"a":2,"z":3}`}},
		{name: "strings verbatim", body: `{"s":"\u00E9\ud83d\ude00\ud800\t\" \\ \/ é 😀","e":""}`, want: []string{`{"s":"\u00E9\ud83d\ude00\ud800\t\" \\ \/ é 😀","e":""}`}},
		{name: "numbers", body: `{"n":[0,-0,1,-1,12.5,-0.0e0,1E+10,1e-7,123456789012345678901234567890]}`, want: []string{`{"n":[0,-0,1,-1,12.5,-0.0e0,1E+10,1e-7,123456789012345678901234567890]}`}},
		{name: "nesting 1000", body: deep, want: []string{deep}},
		{name: "array nesting 1000", body: arrDeep, want: []string{arrDeep[1 : len(arrDeep)-1]}},
		{name: "array nesting 1001", body: arrTooDeep, err: "line 1, byte 3000: nesting deeper than 1000 arrays and objects"},

		// Empty and wrong top level.
		{name: "empty body", body: "", err: "line 1, byte 0: empty body: want a JSON object or an array of objects"},
		{name: "whitespace body", body: " \n ", err: "line 2, byte 3: empty body: want a JSON object or an array of objects"},
		{name: "top-level string", body: `"a"`, err: "line 1, byte 0: top-level value is a string: want a JSON object or an array of objects"},
		{name: "top-level number", body: ` 12`, err: "line 1, byte 1: top-level value is a number: want a JSON object or an array of objects"},
		{name: "top-level garbage", body: `x`, err: "line 1, byte 0: invalid character 'x' looking for beginning of value"},
		{name: "BOM", body: "\xef\xbb\xbf{}", err: "line 1, byte 0: invalid byte 0xef looking for beginning of value"},
		{name: "array containing a number", body: `[{"a":1}, 2]`, err: "line 1, byte 10: array element 2 (counting from 1) is a number, not an object"},
		{name: "array containing an array", body: `[[]]`, err: "line 1, byte 1: array element 1 (counting from 1) is an array, not an object"},
		{name: "array containing null", body: `[null]`, err: "line 1, byte 1: array element 1 (counting from 1) is null, not an object"},
		{name: "array containing garbage", body: `[{},x]`, err: "line 1, byte 4: invalid character 'x' looking for beginning of value"},

		// Truncated.
		{name: "truncated object", body: `{"a":1`, err: "line 1, byte 6: unexpected end of JSON input"},
		{name: "truncated key", body: `{"a`, err: "line 1, byte 3: unexpected end of JSON input"},
		{name: "truncated after colon", body: `{"a": `, err: "line 1, byte 6: unexpected end of JSON input"},
		{name: "truncated array", body: "[{\"a\":1},\n", err: "line 2, byte 10: unexpected end of JSON input"},
		{name: "truncated literal", body: `{"a":tr`, err: "line 1, byte 7: unexpected end of JSON input"},
		{name: "truncated escape", body: `{"a":"\`, err: "line 1, byte 7: unexpected end of JSON input"},
		{name: "truncated unicode escape", body: `{"a":"\u12`, err: "line 1, byte 10: unexpected end of JSON input"},

		// Invalid.
		{name: "bad literal", body: `{"a":tru}`, err: "line 1, byte 8: invalid character '}' in literal true (expecting 'e')"},
		{name: "bad literal null", body: `{"a":nul1}`, err: "line 1, byte 8: invalid character '1' in literal null (expecting 'l')"},
		{name: "leading zero", body: `{"a":01}`, err: "line 1, byte 6: invalid character '1' after object key:value pair"},
		{name: "leading zero in array", body: `{"a":[01]}`, err: "line 1, byte 7: invalid character '1' after array element"},
		{name: "dot without digits", body: `{"a":1.}`, err: "line 1, byte 7: invalid character '}' after decimal point in numeric literal"},
		{name: "lone minus", body: `{"a":-}`, err: "line 1, byte 6: invalid character '}' in numeric literal"},
		{name: "plus sign", body: `{"a":+1}`, err: "line 1, byte 5: invalid character '+' looking for beginning of value"},
		{name: "bad exponent", body: `{"a":1e}`, err: "line 1, byte 7: invalid character '}' in exponent of numeric literal"},
		{name: "leading dot", body: `{"a":.5}`, err: "line 1, byte 5: invalid character '.' looking for beginning of value"},
		{name: "trailing comma object", body: `{"a":1,}`, err: "line 1, byte 7: invalid character '}' looking for beginning of object key string"},
		{name: "trailing comma array", body: `{"a":[1,]}`, err: "line 1, byte 8: invalid character ']' looking for beginning of value"},
		{name: "trailing comma top array", body: `[{},]`, err: "line 1, byte 4: invalid character ']' looking for beginning of value"},
		{name: "missing colon", body: `{"a" 1}`, err: "line 1, byte 5: invalid character '1' after object key"},
		{name: "unquoted key", body: "{\n\"a\":1,\nb:2}", err: "line 3, byte 9: invalid character 'b' looking for beginning of object key string"},
		{name: "single quotes", body: `{'a':1}`, err: `line 1, byte 1: invalid character '\'' looking for beginning of object key string`},
		{name: "missing comma", body: `{"a":1 "b":2}`, err: "line 1, byte 7: invalid character '\"' after object key:value pair"},
		{name: "mismatched bracket", body: `{"a":[1}`, err: "line 1, byte 7: invalid character '}' after array element"},
		{name: "invalid UTF-8 in string", body: "{\"a\":\"caf\xe9\"}", err: "line 1, byte 9: invalid UTF-8 in string"},
		{name: "invalid UTF-8 in key", body: "{\"0123456789\xff\":1}", err: "line 1, byte 12: invalid UTF-8 in string"},
		{name: "surrogate UTF-8 in string", body: "{\"a\":\"\xed\xa0\x80\"}", err: "line 1, byte 6: invalid UTF-8 in string"},
		{name: "raw newline in string", body: "{\"a\":\"x\ny\"}", err: "line 1, byte 7: invalid control byte 0x0a in string (must be escaped)"},
		{name: "raw tab in string", body: "{\"a\":\"0123456789\t\"}", err: "line 1, byte 16: invalid control byte 0x09 in string (must be escaped)"},
		{name: "bad escape", body: `{"a":"\x"}`, err: "line 1, byte 7: invalid character 'x' in string escape code"},
		{name: "bad unicode escape", body: `{"a":"\u12g4"}`, err: `line 1, byte 10: invalid character 'g' in \u hexadecimal character escape`},
		{name: "deep nesting", body: tooDeep, err: "line 1, byte 5000: nesting deeper than 1000 arrays and objects"},
		{name: "trailing garbage", body: `{"a":1} x`, err: "line 1, byte 8: invalid character 'x' after top-level value"},
		{name: "two objects", body: "{}\n{}", err: "line 2, byte 3: invalid character '{' after top-level value"},
		{name: "trailing bracket", body: `[{}]]`, err: "line 1, byte 4: invalid character ']' after top-level value"},
		{name: "NUL", body: "{\"a\":1\x00}", err: "line 1, byte 6: invalid byte 0x00 after object key:value pair"},
	})
}

// TestDecodeDeepNoRecursion feeds a body far deeper than the limit, open and
// unclosed, which a recursive decoder would take deep into the stack.
func TestDecodeDeepNoRecursion(t *testing.T) {
	body := strings.Repeat("[", 1<<20)
	var recs Records
	err := Decode(NDJSON, []byte(body), &recs)
	want := "line 1, byte 1000: nesting deeper than 1000 arrays and objects"
	if err == nil || err.Error() != want {
		t.Fatalf("Decode = %v, want %q", err, want)
	}
}

func TestDecodeUnknownFormat(t *testing.T) {
	var recs Records
	if err := Decode(Format(9), []byte("x"), &recs); err == nil || err.Error() != "decode: unknown format 9" {
		t.Fatalf("Decode(Format(9)) = %v", err)
	}
}

// TestRecordsReuse checks that a reused Records gives the right records after
// an error and after a larger body, and that records neither alias each other
// nor let an append spill into the body.
func TestRecordsReuse(t *testing.T) {
	var recs Records
	bodies := []struct {
		f    Format
		body string
		want []string
	}{
		{JSON, "[ {\"a\" : 1} , {\"b\": 2} ]", []string{`{"a":1}`, `{"b":2}`}},
		{JSON, `[{"a":1},x]`, nil},
		{NDJSON, "{ \"c\" : 3 }\n{\"d\":4}\n[ 5 ]", []string{`{"c":3}`, `{"d":4}`, `[5]`}},
		{Text, "x\ny", []string{"x", "y"}},
		{JSON, strings.Repeat(" ", 5000) + "{ }", []string{"{}"}},
	}
	for _, b := range bodies {
		body := []byte(b.body)
		err := decodeBoth(t, b.f, body, &recs)
		if (err != nil) != (b.want == nil) {
			t.Fatalf("Decode(%s, %q) = %v", b.f, b.body, err)
		}
		if recs.Len() != len(b.want) {
			t.Fatalf("Decode(%s, %q): %d records, want %d", b.f, b.body, recs.Len(), len(b.want))
		}
		for i, r := range recordsOf(t, body, &recs) {
			if string(r) != b.want[i] {
				t.Errorf("record %d = %q, want %q", i, r, b.want[i])
			}
			if cap(r) != len(r) {
				t.Errorf("record %d has spare capacity %d: an append would overwrite the next", i, cap(r)-len(r))
			}
		}
		if n := recs.Size(); b.want != nil && n != len(strings.Join(b.want, "")) {
			t.Errorf("Size = %d", n)
		}
	}
}

// TestDecodeAllocs checks the steady state: no allocation per record, nor per
// request, once a Records has been used for bodies of the same size.
func TestDecodeAllocs(t *testing.T) {
	arr := logstashArray(200)
	spaced := []byte(strings.ReplaceAll(string(logstashNDJSON(200)), `":`, `": `))
	text := accessLines(200)
	for _, tc := range []struct {
		f    Format
		body []byte
	}{{JSON, arr}, {NDJSON, spaced}, {Text, text}} {
		var recs Records
		if err := Decode(tc.f, tc.body, &recs); err != nil {
			t.Fatal(err)
		}
		allocs := testing.AllocsPerRun(20, func() {
			if err := Decode(tc.f, tc.body, &recs); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("Decode(%s) steady state: %v allocations per body, want 0", tc.f, allocs)
		}
	}
}
