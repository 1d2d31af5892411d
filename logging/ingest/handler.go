package ingest

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"github.com/logroll/logroll/logging"
)

// logsPrefix is the path of the log endpoint, before {name}.
const logsPrefix = "/v1/logs/"

// serveHTTP routes a request. The path is matched after percent-decoding
// (r.URL.Path) and is never cleaned: "/v1/logs/../x" and "/v1/logs/a%2Fb"
// reach serveLogs, whose name check refuses them.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) { s.route(w, r, false) }

// servePublic routes a request of the ingest port: as serveHTTP, but with
// tokens set, POST /v1/logs and GET /metrics need a bearer token (auth.go).
func (s *Server) servePublic(w http.ResponseWriter, r *http.Request) { s.route(w, r, true) }

// route routes a request; public requests are authenticated. A refusal
// that left the body unread drains it once the request is out of the gate
// and its slots (linger.go).
func (s *Server) route(w http.ResponseWriter, r *http.Request, public bool) {
	b := track(r)
	s.routeGated(w, r, public)
	linger(w, b, s.gate.closed)
	untrack(r, b)
}

func (s *Server) routeGated(w http.ResponseWriter, r *http.Request, public bool) {
	if !s.gate.enter() {
		s.refuseStopping(w, r, "")
		return
	}
	defer s.gate.leave()
	p := r.URL.Path
	isLogs := len(p) >= len(logsPrefix) && p[:len(logsPrefix)] == logsPrefix
	var tok *Token
	if public && (isLogs || p == "/metrics" && s.metrics != nil) {
		var ok bool
		if tok, ok = s.authenticate(w, r); !ok {
			return
		}
	}
	if ts := s.tokens.Load(); public && tok == nil && ts != nil && !validToken(ts, r) {
		// A request without a valid token (/healthz, a wrong path) keeps
		// no connection: clients without one cannot hold the port's
		// connections with a request every idle timeout.
		w.Header()["Connection"] = hdrClose
	}
	switch {
	case isLogs:
		s.serveLogs(w, r, p[len(logsPrefix):], tok, public)
	case p == "/healthz":
		if !getOrHead(w, r, s) {
			return
		}
		// Health checks and scrapes are not ingest requests: only their
		// refusals are counted (a probe every few seconds would swamp
		// the counts of the records' requests).
		w.Header()["Content-Type"] = hdrText
		w.WriteHeader(http.StatusOK)
		if r.Method != http.MethodHead {
			w.Write(okBody)
		}
	case p == "/metrics" && s.metrics != nil:
		if !getOrHead(w, r, s) {
			return
		}
		s.metrics.ServeHTTP(w, r)
	default:
		s.refuse(w, r, http.StatusNotFound, "no such endpoint: "+r.Method+" "+p+
			" (ingest serves POST "+logsPrefix+"{name}, GET /healthz and GET /metrics)", "")
	}
}

// getOrHead answers 405 and returns false unless r is a GET or a HEAD.
func getOrHead(w http.ResponseWriter, r *http.Request, s *Server) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header()["Allow"] = hdrAllowGet
	s.refuse(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+": use GET", "")
	return false
}

// reqState is the pooled per-request memory of serveLogs: the body and its
// records (a block of lines, in the body or beside it), and the answer's
// bytes.
type reqState struct {
	body bytes.Buffer
	recs Records
	out  []byte
	mem  hold // the memory of body and recs, from the server's budget
}

var statePool = sync.Pool{New: func() any { return new(reqState) }}

// maxPooled is the largest body buffer (and JSON compaction buffer) kept in
// the pool, in bytes; states that grew beyond it for a rare huge body are
// left to the garbage collector rather than pinned by the pool.
const maxPooled = 4 << 20

// putState empties st and returns it to the pool, unless it grew too big.
func putState(st *reqState) {
	st.mem.release()
	st.mem.b, st.recs.hold = nil, nil
	st.recs.Reset()
	st.body.Reset()
	if st.body.Cap() > maxPooled || cap(st.recs.buf) > maxPooled || cap(st.recs.recs) > maxPooled/16 {
		return
	}
	statePool.Put(st)
}

// serveLogs handles /v1/logs/{name}: check, read, decode, one Write, answer.
func (s *Server) serveLogs(w http.ResponseWriter, r *http.Request, name string, tok *Token, public bool) {
	active, err := s.names.check(name)
	if err != nil {
		s.refuse(w, r, http.StatusNotFound, err.Error(), "")
		return
	}
	if tok != nil && !tok.MayWrite(active) {
		s.refuse(w, r, http.StatusForbidden, "token "+strconv.Quote(tok.Name)+" may not write to log "+strconv.Quote(active)+" (it may write to: "+tok.Allowed()+")", active)
		return
	}
	if r.Method != http.MethodPost {
		w.Header()["Allow"] = hdrAllowPost
		s.refuse(w, r, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed on "+r.URL.Path+": use POST", active)
		return
	}
	ct, err := oneHeader(r.Header, "Content-Type", true)
	var f Format
	if err == nil {
		f, err = formatOf(ct)
	}
	if err == nil {
		var ce string
		if ce, err = oneHeader(r.Header, "Content-Encoding", false); err == nil {
			var enc Encoding
			if enc, err = EncodingFor(ce); err == nil {
				s.serveBody(w, r, active, f, enc, public)
				return
			}
		}
	}
	s.refuse(w, r, http.StatusUnsupportedMediaType, err.Error(), active)
}

// oneHeader returns the value of the header name, which a request may send
// once at most: two values (two lines, which net/http keeps apart) would
// leave the body's type or coding to a guess, so they are an
// *UnsupportedError (415) — unless they are the same and sameOK (a
// Content-Type repeated; a Content-Encoding repeated is a coding applied
// twice, RFC 9110 §8.4, which is refused like a list).
func oneHeader(h http.Header, name string, sameOK bool) (string, error) {
	vs := h[name]
	for _, v := range vs[min(1, len(vs)):] {
		if v != vs[0] || !sameOK {
			return "", &UnsupportedError{What: strings.ReplaceAll(strings.ToLower(name), "-", " "), Value: strings.Join(vs, ", "),
				Reason: "sent " + strconv.Itoa(len(vs)) + " times: send one"}
		}
	}
	if len(vs) == 0 {
		return "", nil
	}
	return vs[0], nil
}

// serveBody reads, decodes and writes the body of a valid POST to log.
func (s *Server) serveBody(w http.ResponseWriter, r *http.Request, log string, f Format, enc Encoding, public bool) {
	limit := s.maxBody.Load()
	wire := limit
	if enc == Gzip {
		wire = gzipWireLimit(limit)
	}
	if r.ContentLength > wire {
		s.refuse(w, r, http.StatusRequestEntityTooLarge, tooLarge(limit, enc, r.ContentLength), log)
		return
	}
	slots := &s.inFlight
	if !public {
		slots = &s.inFlightLocal
	}
	if !s.acquire(slots) {
		s.refuse(w, r, http.StatusTooManyRequests, msgBusy, log)
		return
	}
	defer slots.Add(-1)
	st := statePool.Get().(*reqState)
	defer putState(st)
	st.mem.b, st.recs.hold = &s.mem, &st.mem
	if !st.mem.add(st.held()) {
		// The pooled buffers are big and memory is short: start small.
		st.body, st.recs = bytes.Buffer{}, Records{hold: &st.mem}
	}
	st.recs.split = s.writeBlock == nil // a plain Writer takes records one by one, no block

	var err error
	switch {
	case r.Body == nil:
		st.body.Reset()
	case enc == Gzip:
		err = decompress(http.MaxBytesReader(w, r.Body, wire), limit, &st.body, &st.mem)
	default:
		if r.ContentLength > 0 {
			// Grow for the announced length, but not beyond growCap before
			// the bytes arrive: a Content-Length alone must not reserve
			// memory (ReadBody grows the buffer as the body comes in).
			st.body.Reset()
			if n := int(min(r.ContentLength+1, growCap)); n > st.body.Cap() && st.mem.add(int64(n-st.body.Cap())) {
				grow(&st.body, n) // one read past the end sees EOF
			}
		}
		// A body cannot pass its Content-Length (net/http ends it there), so
		// the buffer need not grow past it either.
		most := limit
		if r.ContentLength >= 0 {
			most = min(limit, r.ContentLength)
		}
		err = readBody(r.Body, most, &st.body, &st.mem)
	}
	if err != nil {
		code, msg := readFailure(err, limit, enc)
		s.refuse(w, r, code, msg, log)
		return
	}
	body := st.body.Bytes()
	s.stats.bodyBytes.Add(int64(len(body)))
	if err := Decode(f, body, &st.recs); err != nil {
		if err == errNoMemory {
			s.refuse(w, r, http.StatusTooManyRequests, msgNoMemory, log)
			return
		}
		s.refuse(w, r, http.StatusBadRequest, f.String()+" body: "+err.Error(), log)
		return
	}
	// body stays alive (st is pooled only after this returns) until the
	// write returns: the block may be the body itself.
	n := st.recs.Len()
	if s.writeBlock != nil {
		err = s.writeBlock(log, st.recs.Block(), n)
	} else {
		err = s.write(log, st.recs.recs)
	}
	if err != nil {
		s.writeFailed(w, r, log, err)
		return
	}
	s.answerOK(w, st, n, st.recs.Size()+n)
}

// answerOK answers a written request: 200 with {"records":n}, n records
// of size bytes (newlines included) counted.
func (s *Server) answerOK(w http.ResponseWriter, st *reqState, n, size int) {
	s.stats.records.Add(int64(n))
	s.stats.bytes.Add(int64(size))
	h := w.Header()
	h["Content-Type"] = hdrJSON
	w.WriteHeader(http.StatusOK)
	s.stats.answered(http.StatusOK)
	st.out = append(st.out[:0], `{"records":`...)
	st.out = strconv.AppendInt(st.out, int64(n), 10)
	st.out = append(st.out, '}')
	w.Write(st.out)
}

// writeFailed answers a Write error (docs/design.md §3): nothing of the request was
// written, so the status says whether a retry can succeed.
func (s *Server) writeFailed(w http.ResponseWriter, r *http.Request, log string, err error) {
	switch {
	case errors.Is(err, logging.ErrUnknownLog):
		s.refuse(w, r, http.StatusNotFound, "unknown log "+strconv.Quote(log)+": not declared in [[logs]]", log)
	case errors.Is(err, logging.ErrSpaceExhausted):
		msg := logging.ErrSpaceExhausted.Error()
		var se *logging.SpaceError
		if errors.As(err, &se) {
			msg = se.Error() // the reason, with the current figures and what it takes to resume
		}
		s.refuse(w, r, http.StatusServiceUnavailable, "nothing written, retry later: "+msg, log)
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		// The partition is full (of bytes or of inodes) or the quota
		// reached: the space manager hears of it from the failed write and
		// frees space or stops accepting; a retry can succeed.
		s.refuse(w, r, http.StatusServiceUnavailable, "writing log "+strconv.Quote(log)+" failed: no space left on the log partition, nothing written, retry later", log)
	case errors.Is(err, logging.ErrClosed):
		s.refuseStopping(w, r, log)
	case errors.Is(err, logging.ErrBadRecord):
		s.refuse(w, r, http.StatusBadRequest, err.Error(), log)
	default:
		// Said once per fault, not per request: the collator logs a
		// failing write when the failures start and when they end, with
		// the cause, and counts them (write_errors); a full or failing
		// disk fails every request, and a line each would flood the log.
		// The request's own detail is for Debug.
		if s.log.Enabled(r.Context(), slog.LevelDebug) {
			s.log.LogAttrs(r.Context(), slog.LevelDebug, "ingest: write failed, request refused with 500",
				slog.String("log", log), slog.String("remote", r.RemoteAddr), slog.Any("err", err))
		}
		s.refuse(w, r, http.StatusInternalServerError, "writing log "+strconv.Quote(log)+" failed, nothing written, retry later (see the daemon's log)", log)
	}
}

// growCap bounds what a request's Content-Length reserves before its body
// arrives, in bytes.
const growCap = 256 << 10

// formatOf is FormatFor with a fast path for the values shippers send, which
// FormatFor would parse (and allocate for) on every request.
func formatOf(ct string) (Format, error) {
	switch ct {
	case "", "text/plain", "text/plain; charset=utf-8":
		return Text, nil
	case "application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8":
		return JSON, nil
	case "application/x-ndjson":
		return NDJSON, nil
	}
	return FormatFor(ct)
}

// gzipWireLimit is the largest compressed body read for a decompressed limit:
// deflate's worst case (stored blocks) adds 5 bytes per 64 KiB, the gzip
// header and trailer a few dozen, so limit + limit/64 + 64 KiB is never
// reached by a body within the limit, while a stream of empty gzip members
// or blocks cannot be fed forever.
func gzipWireLimit(limit int64) int64 { return limit + limit/64 + 64<<10 }

// validToken reports whether r carries a bearer token of ts (for a path
// that asks for none: /healthz keeps the connection of a client that has
// one).
func validToken(ts *Tokens, r *http.Request) bool {
	secret, ok := BearerToken(r.Header.Get("Authorization"))
	return ok && ts.Authenticate(secret) != nil
}
