package ctl

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// logsStore is a fake ingest handler for the socket's POST /v1/logs/: it
// keeps the bodies it accepts, in order, and refuses the requests refuse
// says (nothing kept), counting every request.
type logsStore struct {
	mu     sync.Mutex
	got    strings.Builder
	calls  int
	refuse func(call int, body string) int // a status, or 0 to accept
}

func (s *logsStore) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.calls++
	code := 0
	if s.refuse != nil {
		code = s.refuse(s.calls, string(body))
	}
	if code == 0 {
		s.got.Write(body)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if code != 0 {
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"error":"refused with %d"}`, code)
		return
	}
	fmt.Fprintf(w, `{"records":%d}`, strings.Count(string(body), "\n"))
}

func (s *logsStore) text() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got.String()
}

func (s *logsStore) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// serveLogs serves h as the socket's logs handler on a new socket and
// returns its path.
func serveLogs(t *testing.T, h http.Handler) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, SocketName)
	l, err := Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := NewServer(nil, slog.New(slog.DiscardHandler))
	s.SetLogs(h)
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		s.Shutdown(context.Background())
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return path
}

// TestLogsClosesAfterRefusal: on the socket, two requests pipelined on one
// connection are answered in order when the first is accepted; when it is
// refused, the connection closes after its answer and the second is not
// processed. Every answer says Logroll-Pipelining.
func TestLogsClosesAfterRefusal(t *testing.T) {
	for _, refuseFirst := range []bool{false, true} {
		st := &logsStore{refuse: func(call int, body string) int {
			if refuseFirst && strings.HasPrefix(body, "first") {
				return http.StatusServiceUnavailable
			}
			return 0
		}}
		socket := serveLogs(t, st)
		c, err := net.Dial("unix", socket)
		if err != nil {
			t.Fatal(err)
		}
		req := func(body string) string {
			return fmt.Sprintf("POST /v1/logs/a HTTP/1.1\r\nHost: logrolld\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}
		if _, err := io.WriteString(c, req("first\n")+req("second\n")); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if resp.Header.Get(HeaderPipelining) == "" {
			t.Errorf("answer without %s", HeaderPipelining)
		}
		resp2, err2 := http.ReadResponse(br, nil)
		if refuseFirst {
			if resp.StatusCode != http.StatusServiceUnavailable || !resp.Close {
				t.Errorf("refused first: status %d, close %v; want 503 closing the connection", resp.StatusCode, resp.Close)
			}
			if err2 == nil {
				t.Errorf("a second answer after a refusal: %d", resp2.StatusCode)
			}
			if st.requests() != 1 || st.text() != "" {
				t.Errorf("after a refusal: %d requests processed, %q kept; want only the refused one", st.requests(), st.text())
			}
		} else {
			if err2 != nil || resp.StatusCode != 200 || resp2.StatusCode != 200 || resp.Close {
				t.Fatalf("accepted first: %v, %v", resp, err2)
			}
			if st.text() != "first\nsecond\n" {
				t.Errorf("kept %q", st.text())
			}
		}
		c.Close()
	}
}

// TestPipePipelined delivers 20,000 lines through PipeConn to the socket,
// two requests in flight, while the handler refuses some requests with
// 503: every line once, in order, and the second request of a pair was
// written before the first was answered.
func TestPipePipelined(t *testing.T) {
	var in strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&in, "line %05d %s\n", i, strings.Repeat("y", i%40))
	}
	seen := map[string]int{}
	st := &logsStore{refuse: func(call int, body string) int {
		first := body[:strings.IndexByte(body, '\n')]
		seen[first]++
		// Refuse the first try of every seventh request: it is sent again.
		if call%7 == 3 && seen[first] == 1 {
			return http.StatusServiceUnavailable
		}
		return 0
	}}
	socket := serveLogs(t, st)
	pc := NewPipeConn(socket)
	defer pc.Close()
	stats, err := RunPipe(context.Background(), strings.NewReader(in.String()), PipeConfig{
		Poster: pc, Log: "access", Batch: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := st.text(); got != in.String() {
		t.Fatalf("delivered %d bytes, not the input's %d in order", len(got), in.Len())
	}
	if stats.Lines != 20000 || stats.Retries == 0 || stats.Undelivered != 0 {
		t.Errorf("stats %+v", stats)
	}
	if pc.sentAhead == 0 {
		t.Error("no request was sent before the answer of the one before")
	}
}

// TestPipeConnAnswersAfterWriteError: when the daemon answers a request
// and closes the connection (a stop), the request written after it fails
// or goes unanswered, and is sent again; the answered one is not.
func TestPipeConnAnswersAfterWriteError(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var got strings.Builder
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// Answer one request with Logroll-Pipelining, then close.
			br := bufio.NewReader(c)
			req, err := http.ReadRequest(br)
			if err == nil {
				body, _ := io.ReadAll(req.Body)
				mu.Lock()
				got.Write(body)
				mu.Unlock()
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\n%s: close-on-refusal\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"records\":1}", HeaderPipelining)
			}
			time.Sleep(20 * time.Millisecond)
			c.Close()
		}
	}()
	var in strings.Builder
	for i := range 50 {
		fmt.Fprintf(&in, "%02d\n", i)
	}
	pc := NewPipeConn(path)
	_, err = RunPipe(context.Background(), strings.NewReader(in.String()), PipeConfig{Poster: pc, Log: "a", Batch: 3})
	pc.Close()
	l.Close()
	<-done
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != in.String() {
		t.Errorf("delivered %q, want each line once in order", got.String())
	}
}
