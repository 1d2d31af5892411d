package ingest

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
)

// Header values, shared read-only by every answer: assigning a prepared
// slice saves the allocation Header().Set makes.
var (
	hdrJSON      = []string{"application/json"}
	hdrText      = []string{"text/plain; charset=utf-8"}
	hdrNoSniff   = []string{"nosniff"}
	hdrClose     = []string{"close"}
	hdrAllowPost = []string{"POST"}
	hdrAllowGet  = []string{"GET, HEAD"}
	okBody       = []byte("ok")
)

// Messages of the refusals that do not depend on the request.
const (
	msgStopping = "logrolld is shutting down, nothing written, retry later"
	msgBusy     = "too many requests in flight, nothing written, retry later"
	msgNoMemory = "too much request data in flight, nothing written, retry later"
)

// refuse answers r with an error status and the JSON body {"error": msg},
// counts it, and logs it at Debug. 429 and 503 carry Retry-After. log is the
// log's active name, or "" when not known.
func (s *Server) refuse(w http.ResponseWriter, r *http.Request, code int, msg, log string) {
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["X-Content-Type-Options"] = hdrNoSniff
	if code == http.StatusServiceUnavailable || code == http.StatusTooManyRequests {
		h["Retry-After"] = s.retryAfter
	}
	if code == http.StatusUnauthorized {
		// A client without a valid token keeps no connection: it could
		// hold one for ever with a request every IdleTimeout.
		h["Connection"] = hdrClose
	}
	body := errorBody(msg)
	lingering := prepareLinger(w, r) // the body not read to its end: linger.go
	if lingering {
		// Flushed before the handler returns, the answer needs its
		// length: the client has all of it without waiting for the drain.
		h["Content-Length"] = []string{strconv.Itoa(len(body))}
	}
	w.WriteHeader(code)
	s.stats.answered(code)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
	if lingering {
		_ = http.NewResponseController(w).Flush()
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "ingest: request refused",
			slog.Int("status", code), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("log", log), slog.String("remote", r.RemoteAddr), slog.String("error", msg))
	}
}

// refuseStopping answers 503 for a server (or Writer) that is stopping, with
// Connection: close so that the client reconnects, to a restarted daemon.
func (s *Server) refuseStopping(w http.ResponseWriter, r *http.Request, log string) {
	w.Header()["Connection"] = hdrClose
	s.refuse(w, r, http.StatusServiceUnavailable, msgStopping, log)
}

// errorBody returns {"error": msg} as JSON.
func errorBody(msg string) []byte {
	b, err := json.Marshal(struct {
		Error string `json:"error"`
	}{msg})
	if err != nil { // cannot happen: a string always marshals
		return []byte(`{"error":"internal error"}`)
	}
	return b
}

// readFailure returns the status and message for an error of ReadBody or
// Decompress.
func readFailure(err error, limit int64, enc Encoding) (int, string) {
	var (
		tooBig  *TooLargeError
		wireBig *http.MaxBytesError
		corrupt *CorruptError
		netErr  net.Error
	)
	switch {
	case errors.Is(err, errNoMemory):
		return http.StatusTooManyRequests, msgNoMemory
	case errors.As(err, &tooBig):
		return http.StatusRequestEntityTooLarge, tooLarge(limit, enc, -1)
	case errors.As(err, &wireBig):
		return http.StatusRequestEntityTooLarge, "gzip body too large: more than " +
			strconv.FormatInt(wireBig.Limit, 10) + " compressed bytes for a limit of " +
			strconv.FormatInt(limit, 10) + " bytes after decompression (proxy.config.ingest.max_body_mb)"
	case errors.As(err, &corrupt):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		// 503, not 408: nothing was written and the request may succeed
		// when retried, and shippers (Logstash) retry 5xx but drop 408.
		return http.StatusServiceUnavailable, "reading the body timed out, nothing written: " + err.Error()
	}
	return http.StatusBadRequest, "reading the body failed, nothing written: " + err.Error()
}

// tooLarge is the 413 message; length is the Content-Length when the body
// was refused without reading it, else -1.
func tooLarge(limit int64, enc Encoding, length int64) string {
	msg := "body too large: more than " + strconv.FormatInt(limit, 10) + " bytes"
	if enc == Gzip {
		msg += " after decompression"
	}
	if length >= 0 {
		what := "Content-Length "
		if enc == Gzip {
			what = "compressed Content-Length "
		}
		msg += " (" + what + strconv.FormatInt(length, 10) + ")"
	}
	return msg + "; the limit is proxy.config.ingest.max_body_mb"
}
