package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// The harness below serves one prepared request again and again through a
// handler with nothing allocated per iteration by the harness itself, so
// that allocation counts are the handler's own.

// rewindBody is a request body that can be rewound.
type rewindBody struct{ bytes.Reader }

func (*rewindBody) Close() error { return nil }

// discardResponse is a reusable http.ResponseWriter that keeps only the
// status and the body length.
type discardResponse struct {
	h    http.Header
	code int
	n    int
}

func (d *discardResponse) Header() http.Header { return d.h }
func (d *discardResponse) WriteHeader(c int)   { d.code = c }
func (d *discardResponse) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += len(p)
	return len(p), nil
}

// replay is a prepared request and response.
type replay struct {
	req  *http.Request
	body *rewindBody
	data []byte
	resp discardResponse
}

func newReplay(path, contentType string, data []byte) *replay {
	rp := &replay{body: &rewindBody{}, data: data, resp: discardResponse{h: http.Header{}}}
	rp.req = httptest.NewRequest(http.MethodPost, path, nil)
	rp.req.Header.Set("Content-Type", contentType)
	rp.req.Body, rp.req.ContentLength = rp.body, int64(len(data))
	return rp
}

// serve sends the request to h once and returns the status.
func (rp *replay) serve(h http.Handler) int {
	rp.body.Reset(rp.data)
	clear(rp.resp.h)
	rp.resp.code, rp.resp.n = 0, 0
	h.ServeHTTP(&rp.resp, rp.req)
	return rp.resp.code
}

// nopWriter accepts everything and writes nothing.
type nopWriter struct{}

func (nopWriter) Write(string, [][]byte) error { return nil }

// nopBlockWriter is nopWriter with WriteBlock, as the collator has: the
// Server then hands it every body's records as one block.
type nopBlockWriter struct{ nopWriter }

func (nopBlockWriter) WriteBlock(string, []byte, int) error { return nil }

// baselineHandler is what a handler built on encoding/json would do with the
// same body: read it, unmarshal it into structs (or maps) and marshal each
// element back into one record, then make the same single Write call.
func baselineHandler(w Writer, maps bool) http.Handler {
	type state struct {
		body bytes.Buffer
		evs  []benchEvent
		ms   []map[string]any
		recs [][]byte
	}
	pool := sync.Pool{New: func() any { return new(state) }}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		st := pool.Get().(*state)
		defer pool.Put(st)
		st.body.Reset()
		if _, err := st.body.ReadFrom(r.Body); err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		st.recs = st.recs[:0]
		var err error
		if maps {
			st.ms = st.ms[:0]
			if err = json.Unmarshal(st.body.Bytes(), &st.ms); err == nil {
				for _, m := range st.ms {
					var b []byte
					if b, err = json.Marshal(m); err != nil {
						break
					}
					st.recs = append(st.recs, b)
				}
			}
		} else {
			st.evs = st.evs[:0]
			if err = json.Unmarshal(st.body.Bytes(), &st.evs); err == nil {
				for i := range st.evs {
					var b []byte
					if b, err = json.Marshal(&st.evs[i]); err != nil {
						break
					}
					st.recs = append(st.recs, b)
				}
			}
		}
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		if err := w.Write("access.log", st.recs); err != nil {
			http.Error(rw, err.Error(), http.StatusInternalServerError)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		rw.Write([]byte(`{"records":` + strconv.Itoa(len(st.recs)) + `}`))
	})
}

// benchServe posts rp through h b.N times and reports records/s.
func benchServe(b *testing.B, h http.Handler, rp *replay, records int) {
	b.SetBytes(int64(len(rp.data)))
	b.ReportAllocs()
	for b.Loop() {
		if code := rp.serve(h); code != http.StatusOK {
			b.Fatalf("status %d", code)
		}
	}
	reportRecords(b, records)
}

// BenchmarkServeJSONBatch posts Logstash json_batch bodies (arrays of ~240-byte
// access-log objects) through the whole handler to a no-op Writer, next to
// baselines that do the same with encoding/json: unmarshal into structs (or
// maps, which also lose the key order) and marshal each element back.
func BenchmarkServeJSONBatch(b *testing.B) {
	for _, n := range []int{125, 1000} {
		body := logstashArray(n)
		b.Run(strconv.Itoa(n)+"/handler", func(b *testing.B) {
			s := NewServer(nopWriter{}, ServerConfig{})
			benchServe(b, s.Handler(), newReplay("/v1/logs/access", "application/json", body), n)
		})
		b.Run(strconv.Itoa(n)+"/encoding_json_struct", func(b *testing.B) {
			benchServe(b, baselineHandler(nopWriter{}, false), newReplay("/v1/logs/access", "application/json", body), n)
		})
		b.Run(strconv.Itoa(n)+"/encoding_json_map", func(b *testing.B) {
			benchServe(b, baselineHandler(nopWriter{}, true), newReplay("/v1/logs/access", "application/json", body), n)
		})
	}
}

// BenchmarkServeNDJSON posts 1000 events, one per line.
func BenchmarkServeNDJSON(b *testing.B) {
	const n = 1000
	s := NewServer(nopWriter{}, ServerConfig{})
	benchServe(b, s.Handler(), newReplay("/v1/logs/access", "application/x-ndjson", logstashNDJSON(n)), n)
}

// BenchmarkServeText posts 1000 access-log lines of about 150 bytes; the
// ns/record metric is the cost per line, handler overhead included.
func BenchmarkServeText(b *testing.B) {
	const n = 1000
	s := NewServer(nopWriter{}, ServerConfig{})
	benchServe(b, s.Handler(), newReplay("/v1/logs/access", "text/plain", accessLines(n)), n)
}

// serveCase is a body of BenchmarkServeBlockWriter and
// BenchmarkServeCollator.
type serveCase struct {
	name, ct string
	body     []byte
	records  int
}

// serveCases returns the bodies of the benchmarks above, the text lines
// ending in "\r\n", and 1 MiB bodies of "{}" and "a\r\n" lines.
func serveCases() []serveCase {
	const tiny = 1 << 20 / 3
	return []serveCase{
		{"json_batch_125", "application/json", logstashArray(125), 125},
		{"json_batch_1000", "application/json", logstashArray(1000), 1000},
		{"ndjson", "application/x-ndjson", logstashNDJSON(1000), 1000},
		{"text", "text/plain", accessLines(1000), 1000},
		{"text_crlf", "text/plain", bytes.ReplaceAll(accessLines(1000), []byte("\n"), []byte("\r\n")), 1000},
		{"tiny_ndjson", "application/x-ndjson", bytes.Repeat([]byte("{}\n"), tiny), tiny},
		{"tiny_text_crlf", "text/plain", bytes.Repeat([]byte("a\r\n"), tiny), tiny},
	}
}

// BenchmarkServeBlockWriter posts serveCases through the handler to a
// BlockWriter, the kind of Writer the daemon gives it (logging.Collator):
// the records go as one block, in the body when it is already its lines.
func BenchmarkServeBlockWriter(b *testing.B) {
	for _, tc := range serveCases() {
		b.Run(tc.name, func(b *testing.B) {
			s := NewServer(nopBlockWriter{}, ServerConfig{})
			benchServe(b, s.Handler(), newReplay("/v1/logs/access", tc.ct, tc.body), tc.records)
		})
	}
}

// BenchmarkServeCollator posts serveCases through the handler to a real
// logging.Collator writing to a temporary folder (durability "write": the
// page cache, no fsync), as the daemon does: decoding, the collator's side
// and the write(2) included, so that work moved between the two (a copy
// of the records) is counted once.
func BenchmarkServeCollator(b *testing.B) {
	for _, tc := range serveCases() {
		b.Run(tc.name, func(b *testing.B) {
			s := NewServer(openCollator(b, b.TempDir()), ServerConfig{})
			benchServe(b, s.Handler(), newReplay("/v1/logs/access", tc.ct, tc.body), tc.records)
		})
	}
}

// TestServeAllocs checks that the handler's allocations per request do not
// grow with the number of records, and stay within a small constant, for a
// plain Writer and for a BlockWriter.
func TestServeAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	for _, w := range []Writer{nopWriter{}, nopBlockWriter{}} {
		t.Run(fmt.Sprintf("%T", w), func(t *testing.T) { serveAllocs(t, w) })
	}
}

func serveAllocs(t *testing.T, w Writer) {
	s := NewServer(w, ServerConfig{})
	cases := []struct {
		path, ct string
		body     []byte
		most     float64
	}{
		{"/v1/logs/access.log", "application/json", logstashArray(10), 0},
		{"/v1/logs/access.log", "application/json", logstashArray(1000), 0},
		{"/v1/logs/access.log", "application/x-ndjson", logstashNDJSON(1000), 0},
		{"/v1/logs/access.log", "text/plain", accessLines(1000), 0},
		{"/v1/logs/access", "text/plain", accessLines(1000), 0},
		{"/v1/logs/access", "text/plain", bytes.ReplaceAll(accessLines(1000), []byte("\n"), []byte("\r\n")), 0},
		{"/v1/logs/access", "application/x-ndjson", bytes.Repeat([]byte("{}\n"), 10000), 0},
	}
	for _, tc := range cases {
		rp := newReplay(tc.path, tc.ct, tc.body)
		for range 3 { // grow the pooled buffers
			if code := rp.serve(s.Handler()); code != 200 {
				t.Fatalf("status %d", code)
			}
		}
		allocs := testing.AllocsPerRun(50, func() { rp.serve(s.Handler()) })
		if allocs > tc.most {
			t.Errorf("%s %s, %d bytes: %v allocations per request, want at most %v", tc.path, tc.ct, len(tc.body), allocs, tc.most)
		}
	}
}
