package ship

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// A store that accepts a connection and then moves no byte (a hung proxy,
// a half-open connection, a network that drops packets without a reset)
// would hold an upload for ever: the SDK's requests have no deadline of
// their own, and a deadline on a whole request would cut a large upload on
// a slow link. So every connection to the store must make progress: when
// no byte has moved on it, in either direction, for StallTimeout, its
// pending reads and writes end with a timeout, the attempt fails as
// KindNetwork, and the manager retries it with its backoff.
//
// Either direction counts for both: while a request body is written, the
// transport's read loop waits in a Read for the answer, and while a store
// assembles a large multipart upload, AWS sends whitespace to read.

// StallTimeout is how long a connection to the store may move no byte
// before the attempt is abandoned.
const StallTimeout = 2 * time.Minute

// stallConn is a connection on which the deadlines of both directions are
// pushed StallTimeout ahead whenever a call begins or moves bytes, but
// never past a deadline its users set (TLS sets one to close). Bytes
// leaving the kernel's send buffer count as moving: once a request is
// written whole into the buffer, the connection only waits for the answer
// while the buffer drains to a slow link, for as long as it drains.
type stallConn struct {
	net.Conn
	stall time.Duration

	mu     sync.Mutex
	rd, wd time.Time // the deadlines the connection's users set; zero: none
	queued int       // the send queue at the last progress (-1: unknown)
}

// earlier returns the earlier of a user's deadline (zero: none) and t.
func earlier(user, t time.Time) time.Time {
	if !user.IsZero() && user.Before(t) {
		return user
	}
	return t
}

// progress pushes both deadlines StallTimeout ahead of now.
func (c *stallConn) progress() {
	q := sendQueue(c.Conn)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queued = q
	t := time.Now().Add(c.stall)
	c.Conn.SetReadDeadline(earlier(c.rd, t))
	c.Conn.SetWriteDeadline(earlier(c.wd, t))
}

// userExpired reports whether the deadline the connection's users set
// for the direction (read or write) has passed: theirs to handle.
func (c *stallConn) userExpired(read bool) bool {
	c.mu.Lock()
	user := c.wd
	if read {
		user = c.rd
	}
	c.mu.Unlock()
	return !user.IsZero() && !time.Now().Before(user)
}

// drained reports whether bytes left the send queue since the last
// progress.
func (c *stallConn) drained() bool {
	q := sendQueue(c.Conn)
	c.mu.Lock()
	defer c.mu.Unlock()
	return q >= 0 && c.queued >= 0 && q < c.queued
}

func (c *stallConn) Read(p []byte) (int, error) {
	for {
		c.progress()
		n, err := c.Conn.Read(p)
		if n > 0 {
			c.progress()
		}
		if n > 0 || !errors.Is(err, os.ErrDeadlineExceeded) || c.userExpired(true) || !c.drained() {
			return n, err
		}
		// The send queue drained meanwhile: wait again.
	}
}

func (c *stallConn) Write(p []byte) (int, error) {
	written := 0
	for {
		c.progress()
		n, err := c.Conn.Write(p[written:])
		written += n
		if n > 0 {
			c.progress()
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) || c.userExpired(false) || n == 0 && !c.drained() {
			return written, err
		}
		// Bytes moved, or the send queue drained: write the rest.
	}
}

func (c *stallConn) SetDeadline(t time.Time) error      { return c.setUser(true, true, t) }
func (c *stallConn) SetReadDeadline(t time.Time) error  { return c.setUser(true, false, t) }
func (c *stallConn) SetWriteDeadline(t time.Time) error { return c.setUser(false, true, t) }

// setUser records a deadline the connection's users set, for reads or
// writes or both, and applies it (or the stall deadline, if earlier).
func (c *stallConn) setUser(read, write bool, t time.Time) error {
	c.mu.Lock()
	if read {
		c.rd = t
	}
	if write {
		c.wd = t
	}
	c.mu.Unlock()
	c.progress()
	return nil
}

// guardStalls makes tr's connections stallConns. Idle connections are
// closed before a kept-alive one could reach the deadline in its pool.
func guardStalls(tr *http.Transport, stall time.Duration) {
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stallConn{Conn: c, stall: stall}, nil
	}
	if tr.IdleConnTimeout == 0 || tr.IdleConnTimeout > stall/2 {
		tr.IdleConnTimeout = stall / 2
	}
}
