package ingest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// startServer serves s on a loopback listener and returns its base URL, a
// client of its own, and a function that shuts s down and checks that Serve
// returned nil.
func startServer(t *testing.T, s *Server) (base string, c *http.Client, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	var once sync.Once
	stop = func() {
		once.Do(func() {
			if err := s.Shutdown(context.Background()); err != nil {
				t.Errorf("Shutdown: %v", err)
			}
			if err := <-served; err != nil {
				t.Errorf("Serve returned %v after Shutdown, want nil", err)
			}
		})
	}
	t.Cleanup(stop)
	return "http://" + l.Addr().String(), &http.Client{Transport: tr}, stop
}

// rawRequest sends one request line as is (no client-side cleaning) and
// returns the status and body.
func rawRequest(t *testing.T, addr, method, target, body string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", method, target, len(body), body)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeLoopback serves over a real connection: net/http must neither
// clean nor redirect paths, so that traversal attempts reach the name check.
func TestServeLoopback(t *testing.T) {
	fw := &fakeWriter{}
	s := NewServer(fw, ServerConfig{})
	base, c, stop := startServer(t, s)
	resp, err := c.Post(base+"/v1/logs/access", "application/json", strings.NewReader(`[{"a":1},{"b":2}]`))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != `{"records":2}` {
		t.Fatalf("POST: %d %s", resp.StatusCode, b)
	}
	addr := strings.TrimPrefix(base, "http://")
	for _, target := range []string{"/v1/logs/../access", "/v1/logs/a%2Fb", "/v1/logs/%2e%2e", "/v1/logs/..", "/v1/logs//access",
		"/v1/logs/access%00", "/v1/logs/.access", "/v1/./logs/access", "//v1/logs/access"} {
		code, body := rawRequest(t, addr, "POST", target, "x\n")
		if code != 404 || !strings.HasPrefix(body, `{"error":`) {
			t.Errorf("POST %s: %d %s, want 404 with a JSON error", target, code, body)
		}
	}
	if code, body := rawRequest(t, addr, "GET", "/healthz", ""); code != 200 || body != "ok" {
		t.Errorf("GET /healthz: %d %q", code, body)
	}
	if n := len(fw.written()); n != 1 {
		t.Errorf("%d Write calls, want 1", n)
	}
	stop()
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("listener still accepting after Shutdown")
	}
	// Serve after Shutdown returns nil at once and closes its listener.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l); err != nil {
		t.Errorf("Serve after Shutdown = %v, want nil", err)
	}
	if _, err := net.Dial("tcp", l.Addr().String()); err == nil {
		t.Error("listener given to Serve after Shutdown still open")
	}
}

// TestShutdownLoopback shuts down while a request over a real connection is
// in Write: new requests get 503 at once, the in-flight one is answered 200,
// and Shutdown returns once it has been.
func TestShutdownLoopback(t *testing.T) {
	fw := &fakeWriter{entered: make(chan struct{}), block: make(chan struct{})}
	s := NewServer(fw, ServerConfig{})
	base, c, _ := startServer(t, s)

	answered := make(chan string, 1)
	go func() {
		resp, err := c.Post(base+"/v1/logs/access", "", strings.NewReader("a\nb\n"))
		if err != nil {
			answered <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- fmt.Sprint(resp.StatusCode, " ", string(b))
	}()
	<-fw.entered
	shut := make(chan error, 1)
	go func() { shut <- s.Shutdown(context.Background()) }()
	for !s.gate.closed() {
		runtime.Gosched()
	}
	for _, path := range []string{"/v1/logs/access", "/healthz"} {
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, post(path, []byte("c\n")))
		if rec.Code != 503 || rec.Header().Get("Retry-After") != "1" || rec.Header().Get("Connection") != "close" {
			t.Errorf("%s during Shutdown: %d %v, want 503 with Retry-After: 1 and Connection: close", path, rec.Code, rec.Header())
		}
		if msg := errorOf(t, rec); !strings.Contains(msg, "shutting down") {
			t.Errorf("%s during Shutdown: %q", path, msg)
		}
	}
	// The listener stays open while the request drains: a new client is
	// answered 503 with Retry-After, not refused.
	addr := strings.TrimPrefix(base, "http://")
	for _, target := range []string{"/v1/logs/access", "/healthz"} {
		if code, body := rawRequest(t, addr, "POST", target, "d\n"); code != 503 || !strings.Contains(body, "shutting down") {
			t.Errorf("new connection to %s during the drain: %d %s, want 503", target, code, body)
		}
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a request in flight", err)
	default:
	}
	close(fw.block)
	if got := <-answered; got != `200 {"records":2}` {
		t.Errorf("in-flight request answered %q", got)
	}
	if err := <-shut; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if _, err := net.Dial("tcp", addr); err == nil {
		t.Error("listener still accepting after Shutdown returned")
	}
	if calls := fw.written(); len(calls) != 1 || len(calls[0].recs) != 2 {
		t.Errorf("Write calls %+v, want the in-flight request's only", calls)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Errorf("second Shutdown: %v", err)
	}
}

// TestShutdownTimeout checks, in a synctest bubble, that Shutdown gives up
// with ctx's error while a request is stuck in Write, that the request is
// still answered afterwards, and that a later Shutdown then returns nil.
func TestShutdownTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		fw := &fakeWriter{entered: make(chan struct{}), block: make(chan struct{})}
		s := NewServer(fw, ServerConfig{RetryAfter: 3 * time.Second})
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		go func() {
			s.Handler().ServeHTTP(rec, post("/v1/logs/access", []byte("a\n")))
			close(done)
		}()
		<-fw.entered
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		start := time.Now()
		if err := s.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Shutdown = %v, want context.DeadlineExceeded", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("Shutdown returned after %v, want 5s", d)
		}
		if got := s.Stats().InFlight; got != 1 {
			t.Errorf("InFlight = %d, want 1", got)
		}
		r503 := httptest.NewRecorder()
		s.Handler().ServeHTTP(r503, httptest.NewRequest("GET", "/healthz", nil))
		if r503.Code != 503 || r503.Header().Get("Retry-After") != "3" {
			t.Errorf("healthz while stopping: %d %v", r503.Code, r503.Header())
		}
		close(fw.block)
		<-done
		if rec.Code != 200 {
			t.Errorf("stuck request answered %d, want 200", rec.Code)
		}
		if err := s.Shutdown(t.Context()); err != nil {
			t.Errorf("second Shutdown = %v", err)
		}
		if st := s.Stats(); st.Requests[200] != 1 || st.Requests[503] != 1 || st.InFlight != 0 {
			t.Errorf("Stats = %+v", st)
		}
	})
}

// TestTooManyRequests fills MaxInFlight with requests stuck in Write: the
// next one is refused 429 with Retry-After before its body is read, while
// /healthz still answers.
func TestTooManyRequests(t *testing.T) {
	fw := &fakeWriter{entered: make(chan struct{}), block: make(chan struct{})}
	s := NewServer(fw, ServerConfig{MaxInFlight: 2, RetryAfter: 2 * time.Second})
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, post("/v1/logs/access", []byte("a\n")))
			if rec.Code != 200 {
				t.Errorf("held request answered %d", rec.Code)
			}
		})
		<-fw.entered
	}
	body := &countReader{r: strings.NewReader("b\n")}
	req := post("/v1/logs/access", nil)
	req.Body = io.NopCloser(body)
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	if rec.Code != 429 || rec.Header().Get("Retry-After") != "2" {
		t.Errorf("third request: %d %v, want 429 with Retry-After: 2", rec.Code, rec.Header())
	}
	if msg := errorOf(t, rec); !strings.Contains(msg, "too many requests") {
		t.Errorf("429 message %q", msg)
	}
	if body.n != 0 {
		t.Errorf("429 read %d body bytes, want 0", body.n)
	}
	h := httptest.NewRecorder()
	s.Handler().ServeHTTP(h, httptest.NewRequest("GET", "/healthz", nil))
	if h.Code != 200 {
		t.Errorf("healthz while full: %d", h.Code)
	}
	close(fw.block)
	wg.Wait()
	if n := len(fw.written()); n != 2 {
		t.Errorf("%d Write calls, want 2", n)
	}
	// Slots are given back.
	rec = httptest.NewRecorder()
	fw.block, fw.entered = nil, nil
	s.Handler().ServeHTTP(rec, post("/v1/logs/access", []byte("c\n")))
	if rec.Code != 200 {
		t.Errorf("after the others: %d", rec.Code)
	}
}

// TestGzipBombRefused posts 1 GiB of zeros compressed to about 1 MB, as one
// gzip member and as 1024 members: 413, nothing written, and memory bounded
// by a few times the limit.
func TestGzipBombRefused(t *testing.T) {
	const limit = 1 << 20
	bombs := map[string][]byte{
		"one member":   zeroBomb(t, 1024),
		"1024 members": []byte(strings.Repeat(string(gzipped(t, make([]byte, 1<<20))), 1024)),
	}
	for name, bomb := range bombs {
		t.Run(name, func(t *testing.T) {
			fw := &fakeWriter{}
			s := NewServer(fw, ServerConfig{MaxBodyBytes: limit})
			req := post("/v1/logs/access", bomb, "Content-Encoding: gzip", "Content-Type: application/x-ndjson")
			rec := httptest.NewRecorder()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			s.Handler().ServeHTTP(rec, req)
			runtime.ReadMemStats(&after)
			if rec.Code != 413 {
				t.Fatalf("status %d, want 413: %s", rec.Code, rec.Body)
			}
			if msg := errorOf(t, rec); !strings.Contains(msg, "after decompression") {
				t.Errorf("message %q", msg)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*limit {
				t.Errorf("handler allocated %d bytes for a limit of %d, want < 4x", alloc, limit)
			}
			if n := len(fw.written()); n != 0 {
				t.Errorf("%d Write calls", n)
			}
		})
	}
}

// TestSetMaxBodyBytes changes the limit live.
func TestSetMaxBodyBytes(t *testing.T) {
	s := NewServer(&fakeWriter{}, ServerConfig{})
	if got := s.maxBody.Load(); got != DefaultMaxBodyBytes {
		t.Fatalf("default limit %d", got)
	}
	body := []byte("0123456789\n")
	for _, tc := range []struct {
		limit int64
		code  int
	}{{10, 413}, {11, 200}, {0, 200}, {5, 413}} {
		s.SetMaxBodyBytes(tc.limit)
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, post("/v1/logs/access", body))
		if rec.Code != tc.code {
			t.Errorf("limit %d: status %d, want %d", tc.limit, rec.Code, tc.code)
		}
	}
}

// TestMetricsEndpoint serves the configured handler; only refusals count
// as requests.
func TestMetricsEndpoint(t *testing.T) {
	code := 200
	m := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code != 200 {
			w.WriteHeader(code)
		}
		io.WriteString(w, "proxy_process_log_x 1\n")
	})
	s := NewServer(&fakeWriter{}, ServerConfig{Metrics: m})
	for _, tc := range []struct {
		method string
		code   int
		want   int
	}{{"GET", 200, 200}, {"HEAD", 200, 200}, {"GET", 500, 500}, {"POST", 200, 405}} {
		code = tc.code
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest(tc.method, "/metrics", nil))
		if rec.Code != tc.want {
			t.Errorf("%s /metrics: %d, want %d", tc.method, rec.Code, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest("HEAD", "/healthz", nil))
	if rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD /healthz: %d %q", rec.Code, rec.Body)
	}
	s.Handler().ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/healthz", nil))
	// Scrapes and health checks are not ingest requests; refusals are.
	if st := s.Stats(); len(st.Requests) != 1 || st.Requests[405] != 1 {
		t.Errorf("Stats().Requests = %v, want only the 405", st.Requests)
	}
}

// TestServeConcurrent posts distinct bodies from many goroutines: every
// Write call must see exactly its own request's records (pooled buffers are
// not reused before Write returns), and the counters must add up.
func TestServeConcurrent(t *testing.T) {
	fw := &fakeWriter{}
	s := NewServer(fw, ServerConfig{MaxInFlight: 1000})
	const goroutines, requests, lines = 8, 40, 25
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range requests {
				var b strings.Builder
				for j := range lines {
					fmt.Fprintf(&b, `{"g":%d,"i":%d,"j":%d}`+"\n", g, i, j)
				}
				ct := []string{"application/x-ndjson", "application/json"}[i%2]
				body := b.String()
				if ct == "application/json" {
					body = "[" + strings.ReplaceAll(strings.TrimSuffix(body, "\n"), "\n", ",") + "]"
				}
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, post("/v1/logs/access", []byte(body), "Content-Type: "+ct))
				if rec.Code != 200 {
					t.Errorf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
	wg.Wait()
	calls := fw.written()
	if len(calls) != goroutines*requests {
		t.Fatalf("%d calls", len(calls))
	}
	for _, c := range calls {
		var g, i int
		fmt.Sscanf(c.recs[0], `{"g":%d,"i":%d,`, &g, &i)
		for j, r := range c.recs {
			if want := fmt.Sprintf(`{"g":%d,"i":%d,"j":%d}`, g, i, j); r != want {
				t.Fatalf("record %d of a call is %s, want %s", j, r, want)
			}
		}
	}
	st := s.Stats()
	if st.Records != goroutines*requests*lines || st.Requests[200] != goroutines*requests || st.InFlight != 0 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestSlowBody checks that ReadTimeout bounds a body that stops arriving:
// the request is answered 503 (retryable) and nothing is written. (net/http's deadline
// is real time, so this waits ReadTimeout, 100 ms, on a blocking read.)
func TestSlowBody(t *testing.T) {
	fw := &fakeWriter{}
	s := NewServer(fw, ServerConfig{ReadTimeout: 100 * time.Millisecond})
	base, _, _ := startServer(t, s)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/logs/access HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(b), "timed out") {
		t.Errorf("slow body: %d %s, want 503 with Retry-After", resp.StatusCode, b)
	}
	if n := len(fw.written()); n != 0 {
		t.Errorf("%d Write calls", n)
	}
}

// TestShutdownTimeoutClosesSlowClients checks that a client still sending its
// body when Shutdown's context ends is cut off (its connection closed,
// nothing written) and that Shutdown reports ErrStopTimeout, so that the
// daemon can finish stopping.
func TestShutdownTimeoutClosesSlowClients(t *testing.T) {
	fw := &fakeWriter{}
	s := NewServer(fw, ServerConfig{})
	base, _, _ := startServer(t, s)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/logs/access HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	// Wait until the request is in flight.
	for deadline := time.Now().Add(5 * time.Second); s.Stats().InFlight == 0; {
		if time.Now().After(deadline) {
			t.Fatal("request never in flight")
		}
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	// The count is taken before the connections are closed: the stuck
	// request is still in flight then.
	if err := s.Shutdown(ctx); !errors.Is(err, ErrStopTimeout) || !strings.Contains(err.Error(), "1 request(s) still in flight") {
		t.Fatalf("Shutdown = %v, want ErrStopTimeout with 1 request in flight", err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(conn); err != nil {
		t.Fatalf("reading the cut-off connection: %v, want EOF", err)
	}
	if n := len(fw.written()); n != 0 {
		t.Errorf("%d Write calls for a cut-off request", n)
	}
}

// TestLocalSlotsApart: the port's requests and Handler's (the admin
// socket's: logrollctl pipe) have MaxInFlight slots each, so that clients
// of the port holding every slot (slow bodies, a token abused) do not keep
// the host's own pipes out.
func TestLocalSlotsApart(t *testing.T) {
	fw := &fakeWriter{entered: make(chan struct{}), block: make(chan struct{})}
	s := NewServer(fw, ServerConfig{MaxInFlight: 1})
	var wg sync.WaitGroup
	serve := func(h http.HandlerFunc, body string, want int) {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			h(rec, post("/v1/logs/access", []byte(body)))
			if rec.Code != want {
				t.Errorf("%q answered %d, want %d", body, rec.Code, want)
			}
		})
	}
	serve(s.servePublic, "port\n", 200)
	<-fw.entered // the port's one slot is held
	rec := httptest.NewRecorder()
	s.servePublic(rec, post("/v1/logs/access", []byte("port again\n")))
	if rec.Code != 429 {
		t.Errorf("a second request of the port: %d, want 429", rec.Code)
	}
	serve(s.Handler().ServeHTTP, "local\n", 200)
	select {
	case <-fw.entered: // the local request got its own slot
	case <-time.After(10 * time.Second):
		t.Fatal("the local request did not get a slot while the port's were taken")
	}
	close(fw.block)
	wg.Wait()
}
