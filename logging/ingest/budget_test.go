package ingest

import (
	"bytes"
	"compress/gzip"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestBudgetTake(t *testing.T) {
	tests := []struct {
		name     string
		max      int64
		used     int64 // held before the take, mine included
		mine     int64 // held by the taker before the take
		n        int64
		want     bool
		wantUsed int64
	}{
		{"within", 100, 10, 0, 50, true, 60},
		{"exactly full", 100, 40, 0, 60, true, 100},
		{"over with others holding", 100, 50, 0, 51, false, 50},
		{"over with others and mine", 100, 50, 20, 51, false, 50},
		{"alone may pass the bound", 100, 0, 0, 500, true, 500},
		{"alone again may pass it", 100, 500, 500, 500, true, 1000},
		{"no bound", 0, 1 << 40, 0, 1 << 40, true, 1 << 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b budget
			b.max.Store(tt.max)
			b.used.Store(tt.used)
			if got := b.take(tt.n, tt.mine); got != tt.want {
				t.Errorf("take(%d) = %v, want %v", tt.n, got, tt.want)
			}
			if got := b.used.Load(); got != tt.wantUsed {
				t.Errorf("used = %d, want %d", got, tt.wantUsed)
			}
		})
	}
}

// lines returns n text lines of size bytes each (newline included).
func textLines(n, size int) []byte {
	line := strings.Repeat("x", size-1) + "\n"
	return []byte(strings.Repeat(line, n))
}

// TestMemoryBudget holds one request inside Write with about 600 KiB of
// memory, and checks that others needing more than the rest of a 1 MiB
// budget are answered 429 with nothing written, whatever makes them big
// (body, gzip output, record slice, JSON compaction), that small ones still
// pass, and that the budget is whole again afterwards.
func TestMemoryBudget(t *testing.T) {
	fw := &holdWriter{entered: make(chan struct{}), block: make(chan struct{})}
	s := NewServer(fw, ServerConfig{MaxInFlightBytes: 1 << 20})
	var wg sync.WaitGroup
	wg.Go(func() {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, post("/v1/logs/held", textLines(2400, 250)))
		if rec.Code != 200 {
			t.Errorf("held request answered %d, want 200", rec.Code)
		}
	})
	<-fw.entered
	if used := s.mem.used.Load(); used < 600<<10 || used > 1<<20 {
		t.Fatalf("held request holds %d bytes, want 600 KiB..1 MiB", used)
	}

	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(textLines(2400, 250))
	zw.Close()
	spaced := []byte("[" + strings.Repeat(`{"a": 1}, `, 15000) + `{"a": 1}]`)
	refused := []struct {
		name string
		body []byte
		hdrs []string
	}{
		{"big text body", textLines(2400, 250), nil},
		{"big text body without length", textLines(2400, 250), []string{"Transfer-Encoding: chunked"}},
		{"gzip output", gz.Bytes(), []string{"Content-Encoding: gzip"}},
		{"many tiny records", textLines(100000, 2), nil},
		{"JSON compaction", spaced, []string{"Content-Type: application/json"}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			req := post("/v1/logs/other", tt.body, tt.hdrs...)
			if len(tt.hdrs) > 0 && strings.HasPrefix(tt.hdrs[0], "Transfer-Encoding") {
				req.ContentLength = -1
			}
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != 429 || rec.Header().Get("Retry-After") == "" {
				t.Errorf("answered %d %v, want 429 with Retry-After", rec.Code, rec.Header())
			}
			if msg := errorOf(t, rec); !strings.Contains(msg, "in flight") {
				t.Errorf("429 message %q", msg)
			}
		})
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, post("/v1/logs/small", textLines(100, 250)))
	if rec.Code != 200 {
		t.Errorf("small request beside the held one: %d, want 200", rec.Code)
	}
	close(fw.block)
	wg.Wait()
	for _, c := range fw.written() {
		if c.log == "other.log" {
			t.Errorf("a refused request was written: %d records", len(c.recs))
		}
	}
	if used := s.mem.used.Load(); used != 0 {
		t.Errorf("budget holds %d bytes after every request left, want 0", used)
	}
	// Alone, every one of them passes.
	for _, tt := range refused {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, post("/v1/logs/alone", tt.body, tt.hdrs...))
		if rec.Code != 200 {
			t.Errorf("%s alone: %d %s, want 200", tt.name, rec.Code, rec.Body)
		}
	}
}

// holdWriter is a fakeWriter whose Writes to the log "held" signal entered
// and wait for block to be closed.
type holdWriter struct {
	fakeWriter
	entered, block chan struct{}
}

func (h *holdWriter) Write(log string, records [][]byte) error {
	if log == "held.log" {
		h.entered <- struct{}{}
		<-h.block
	}
	return h.fakeWriter.Write(log, records)
}
