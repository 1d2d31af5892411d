package ctl

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// pipeSocketBuffer is the send buffer asked for the pipe's connection
// (SO_SNDBUF, capped by net.core.wmem_max): a request of DefaultPipeBatch
// bytes fits in it whole, so that writing it does not wait for the daemon
// to read, and the next request can be written while the daemon handles
// the one before.
const pipeSocketBuffer = 4 << 20

// PipeConn is the connection of `logrollctl pipe` to the daemon's socket:
// POST /v1/logs/{log} requests on one keep-alive connection, each written
// in one writev (the request head and the chunks of lines as they are, no
// copy), answers read in order. It implements LinePoster.
//
// Pipelining: a request may be sent before the answer of the one before
// only once the daemon said, on this connection, that it closes the
// connection after any answer but 2xx (the Logroll-Pipelining answer
// header, ctl.Server): then a refused request stops everything sent after
// it, which is sent again with it, in order. A PipeConn is not safe for
// concurrent use.
type PipeConn struct {
	socket    string
	c         net.Conn
	br        *bufio.Reader
	head      []byte
	pipelined bool   // the daemon answered Logroll-Pipelining on c
	pending   int    // requests written on c and not answered
	werr      error  // a write on c failed: it is only read, for the answers pending
	sentAhead int64  // requests sent before the answer of the one before (for tests)
	path      string // the path of the last request sent (a PipeConn serves one log), for errors
}

// NewPipeConn returns a PipeConn for the daemon serving on socketPath; it
// connects on the first request.
func NewPipeConn(socketPath string) *PipeConn { return &PipeConn{socket: socketPath} }

// Pipelined reports whether another request may be sent before the
// answers of those sent: the daemon closes the connection after a refusal.
func (pc *PipeConn) Pipelined() bool { return pc.c != nil && pc.pipelined }

// Send writes a request posting chunks (whole lines) to log. An error
// leaves the connection closed: every request not answered was lost or
// refused, and is to be sent again.
func (pc *PipeConn) Send(ctx context.Context, log string, chunks [][]byte) error {
	if pc.werr != nil {
		if pc.pending > 0 {
			return pc.werr
		}
		pc.Close()
	}
	if pc.c == nil {
		if err := pc.dial(ctx); err != nil {
			return err
		}
	}
	n := 0
	for _, c := range chunks {
		n += len(c)
	}
	pc.head = append(pc.head[:0], "POST "...)
	pc.path = PathLogs + url.PathEscape(log)
	pc.head = append(pc.head, pc.path...)
	pc.head = append(pc.head, " HTTP/1.1\r\nHost: logrolld\r\nContent-Type: text/plain; charset=utf-8\r\nAccept: application/json\r\nContent-Length: "...)
	pc.head = strconv.AppendInt(pc.head, int64(n), 10)
	pc.head = append(pc.head, "\r\n\r\n"...)
	bufs := make(net.Buffers, 0, len(chunks)+1)
	bufs = append(bufs, pc.head)
	bufs = append(bufs, chunks...)
	pc.deadline(ctx)
	if _, err := bufs.WriteTo(pc.c); err != nil {
		// A request cut short is not processed. Those before it may
		// have been: their answers are still read.
		pc.werr = fmt.Errorf("ctl: POST %s: %w", pc.path, err)
		if pc.pending == 0 {
			pc.Close()
			return fmt.Errorf("ctl: POST %s: %w", pc.path, err)
		}
		return pc.werr
	}
	if pc.pending > 0 {
		pc.sentAhead++
	}
	pc.pending++
	return nil
}

// Recv reads the answer of the oldest request sent and not answered: the
// records written, or an error (a *RemoteError for an answer but 2xx).
// After an error the connection is closed: the requests sent after it were
// not processed (pipelining) or their fate is unknown (the connection
// broke), and are to be sent again.
func (pc *PipeConn) Recv(ctx context.Context) (int, error) {
	if pc.c == nil || pc.pending == 0 {
		return 0, errors.New("ctl: pipe: no request waiting for an answer")
	}
	pc.deadline(ctx)
	resp, err := http.ReadResponse(pc.br, nil)
	if err != nil {
		pc.Close()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return 0, fmt.Errorf("ctl: POST %s: %w", pc.path, ctxErr)
		}
		return 0, fmt.Errorf("ctl: POST %s: read answer: %w", pc.path, err)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	resp.Body.Close()
	if err != nil {
		pc.Close()
		return 0, fmt.Errorf("ctl: POST %s: read answer: %w", pc.path, err)
	}
	pc.pending--
	if resp.Header.Get(HeaderPipelining) != "" {
		pc.pipelined = true
	}
	if resp.Close || pc.werr != nil && pc.pending == 0 {
		pc.Close()
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		pc.Close()
		var e ErrorResponse
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return 0, &RemoteError{Status: resp.StatusCode, Msg: e.Error}
	}
	var out struct {
		Records int `json:"records"`
	}
	if err := json.Unmarshal(data, &out); err != nil {
		pc.Close()
		return 0, fmt.Errorf("ctl: POST %s: decode answer: %w", pc.path, err)
	}
	return out.Records, nil
}

// PostLines sends one request and waits for its answer (LinePoster).
func (pc *PipeConn) PostLines(ctx context.Context, log string, chunks [][]byte) (int, error) {
	if pc.pending > 0 {
		return 0, errors.New("ctl: pipe: PostLines with requests waiting for their answers")
	}
	if err := pc.Send(ctx, log, chunks); err != nil {
		return 0, err
	}
	return pc.Recv(ctx)
}

// Close closes the connection; requests not answered are abandoned.
func (pc *PipeConn) Close() error {
	if pc.c == nil {
		return nil
	}
	err := pc.c.Close()
	pc.c, pc.br, pc.pipelined, pc.pending, pc.werr = nil, nil, false, 0, nil
	return err
}

// dial connects to the socket, with a send buffer large enough for a
// request.
func (pc *PipeConn) dial(ctx context.Context) error {
	d := net.Dialer{Timeout: DialTimeout, Control: func(_, _ string, rc syscall.RawConn) error {
		rc.Control(func(fd uintptr) {
			// Capped by net.core.wmem_max; the default buffer still works.
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, pipeSocketBuffer)
		})
		return nil
	}}
	c, err := d.DialContext(ctx, "unix", pc.socket)
	if err != nil {
		return &UnreachableError{Socket: pc.socket, Err: err}
	}
	pc.c, pc.br = c, bufio.NewReaderSize(c, 4096)
	return nil
}

// deadline bounds the next write or read by ctx's deadline (none without).
func (pc *PipeConn) deadline(ctx context.Context) {
	dl, _ := ctx.Deadline() // zero: none
	pc.c.SetDeadline(dl)
}
