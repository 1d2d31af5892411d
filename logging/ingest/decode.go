package ingest

import (
	"bytes"
	"fmt"
	"mime"
	"strconv"
	"strings"
)

// Format is the syntax of a request body.
type Format int

// The body formats, selected by the request's Content-Type with [FormatFor].
const (
	// Text: each line is a record (text/plain, or no Content-Type).
	Text Format = iota
	// NDJSON: each line is one JSON value, written back compact
	// (application/x-ndjson, application/ndjson, application/jsonl,
	// application/x-jsonlines, application/jsonlines).
	NDJSON
	// JSON: one object, or an array of objects, each object one record
	// (application/json).
	JSON
)

// String returns the format's lowercase name: "text", "ndjson" or "json".
func (f Format) String() string {
	switch f {
	case Text:
		return "text"
	case NDJSON:
		return "ndjson"
	case JSON:
		return "json"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// supportedTypes is said in every UnsupportedError for a content type.
const supportedTypes = "use text/plain, application/x-ndjson or application/json"

// FormatFor returns the body format for a Content-Type header value (media
// type and parameters, as sent). The media type is matched case-insensitively:
//
//   - "" or text/plain → Text; so is application/x-www-form-urlencoded, which
//     curl sends for -d and --data-binary unless told otherwise (the body is
//     taken as it is, never URL-decoded). A charset parameter, if any, must be utf-8 or
//     us-ascii (any case): the records are written to the log as they are, and
//     a log file holds UTF-8 text.
//   - application/x-ndjson, and the aliases for the same line-delimited JSON
//     application/ndjson, application/jsonl, application/x-jsonlines and
//     application/jsonlines → NDJSON.
//   - application/json → JSON.
//
// A JSON type may carry charset=utf-8 (RFC 8259 allows no other); other
// parameters are ignored. Anything else, including a value that does not
// parse, is an [*UnsupportedError] (HTTP 415).
func FormatFor(contentType string) (Format, error) {
	if strings.TrimSpace(contentType) == "" {
		return Text, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return 0, &UnsupportedError{What: "content type", Value: contentType, Reason: "malformed: " + err.Error()}
	}
	var f Format
	switch mt {
	case "text/plain", "application/x-www-form-urlencoded":
		// curl -d and --data-binary send the second by default; the body is
		// taken as text lines as sent, never URL-decoded.
		f = Text
	case "application/x-ndjson", "application/ndjson", "application/jsonl",
		"application/x-jsonlines", "application/jsonlines":
		f = NDJSON
	case "application/json":
		f = JSON
	default:
		return 0, &UnsupportedError{What: "content type", Value: contentType, Reason: supportedTypes}
	}
	cs, ok := params["charset"]
	if !ok {
		return f, nil
	}
	switch strings.ToLower(cs) {
	case "utf-8":
		return f, nil
	case "us-ascii":
		if f == Text {
			return f, nil
		}
	}
	want := "only utf-8 or us-ascii text is accepted"
	if f != Text {
		want = "JSON must be utf-8"
	}
	return 0, &UnsupportedError{What: "content type", Value: contentType, Reason: "charset " + strconv.Quote(cs) + ": " + want}
}

// UnsupportedError reports a Content-Type or Content-Encoding that ingest does
// not accept (HTTP 415).
type UnsupportedError struct {
	What   string // "content type" or "content encoding"
	Value  string // the header value as sent
	Reason string // why, and what is accepted instead
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	return "unsupported " + e.What + " " + strconv.Quote(e.Value) + ": " + e.Reason
}

// SyntaxError reports a malformed body (HTTP 400): the first fault found, and
// where. Its Error reads like "line 3, byte 1042: invalid character 'x' in
// object key".
type SyntaxError struct {
	// Line is the 1-based line of the fault: one plus the number of '\n'
	// bytes before Offset.
	Line int
	// Offset is the 0-based byte offset of the fault in the (decompressed)
	// body: the offending byte, or the body's or line's length when it ends
	// too early.
	Offset int64
	// Msg says what is wrong, in lowercase.
	Msg string
}

// Error implements error.
func (e *SyntaxError) Error() string {
	return "line " + strconv.Itoa(e.Line) + ", byte " + strconv.FormatInt(e.Offset, 10) + ": " + e.Msg
}

// syntaxError returns the SyntaxError for msg at body offset off.
func syntaxError(body []byte, off int, msg string) *SyntaxError {
	off = min(off, len(body))
	return &SyntaxError{Line: 1 + bytes.Count(body[:off], []byte{'\n'}), Offset: int64(off), Msg: msg}
}

// Decode splits, validates and (for JSON) compacts the whole body in format f
// into out, replacing what out held: the records as one block of lines (see
// [Records]), in the body itself when it is already its records' lines.
// Nothing is returned before the whole body has been checked: on error out
// is empty, and the error is a [*SyntaxError] saying what is wrong and where
// (or a plain error for an unknown format, or, inside the [Server] only, for
// a request refused memory by its in-flight budget). Decoding costs O(body)
// memory whatever the number of records: at most one buffer of len(body)+1
// bytes, reused by the next Decode into out.
//
// Per format:
//
//   - Text: lines are separated by '\n'; one trailing '\r' is dropped from each
//     (CRLF clients). Empty lines are skipped, so a final newline, or none,
//     makes no difference and blank lines never become empty records; a line
//     of spaces is kept. A line must be UTF-8 without NUL bytes: a log file
//     holds text, and a NUL or a stray byte would make it binary for every
//     tool that reads it. An empty body has zero records.
//   - NDJSON: each line holding anything but JSON whitespace is one JSON value
//     of any kind (object, array, string, number, literal) and one record;
//     blank lines are skipped; "\r\n" ends lines too. A value may not span
//     lines. An empty body has zero records.
//   - JSON: the body is one object (one record) or an array of objects (one
//     record per object; an empty array has zero records). Anything else at
//     the top level, a non-object array element, and anything but whitespace
//     after the value are errors. An empty or all-whitespace body is an error
//     ("empty body"): it is not JSON, and no Logstash output sends it.
//
// JSON is checked per RFC 8259 (structure, numbers, literals, escapes, no raw
// control characters in strings) and additionally must be valid UTF-8, which
// encoding/json does not require; nesting deeper than 1000 arrays and
// objects is refused. Each value is written back with insignificant
// whitespace removed, keys in the order received (duplicates kept as they
// came) and strings byte for byte, escapes included: the same bytes as
// encoding/json.Compact.
//
// Decode is safe for concurrent use on distinct Records; body is only read.
func Decode(f Format, body []byte, out *Records) error {
	if f != Text && f != NDJSON && f != JSON {
		out.Reset()
		return fmt.Errorf("decode: unknown format %d", int(f))
	}
	out.start(body)
	var err error
	switch f {
	case Text:
		err = decodeText(body, out)
	case NDJSON:
		err = decodeNDJSON(body, out)
	case JSON:
		err = decodeJSON(body, out)
	}
	if err != nil {
		out.Reset()
		return err
	}
	return nil
}

// charDesc describes byte c for an error message: "character 'x'" when it is
// printable ASCII, "byte 0x01" otherwise.
func charDesc(c byte) string {
	switch {
	case c == '\'':
		return `character '\''`
	case c >= 0x20 && c < 0x7f:
		return "character '" + string(rune(c)) + "'"
	}
	return fmt.Sprintf("byte 0x%02x", c)
}

// decodeJSON decodes a JSON body: one object, or an array of objects.
func decodeJSON(body []byte, out *Records) error {
	sc := scanner{s: body, body: body, out: out, eofMsg: "unexpected end of JSON input"}
	i := skipSpace(body, 0)
	if i == len(body) {
		return syntaxError(body, i, "empty body: want a JSON object or an array of objects")
	}
	switch body[i] {
	case '{':
		i = sc.record(i, 0)
	case '[':
		i = sc.array(i)
	default:
		return syntaxError(body, i, topLevel(body[i]))
	}
	if sc.noMem {
		return errNoMemory
	}
	if i < 0 {
		return sc.err(body)
	}
	if i = skipSpace(body, i); i < len(body) {
		return syntaxError(body, i, "invalid "+charDesc(body[i])+" after top-level value")
	}
	return nil
}

// array scans a top-level array of objects starting at s[i] and adds one
// record per object; it returns the position after the array.
func (sc *scanner) array(i int) int {
	s := sc.s
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		return i + 1
	}
	for n := 0; ; n++ {
		if i >= len(s) {
			return sc.eof(i)
		}
		if s[i] != '{' {
			if kind := kindOf(s[i]); kind != "" {
				return sc.fail(i, "array element "+strconv.Itoa(n+1)+" (counting from 1) is "+kind+", not an object")
			}
			return sc.fail(i, "invalid "+charDesc(s[i])+" looking for beginning of value")
		}
		if i = sc.record(i, 1); i < 0 {
			return i
		}
		if i = skipSpace(s, i); i >= len(s) {
			return sc.eof(i)
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			return i + 1
		default:
			return sc.fail(i, "invalid "+charDesc(s[i])+" after array element")
		}
	}
}

// kindOf names the kind of JSON value that starts with c ("an array", "a
// string"...), or returns "" if no value starts with c.
func kindOf(c byte) string {
	switch {
	case c == '{':
		return "an object"
	case c == '[':
		return "an array"
	case c == '"':
		return "a string"
	case c == '-' || isDigit(c):
		return "a number"
	case c == 't' || c == 'f':
		return "a boolean"
	case c == 'n':
		return "null"
	}
	return ""
}

// topLevel is the message for a JSON body that does not start with an object
// or an array.
func topLevel(c byte) string {
	if kind := kindOf(c); kind != "" {
		return "top-level value is " + kind + ": want a JSON object or an array of objects"
	}
	return "invalid " + charDesc(c) + " looking for beginning of value"
}

// decodeNDJSON decodes an NDJSON body: one JSON value per non-blank line.
func decodeNDJSON(body []byte, out *Records) error {
	sc := scanner{body: body, out: out}
	for start := 0; start < len(body); {
		end, next := len(body), len(body)
		sc.eofMsg = "unexpected end of JSON input"
		if k := bytes.IndexByte(body[start:], '\n'); k >= 0 {
			end, next = start+k, start+k+1
			sc.eofMsg = "unexpected end of line: one JSON value per line"
		}
		sc.s = body[:end]
		i := skipSpace(sc.s, start)
		if i < end {
			if i = sc.record(i, 0); i < 0 {
				if sc.noMem {
					return errNoMemory
				}
				return sc.err(body)
			}
			if i = skipSpace(sc.s, i); i < end {
				return syntaxError(body, i, "invalid "+charDesc(body[i])+" after JSON value: one value per line")
			}
		}
		start = next
	}
	if sc.noMem {
		return errNoMemory
	}
	return nil
}
