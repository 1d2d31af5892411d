package ingest

import (
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logroll/logroll/logging"
)

// *logging.Collator is what the daemon passes as the Writer.
var _ Writer = (*logging.Collator)(nil)

// openCollator opens a collator of one log, access.log, that never rolls,
// in dir, at durability "write" (no fsync), closed when tb ends.
func openCollator(tb testing.TB, dir string) *logging.Collator {
	tb.Helper()
	c, err := logging.Open(logging.Config{
		Dir:        dir,
		Hostname:   "test",
		Durability: logging.DurabilityWrite,
		Logs:       []logging.LogConfig{{Name: "access.log", Policy: logging.Policy{Mode: logging.ModeNone}}},
	}, logging.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// TestServeCollator posts every body format to a real collator and checks
// the log file: accepted records are in it, compact, keys in the order sent,
// and refused requests left nothing.
func TestServeCollator(t *testing.T) {
	dir := t.TempDir()
	c := openCollator(t, dir)
	s := NewServer(c, ServerConfig{MaxBodyBytes: 1 << 20})

	steps := []struct {
		name   string
		path   string
		body   []byte
		hdrs   []string
		status int
		answer string // the 200 body, or a substring of the error
	}{
		{"text", "/v1/logs/access", []byte("GET /a 200\r\nGET /b 404\n"), nil, 200, `{"records":2}`},
		{"ndjson", "/v1/logs/access.log", []byte("{\"b\": 1, \"a\": \"x y\"}\n[1, 2]\n\"s\"\n"), []string{"Content-Type: application/x-ndjson"}, 200, `{"records":3}`},
		{"malformed array", "/v1/logs/access", []byte(`[{"ok":1}, {"bad":}]`), []string{"Content-Type: application/json"}, 400, "line 1, byte 18"},
		{"json object", "/v1/logs/access", []byte(`{ "z": 1, "a": {"y": [1, 2], "x": null}, "m": "\u00e9\n" }`), []string{"Content-Type: application/json"}, 200, `{"records":1}`},
		{"json array", "/v1/logs/access", []byte("[\n  {\"@timestamp\": \"t1\", \"msg\": \"one\"},\n  {\"msg\": \"two\", \"@timestamp\": \"t2\"}\n]\n"), []string{"Content-Type: application/json"}, 200, `{"records":2}`},
		{"gzip", "/v1/logs/access", gzipped(t, []byte("{\"g\":1}\n{\"g\":2}\n")), []string{"Content-Type: application/x-ndjson", "Content-Encoding: gzip"}, 200, `{"records":2}`},
		{"gzip text with a bad line", "/v1/logs/access", gzipped(t, []byte("fine\nbad\x00\n")), []string{"Content-Encoding: gzip"}, 400, "line 2, byte 8: NUL byte"},
		{"empty body", "/v1/logs/access", nil, nil, 200, `{"records":0}`},
		{"unknown log", "/v1/logs/error", []byte("x\n"), nil, 404, `unknown log "error.log"`},
		{"unknown log, empty body", "/v1/logs/error", nil, nil, 404, "unknown log"},
		{"traversal", "/v1/logs/..%2Faccess.log", []byte("x\n"), nil, 404, "invalid log name"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, post(st.path, st.body, st.hdrs...))
			if rec.Code != st.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, st.status, rec.Body)
			}
			if st.status == 200 {
				if rec.Body.String() != st.answer {
					t.Errorf("body %q, want %q", rec.Body, st.answer)
				}
			} else if msg := errorOf(t, rec); !strings.Contains(msg, st.answer) {
				t.Errorf("error %q, want it to contain %q", msg, st.answer)
			}
		})
	}

	c.SetAccepting(false, "test: disk full")
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, post("/v1/logs/access", []byte("refused\n")))
	if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("space exhausted: %d %v, want 503 with Retry-After", rec.Code, rec.Header())
	}
	if msg := errorOf(t, rec); !strings.Contains(msg, "log space exhausted") {
		t.Errorf("space exhausted: %q", msg)
	}
	c.SetAccepting(true, "")

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, post("/v1/logs/access", []byte("late\n")))
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" {
		t.Errorf("closed collator: %d %v, want 503 with Retry-After", rec.Code, rec.Header())
	}

	got, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil {
		t.Fatal(err)
	}
	want := `GET /a 200
GET /b 404
{"b":1,"a":"x y"}
[1,2]
"s"
{"z":1,"a":{"y":[1,2],"x":null},"m":"\u00e9\n"}
{"@timestamp":"t1","msg":"one"}
{"msg":"two","@timestamp":"t2"}
{"g":1}
{"g":2}
`
	if string(got) != want {
		t.Errorf("access.log:\n%s\nwant:\n%s", got, want)
	}
	if entries, _ := os.ReadDir(dir); len(entries) > 2 { // access.log and its meta file
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files in the log folder: %v", names)
	}
	if st := s.Stats(); st.Records != 10 || st.Bytes != int64(len(want)) {
		t.Errorf("Stats: %d records, %d bytes; want 10, %d", st.Records, st.Bytes, len(want))
	}
}
