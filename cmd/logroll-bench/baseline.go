package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sync"
	"syscall"
	"time"
)

// The baseline server: what logroll is compared with. It runs in a process
// of its own, the bench re-executing itself with -serve-baseline, so that its
// CPU time and peak RSS are measured per process exactly as logrolld's are
// (they cannot be separated from the load generator's inside one process).
//
// It is a bare net/http server (no timeouts, no limits) that appends request
// bodies to one file through a bufio.Writer shared by all connections under
// a mutex, with no rolling, and answers 200 without waiting for anything to
// reach the kernel (no acknowledgement after write). Kinds:
//
//	text      the body is read whole into a pooled buffer (sized from
//	          Content-Length), then appended to the bufio.Writer as is.
//	json-map  what a straightforward Go server does with a Logstash
//	          json_batch: json.NewDecoder(body).Decode(&[]map[string]any),
//	          then json.Marshal of each event, appended with a newline.
//	json-raw  a more careful one: decode into []json.RawMessage, then
//	          json.Compact each event, appended with a newline.
//
// It prints `baseline listening addr=HOST:PORT` on stderr once it serves,
// and on SIGTERM flushes, closes and exits 0.

// Baseline kinds.
const (
	baselineText    = "text"
	baselineJSONMap = "json-map"
	baselineJSONRaw = "json-raw"
)

// baselineLine is the baseline's announce line.
var baselineLine = regexp.MustCompile(`baseline listening addr=(\S+)`)

// baselineServer is the handler state.
type baselineServer struct {
	kind string
	mu   sync.Mutex
	w    *bufio.Writer
	pool sync.Pool // *bytes.Buffer
}

func (s *baselineServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet && r.URL.Path == "/healthz" {
		io.WriteString(w, "ok")
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	var n int
	var err error
	switch s.kind {
	case baselineJSONMap:
		n, err = s.jsonMap(r.Body)
	case baselineJSONRaw:
		n, err = s.jsonRaw(r.Body)
	default:
		n, err = s.text(r)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"records":%d}`, n)
}

// text appends the body as is. It does not count records (-1).
func (s *baselineServer) text(r *http.Request) (int, error) {
	buf, _ := s.pool.Get().(*bytes.Buffer)
	if buf == nil {
		buf = new(bytes.Buffer)
	}
	defer s.pool.Put(buf)
	buf.Reset()
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength) + 1)
	}
	if _, err := buf.ReadFrom(r.Body); err != nil {
		return 0, err
	}
	s.mu.Lock()
	_, err := s.w.Write(buf.Bytes())
	s.mu.Unlock()
	return -1, err
}

// jsonMap decodes into maps and re-encodes each event.
func (s *baselineServer) jsonMap(body io.Reader) (int, error) {
	var events []map[string]any
	if err := json.NewDecoder(body).Decode(&events); err != nil {
		return 0, err
	}
	lines := make([][]byte, len(events))
	for i, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			return 0, err
		}
		lines[i] = b
	}
	return len(events), s.writeLines(lines)
}

// jsonRaw decodes into raw messages and compacts each event.
func (s *baselineServer) jsonRaw(body io.Reader) (int, error) {
	var events []json.RawMessage
	if err := json.NewDecoder(body).Decode(&events); err != nil {
		return 0, err
	}
	lines := make([][]byte, len(events))
	for i, ev := range events {
		var b bytes.Buffer
		if err := json.Compact(&b, ev); err != nil {
			return 0, err
		}
		lines[i] = b.Bytes()
	}
	return len(events), s.writeLines(lines)
}

func (s *baselineServer) writeLines(lines [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range lines {
		s.w.Write(l)
		if err := s.w.WriteByte('\n'); err != nil {
			return err
		}
	}
	return nil
}

// serveBaseline is the -serve-baseline mode: it serves until SIGTERM or
// SIGINT and returns the exit code.
func serveBaseline(kind, file string) int {
	switch kind {
	case baselineText, baselineJSONMap, baselineJSONRaw:
	default:
		fmt.Fprintf(os.Stderr, "logroll-bench -serve-baseline: unknown kind %q\n", kind)
		return 2
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintf(os.Stderr, "logroll-bench -serve-baseline: %v\n", err)
		return 1
	}
	s := &baselineServer{kind: kind, w: bufio.NewWriterSize(f, 64<<10)}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintf(os.Stderr, "logroll-bench -serve-baseline: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: s}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	fmt.Fprintf(os.Stderr, "baseline listening addr=%s kind=%s file=%s\n", l.Addr(), kind, file)
	select {
	case <-sigs:
	case err := <-served:
		fmt.Fprintf(os.Stderr, "logroll-bench -serve-baseline: %v\n", err)
		return 1
	}
	_ = srv.Close()
	s.mu.Lock()
	err = errors.Join(s.w.Flush(), f.Close())
	s.mu.Unlock()
	if err != nil {
		fmt.Fprintf(os.Stderr, "logroll-bench -serve-baseline: %v\n", err)
		return 1
	}
	return 0
}

// baselineProc is a running baseline server.
type baselineProc struct {
	*child
	addr string
}

// startBaseline re-executes the bench as a baseline server of kind writing
// to file.
func startBaseline(kind, file string) (*baselineProc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	c, err := startChild("baseline server", self, []string{"-serve-baseline", kind, "-baseline-file", file}, "")
	if err != nil {
		return nil, err
	}
	m, _, err := c.waitLine(baselineLine, 10*time.Second)
	if err != nil {
		c.kill()
		return nil, err
	}
	return &baselineProc{child: c, addr: m[1]}, nil
}

// url returns the baseline's POST URL (any path is served).
func (b *baselineProc) url() string { return "http://" + b.addr + "/v1/logs/access" }
