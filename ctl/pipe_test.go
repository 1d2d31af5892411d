package ctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakePoster is a daemon for RunPipe: it keeps the lines of every accepted
// request, and refuses while fail returns an error.
type fakePoster struct {
	mu    sync.Mutex
	got   strings.Builder
	calls int
	fail  func(call int) error
	gate  chan struct{} // when not nil, each call waits for a token
}

func (f *fakePoster) PostLines(ctx context.Context, log string, chunks [][]byte) (int, error) {
	body := bytes.Join(chunks, nil)
	if f.gate != nil {
		select {
		case <-f.gate:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.fail != nil {
		if err := f.fail(f.calls); err != nil {
			return 0, err
		}
	}
	f.got.Write(body)
	return strings.Count(string(body), "\n"), nil
}

func (f *fakePoster) text() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.got.String()
}

// TestPipeRetries delivers 5,000 lines through refusals of every kind a
// retry may cure (the socket gone, 503, 429, 404, 500): each line once,
// in order.
func TestPipeRetries(t *testing.T) {
	var in strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&in, "line %04d %s\n", i, strings.Repeat("x", i%50))
	}
	fails := []error{
		&UnreachableError{Socket: "s", Err: errors.New("connection refused")},
		&RemoteError{Status: http.StatusServiceUnavailable, Msg: "log space exhausted"},
		&RemoteError{Status: http.StatusTooManyRequests, Msg: "busy"},
		&RemoteError{Status: http.StatusNotFound, Msg: "unknown log"},
		&RemoteError{Status: http.StatusInternalServerError, Msg: "write failed"},
	}
	f := &fakePoster{fail: func(call int) error {
		if call%3 == 1 && call/3 < len(fails) {
			return fails[call/3]
		}
		return nil
	}}
	var warnings []string
	st, err := RunPipe(context.Background(), strings.NewReader(in.String()), PipeConfig{
		Poster: f, Log: "access", Batch: 4096, Warn: func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.text() != in.String() {
		t.Fatalf("delivered text differs from the input")
	}
	if st.Lines != 5000 || st.Retries != int64(len(fails)) || st.Undelivered != 0 {
		t.Errorf("stats %+v", st)
	}
	if len(warnings) == 0 {
		t.Error("no warning about the refusals")
	}
}

// sendRecvPoster is a fakePoster through Send and Recv (a
// PipelinedPoster that never has two requests in flight): Recv answers
// the request Send wrote; after an error, what was sent is forgotten, as
// with a connection lost.
type sendRecvPoster struct {
	fakePoster
	sent [][][]byte
}

func (f *sendRecvPoster) Send(ctx context.Context, log string, chunks [][]byte) error {
	f.sent = append(f.sent, chunks)
	return nil
}

func (f *sendRecvPoster) Recv(ctx context.Context) (int, error) {
	chunks := f.sent[0]
	f.sent = f.sent[1:]
	n, err := f.PostLines(ctx, "access", chunks)
	if err != nil {
		f.sent = nil
	}
	return n, err
}

func (f *sendRecvPoster) Pipelined() bool { return false }

// TestPipeAnswerLost: a request whose answer never comes (the connection
// cut after it was sent: the daemon may have written it) is sent again,
// counted in Unanswered and said; a refusal and a daemon not reached are
// not (they wrote nothing).
func TestPipeAnswerLost(t *testing.T) {
	in := strings.Repeat("a line\n", 100)
	fails := map[int]error{
		1: io.ErrUnexpectedEOF,
		2: &UnreachableError{Socket: "s", Err: errors.New("connection refused")},
		3: &RemoteError{Status: http.StatusServiceUnavailable, Msg: "stopping"},
	}
	f := &sendRecvPoster{fakePoster: fakePoster{fail: func(call int) error { return fails[call] }}}
	var warnings []string
	st, err := RunPipe(context.Background(), strings.NewReader(in), PipeConfig{
		Poster: f, Log: "access", Warn: func(m string) { warnings = append(warnings, m) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if f.text() != in || st.Lines != 100 || st.Retries != 3 || st.Unanswered != 100 {
		t.Errorf("delivered %q, stats %+v; want every line, 3 retries, 100 lines unanswered", f.text(), st)
	}
	lost := 0
	for _, w := range warnings {
		if strings.Contains(w, "went away without answering a request of 100 lines") {
			lost++
		}
	}
	if lost != 1 {
		t.Errorf("warnings %q, want one of the unanswered request", warnings)
	}
}

// TestPipeRepairs: a final line without newline is sent with one, lines
// longer than MaxLine are split (a UTF-8 sequence is never cut), invalid
// UTF-8 and NUL become U+FFFD.
func TestPipeRepairs(t *testing.T) {
	long := strings.Repeat("é", 300) // 600 bytes
	in := "ok\n" + long + "\nbad \xff byte\nnul \x00 byte\nlast"
	f := &fakePoster{}
	st, err := RunPipe(context.Background(), strings.NewReader(in), PipeConfig{Poster: f, Log: "a", MaxLine: 101})
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(f.text(), "\n"), "\n")
	var long2 []string
	for _, l := range got[1 : len(got)-3] {
		if len(l) > 101 {
			t.Errorf("line of %d bytes, over MaxLine", len(l))
		}
		long2 = append(long2, l)
	}
	if strings.Join(long2, "") != long {
		t.Errorf("the split line does not join back: %q", long2)
	}
	if tail := got[len(got)-3:]; tail[0] != "bad \uFFFD byte" || tail[1] != "nul \uFFFD byte" || tail[2] != "last" {
		t.Errorf("tail %q", tail)
	}
	if st.Repaired != 2 || st.Split == 0 {
		t.Errorf("stats %+v", st)
	}
}

// countingReader hands out lines as fast as asked and counts the bytes
// read.
type countingReader struct {
	n    atomic.Int64
	line []byte
	stop atomic.Bool
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.stop.Load() {
		return 0, io.EOF
	}
	n := 0
	for n+len(r.line) <= len(p) {
		n += copy(p[n:], r.line)
	}
	r.n.Add(int64(n))
	return n, nil
}

// TestPipeBounded: while the daemon accepts nothing, the pipe reads no
// more than its buffer (plus one read) and then stops reading, so the
// writer blocks; once the daemon answers, everything read is delivered.
func TestPipeBounded(t *testing.T) {
	f := &fakePoster{gate: make(chan struct{})}
	r := &countingReader{line: []byte(strings.Repeat("b", 99) + "\n")}
	const buffer = 1 << 20
	done := make(chan error, 1)
	var st PipeStats
	go func() {
		var err error
		st, err = RunPipe(context.Background(), r, PipeConfig{Poster: f, Log: "a", Buffer: buffer, Batch: 64 << 10, MaxLine: 4096})
		done <- err
	}()
	// Wait until reading stops (nothing read for 200 ms; at most 10 s).
	read := int64(-1)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		n := r.n.Load()
		if n == read {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still reading after 10 s with nothing delivered: %d bytes", n)
		}
		read = n
	}
	// One chunk beyond the buffer may be held by the reader, plus
	// bufio's buffer.
	if read > buffer+64<<10+4096 {
		t.Errorf("read %d bytes with nothing delivered, bound %d", read, buffer)
	}
	r.stop.Store(true)
	close(f.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if int64(len(f.text())) != r.n.Load() || st.Undelivered != 0 {
		t.Errorf("delivered %d bytes of %d read", len(f.text()), r.n.Load())
	}
}

// TestPipeStopRefused: when the context ends while the daemon refuses, the
// pipe offers the lines for Drain, with its backoff (not in a tight loop),
// then gives up and says how many.
func TestPipeStopRefused(t *testing.T) {
	var attempts atomic.Int64
	f := &fakePoster{fail: func(int) error { attempts.Add(1); return &RemoteError{Status: 503, Msg: "exhausted"} }}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := RunPipe(ctx, pr, PipeConfig{Poster: f, Log: "a", Drain: 100 * time.Millisecond})
		done <- err
	}()
	pw.Write([]byte("one\ntwo\n"))
	time.Sleep(100 * time.Millisecond)
	cancel()
	pw.Close()
	err := <-done
	if !errors.Is(err, ErrUndelivered) || !strings.HasPrefix(err.Error(), "2 lines not delivered") {
		t.Errorf("err = %v", err)
	}
	// 200 ms with a backoff from 50 ms: a handful of attempts.
	if n := attempts.Load(); n > 20 {
		t.Errorf("%d attempts in 200 ms: the drain retried without its backoff", n)
	}
}

// TestPipeRefusedForGood: a 400 stops the pipe with the count of lines
// not delivered.
func TestPipeRefusedForGood(t *testing.T) {
	f := &fakePoster{fail: func(int) error { return &RemoteError{Status: 400, Msg: "bad"} }}
	_, err := RunPipe(context.Background(), strings.NewReader("a\nb\nc\n"), PipeConfig{Poster: f, Log: "a"})
	if !errors.Is(err, ErrUndelivered) || !strings.Contains(err.Error(), "refused the lines for good") {
		t.Errorf("err = %v", err)
	}
}

// TestRetryReason: a socket this user may not connect to is said as such,
// not as a daemon restarting.
func TestRetryReason(t *testing.T) {
	denied := &UnreachableError{Socket: "/run/logrolld.sock", Err: &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)}}
	refused := &UnreachableError{Socket: "/run/logrolld.sock", Err: &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{denied, "logrolld is not reachable on /run/logrolld.sock: permission denied (run the pipe as a user the socket lets in)"},
		{refused, "logrolld is not reachable (restarting?)"},
		{&RemoteError{Status: 503, Msg: "exhausted"}, "logrolld answered 503: exhausted"},
	} {
		if got := retryReason(tc.err); got != tc.want {
			t.Errorf("retryReason(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}
