package ctl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// The engine of `logrollctl pipe LOG` (docs/design.md §12, docs/pipe.md): lines
// read from a stream are delivered to a log through the admin socket's
// POST /v1/logs/{name}, in order, each request retried until the daemon
// answers 200. A reader goroutine fills a bounded queue; when it is full
// the reader stops reading, so the program writing into the pipe blocks,
// as a pipe should. The sender takes what is queued, posts it, and on any
// answer that a retry may turn into a 200 (429, 503, a 5xx, the socket
// gone while the daemon restarts, 404 for a log not declared yet) waits
// and posts the same lines again: a refused request wrote nothing, so
// nothing is lost or written twice.

// Defaults for the zero fields of PipeConfig.
const (
	DefaultPipeBuffer   = 16 << 20  // bytes of lines held
	DefaultPipeBatch    = 960 << 10 // bytes per request: below the smallest max_body_mb
	DefaultPipeMaxLine  = 256 << 10 // longer lines are split
	DefaultPipeDrain    = 10 * time.Second
	pipeRetryMin        = 50 * time.Millisecond
	pipeRetryMax        = 2 * time.Second
	pipeRequestDeadline = 2 * time.Minute
)

// LinePoster posts whole lines to a log, one request at a time; *PipeConn
// implements it.
type LinePoster interface {
	PostLines(ctx context.Context, log string, chunks [][]byte) (int, error)
}

// PipelinedPoster is a LinePoster that may have several requests in
// flight on one connection (*PipeConn). Send writes a request; Recv reads
// the answer of the oldest request sent and not answered. Pipelined
// reports whether a request may be sent before the answers of those sent:
// only when the other end processes nothing sent after a request it
// refuses. After an error of Recv, every request sent and not answered is
// to be sent again; after an error of Send, those sent before it still
// have their answers to read.
type PipelinedPoster interface {
	LinePoster
	Send(ctx context.Context, log string, chunks [][]byte) error
	Recv(ctx context.Context) (int, error)
	Pipelined() bool
}

// PipeConfig configures RunPipe. Zero fields select the defaults.
type PipeConfig struct {
	Poster LinePoster
	Log    string
	// Buffer bounds the bytes of lines read and not yet delivered
	// (DefaultPipeBuffer, 16 MiB); a request's lines count until answered.
	Buffer int
	// Batch is the most bytes posted in one request (960 KiB: below any
	// max_body_mb).
	Batch int
	// MaxLine is the longest line sent as one record; a longer one is split
	// into lines of at most that many bytes (256 KiB).
	MaxLine int
	// Drain is how long, once ctx ends, the lines already read are still
	// offered to the daemon (10 s).
	Drain time.Duration
	// Warn receives the diagnostics (logrollctl writes them to stderr).
	Warn func(msg string)
}

// PipeStats counts what RunPipe did.
type PipeStats struct {
	Lines       int64 `json:"lines"`       // delivered, empty ones included (the daemon writes no empty record)
	Bytes       int64 `json:"bytes"`       // delivered
	Requests    int64 `json:"requests"`    // answered 200
	Retries     int64 `json:"retries"`     // requests refused and sent again
	Repaired    int64 `json:"repaired"`    // lines whose invalid UTF-8 or NUL bytes were replaced by U+FFFD
	Split       int64 `json:"split"`       // cuts made in lines longer than MaxLine
	Undelivered int64 `json:"undelivered"` // lines read but not delivered (RunPipe's error says why)
	// Unanswered counts the lines of requests sent again after the daemon
	// went away without answering them (a kill -9 or a crash): written
	// twice if it had written them before (at least once, docs/pipe.md).
	Unanswered int64 `json:"unanswered"`
}

// ErrUndelivered is wrapped by RunPipe's error when lines it read were not
// delivered.
var ErrUndelivered = errors.New("lines not delivered")

// RunPipe reads lines from r until EOF and delivers them; it returns once
// every line read is delivered (nil), or when it cannot be: ctx ended and
// Drain passed with lines still held, or the daemon refused them in a way
// no retry can change (400, 415) — then the error wraps ErrUndelivered and
// says how many. When ctx ends, reading stops (r is closed or its read
// deadline set when it has one).
func RunPipe(ctx context.Context, r io.Reader, cfg PipeConfig) (PipeStats, error) {
	if cfg.Buffer <= 0 {
		cfg.Buffer = DefaultPipeBuffer
	}
	if cfg.Batch <= 0 {
		cfg.Batch = DefaultPipeBatch
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = DefaultPipeMaxLine
	}
	cfg.MaxLine = max(min(cfg.MaxLine, cfg.Batch-1), 1) // a line and its newline fit in a request
	if cfg.Drain <= 0 {
		cfg.Drain = DefaultPipeDrain
	}
	if cfg.Warn == nil {
		cfg.Warn = func(string) {}
	}
	p := &pipe{cfg: cfg, q: newPipeQueue(cfg.Buffer)}
	readDone := make(chan error, 1)
	go func() { readDone <- p.read(r) }()
	stop := context.AfterFunc(ctx, func() {
		p.q.close()
		if d, ok := r.(interface{ SetReadDeadline(time.Time) error }); ok {
			d.SetReadDeadline(time.Unix(1, 0))
		}
	})
	defer stop()
	err := p.send(ctx)
	if err != nil {
		p.q.close()
	}
	var rerr error
	select {
	case rerr = <-readDone:
	case <-ctx.Done():
		// A reader without a deadline (a terminal) may stay blocked: the
		// process is about to exit, and what it has not read is not lost.
	}
	p.mu.Lock()
	st := p.st
	p.mu.Unlock()
	st.Undelivered = p.q.lines()
	if err == nil && rerr != nil && ctx.Err() == nil {
		err = fmt.Errorf("read: %w", rerr)
	}
	if err == nil && ctx.Err() != nil && st.Undelivered > 0 {
		err = ctx.Err()
	}
	if err != nil && st.Undelivered > 0 {
		err = fmt.Errorf("%d %w: %w", st.Undelivered, ErrUndelivered, err)
	}
	return st, err
}

// pipe is one RunPipe: the reader fills q, the sender empties it.
type pipe struct {
	cfg PipeConfig
	q   *pipeQueue
	st  PipeStats // guarded by mu (the reader and the sender both count)
	mu  sync.Mutex
}

// retryReason says in words why a request is being retried.
func retryReason(err error) string {
	var re *RemoteError
	var ue *UnreachableError
	switch {
	case errors.As(err, &ue) && errors.Is(err, fs.ErrPermission):
		// Not a restart: the socket's mode or owner keeps this user out.
		return strings.TrimPrefix(ue.Error(), "ctl: ") + " (run the pipe as a user the socket lets in)"
	case errors.As(err, &ue):
		return "logrolld is not reachable (restarting?)"
	case errors.As(err, &re) && re.Status == http.StatusNotFound:
		return "logrolld answered 404: " + re.Msg + " (declare the log and reload)"
	case errors.As(err, &re):
		return fmt.Sprintf("logrolld answered %d: %s", re.Status, re.Msg)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return "logrolld did not answer in time"
	}
	return "request failed: " + err.Error()
}

// pipeQueue holds chunks of lines read and not yet delivered, bounded in
// bytes: push waits while the bound would be passed (but never refuses a
// chunk to an empty queue). Chunks being posted still count, until done.
// Chunks are slices of arenas, which are reused once the reader has moved
// on and every chunk of theirs is delivered.
type pipeQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	max    int
	q      []pipeChunk
	bytes  int   // queued and in flight
	nLines int64 // queued and in flight
	closed bool
	free   []*pipeArena // arenas no longer used, kept for reuse (at most maxFree)
}

// pipeChunk is lines queued: b, a slice of arena a.
type pipeChunk struct {
	b     []byte
	a     *pipeArena
	lines int64
}

// pipeArena is a buffer the reader reads into; the chunks queued are
// slices of it.
type pipeArena struct {
	buf  []byte
	refs int // chunks of it queued or in flight, plus one while the reader holds it (guarded by pipeQueue.mu)
}

// maxFree bounds the arenas pipeQueue keeps for reuse.
const maxFree = 4

func newPipeQueue(max int) *pipeQueue {
	q := &pipeQueue{max: max}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// arena returns an empty arena with room for size bytes, held by the
// caller until release.
func (q *pipeQueue) arena(size int) *pipeArena {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.free) > 0 {
		a := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		if cap(a.buf) >= size {
			a.buf, a.refs = a.buf[:0], 1
			return a
		}
	}
	return &pipeArena{buf: make([]byte, 0, size), refs: 1}
}

// release drops the caller's hold on a.
func (q *pipeQueue) release(a *pipeArena) {
	q.mu.Lock()
	q.unref(a)
	q.mu.Unlock()
}

// unref drops one reference to a, keeping it for reuse when it was the
// last. q.mu is held.
func (q *pipeQueue) unref(a *pipeArena) {
	if a.refs--; a.refs == 0 && len(q.free) < maxFree {
		q.free = append(q.free, a)
	}
}

// push queues a chunk of lines, b (a slice of a), waiting for room; false
// once closed.
func (q *pipeQueue) push(a *pipeArena, b []byte, lines int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && q.bytes > 0 && q.bytes+len(b) > q.max {
		q.cond.Wait()
	}
	if q.closed {
		return false
	}
	a.refs++
	q.q = append(q.q, pipeChunk{b: b, a: a, lines: lines})
	q.bytes += len(b)
	q.nLines += lines
	q.cond.Broadcast()
	return true
}

// idle reports whether nothing is queued or in flight: the sender waits.
func (q *pipeQueue) idle() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.bytes == 0
}

// take returns the queued chunks that fit in max bytes (at least one),
// waiting for some when wait is set; ok is false when there are none
// (once closed and empty, when waiting). They stay counted until done.
func (q *pipeQueue) take(max int, wait bool) (chunks []pipeChunk, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for wait && len(q.q) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.q) == 0 {
		return nil, false
	}
	size := 0
	for len(q.q) > 0 && (len(chunks) == 0 || size+len(q.q[0].b) <= max) {
		size += len(q.q[0].b)
		chunks = append(chunks, q.q[0])
		q.q[0] = pipeChunk{}
		q.q = q.q[1:]
	}
	return chunks, true
}

// done releases delivered chunks.
func (q *pipeQueue) done(chunks []pipeChunk) {
	q.mu.Lock()
	for _, c := range chunks {
		q.bytes -= len(c.b)
		q.nLines -= c.lines
		q.unref(c.a)
	}
	q.cond.Broadcast()
	q.mu.Unlock()
}

// close wakes every waiter: push refuses from now on, take returns what is
// left, then false.
func (q *pipeQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

// lines returns the lines queued or in flight.
func (q *pipeQueue) lines() int64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.nLines
}
