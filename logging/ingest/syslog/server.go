package syslog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/logging/ingest"
)

// Defaults for the zero fields of Config.
const (
	// DefaultMaxMessage is proxy.config.syslog.max_message_bytes' default.
	DefaultMaxMessage = 64 << 10
	// DefaultMaxConns is the default number of TCP connections served at
	// once.
	DefaultMaxConns = 256
	// DefaultFrameTimeout bounds the time from a frame's first byte to its
	// last.
	DefaultFrameTimeout = 30 * time.Second
	// DefaultRetryWait is the pause between two tries of a batch the
	// collator refused (log space exhausted, failed write).
	DefaultRetryWait = 100 * time.Millisecond
	// DefaultUDPReadBuffer is the receive buffer asked for the UDP socket
	// (the kernel caps it at net.core.rmem_max).
	DefaultUDPReadBuffer = 4 << 20
	// DefaultStopWait bounds how long a stopping connection waits for the
	// rest of the frame it is in the middle of.
	DefaultStopWait = time.Second
	// DefaultIdleEvict is how long a connection must have been idle
	// between frames before a new one may take its place when MaxConns
	// are open.
	DefaultIdleEvict = time.Minute
)

// Config configures a Server. Zero fields select the defaults above.
type Config struct {
	// Writer receives the records (the collator).
	Writer ingest.LineWriter
	// Router routes the messages until SetRouter replaces it; nil sends
	// everything to "syslog.log".
	Router *Router
	// MaxMessage is the largest message accepted, in bytes after framing.
	MaxMessage int
	// MaxConns is the number of TCP connections served at once. When they
	// are all open, a new connection takes the place of the one idle
	// longest between frames if that one has been idle IdleEvict or more
	// (it is closed, counted as evicted), so that idle connections cannot
	// keep senders out for ever; otherwise the new one is closed at once,
	// counted as refused.
	MaxConns int
	// IdleEvict: see MaxConns.
	IdleEvict time.Duration
	// FrameTimeout is the time a frame may take from its first byte to its
	// last; a connection stalled longer in the middle of a frame is closed
	// (the frame refused as "cut"). A connection between frames may stay
	// idle for ever.
	FrameTimeout time.Duration
	// RetryWait is the pause between two tries of a batch that the Writer
	// refused (log space exhausted, write failed): the connection is not
	// read meanwhile, so that its sender blocks (TCP) or the kernel drops
	// and counts (UDP).
	RetryWait time.Duration
	// UDPReadBuffer is the SO_RCVBUF asked for UDP sockets, in bytes.
	UDPReadBuffer int
	// StopWait bounds how long Shutdown lets a connection finish the frame
	// it is in the middle of, reading no further than that frame.
	StopWait time.Duration
	// Logger receives the server's diagnostics: a refused message at Warn
	// (at most one line every 10 s, with the count since), every one at
	// Debug. Default slog.Default().
	Logger *slog.Logger
}

// Server receives syslog messages over TCP and UDP and writes each one as a
// line to the log its Router chooses (docs/syslog.md).
//
// Goroutines: ServeTCP and ServeUDP run in their callers' goroutines (the
// TCP accept loop starts one goroutine per connection, at most MaxConns);
// Shutdown stops all of them and returns once they are gone.
//
// Backpressure: a connection (or the UDP socket) is read, its complete
// messages parsed and handed to the Writer in one call per log, and only
// then read again: while the Writer refuses (log space exhausted, failed
// write) the batch is tried again every RetryWait and nothing more is
// read, so a TCP sender blocks and the kernel drops (and counts)
// datagrams. Nothing read and parsed is dropped but at Shutdown, when the
// space stays exhausted until its context ends (counted as lost).
type Server struct {
	w          ingest.LineWriter
	router     atomic.Pointer[Router]
	max        int
	maxConns   int64
	idleEvict  time.Duration
	frameWait  time.Duration
	retryWait  time.Duration
	udpBuf     int
	stopWait   time.Duration
	log        *slog.Logger
	stats      counters
	warn       warnLimiter
	evictWarn  warnLimiter // the evictions' warnings, apart from the refusals'
	stopping   atomic.Bool
	stopCh     chan struct{} // closed by Shutdown
	abandon    chan struct{} // closed when Shutdown's context ends: give up batches
	abandonOne sync.Once
	stopOnce   sync.Once

	epoch time.Time // New's time: clock's origin

	mu        sync.Mutex // guards listeners, conns, udps
	listeners []net.Listener
	conns     map[*tcpConn]struct{}
	udps      []*net.UDPConn
	wg        sync.WaitGroup // accept loops, connections, UDP readers
}

// New returns a Server; nothing is listened on until ServeTCP or ServeUDP.
func New(cfg Config) *Server {
	s := &Server{
		w: cfg.Writer, max: cfg.MaxMessage, maxConns: int64(cfg.MaxConns), idleEvict: cfg.IdleEvict,
		frameWait: cfg.FrameTimeout, retryWait: cfg.RetryWait, udpBuf: cfg.UDPReadBuffer,
		stopWait: cfg.StopWait, log: cfg.Logger,
		stopCh: make(chan struct{}), abandon: make(chan struct{}),
		conns: map[*tcpConn]struct{}{}, epoch: time.Now(),
	}
	if s.max <= 0 {
		s.max = DefaultMaxMessage
	}
	if s.maxConns <= 0 {
		s.maxConns = DefaultMaxConns
	}
	if s.idleEvict <= 0 {
		s.idleEvict = DefaultIdleEvict
	}
	if s.frameWait <= 0 {
		s.frameWait = DefaultFrameTimeout
	}
	if s.retryWait <= 0 {
		s.retryWait = DefaultRetryWait
	}
	if s.udpBuf <= 0 {
		s.udpBuf = DefaultUDPReadBuffer
	}
	if s.stopWait <= 0 {
		s.stopWait = DefaultStopWait
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	r := cfg.Router
	if r == nil {
		r = NewRouter("syslog.log")
	}
	s.router.Store(r)
	return s
}

// clock returns the monotonic time since New, in nanoseconds: the
// connections' idle times, which a step of the wall clock must not move.
func (s *Server) clock() int64 { return int64(time.Since(s.epoch)) }

// SetRouter replaces the Router for the messages parsed from now on (a
// reload).
func (s *Server) SetRouter(r *Router) { s.router.Store(r) }

// ErrStopTimeout is wrapped by Shutdown's error when its context ended
// before every connection had written what it read.
var ErrStopTimeout = errors.New("stop timeout")

// Shutdown stops the server: it closes the listeners; every connection
// finishes the frame it is in the middle of (reading no further, within
// StopWait), writes the messages it has read and closes; the UDP sockets
// are read until empty, written and closed. It returns once every
// goroutine has ended. If ctx ends first (a batch still refused for
// space), the batches still held are dropped and counted as lost, and
// Shutdown returns an error wrapping ErrStopTimeout once the goroutines
// have ended. It is idempotent.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() {
		s.stopping.Store(true)
		close(s.stopCh)
		s.mu.Lock()
		for _, l := range s.listeners {
			l.Close()
		}
		for c := range s.conns {
			c.wake()
		}
		for _, u := range s.udps {
			u.SetReadDeadline(time.Unix(1, 0))
		}
		s.mu.Unlock()
	})
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	s.abandonOne.Do(func() { close(s.abandon) })
	<-done
	lost := s.stats.lostStop.Load()
	return fmt.Errorf("syslog: %w: %d messages read while the log space was exhausted were not written", ErrStopTimeout, lost)
}

// isStopping reports whether Shutdown was called.
func (s *Server) isStopping() bool { return s.stopping.Load() }

// batch is the records read from one connection (or a run of datagrams),
// grouped by log, waiting to be written. Records point into the
// connection's read buffer or into scratch (escaped lines); both stay
// untouched until the batch is delivered and reset.
type batch struct {
	logs    []logBatch
	scratch []byte
	n       int // records in all logs
}

type logBatch struct {
	log  string
	recs [][]byte
}

// add appends a record for log.
func (b *batch) add(log string, rec []byte) {
	b.n++
	for i := range b.logs {
		if b.logs[i].log == log {
			b.logs[i].recs = append(b.logs[i].recs, rec)
			return
		}
	}
	b.logs = append(b.logs, logBatch{log: log, recs: [][]byte{rec}})
}

// reset empties b, keeping its memory.
func (b *batch) reset() {
	for i := range b.logs {
		clear(b.logs[i].recs)
		b.logs[i].recs = b.logs[i].recs[:0]
	}
	b.scratch = b.scratch[:0]
	b.n = 0
}

// accept parses msg and adds its line to b, or counts and reports the
// refusal. where says where msg came from (the peer, and the stream offset
// for TCP), for the diagnostics.
func (s *Server) accept(p *Parser, b *batch, msg []byte, transport string, where func() string) {
	m, err := p.Parse(msg)
	if err != nil {
		var e *Error
		reason := ReasonSyntax
		if errors.As(err, &e) {
			reason = e.Reason
		}
		s.refuse(reason, where(), err.Error())
		return
	}
	if transport == "udp" {
		s.stats.receivedUDP.Add(1)
	} else {
		s.stats.receivedTCP.Add(1)
	}
	var line []byte
	line, b.scratch = Line(msg, b.scratch)
	b.add(s.router.Load().Route(m), line)
}

// refuse counts a refused message and reports it: at Debug always, at Warn
// at most once every 10 s.
func (s *Server) refuse(reason, where, msg string) {
	s.stats.refuse(reason)
	if n, ok := s.warn.allow(time.Now()); ok {
		s.log.Warn("syslog message refused, nothing written", "reason", reason, "from", where, "err", msg, "refused_since_last_warning", n)
	} else if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("syslog message refused, nothing written", "reason", reason, "from", where, "err", msg)
	}
}

// deliver writes b, one WriteLines call per log, trying a refused call
// again every retryWait until it is written, the log is unknown (its
// records then go to the default log), or Shutdown gives up on it. It
// returns when every record is written or counted lost; b is reset.
func (s *Server) deliver(b *batch) {
	defer b.reset()
	if b.n == 0 {
		return
	}
	for i := range b.logs {
		lb := &b.logs[i]
		if len(lb.recs) == 0 {
			continue
		}
		s.write(lb.log, lb.recs)
	}
}

// write writes recs to log, as deliver says.
func (s *Server) write(log string, recs [][]byte) {
	var timer *time.Timer
	for tries := 0; ; tries++ {
		err := s.w.WriteLines(log, recs)
		switch {
		case err == nil:
			s.stats.written.Add(int64(len(recs)))
			return
		case errors.Is(err, logging.ErrUnknownLog):
			if def := s.router.Load().Default(); def != log {
				s.log.Warn("syslog: routed log no longer declared; writing to the default syslog log", "log", log, "default", def, "records", len(recs))
				log = def
				continue
			}
			s.stats.lostUnknown.Add(int64(len(recs)))
			s.log.Error("syslog: the syslog log is not declared; messages dropped", "log", log, "records", len(recs), "err", err)
			return
		case errors.Is(err, logging.ErrClosed):
			s.stats.lostStop.Add(int64(len(recs)))
			s.log.Error("syslog: logs closed before these messages were written", "log", log, "records", len(recs))
			return
		}
		// Space exhausted or a failed write (the collator reports those):
		// hold the batch, read nothing, try again.
		s.stats.retries.Add(1)
		if tries == 0 {
			s.log.Debug("syslog: batch refused, holding it and reading nothing until it is written", "log", log, "records", len(recs), "err", err)
		}
		if timer == nil {
			timer = time.NewTimer(s.retryWait)
		} else {
			timer.Reset(s.retryWait)
		}
		select {
		case <-timer.C:
		case <-s.abandon:
			timer.Stop()
			s.stats.lostStop.Add(int64(len(recs)))
			s.log.Error("syslog: stop timeout while the log space was exhausted: messages read but not written", "log", log, "records", len(recs), "err", err)
			return
		}
	}
}

// warnLimiter lets one warning through every 10 s and counts the others.
type warnLimiter struct {
	mu     sync.Mutex
	last   time.Time
	hidden int64
}

// allow reports whether a warning may be logged now, and how many were
// suppressed since the last one.
func (w *warnLimiter) allow(now time.Time) (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.last.IsZero() && now.Sub(w.last) < 10*time.Second {
		w.hidden++
		return 0, false
	}
	n := w.hidden
	w.last, w.hidden = now, 0
	return n, true
}
