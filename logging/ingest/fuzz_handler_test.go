package ingest

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/logroll/logroll/logging"
)

// fuzzLimit is the body limit of the fuzz targets below, small so that
// fuzzed bodies reach it.
const fuzzLimit = 4 << 10

// fuzzHang is how long FuzzHandler waits for an answer: the request is
// in memory, so anything but an instant answer is a hang.
const fuzzHang = 5 * time.Second

// fuzzWriter is the Writer of FuzzHandler: one declared log, access.log,
// whose accepted Write calls it keeps (records copied).
type fuzzWriter struct {
	mu    sync.Mutex
	calls [][]string
}

func (w *fuzzWriter) Write(log string, records [][]byte) error {
	if log != "access.log" {
		return fmt.Errorf("fuzz: write %s: %w", log, logging.ErrUnknownLog)
	}
	recs := make([]string, len(records))
	for i, r := range records {
		recs[i] = string(r)
	}
	w.mu.Lock()
	w.calls = append(w.calls, recs)
	w.mu.Unlock()
	return nil
}

// WriteLines makes fuzzWriter a LineWriter, as the collator is: the Server
// then calls it, and FuzzHandler checks the promise that comes with it (no
// record holds a newline) on what it kept.
func (w *fuzzWriter) WriteLines(log string, records [][]byte) error { return w.Write(log, records) }

// WriteBlock makes fuzzWriter a BlockWriter, as the collator is: it checks
// the layout promised with a block (whole lines, each ending in a newline,
// as many as records; or an empty block of no records) and keeps the lines
// as Write would. A broken promise fails the call, which FuzzHandler then
// sees as a refused valid body.
func (w *fuzzWriter) WriteBlock(log string, block []byte, records int) error {
	if len(block) == 0 && records == 0 {
		return w.Write(log, nil)
	}
	if len(block) == 0 || block[len(block)-1] != '\n' {
		return fmt.Errorf("fuzz: block %q does not end in a newline", block)
	}
	lines := bytes.Split(block[:len(block)-1], []byte("\n"))
	if len(lines) != records {
		return fmt.Errorf("fuzz: block of %d lines given as %d records", len(lines), records)
	}
	return w.Write(log, lines)
}

// fuzzPlainWriter is a fuzzWriter without WriteBlock: the Server then
// writes records one by one (Write, WriteLines).
type fuzzPlainWriter struct{ w *fuzzWriter }

func (p fuzzPlainWriter) Write(log string, records [][]byte) error { return p.w.Write(log, records) }
func (p fuzzPlainWriter) WriteLines(log string, records [][]byte) error {
	return p.w.WriteLines(log, records)
}

// fuzzServe sends one fuzzed request to a new Server writing to w and
// returns the answer; a request not answered at once fails t.
func fuzzServe(t *testing.T, w Writer, body []byte, ctype, encoding, name string, chunked bool) *httptest.ResponseRecorder {
	t.Helper()
	s := NewServer(w, ServerConfig{MaxBodyBytes: fuzzLimit, Logger: slog.New(slog.DiscardHandler)})
	r := httptest.NewRequest(http.MethodPost, "/v1/logs/x", bytes.NewReader(body))
	r.URL.Path, r.URL.RawPath = "/v1/logs/"+name, ""
	r.Header.Set("Content-Type", ctype)
	r.Header.Set("Content-Encoding", encoding)
	if chunked {
		r.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.Handler().ServeHTTP(rec, r)
	}()
	select {
	case <-served:
	case <-time.After(fuzzHang):
		t.Fatalf("request not answered after %v", fuzzHang)
	}
	return rec
}

// fuzzStatuses are the statuses a log request may get (docs/daemon.md).
var fuzzStatuses = map[int]bool{200: true, 400: true, 404: true, 405: true, 413: true, 415: true, 429: true, 500: true, 503: true}

// stdDecompress is the reference for Decompress: the standard library's
// gzip reader (multistream, like RFC 1952 bodies), read up to limit+1 bytes.
func stdDecompress(data []byte, limit int64) ([]byte, error) {
	zr, err := stdgzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(io.LimitReader(zr, limit+1))
}

// FuzzHandler drives the ingest handler end to end with a fuzzed body,
// Content-Type, Content-Encoding, log name and framing, and checks the
// contract of docs/design.md §3: every answer is a documented status with a JSON
// body; any answer but 200 wrote nothing; a 200 wrote exactly the records
// it counts, once, to the declared log, each one line (text: valid UTF-8
// without NUL; JSON: valid and compact); and for a body the reference
// decoders accept within the limit (Decode, compress/gzip), the handler
// accepts the same records; all of it the same for a Writer with WriteBlock
// (the records as one block) and without (one by one).
func FuzzHandler(f *testing.F) {
	f.Add([]byte("a\nb\n"), "text/plain", "", "access", false)
	f.Add([]byte(`[{"a":1},{"b":2}]`), "application/json", "", "access.log", true)
	f.Add([]byte("{\"a\": 1}\n[2]\n"), "application/x-ndjson", "", "access", false)
	f.Add([]byte("x\n"), "text/plain", "", "..", false)
	f.Add([]byte("x\n"), "text/plain; charset=latin1", "", "access", false)
	f.Add([]byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"), "text/plain", "gzip", "access", true)
	f.Add(bytes.Repeat([]byte("y"), fuzzLimit+1), "", "", "access", true)
	f.Fuzz(func(t *testing.T, body []byte, ctype, encoding, name string, chunked bool) {
		w := &fuzzWriter{}
		rec := fuzzServe(t, w, body, ctype, encoding, name, chunked)
		// A Writer without WriteBlock gets the records one by one, decoded
		// the same way: the same answer, the same records written.
		pw := &fuzzWriter{}
		if prec := fuzzServe(t, fuzzPlainWriter{pw}, body, ctype, encoding, name, chunked); prec.Code != rec.Code ||
			prec.Body.String() != rec.Body.String() || fmt.Sprintf("%q", pw.calls) != fmt.Sprintf("%q", w.calls) {
			t.Fatalf("BlockWriter: %d %s, wrote %q; plain Writer: %d %s, wrote %q", rec.Code, rec.Body, w.calls, prec.Code, prec.Body, pw.calls)
		}

		code := rec.Code
		if !fuzzStatuses[code] {
			t.Fatalf("status %d %s is not a documented one", code, rec.Body)
		}
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("status %d with Content-Type %q", code, ct)
		}
		var answer struct {
			Records *int    `json:"records"`
			Error   *string `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
			t.Fatalf("status %d with body %q: %v", code, rec.Body, err)
		}
		w.mu.Lock()
		calls := w.calls
		w.mu.Unlock()
		if code != http.StatusOK {
			if len(calls) != 0 {
				t.Fatalf("status %d %s, but %d records were written", code, rec.Body, len(calls[0]))
			}
			if answer.Error == nil || *answer.Error == "" {
				t.Fatalf("status %d without an error message: %s", code, rec.Body)
			}
		} else {
			if len(calls) != 1 || answer.Records == nil || *answer.Records != len(calls[0]) {
				t.Fatalf("200 %s after %d Write calls", rec.Body, len(calls))
			}
		}
		var written []string
		if len(calls) == 1 {
			written = calls[0]
		}
		format, ferr := FormatFor(ctype)
		for _, line := range written {
			switch {
			case bytes.IndexByte([]byte(line), '\n') >= 0:
				t.Fatalf("record %q holds a newline", line)
			case format == Text && (!utf8.ValidString(line) || bytes.IndexByte([]byte(line), 0) >= 0):
				t.Fatalf("text record %q is not UTF-8 without NUL", line)
			case format != Text && !json.Valid([]byte(line)):
				t.Fatalf("JSON record %q is not valid JSON", line)
			case format != Text:
				var c bytes.Buffer
				if err := json.Compact(&c, []byte(line)); err != nil || c.String() != line {
					t.Fatalf("JSON record %q is not compact", line)
				}
			}
		}

		// The reference: what the request should have produced when the
		// name, the type and the encoding are valid.
		if _, err := checkName(name); err != nil || ferr != nil {
			return
		}
		enc, err := EncodingFor(encoding)
		if err != nil {
			return
		}
		plain := body
		if enc == Gzip {
			if plain, err = stdDecompress(body, fuzzLimit); err != nil {
				return // compress/gzip and the decompressor may differ on corrupt streams: FuzzDecompress
			}
		}
		if len(plain) > fuzzLimit {
			if code != http.StatusRequestEntityTooLarge {
				t.Fatalf("body of %d bytes over the %d limit: status %d, want 413", len(plain), fuzzLimit, code)
			}
			return
		}
		var want Records
		if err := Decode(format, plain, &want); err != nil {
			if code != http.StatusBadRequest {
				t.Fatalf("Decode refuses the body (%v): status %d, want 400", err, code)
			}
			return
		}
		if code != http.StatusOK && !(name != "access" && name != "access.log" && code == http.StatusNotFound) {
			t.Fatalf("Decode accepts the body: status %d %s", code, rec.Body)
		}
		if code == http.StatusOK {
			if len(written) != want.Len() {
				t.Fatalf("wrote %d records, Decode gives %d", len(written), want.Len())
			}
			for i, r := range recordsOf(t, plain, &want) {
				if written[i] != string(r) {
					t.Fatalf("record %d: wrote %q, Decode gives %q", i, written[i], r)
				}
			}
		}
	})
}

// FuzzDecompress checks Decompress against compress/gzip: the same bytes
// for a stream both read within the limit; a *TooLargeError as soon as the
// stream produces more than the limit, and never more than limit+1 bytes
// held; a *CorruptError for a stream the standard reader refuses within
// the limit; and no other error.
func FuzzDecompress(f *testing.F) {
	var b bytes.Buffer
	zw := stdgzip.NewWriter(&b)
	zw.Write([]byte("one\ntwo\n"))
	zw.Close()
	good := append([]byte(nil), b.Bytes()...)
	f.Add(good)
	f.Add(append(append([]byte(nil), good...), good...)) // two members
	f.Add(good[:len(good)/2])                            // truncated
	f.Add(append(append([]byte(nil), good...), "junk"...))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var dst bytes.Buffer
		err := Decompress(bytes.NewReader(data), fuzzLimit, &dst)
		if dst.Cap() > 2*(fuzzLimit+1)+(64<<10) {
			t.Fatalf("Decompress grew its buffer to %d bytes for a %d limit", dst.Cap(), fuzzLimit)
		}
		want, stdErr := stdDecompress(data, fuzzLimit)
		var tooLarge *TooLargeError
		var corrupt *CorruptError
		switch {
		case len(want) > fuzzLimit:
			if !errors.As(err, &tooLarge) {
				t.Fatalf("compress/gzip gives more than %d bytes; Decompress = %v", fuzzLimit, err)
			}
		case stdErr != nil:
			if !errors.As(err, &corrupt) {
				t.Fatalf("compress/gzip fails (%v); Decompress = %v, want a *CorruptError", stdErr, err)
			}
		case errors.As(err, &corrupt) && len(data) > 3 && data[3]&0xe0 != 0:
			// Reserved FLG bits: RFC 1952 says a decompressor must refuse
			// them, which this one does; compress/gzip ignores them.
		default:
			if err != nil {
				t.Fatalf("compress/gzip reads %d bytes; Decompress = %v", len(want), err)
			}
			if !bytes.Equal(dst.Bytes(), want) {
				t.Fatalf("Decompress = %q, compress/gzip = %q", dst.Bytes(), want)
			}
		}
	})
}
