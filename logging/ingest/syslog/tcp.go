package syslog

import (
	"cmp"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// tcpReadBuffer is a connection's read buffer; it grows (up to
// MaxMessage plus the octet count) only for a frame that needs it.
const tcpReadBuffer = 64 << 10

// ServeTCP accepts connections on l and serves each on its own goroutine
// until Shutdown, then returns nil; l is closed by then. Any other Accept
// error is returned as is (after the connections it started have ended).
func (s *Server) ServeTCP(l net.Listener) error {
	s.mu.Lock()
	if s.isStopping() {
		s.mu.Unlock()
		l.Close()
		return nil
	}
	s.listeners = append(s.listeners, l)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if s.isStopping() {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded) || isTemporary(err) {
				// EMFILE and the like: wait, as net/http does.
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("syslog: accept failed, retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
				case <-s.stopCh:
				}
				continue
			}
			return err
		}
		backoff = 0
		if s.stats.conns.Add(1) > s.maxConns && !s.evictIdlest(c) {
			s.stats.conns.Add(-1)
			s.stats.connsRefused.Add(1)
			s.refuseConn(c)
			continue
		}
		tc := &tcpConn{s: s, c: c, remote: c.RemoteAddr().String()}
		tc.active.Store(s.clock())
		s.mu.Lock()
		if s.isStopping() {
			s.mu.Unlock()
			s.stats.conns.Add(-1)
			c.Close()
			continue
		}
		s.conns[tc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go tc.serve()
	}
}

// evictIdlest makes room for the new connection c when MaxConns are open:
// it stops the connection idle longest between frames, if idle IdleEvict
// or more and with no byte waiting in its socket, and reports whether it
// did. The stopped connection delivers what it read (a frame that began
// in a race with the eviction is read to its end, as at Shutdown) and
// closes; until it has, one more connection than MaxConns is open.
func (s *Server) evictIdlest(c net.Conn) bool {
	now := s.clock()
	s.mu.Lock()
	var idle []*tcpConn
	for tc := range s.conns {
		if tc.between.Load() && now-tc.active.Load() >= int64(s.idleEvict) && !tc.isStopped() {
			idle = append(idle, tc)
		}
	}
	slices.SortFunc(idle, func(a, b *tcpConn) int { return cmp.Compare(a.active.Load(), b.active.Load()) })
	var victim *tcpConn
	for _, tc := range idle {
		if !bytesWaiting(tc.c) {
			victim = tc
			break
		}
	}
	if victim == nil {
		s.mu.Unlock()
		return false
	}
	victim.mu.Lock()
	victim.evicted = true
	victim.mu.Unlock()
	victim.wake()
	s.mu.Unlock()
	s.stats.connsEvicted.Add(1)
	if n, ok := s.evictWarn.allow(time.Now()); ok {
		s.log.Warn("syslog: too many connections: closed the one idle longest to make room", "closed", victim.remote,
			"idle", time.Duration(now-victim.active.Load()).Round(time.Second), "for", c.RemoteAddr().String(), "max", s.maxConns, "closed_since_last_warning", n)
	}
	return true
}

// bytesWaiting reports whether bytes wait unread in c's socket (a peek
// that does not block, beside serve's Read): such a connection is not
// idle, whatever its clock says, and closing it would throw them away.
func bytesWaiting(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	n := 0
	rc.Control(func(fd uintptr) {
		var b [1]byte
		n, _, _ = unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
	})
	return n > 0
}

// isTemporary reports errors after which Accept may succeed again.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// refuseConn closes a connection beyond MaxConns, and says so (rate
// limited).
func (s *Server) refuseConn(c net.Conn) {
	remote := c.RemoteAddr().String()
	c.Close()
	if n, ok := s.warn.allow(time.Now()); ok {
		s.log.Warn("syslog: connection refused: too many connections", "from", remote, "max", s.maxConns, "refused_since_last_warning", n)
	}
}

// tcpConn is one syslog TCP connection; its goroutine (serve) owns
// everything but mu's fields.
type tcpConn struct {
	s      *Server
	c      net.Conn
	remote string

	mu       sync.Mutex // guards stopped, evicted, and deadline changes against wake
	stopped  bool
	evicted  bool      // stopped to make room for a new connection, not by Shutdown
	deadline time.Time // the read deadline set (owned by serve, changed under mu)

	off int64 // stream offset of buf[0] (owned by serve)

	// Read by evictIdlest, written by serve: when serve last began to
	// wait in Read (Server.clock; the accept's at first), and whether it waits
	// there now with no frame in progress. Only such a connection may be
	// evicted, and Read returns as soon as a byte is there: one idle that
	// long has sent nothing for that long. One that is delivering (perhaps
	// held by an exhausted log space) may have bytes waiting in the
	// socket, which a close would throw away.
	active  atomic.Int64
	between atomic.Bool
}

// wake makes serve's Read return at once and every later deadline change
// keep it past: Shutdown's way to stop the connection.
func (tc *tcpConn) wake() {
	tc.mu.Lock()
	tc.stopped = true
	tc.c.SetReadDeadline(time.Unix(1, 0))
	tc.mu.Unlock()
}

// setDeadline sets the read deadline to t (zero: none), unless wake was
// called, and reports whether the connection is stopping.
func (tc *tcpConn) setDeadline(t time.Time) bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.stopped {
		return true
	}
	if !t.Equal(tc.deadline) {
		tc.c.SetReadDeadline(t)
		tc.deadline = t
	}
	return false
}

// serve reads frames until the peer closes, a fatal framing error, a frame
// stalled past FrameTimeout, or Shutdown; each read's whole messages are
// delivered before the next read.
func (tc *tcpConn) serve() {
	s := tc.s
	defer func() {
		tc.c.Close()
		s.mu.Lock()
		delete(s.conns, tc)
		s.mu.Unlock()
		s.stats.conns.Add(-1)
		s.wg.Done()
	}()
	buf := make([]byte, tcpReadBuffer)
	f := framer{max: s.max}
	p := NewParser()
	var b batch
	start, end := 0, 0 // unread bytes: buf[start:end]
	var frameStart time.Time
	where := func() string {
		return tc.remote + " (tcp, stream byte " + strconv.FormatInt(tc.off+int64(start), 10) + ")"
	}
	for {
		// Frame what was read.
	frames:
		for {
			ev, msg, n, reason := f.next(buf[start:end])
			switch ev {
			case evMore:
				break frames
			case evFrame:
				if len(msg) > 0 {
					s.accept(p, &b, msg, "tcp", where)
				}
			case evOversize:
				s.refuse(ReasonOversize, where(), "frame longer than max_message_bytes ("+strconv.Itoa(s.max)+" bytes): discarded")
			case evBadLength:
				s.refuse(ReasonLength, where(), reason+": the stream cannot be followed; connection closed")
				s.deliver(&b)
				return
			}
			start += n
		}
		s.deliver(&b)
		pending := f.pending(buf[start:end])
		// Keep the unread bytes at the start of buf, with room to read.
		if start > 0 && (start == end || end == len(buf)) {
			copy(buf, buf[start:end])
			tc.off += int64(start)
			end -= start
			start = 0
		}
		if end == len(buf) {
			// One frame fills the buffer: grow it for that frame (an
			// oversize one is discarded, never buffered).
			buf = grow(buf, end, s.max)
		}
		// The deadline: a frame begun must end within FrameTimeout.
		var dl time.Time
		if pending {
			if frameStart.IsZero() {
				frameStart = time.Now()
			}
			dl = frameStart.Add(s.frameWait)
		} else {
			frameStart = time.Time{}
		}
		if tc.setDeadline(dl) {
			tc.finish(&f, p, &b, buf, start, end, where)
			return
		}
		tc.active.Store(s.clock())
		tc.between.Store(!pending)
		n, err := tc.c.Read(buf[end:])
		tc.between.Store(false)
		end += n
		s.stats.bytes.Add(int64(n))
		if err == nil {
			continue
		}
		if n > 0 {
			// Frame what came with the error first.
			continue
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded) && tc.isStopped():
			tc.finish(&f, p, &b, buf, start, end, where)
		case errors.Is(err, os.ErrDeadlineExceeded) && f.discarding():
			s.log.Debug("syslog: oversize frame still arriving after the frame timeout: connection closed", "from", where())
		case errors.Is(err, os.ErrDeadlineExceeded):
			s.refuse(ReasonCut, where(), "frame not finished within "+s.frameWait.String()+" of its first byte: connection closed")
		default:
			if f.partial(buf[start:end]) {
				s.refuse(ReasonCut, where(), "stream ended in the middle of a frame ("+err.Error()+"): the partial frame is discarded")
			}
		}
		return
	}
}

// stopReason says why finish runs, for its diagnostics.
func (tc *tcpConn) stopReason() string {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if tc.evicted {
		return "closing the connection idle longest to make room"
	}
	return "stopping"
}

func (tc *tcpConn) isStopped() bool {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	return tc.stopped
}

// finish ends a connection at Shutdown or eviction: it reads the rest of the frame it
// is in the middle of (the exact remaining length of an octet-counted one,
// byte by byte up to the LF of a line), within StopWait, and delivers it.
// Nothing past that frame is read.
func (tc *tcpConn) finish(f *framer, p *Parser, b *batch, buf []byte, start, end int, where func() string) {
	s := tc.s
	deadline := time.Now().Add(s.stopWait)
	tc.c.SetReadDeadline(deadline)
	for f.pending(buf[start:end]) {
		if end == len(buf) {
			copy(buf, buf[start:end])
			end -= start
			start = 0
			if end == len(buf) {
				buf = grow(buf, end, s.max)
			}
		}
		want := min(f.need(buf[start:end]), len(buf)-end)
		n, err := tc.c.Read(buf[end : end+want])
		end += n
		s.stats.bytes.Add(int64(n))
		for {
			ev, msg, k, reason := f.next(buf[start:end])
			if ev == evMore {
				break
			}
			switch ev {
			case evFrame:
				if len(msg) > 0 {
					s.accept(p, b, msg, "tcp", where)
				}
			case evOversize:
				s.refuse(ReasonOversize, where(), "frame longer than max_message_bytes: discarded")
			case evBadLength:
				s.refuse(ReasonLength, where(), reason+": connection closed")
				s.deliver(b)
				return
			}
			start += k
		}
		s.deliver(b) // before buf moves under the records
		if err != nil && n == 0 {
			if f.partial(buf[start:end]) {
				s.refuse(ReasonCut, where(), tc.stopReason()+": the frame in progress did not end within "+s.stopWait.String()+" ("+err.Error()+"): discarded")
			}
			break
		}
	}
	s.deliver(b)
}

// grow returns a larger buffer holding buf[:end]: twice as large, but no
// larger than the largest frame of a max-byte message needs.
func grow(buf []byte, end, maxMsg int) []byte {
	nb := make([]byte, max(len(buf)+1, min(2*len(buf), maxMsg+maxLenDigits+3)))
	copy(nb, buf[:end])
	return nb
}
