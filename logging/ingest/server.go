package ingest

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Writer is what the server appends records to; *logging.Collator implements
// it.
//
// Write appends records (each one line, without its newline) to the log
// whose active name is log ("access.log"), all or nothing, and returns once
// they are written. It is called once per accepted request, possibly with
// zero records (an empty text body), in which case it must still check the
// log: nil for a declared log that would accept records, the error it would
// otherwise return. Its errors are matched with errors.Is against
// logging.ErrUnknownLog, ErrBadRecord, ErrSpaceExhausted and ErrClosed; any
// other error is a write failure. Write must not retain records (or log)
// after it returns, and must be safe for concurrent use.
type Writer interface {
	Write(log string, records [][]byte) error
}

// LineWriter is an optional interface of a Writer: WriteLines is Write for
// records the caller guarantees hold no newline, so that the Writer need not
// check each record again. Records decoded by this package never hold one
// (text lines are split on newlines; JSON records are compacted, and JSON
// escapes newlines in strings), so the Server uses WriteLines when w has it
// (logging.Collator does).
type LineWriter interface {
	WriteLines(log string, records [][]byte) error
}

// BlockWriter is an optional interface of a Writer: WriteBlock writes
// records records already laid out as lines — block is whole lines, each
// ending in '\n', none empty — as they are, without splitting them into
// records (logging.Collator has it). The Server then hands every accepted
// body to it as Decode's block (the body itself when it is already its
// lines), so that a request costs no memory per record; a body without
// records comes as an empty block and 0 records, which must be checked like
// a Write of no records. Any other Writer gets the records one by one (24
// bytes of slice per record, taken from the in-flight budget). WriteBlock
// must not retain block after it returns.
type BlockWriter interface {
	WriteBlock(log string, block []byte, records int) error
}

// Defaults for the zero fields of ServerConfig.
const (
	// DefaultMaxBodyBytes is proxy.config.ingest.max_body_mb's default, 16 MiB.
	DefaultMaxBodyBytes = 16 << 20
	// DefaultMaxInFlight is the default number of log requests handled at once.
	DefaultMaxInFlight = 64
	// DefaultMaxInFlightBytes is the default memory budget of the log
	// requests in flight, 32 MiB.
	DefaultMaxInFlightBytes = 32 << 20
	// DefaultReadHeaderTimeout bounds the reading of a request's headers.
	DefaultReadHeaderTimeout = 10 * time.Second
	// DefaultReadTimeout bounds the reading of a whole request, body included.
	DefaultReadTimeout = 60 * time.Second
	// DefaultIdleTimeout bounds how long a keep-alive connection waits for
	// its next request.
	DefaultIdleTimeout = 120 * time.Second
	// DefaultRetryAfter is the Retry-After of 429 and 503 answers.
	DefaultRetryAfter = time.Second
)

// ServerConfig configures a Server. Zero fields select the defaults above.
type ServerConfig struct {
	// MaxBodyBytes is the largest request body accepted, in bytes, counted
	// after decompression (proxy.config.ingest.max_body_mb × 1 MiB); a
	// larger body is answered 413. Default DefaultMaxBodyBytes (16 MiB).
	// SetMaxBodyBytes changes it live.
	MaxBodyBytes int64
	// MaxInFlight is the number of POST /v1/logs requests being read,
	// decoded and written at once. A request arriving while that many are in
	// flight is answered 429 at once, before its body is read. Default
	// DefaultMaxInFlight (64).
	MaxInFlight int
	// MaxInFlightBytes bounds the memory that the log requests in flight
	// hold together, in bytes: body buffers (after decompression), block
	// buffers (Records) and, for a Writer without WriteBlock, record
	// slices, counted by capacity as they grow. A request that cannot get
	// the memory it needs is answered 429 (nothing written). A request alone
	// is never refused for memory, so the real bound is the larger of
	// MaxInFlightBytes and one request's need (a body of the largest size
	// needs up to 2 × (MaxBodyBytes + 1), whatever its records; plus 24
	// bytes per record for a Writer without WriteBlock). Default
	// DefaultMaxInFlightBytes (32 MiB); negative means no bound.
	MaxInFlightBytes int64
	// ReadHeaderTimeout, ReadTimeout and IdleTimeout are those of
	// http.Server: the time allowed to read a request's headers; to read the
	// whole request, body included (it bounds a slow client's body); and the
	// time a keep-alive connection may wait for its next request. Defaults
	// 10 s, 60 s and 120 s; a negative value means no timeout.
	ReadHeaderTimeout, ReadTimeout, IdleTimeout time.Duration
	// RetryAfter is sent as Retry-After (whole seconds, rounded up, at least
	// 1) with 429 and 503 answers. Default DefaultRetryAfter (1 s).
	RetryAfter time.Duration
	// Metrics, when not nil, serves GET /metrics (the daemon passes its
	// Prometheus handler). When nil, /metrics is 404.
	Metrics http.Handler
	// Logger receives the server's diagnostics: refused requests at Debug,
	// write failures (500) at Warn, net/http's own errors at Warn. Default
	// slog.Default().
	Logger *slog.Logger
}

// Server is logroll's HTTP ingest server (docs/design.md §3): POST /v1/logs/{name},
// GET /healthz and GET /metrics, and nothing else.
//
// Goroutines: the Server starts none of its own. Serve runs in its caller's
// goroutine and net/http starts one per connection; Shutdown closes the
// listeners, and every connection once its request has been answered, so
// that none is left when it returns nil. The handler blocks only in reading
// the body and in Writer.Write.
//
// Concurrency: every method is safe for concurrent use. Serve may be called
// several times, with distinct listeners.
type Server struct {
	w          Writer
	write      func(log string, records [][]byte) error          // w.WriteLines or w.Write
	writeBlock func(log string, block []byte, records int) error // w.WriteBlock, or nil
	log        *slog.Logger
	metrics    http.Handler
	maxBody    atomic.Int64
	maxIn      int64
	// POST /v1/logs requests holding a slot: those of the port (Serve),
	// and those of Handler (the admin socket, where logrollctl pipe
	// posts), MaxInFlight each, so that clients of the port, slow or
	// hostile, cannot keep the host's own pipes out.
	inFlight, inFlightLocal atomic.Int64
	mem                     budget   // memory of the requests holding a slot
	retryAfter              []string // the Retry-After header value, shared read-only
	hs                      *http.Server
	handler                 http.Handler
	gate                    gate
	names                   nameCache
	stats                   counters
	tokens                  atomic.Pointer[Tokens] // nil: no token asked (SetTokens)
}

// NewServer returns a Server that appends the records it accepts to w.
// Nothing is listened on until Serve.
func NewServer(w Writer, cfg ServerConfig) *Server {
	s := &Server{w: w, write: w.Write, log: cfg.Logger, metrics: cfg.Metrics, maxIn: int64(cfg.MaxInFlight)}
	if lw, ok := w.(LineWriter); ok {
		s.write = lw.WriteLines
	}
	if bw, ok := w.(BlockWriter); ok {
		s.writeBlock = bw.WriteBlock
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.maxIn <= 0 {
		s.maxIn = DefaultMaxInFlight
	}
	switch mb := cfg.MaxInFlightBytes; {
	case mb == 0:
		s.mem.max.Store(DefaultMaxInFlightBytes)
	case mb > 0:
		s.mem.max.Store(mb)
	}
	s.SetMaxBodyBytes(cfg.MaxBodyBytes)
	ra := cfg.RetryAfter
	if ra <= 0 {
		ra = DefaultRetryAfter
	}
	s.retryAfter = []string{strconv.FormatInt(max(1, int64((ra+time.Second-1)/time.Second)), 10)}
	s.gate.init()
	s.handler = http.HandlerFunc(s.serveHTTP)
	s.hs = &http.Server{
		Handler:           http.HandlerFunc(s.servePublic),
		ReadHeaderTimeout: orDefault(cfg.ReadHeaderTimeout, DefaultReadHeaderTimeout),
		ReadTimeout:       orDefault(cfg.ReadTimeout, DefaultReadTimeout),
		IdleTimeout:       orDefault(cfg.IdleTimeout, DefaultIdleTimeout),
		ErrorLog:          log.New(&serverLog{s: s}, "", 0),
	}
	return s
}

// orDefault returns d for 0, no timeout (0) for a negative v, else v.
func orDefault(v, d time.Duration) time.Duration {
	switch {
	case v == 0:
		return d
	case v < 0:
		return 0
	}
	return v
}

// Handler returns the server's handler, which routes every path itself (it
// does not clean paths or redirect, unlike http.ServeMux). It behaves as
// under Serve, Shutdown included, but asks for no token: it is for a
// caller that authenticates its clients otherwise (the admin socket, whose
// mode admits only its owner), and for tests and benchmarks.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on l and serves them until Shutdown, then
// returns nil (at once if Shutdown was already called); l is closed when
// Serve returns. Any other error (from Accept) is returned as is.
func (s *Server) Serve(l net.Listener) error {
	if err := s.hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// SetMaxBodyBytes sets the body limit, in bytes after decompression, for
// requests arriving from now on (live reload of max_body_mb). n <= 0 selects
// DefaultMaxBodyBytes. It is safe to call at any time.
func (s *Server) SetMaxBodyBytes(n int64) {
	if n <= 0 {
		n = DefaultMaxBodyBytes
	}
	s.maxBody.Store(n)
}

// Shutdown stops the server gracefully. From the moment it is called, every
// new request, on any path, is answered 503 with Retry-After and
// Connection: close (so /healthz reads 503). The listeners stay open while
// the requests already in flight finish, so that a client arriving during
// that drain gets that answer, which every shipper retries, rather than a
// refused connection; once none is left, Shutdown closes the listeners and
// every connection as soon as it is idle, and returns nil. From then on
// connections are refused until the next start (shippers retry those too).
//
// If ctx ends first, Shutdown closes the listeners and every connection
// still open and returns an error wrapping ErrStopTimeout that says how many
// requests were still in flight when ctx ended (counted before their
// connections were closed): a request still reading its body then fails
// and writes nothing, one already handed to the Writer finishes there (the
// Writer decides, as always, whether its records are written). Shutdown is
// idempotent: later calls wait the same way.
func (s *Server) Shutdown(ctx context.Context) error {
	idle := s.gate.close()
	select {
	case <-idle:
	case <-ctx.Done():
	}
	inFlight := s.gate.inFlight() // before anything is closed
	err := s.hs.Shutdown(ctx)     // closes listeners and connections once idle
	if ctx.Err() == nil {
		return err
	}
	_ = s.hs.Close()
	what := fmt.Sprintf("%d request(s) still in flight", inFlight)
	if inFlight == 0 {
		what = "no request in flight, but connections still open (a client sending its headers)"
	}
	return fmt.Errorf("ingest: %w: %s had their connections closed: %w", ErrStopTimeout, what, ctx.Err())
}

// ErrStopTimeout is wrapped by Shutdown's error when requests were still in
// flight when its context ended, and their connections were closed.
var ErrStopTimeout = errors.New("stop timeout")

// Stats returns a snapshot of the server's counters. It takes no lock and is
// safe to call from any goroutine, also after Shutdown.
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	st.InFlight = s.gate.inFlight()
	st.InFlightBytes = s.mem.used.Load()
	return st
}

// acquire takes one of the MaxInFlight slots of slots for a log request,
// without waiting; false means all are taken (429). The caller gives it
// back with slots.Add(-1).
func (s *Server) acquire(slots *atomic.Int64) bool {
	if slots.Add(1) > s.maxIn {
		slots.Add(-1)
		return false
	}
	return true
}
