package ctl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// DialTimeout bounds the connection to the daemon's socket. Requests have no
// overall timeout (a roll or a reload may take seconds): bound them with the
// context.
const DialTimeout = 3 * time.Second

// maxResponseBody bounds an answer read by the Client.
const maxResponseBody = 64 << 20

// Client calls a daemon's admin endpoints over its Unix socket. Each call
// uses a connection of its own, closed when the call returns, so a Client
// holds no goroutine or connection between calls. It is safe for concurrent
// use.
type Client struct {
	socket string
	hc     *http.Client
}

// NewClient returns a Client for the daemon serving on socketPath.
func NewClient(socketPath string) *Client {
	d := &net.Dialer{Timeout: DialTimeout}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return d.DialContext(ctx, "unix", socketPath)
		},
		DisableKeepAlives:      true,
		DisableCompression:     true,
		MaxResponseHeaderBytes: 1 << 20,
	}
	return &Client{socket: socketPath, hc: &http.Client{Transport: tr}}
}

// Socket returns the socket path the client dials.
func (c *Client) Socket() string { return c.socket }

// UnreachableError says the daemon could not be reached: the socket is
// missing, not a socket, refused the connection (no daemon), or cannot be
// opened. logrollctl exits 3 on it.
type UnreachableError struct {
	Socket string
	Err    error
}

// Error implements error.
func (e *UnreachableError) Error() string {
	cause := e.Err
	var se *os.SyscallError
	if errors.As(cause, &se) {
		cause = se.Err // "connection refused", without the dial's decoration
	}
	return fmt.Sprintf("ctl: logrolld is not reachable on %s: %v", e.Socket, cause)
}

// Unwrap returns the underlying error.
func (e *UnreachableError) Unwrap() error { return e.Err }

// RemoteError is a non-2xx answer of the daemon: Status is the HTTP status,
// Msg the ErrorResponse's message (for a refused reload, ReloadResult.Error).
// logrollctl exits 1 on it.
type RemoteError struct {
	Status int
	Msg    string
}

// Error implements error.
func (e *RemoteError) Error() string {
	return fmt.Sprintf("ctl: logrolld answered %d %s: %s", e.Status, http.StatusText(e.Status), e.Msg)
}

// Roll rolls the named logs (all when logs is empty) and returns the rolled
// files. A RollResponse with Errors is a partial failure, returned with a nil
// error; the caller decides (logrollctl exits 1).
func (c *Client) Roll(ctx context.Context, logs []string) (RollResponse, error) {
	body, err := json.Marshal(RollRequest{Logs: logs})
	if err != nil {
		return RollResponse{}, fmt.Errorf("ctl: roll: %w", err)
	}
	var resp RollResponse
	return resp, c.do(ctx, http.MethodPost, PathRoll, nil, body, &resp, nil)
}

// Reload asks the daemon to reload its config file. A refused config returns
// the ReloadResult (OK false, Error the problems) and a *RemoteError with
// status 422.
func (c *Client) Reload(ctx context.Context) (ReloadResult, error) {
	var res ReloadResult
	err := c.do(ctx, http.MethodPost, PathReload, nil, nil, &res, func(status int, data []byte) error {
		if status != http.StatusUnprocessableEntity || json.Unmarshal(data, &res) != nil {
			return nil
		}
		return &RemoteError{Status: status, Msg: res.Error}
	})
	return res, err
}

// Config returns the running configuration.
func (c *Client) Config(ctx context.Context) (ConfigResponse, error) {
	var resp ConfigResponse
	return resp, c.do(ctx, http.MethodGet, PathConfig, nil, nil, &resp, nil)
}

// Metrics returns the series whose name is one of names or matches the
// regular expression match (unanchored); every series when both are empty.
// They are sorted by name, then labels.
func (c *Client) Metrics(ctx context.Context, names []string, match string) ([]Metric, error) {
	q := url.Values{}
	for _, n := range names {
		q.Add("name", n)
	}
	if match != "" {
		q.Set("match", match)
	}
	var resp MetricsResponse
	err := c.do(ctx, http.MethodGet, PathMetrics, q, nil, &resp, nil)
	return resp.Metrics, err
}

// Status returns the daemon's status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var resp Status
	return resp, c.do(ctx, http.MethodGet, PathStatus, nil, nil, &resp, nil)
}

// Rolled lists the rolled files of the named logs (every rolled file in the
// log folder when logs is empty).
func (c *Client) Rolled(ctx context.Context, logs []string) ([]RolledFile, error) {
	q := url.Values{}
	for _, l := range logs {
		q.Add("log", l)
	}
	var resp RolledResponse
	err := c.do(ctx, http.MethodGet, PathRolled, q, nil, &resp, nil)
	return resp.Rolled, err
}

// do performs one request and decodes a 2xx answer into out. A non-2xx answer
// is passed to onFail first, which may return the error to report; otherwise
// it becomes a RemoteError with the ErrorResponse's message.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any, onFail func(int, []byte) error) error {
	return c.request(ctx, method, path, q, "application/json", body, out, onFail)
}

// request is do with the body's content type.
func (c *Client) request(ctx context.Context, method, path string, q url.Values, ctype string, body []byte, out any, onFail func(int, []byte) error) error {
	u := "http://logrolld" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("ctl: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", ctype)
	}
	return c.send(ctx, req, out, onFail)
}

// send performs req and decodes a 2xx answer into out (see do).
func (c *Client) send(ctx context.Context, req *http.Request, out any, onFail func(int, []byte) error) error {
	method, path := req.Method, req.URL.Path
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("ctl: %s %s: %w", method, path, ctxErr)
		}
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return &UnreachableError{Socket: c.socket, Err: op}
		}
		return fmt.Errorf("ctl: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return fmt.Errorf("ctl: %s %s: read answer: %w", method, path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if onFail != nil {
			if err := onFail(resp.StatusCode, data); err != nil {
				return err
			}
		}
		var e ErrorResponse
		if json.Unmarshal(data, &e) != nil || e.Error == "" {
			e.Error = strings.TrimSpace(string(data))
		}
		return &RemoteError{Status: resp.StatusCode, Msg: e.Error}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("ctl: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}
