package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	"github.com/logroll/logroll/logging"
)

// fakeWriter records the Write calls it accepts, copying the records, and
// fails them with err when set. With block set, Write signals entered and
// waits for block to be closed first.
type fakeWriter struct {
	mu      sync.Mutex
	calls   []fakeCall
	err     error
	entered chan struct{}
	block   chan struct{}
}

type fakeCall struct {
	log  string
	recs []string
}

func (f *fakeWriter) Write(log string, records [][]byte) error {
	if f.block != nil {
		f.entered <- struct{}{}
		<-f.block
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	c := fakeCall{log: log, recs: []string{}}
	for _, r := range records {
		c.recs = append(c.recs, string(r))
	}
	f.calls = append(f.calls, c)
	return nil
}

func (f *fakeWriter) written() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// post builds a POST request to path with the given body and headers
// ("Content-Type: ...").
func post(path string, body []byte, headers ...string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		r.Header.Set(k, v)
	}
	return r
}

// errorOf checks that an error answer has a JSON {"error": "..."} body and
// returns the message.
func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("error answer Content-Type = %q, want application/json", ct)
	}
	var e struct {
		Error string `json:"error"`
	}
	dec := json.NewDecoder(rec.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == "" {
		t.Errorf("error answer body is not {\"error\": \"...\"}: %v", err)
	}
	return e.Error
}

// timeoutReader fails like a body read past the server's ReadTimeout.
type timeoutReader struct{}

func (timeoutReader) Read([]byte) (int, error) {
	return 0, fmt.Errorf("read tcp: %w", os.ErrDeadlineExceeded)
}

func TestServeLogs(t *testing.T) {
	const limit = 1 << 10
	big := bytes.Repeat([]byte("x"), limit+1)
	wrap := func(err error) error { return fmt.Errorf("logging: write access.log: %w", err) }
	cases := []struct {
		name      string
		req       *http.Request
		writerErr error
		status    int
		body      string // the whole body for 200, a substring of the error message otherwise
		log       string // the log Write was called for; "" for no call
		recs      []string
		header    map[string]string
	}{
		{name: "text", req: post("/v1/logs/access", []byte("GET /a 200\r\n\nGET /b 404")),
			status: 200, body: `{"records":2}`, log: "access.log", recs: []string{"GET /a 200", "GET /b 404"},
			header: map[string]string{"Content-Type": "application/json"}},
		{name: "dotted name", req: post("/v1/logs/access.log", []byte("a\n"), "Content-Type: text/plain; charset=us-ascii"),
			status: 200, body: `{"records":1}`, log: "access.log", recs: []string{"a"}},
		{name: "other suffix", req: post("/v1/logs/error.txt", []byte("a\n")),
			status: 200, body: `{"records":1}`, log: "error.txt", recs: []string{"a"}},
		{name: "percent-encoded letters", req: post("/v1/logs/acc%65ss", []byte("a\n")),
			status: 200, body: `{"records":1}`, log: "access.log", recs: []string{"a"}},
		{name: "ndjson", req: post("/v1/logs/access", []byte("{\"b\": 1, \"a\": 2}\n[1, 2]\n\n\"s\"\n"), "Content-Type: application/x-ndjson"),
			status: 200, body: `{"records":3}`, log: "access.log", recs: []string{`{"b":1,"a":2}`, `[1,2]`, `"s"`}},
		{name: "json object", req: post("/v1/logs/access", []byte(`{ "z": 1, "a": {"y": [1, 2]} }`), "Content-Type: application/json"),
			status: 200, body: `{"records":1}`, log: "access.log", recs: []string{`{"z":1,"a":{"y":[1,2]}}`}},
		{name: "json array", req: post("/v1/logs/access", []byte(`[{"b":1}, {"a":2}]`), "Content-Type: application/json; charset=utf-8"),
			status: 200, body: `{"records":2}`, log: "access.log", recs: []string{`{"b":1}`, `{"a":2}`}},
		{name: "gzip", req: post("/v1/logs/access", gzipped(t, []byte("{\"a\":1}\n{\"b\":2}\n")), "Content-Type: application/x-ndjson", "Content-Encoding: gzip"),
			status: 200, body: `{"records":2}`, log: "access.log", recs: []string{`{"a":1}`, `{"b":2}`}},
		{name: "empty text body checks the log", req: post("/v1/logs/access", nil),
			status: 200, body: `{"records":0}`, log: "access.log", recs: []string{}},
		{name: "empty array", req: post("/v1/logs/access", []byte(" [ ] "), "Content-Type: application/json"),
			status: 200, body: `{"records":0}`, log: "access.log", recs: []string{}},
		{name: "body of exactly the limit", req: post("/v1/logs/access", big[:limit]),
			status: 200, body: `{"records":1}`, log: "access.log", recs: []string{string(big[:limit])}},

		// Bodies refused: nothing written.
		{name: "empty json body", req: post("/v1/logs/access", nil, "Content-Type: application/json"),
			status: 400, body: "json body: line 1, byte 0: empty body"},
		{name: "bad json element", req: post("/v1/logs/access", []byte("[{\"a\":1},\n{\"b\":x}]"), "Content-Type: application/json"),
			status: 400, body: "line 2, byte 15: invalid character 'x'"},
		{name: "bad ndjson line", req: post("/v1/logs/access", []byte("{\"a\":1}\n{\"b\"\n"), "Content-Type: application/x-ndjson"),
			status: 400, body: "ndjson body: line 2, byte 12"},
		{name: "NUL in text", req: post("/v1/logs/access", []byte("a\nb\x00\n")),
			status: 400, body: "line 2, byte 3: NUL byte"},
		{name: "corrupt gzip", req: post("/v1/logs/access", []byte("not gzip"), "Content-Encoding: gzip"),
			status: 400, body: "corrupt gzip body"},
		{name: "truncated gzip", req: post("/v1/logs/access", gzipped(t, []byte("a\nb\n"))[:15], "Content-Encoding: gzip"),
			status: 400, body: "corrupt gzip body"},
		{name: "unsupported type", req: post("/v1/logs/access", []byte("<a/>"), "Content-Type: application/xml"),
			status: 415, body: `unsupported content type "application/xml"`},
		{name: "unsupported charset", req: post("/v1/logs/access", []byte("a"), "Content-Type: text/plain; charset=latin1"),
			status: 415, body: "charset"},
		{name: "unsupported encoding", req: post("/v1/logs/access", []byte("a"), "Content-Encoding: br"),
			status: 415, body: `unsupported content encoding "br"`},
		{name: "too large by content-length", req: post("/v1/logs/access", big),
			status: 413, body: "body too large: more than 1024 bytes (Content-Length 1025)"},
		{name: "too large chunked", req: func() *http.Request {
			r := post("/v1/logs/access", nil)
			r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(big)), -1
			return r
		}(), status: 413, body: "body too large: more than 1024 bytes;"},
		{name: "too large after gunzip", req: post("/v1/logs/access", gzipped(t, big), "Content-Encoding: gzip"),
			status: 413, body: "more than 1024 bytes after decompression"},
		{name: "gzip too large by content-length", req: post("/v1/logs/access", make([]byte, gzipWireLimit(limit)+1), "Content-Encoding: gzip"),
			status: 413, body: "compressed Content-Length"},
		{name: "read timeout", req: func() *http.Request {
			r := post("/v1/logs/access", nil)
			r.Body, r.ContentLength = io.NopCloser(timeoutReader{}), -1
			return r
		}(), status: 503, body: "timed out"},
		{name: "client went away", req: func() *http.Request {
			r := post("/v1/logs/access", nil)
			r.Body, r.ContentLength = io.NopCloser(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(io.ErrUnexpectedEOF))), -1
			return r
		}(), status: 400, body: "reading the body failed"},

		// Names that cannot be a log: 404, nothing written.
		{name: "encoded slash", req: post("/v1/logs/a%2Fb", []byte("a")), status: 404, body: `invalid log name "a/b"`},
		{name: "slash", req: post("/v1/logs/a/b", []byte("a")), status: 404, body: "invalid log name"},
		{name: "dotdot", req: post("/v1/logs/..", []byte("a")), status: 404, body: "dot"},
		{name: "encoded dotdot", req: post("/v1/logs/%2e%2e", []byte("a")), status: 404, body: "dot"},
		{name: "traversal", req: post("/v1/logs/../../etc/passwd", []byte("a")), status: 404, body: "invalid log name"},
		{name: "leading dot", req: post("/v1/logs/.access.log.meta", []byte("a")), status: 404, body: "dot"},
		{name: "encoded NUL", req: post("/v1/logs/access%00", []byte("a")), status: 404, body: `'\x00'`},
		{name: "trailing slash", req: post("/v1/logs/access/", []byte("a")), status: 404, body: "invalid log name"},
		{name: "empty name", req: post("/v1/logs/", []byte("a")), status: 404, body: "empty log name"},
		{name: "no name", req: post("/v1/logs", []byte("a")), status: 404, body: "no such endpoint"},
		{name: "too long", req: post("/v1/logs/"+strings.Repeat("a", 97), []byte("a")), status: 404, body: "longer than 100 bytes"},

		// Write errors: Write was called and wrote nothing.
		{name: "unknown log", req: post("/v1/logs/nope", []byte("a")), writerErr: fmt.Errorf("logging: write \"nope.log\": %w", logging.ErrUnknownLog),
			status: 404, body: `unknown log "nope.log"`},
		{name: "space exhausted", req: post("/v1/logs/access", []byte("a")), writerErr: wrap(logging.ErrSpaceExhausted),
			status: 503, body: "log space exhausted", header: map[string]string{"Retry-After": "2"}},
		{name: "space exhausted, with the reason once", req: post("/v1/logs/access", []byte("a")),
			writerErr: fmt.Errorf("logging: write access.log: %w", &logging.SpaceError{Reason: "used 4.6 MiB ≥ limit 4.0 MiB; logging resumes when used is below 3.0 MiB"}),
			status:    503, body: "nothing written, retry later: log space exhausted: used 4.6 MiB ≥ limit 4.0 MiB; logging resumes when used is below 3.0 MiB",
			header: map[string]string{"Retry-After": "2"}},
		{name: "partition full", req: post("/v1/logs/access", []byte("a")), writerErr: wrap(&fs.PathError{Op: "write", Path: "/l/access.log", Err: syscall.ENOSPC}),
			status: 503, body: "no space left on the log partition", header: map[string]string{"Retry-After": "2"}},
		{name: "quota reached", req: post("/v1/logs/access", []byte("a")), writerErr: wrap(&fs.PathError{Op: "open", Path: "/l/access.log", Err: syscall.EDQUOT}),
			status: 503, body: "no space left on the log partition", header: map[string]string{"Retry-After": "2"}},
		{name: "collator closed", req: post("/v1/logs/access", []byte("a")), writerErr: wrap(logging.ErrClosed),
			status: 503, body: "shutting down", header: map[string]string{"Retry-After": "2", "Connection": "close"}},
		{name: "bad record", req: post("/v1/logs/access", []byte("a")), writerErr: wrap(logging.ErrBadRecord),
			status: 400, body: "newline"},
		{name: "disk failure", req: post("/v1/logs/access", []byte("a")), writerErr: wrap(errors.New("write /logs/access.log: input/output error")),
			status: 500, body: `writing log "access.log" failed`},
		{name: "unknown log with empty body", req: post("/v1/logs/nope", nil), writerErr: fmt.Errorf("logging: write \"nope.log\": %w", logging.ErrUnknownLog),
			status: 404, body: "unknown log"},

		// Methods and other paths.
		{name: "get logs", req: httptest.NewRequest(http.MethodGet, "/v1/logs/access", nil),
			status: 405, body: "use POST", header: map[string]string{"Allow": "POST"}},
		{name: "put logs", req: httptest.NewRequest(http.MethodPut, "/v1/logs/access", strings.NewReader("a")),
			status: 405, body: "method PUT not allowed", header: map[string]string{"Allow": "POST"}},
		{name: "healthz", req: httptest.NewRequest(http.MethodGet, "/healthz", nil), status: 200, body: "ok",
			header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
		{name: "post healthz", req: post("/healthz", nil), status: 405, body: "use GET", header: map[string]string{"Allow": "GET, HEAD"}},
		{name: "metrics not configured", req: httptest.NewRequest(http.MethodGet, "/metrics", nil), status: 404, body: "no such endpoint"},
		{name: "unknown path", req: httptest.NewRequest(http.MethodGet, "/v1/roll", nil), status: 404, body: "no such endpoint: GET /v1/roll"},
		{name: "root", req: httptest.NewRequest(http.MethodGet, "/", nil), status: 404, body: "no such endpoint"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fw := &fakeWriter{err: tc.writerErr}
			var logBuf bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			s := NewServer(fw, ServerConfig{MaxBodyBytes: limit, RetryAfter: 1500 * time.Millisecond, Logger: logger})
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, tc.req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.status, rec.Body)
			}
			for k, v := range tc.header {
				if got := rec.Header().Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			if tc.status == 200 {
				if got := rec.Body.String(); got != tc.body {
					t.Errorf("body %q, want %q", got, tc.body)
				}
			} else if msg := errorOf(t, rec); !strings.Contains(msg, tc.body) {
				t.Errorf("error %q, want it to contain %q", msg, tc.body)
			}
			if tc.status == 429 || tc.status == 503 {
				if rec.Header().Get("Retry-After") == "" {
					t.Error("no Retry-After")
				}
			}
			calls := fw.written()
			switch {
			case tc.log == "" && len(calls) != 0:
				t.Errorf("records written for a refused request: %+v", calls)
			case tc.log != "" && (len(calls) != 1 || calls[0].log != tc.log || !slices.Equal(calls[0].recs, tc.recs)):
				t.Errorf("Write calls %+v, want one for %q with %q", calls, tc.log, tc.recs)
			}
			logged := logBuf.String()
			switch {
			case tc.status == 200 && logged != "":
				t.Errorf("accepted request logged: %s", logged)
			case tc.status != 200 && !strings.Contains(logged, "level=DEBUG msg=\"ingest: request refused\" status="+strconv.Itoa(tc.status)):
				t.Errorf("refusal not logged at Debug: %q", logged)
			case strings.Contains(logged, "level=WARN") || strings.Contains(logged, "level=ERROR"):
				// A failing disk fails every request: the collator says so
				// once per fault (and counts it), not ingest per request.
				t.Errorf("a refused request logged above Debug: %q", logged)
			case tc.status == 500 && !strings.Contains(logged, "input/output error"):
				t.Errorf("the cause of a 500 is not in the Debug log: %q", logged)
			}
			st := s.Stats()
			switch {
			case tc.name == "healthz": // not an ingest request
				if len(st.Requests) != 0 {
					t.Errorf("Stats().Requests = %v, want a health check not counted", st.Requests)
				}
			case st.Requests[tc.status] != 1 || len(st.Requests) != 1:
				t.Errorf("Stats().Requests = %v, want {%d: 1}", st.Requests, tc.status)
			}
			if tc.log != "" && st.Records != int64(len(tc.recs)) {
				t.Errorf("Stats().Records = %d, want %d", st.Records, len(tc.recs))
			}
			if st.InFlight != 0 {
				t.Errorf("Stats().InFlight = %d after the answer", st.InFlight)
			}
		})
	}
}

// TestRepeatedHeaders: a Content-Type sent twice with different values, or
// a Content-Encoding sent twice, leaves the body's type or coding to a
// guess: 415, nothing written; the same Content-Type twice is one.
func TestRepeatedHeaders(t *testing.T) {
	for _, tc := range []struct {
		name   string
		header http.Header
		status int
		msg    string
	}{
		{"two content types", http.Header{"Content-Type": {"text/plain", "application/json"}}, 415, `unsupported content type "text/plain, application/json": sent 2 times: send one`},
		{"the same content type twice", http.Header{"Content-Type": {"text/plain", "text/plain"}}, 200, ""},
		{"gzip twice", http.Header{"Content-Encoding": {"gzip", "gzip"}}, 415, `unsupported content encoding "gzip, gzip": sent 2 times: send one`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fw := &fakeWriter{}
			s := NewServer(fw, ServerConfig{})
			req := post("/v1/logs/access", []byte("a line\n"))
			maps.Copy(req.Header, tc.header)
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if tc.status != 200 {
				if msg := errorOf(t, rec); msg != tc.msg {
					t.Errorf("message %q, want %q", msg, tc.msg)
				}
				if n := len(fw.written()); n != 0 {
					t.Errorf("%d Write calls after a refusal", n)
				}
			}
		})
	}
}
