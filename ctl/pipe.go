package ctl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"
	"unicode/utf8"
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

// LinePoster posts whole lines to a log; *Client implements it.
type LinePoster interface {
	PostLines(ctx context.Context, log string, chunks [][]byte) (int, error)
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
	Lines, Bytes int64 // delivered
	Requests     int64 // answered 200
	Retries      int64 // requests refused and sent again
	Repaired     int64 // lines whose invalid UTF-8 or NUL bytes were replaced by U+FFFD
	Split        int64 // lines longer than MaxLine, split
	Undelivered  int64 // lines read but not delivered (RunPipe's error says why)
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
	cfg.MaxLine = min(cfg.MaxLine, cfg.Batch)
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
	st  PipeStats // Lines, Bytes, Requests, Retries owned by send; Repaired, Split by read under mu
	mu  sync.Mutex
}

// read splits r into lines, repairs and splits them as needed, and queues
// them in chunks of at most Batch bytes; a chunk is queued when full, or
// when no more input is waiting (so that a quiet writer's lines go at
// once).
func (p *pipe) read(r io.Reader) error {
	// A split line may start with up to 3 bytes carried from the one
	// before: the buffer leaves room for them.
	br := bufio.NewReaderSize(r, max(16, p.cfg.MaxLine-3))
	var chunk []byte
	var n int64      // lines in chunk
	var carry []byte // the start of a UTF-8 sequence cut by a split
	flush := func() bool {
		if len(chunk) == 0 {
			return true
		}
		ok := p.q.push(chunk, n)
		chunk, n = nil, 0
		return ok
	}
	for {
		seg, err := br.ReadSlice('\n')
		if len(carry) > 0 && len(seg) > 0 {
			seg = append(carry, seg...)
			carry = nil
		}
		full := errors.Is(err, bufio.ErrBufferFull)
		if full || (err == io.EOF && len(seg) > 0) {
			// A segment without its newline: the line goes on (full), or
			// the input ended without a final newline.
			if full {
				if k := incompleteUTF8(seg); k > 0 {
					carry = append([]byte(nil), seg[len(seg)-k:]...)
					seg = seg[:len(seg)-k]
				}
			}
			seg = append(seg[:len(seg):len(seg)], '\n')
			if full {
				p.mu.Lock()
				p.st.Split++
				p.mu.Unlock()
			}
		}
		if len(seg) > 0 {
			if len(chunk)+len(seg) > p.cfg.Batch && !flush() {
				return nil
			}
			if chunk == nil {
				chunk = p.q.chunk(p.cfg.Batch)
			}
			chunk = p.appendLine(chunk, seg)
			n++
		}
		switch {
		case err == io.EOF:
			if len(carry) > 0 {
				if chunk == nil {
					chunk = p.q.chunk(p.cfg.Batch)
				}
				chunk = p.appendLine(chunk, append(carry, '\n'))
				n++
			}
			flush()
			p.q.close()
			return nil
		case err != nil && !full:
			flush()
			p.q.close()
			return err
		}
		if br.Buffered() == 0 && !flush() {
			return nil
		}
	}
}

// appendLine appends line (ending in '\n') to chunk, with invalid UTF-8 and
// NUL bytes replaced by U+FFFD: a log line is UTF-8 text, and the daemon
// would refuse the whole request for one bad byte.
func (p *pipe) appendLine(chunk, line []byte) []byte {
	if bytes.IndexByte(line, 0) < 0 && utf8.Valid(line) {
		return append(chunk, line...)
	}
	p.mu.Lock()
	p.st.Repaired++
	p.mu.Unlock()
	fixed := bytes.ToValidUTF8(line, []byte("\uFFFD"))
	fixed = bytes.ReplaceAll(fixed, []byte{0}, []byte("\uFFFD"))
	return append(chunk, fixed...)
}

// incompleteUTF8 returns the number of bytes at the end of b that begin a
// UTF-8 sequence not finished in b (0 to 3).
func incompleteUTF8(b []byte) int {
	for k := 1; k <= 3 && k <= len(b); k++ {
		c := b[len(b)-k]
		if c < 0x80 {
			return 0
		}
		if c >= 0xC0 { // a leading byte: how long is its sequence?
			need := 2
			if c >= 0xF0 {
				need = 4
			} else if c >= 0xE0 {
				need = 3
			}
			if need > k {
				return k
			}
			return 0
		}
	}
	return 0
}

// send posts what the queue holds until it is closed and empty, or ctx
// ended and Drain passed, or a refusal no retry can change.
func (p *pipe) send(ctx context.Context) error {
	var drainEnd <-chan time.Time
	for {
		chunks, lines, ok := p.q.take(p.cfg.Batch)
		if !ok {
			return nil
		}
		size := 0
		for _, c := range chunks {
			size += len(c)
		}
		backoff := pipeRetryMin
		failing := ""
		for {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pipeRequestDeadline)
			_, err := p.cfg.Poster.PostLines(rctx, p.cfg.Log, chunks)
			cancel()
			if err == nil {
				if failing != "" {
					p.cfg.Warn(fmt.Sprintf("delivering again (%d lines held)", p.q.lines()))
				}
				p.mu.Lock()
				p.st.Lines += lines
				p.st.Bytes += int64(size)
				p.st.Requests++
				p.mu.Unlock()
				p.q.done(chunks, lines)
				break
			}
			var re *RemoteError
			if errors.As(err, &re) && (re.Status == http.StatusBadRequest || re.Status == http.StatusUnsupportedMediaType || re.Status == http.StatusRequestEntityTooLarge) {
				return fmt.Errorf("logrolld refused the lines for good: %w", err)
			}
			p.mu.Lock()
			p.st.Retries++
			p.mu.Unlock()
			if why := retryReason(err); why != failing {
				failing = why
				p.cfg.Warn(fmt.Sprintf("%s; holding %d lines and retrying", why, p.q.lines()))
			}
			if drainEnd == nil && ctx.Err() != nil {
				drainEnd = time.After(p.cfg.Drain)
			}
			t := time.NewTimer(backoff)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				if drainEnd == nil {
					drainEnd = time.After(p.cfg.Drain)
				}
			case <-drainEnd:
				t.Stop()
				return fmt.Errorf("stopped with the daemon still refusing: %w", err)
			}
			backoff = min(2*backoff, pipeRetryMax)
		}
	}
}

// retryReason says in words why a request is being retried.
func retryReason(err error) string {
	var re *RemoteError
	var ue *UnreachableError
	switch {
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
type pipeQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	max    int
	q      [][]byte
	qLines []int64
	bytes  int   // queued and in flight
	nLines int64 // queued and in flight
	closed bool
	free   [][]byte // delivered chunks, kept for reuse (at most maxFree)
}

// maxFree bounds the chunks pipeQueue keeps for reuse.
const maxFree = 4

func newPipeQueue(max int) *pipeQueue {
	q := &pipeQueue{max: max}
	q.cond = sync.NewCond(&q.mu)
	return q
}

// chunk returns an empty chunk with room for size bytes.
func (q *pipeQueue) chunk(size int) []byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.free) > 0 {
		c := q.free[len(q.free)-1]
		q.free = q.free[:len(q.free)-1]
		if cap(c) >= size {
			return c[:0]
		}
	}
	return make([]byte, 0, size)
}

// push queues a chunk of lines, waiting for room; false once closed.
func (q *pipeQueue) push(c []byte, lines int64) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for !q.closed && q.bytes > 0 && q.bytes+len(c) > q.max {
		q.cond.Wait()
	}
	if q.closed {
		return false
	}
	q.q = append(q.q, c)
	q.qLines = append(q.qLines, lines)
	q.bytes += len(c)
	q.nLines += lines
	q.cond.Broadcast()
	return true
}

// take waits for chunks and returns the queued ones that fit in max bytes
// (at least one) with their lines; ok is false once closed and empty.
// They stay counted until done.
func (q *pipeQueue) take(max int) (chunks [][]byte, lines int64, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.q) == 0 && !q.closed {
		q.cond.Wait()
	}
	if len(q.q) == 0 {
		return nil, 0, false
	}
	size := 0
	for len(q.q) > 0 && (len(chunks) == 0 || size+len(q.q[0]) <= max) {
		size += len(q.q[0])
		chunks = append(chunks, q.q[0])
		lines += q.qLines[0]
		q.q, q.qLines = q.q[1:], q.qLines[1:]
	}
	return chunks, lines, true
}

// done releases delivered chunks.
func (q *pipeQueue) done(chunks [][]byte, lines int64) {
	q.mu.Lock()
	for _, c := range chunks {
		q.bytes -= len(c)
		if len(q.free) < maxFree {
			q.free = append(q.free, c[:0])
		}
	}
	q.nLines -= lines
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
