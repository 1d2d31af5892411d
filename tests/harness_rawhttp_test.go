package tests

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// rawAnswer is the answer to a request written by hand: the status (0
// when the connection ended without an answer), the body, and how long it
// took since the request began.
type rawAnswer struct {
	status int
	header http.Header
	body   string
	err    error // why no whole answer was read
	took   time.Duration
}

// sendRaw sends raw bytes to addr on a new connection, half-closes it
// after them if half (the server sees the body end early), and reads one
// HTTP answer, waiting at most limit. A failed write is logged, not fatal:
// the server may answer and close before reading everything (413, 400);
// the answer is what the test checks.
func sendRaw(t *testing.T, addr string, raw []byte, half bool, limit time.Duration) rawAnswer {
	t.Helper()
	begin := time.Now()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(begin.Add(limit))
	if _, err := conn.Write(raw); err != nil {
		t.Logf("raw write: %v", err)
	} else if half {
		if err := conn.(*net.TCPConn).CloseWrite(); err != nil {
			t.Logf("half-close: %v", err)
		}
	}
	return readAnswer(conn, begin)
}

// readAnswer reads one HTTP answer from conn.
func readAnswer(conn net.Conn, begin time.Time) rawAnswer {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return rawAnswer{err: err, took: time.Since(begin)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return rawAnswer{status: resp.StatusCode, header: resp.Header, body: string(body), err: err, took: time.Since(begin)}
}

// connClosed waits up to limit for the peer to close conn (a read
// returning EOF or a reset) and reports whether it did and after how long
// since begin. Bytes the peer sends meanwhile are discarded.
func connClosed(conn net.Conn, begin time.Time, limit time.Duration) (bool, time.Duration) {
	conn.SetReadDeadline(time.Now().Add(limit))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return false, time.Since(begin)
		}
		return true, time.Since(begin)
	}
}

// rawRequest is an ingest request written by hand on its own connection,
// so that the test decides when each part of it reaches the daemon.
type rawRequest struct {
	conn  net.Conn
	head  []byte // request line and headers, blank line included
	body  []byte
	begin time.Time
}

// dialRaw connects to d's ingest port for a text/plain POST of body to log
// access; nothing is sent yet.
func dialRaw(t *testing.T, d *daemon, body []byte) *rawRequest {
	t.Helper()
	begin := time.Now()
	conn, err := net.DialTimeout("tcp", d.addr, waitLimit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(2 * waitLimit)); err != nil {
		t.Fatal(err)
	}
	head := fmt.Sprintf("POST /v1/logs/access HTTP/1.1\r\nHost: %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n\r\n", d.addr, len(body))
	return &rawRequest{conn: conn, head: []byte(head), body: body, begin: begin}
}

// send writes p; a failure is returned, not fatal (the daemon may have
// closed the connection, which is what some tests expect).
func (r *rawRequest) send(p []byte) error {
	_, err := r.conn.Write(p)
	return err
}

// answer reads the daemon's answer; its err says why the connection ended
// without one.
func (r *rawRequest) answer() rawAnswer { return readAnswer(r.conn, r.begin) }
