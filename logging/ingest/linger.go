package ingest

import (
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// A refusal answered before its request's body was read to the end (401,
// 403, 404, 405, 413 by Content-Length, 415, 429, a 503 at the stop, or a
// 413 or 400 that stopped reading half-way) closes the connection. Closed
// with bytes of the body still arriving, the kernel resets it, and a client
// that writes its whole body before it reads the answer (Python's
// http.client, Java's HttpClient, most shippers) sees a broken pipe or a
// reset instead of the status, which it retries for ever, whatever the
// status said. So such a refusal is a lingering close, as nginx's
// lingering_close: the answer goes out at once (with Connection: close,
// flushed, and without net/http first consuming the body, which would hold
// the answer back behind a slow body), then the rest of the body is read
// and thrown away for at most lingerTime and lingerBytes, after the
// request has left its slots and the stop's gate. A body announced larger
// than lingerBytes is not waited for.
const (
	lingerTime  = 5 * time.Second
	lingerBytes = 64 << 20
)

// trackedBody is a request's body that remembers whether a Read reached its
// end, and whether a refusal left it to be drained (see linger).
type trackedBody struct {
	io.ReadCloser
	eof    bool // a Read returned io.EOF: nothing of the body is left
	linger bool // refused before the end: drain the rest after the answer
}

func (b *trackedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// trackedPool saves the allocation of a trackedBody per request. net/http
// closes and drains the body it made, never r.Body, once the handler has
// returned: the wrapper is free then.
var trackedPool = sync.Pool{New: func() any { return new(trackedBody) }}

// track wraps r's body, when it has one, so that refuse knows whether it was
// read to the end; nil when there is no body. The handler gives it back
// with untrack before it returns.
func track(r *http.Request) *trackedBody {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return nil
	}
	if _, ok := r.Body.(*trackedBody); ok {
		return nil // a handler calling another's ServeHTTP: tracked already
	}
	b := trackedPool.Get().(*trackedBody)
	*b = trackedBody{ReadCloser: r.Body}
	r.Body = b
	return b
}

// untrack puts r's own body back and gives b to the pool (nil is none).
func untrack(r *http.Request, b *trackedBody) {
	if b != nil {
		r.Body = b.ReadCloser
		*b = trackedBody{}
		trackedPool.Put(b)
	}
}

// prepareLinger is called by refuse before the answer's header is written.
// When r's body was not read to the end and can be drained, it asks for
// Connection: close and for an answer that does not wait for the body, and
// reports true: the caller flushes the answer, and linger drains the body
// once the request is out of the handler's slots. A ResponseWriter without
// full duplex (a test recorder) does not linger.
func prepareLinger(w http.ResponseWriter, r *http.Request) bool {
	b, ok := r.Body.(*trackedBody)
	if !ok || b.eof || r.ContentLength > lingerBytes {
		return false
	}
	if err := http.NewResponseController(w).EnableFullDuplex(); err != nil {
		return false
	}
	w.Header()["Connection"] = hdrClose
	b.linger = true
	return true
}

// linger reads and discards what is left of a refused request's body, within
// lingerTime and lingerBytes (see prepareLinger), in slices of lingerSlice
// so that a stop (stopping reports it) ends it at once: draining serves
// nothing then, and would hold the stop for its whole drain. Errors end it:
// the connection is closed next whatever happened.
func linger(w http.ResponseWriter, b *trackedBody, stopping func() bool) {
	if b == nil || !b.linger || b.eof {
		return
	}
	rc := http.NewResponseController(w)
	end := time.Now().Add(lingerTime)
	for left := int64(lingerBytes); left > 0 && !stopping(); {
		next := time.Now().Add(lingerSlice)
		if next.After(end) {
			next = end
		}
		if !time.Now().Before(end) || rc.SetReadDeadline(next) != nil {
			return
		}
		n, err := io.CopyN(io.Discard, b.ReadCloser, left)
		left -= n
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			return // all of it, the end of the body, or a failure
		}
	}
}

// lingerSlice is how often a drain looks whether the server stops.
const lingerSlice = 100 * time.Millisecond
