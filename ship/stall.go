package ship

import (
	"context"
	"net"
	"net/http"
	"time"
)

// A store that accepts a connection and then moves no byte (a hung proxy,
// a half-open connection, a network that drops packets without a reset)
// would hold an upload for ever: the SDK's requests have no deadline of
// their own, and a deadline on a whole request would cut a large upload on
// a slow link. So every connection to the store must make progress: a read
// or a write that moves no byte for StallTimeout ends with a timeout, the
// attempt fails as KindNetwork, and the manager retries it with its
// backoff. Reads count too: a store may take a while to answer a large
// CompleteMultipartUpload, and AWS sends whitespace meanwhile.

// StallTimeout is how long a connection to the store may move no byte in
// a read or a write before the attempt is abandoned.
const StallTimeout = 2 * time.Minute

// stallConn is a connection whose every Read and Write must make progress
// within stall.
type stallConn struct {
	net.Conn
	stall time.Duration
}

func (c *stallConn) Read(p []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.stall))
	return c.Conn.Read(p)
}

func (c *stallConn) Write(p []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.stall))
	return c.Conn.Write(p)
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
