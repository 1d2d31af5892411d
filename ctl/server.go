package ctl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxRequestBody bounds the body of an admin request (a RollRequest).
const maxRequestBody = 1 << 20

// shutdownGrace is how long Shutdown lets the requests whose contexts it
// cancelled answer before it closes their connections.
const shutdownGrace = time.Second

// Server serves a Backend on the admin endpoints (docs/design.md §3).
//
// Goroutines: Serve runs an http.Server on the listener it is given, which
// starts one goroutine per connection; the caller owns the goroutine that
// calls Serve. Shutdown stops them: it closes the listeners, waits for the
// requests in flight and, if its context ends first, cancels their contexts
// and closes their connections. Serve returns nil once Shutdown was called.
type Server struct {
	b      Backend
	logs   atomic.Pointer[http.Handler] // POST /v1/logs/{name}, or nil (404)
	log    *slog.Logger
	srv    *http.Server
	cancel context.CancelFunc

	once sync.Once
	err  error
}

// NewServer returns a Server for b. logger receives a debug line per request
// and the backend's failures; nil means slog.Default().
func NewServer(b Backend, logger *slog.Logger) *Server {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{b: b, log: logger}
	base, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.srv = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
		BaseContext:       func(net.Listener) context.Context { return base },
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return s
}

// Handler returns the admin endpoints as an http.Handler, for tests and for
// serving them elsewhere. Every answer is JSON; errors are ErrorResponse.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc(PathRoll, s.only(http.MethodPost, s.roll))
	mux.HandleFunc(PathReload, s.only(http.MethodPost, s.reload))
	mux.HandleFunc(PathConfig, s.only(http.MethodGet, s.config))
	mux.HandleFunc(PathMetrics, s.only(http.MethodGet, s.metrics))
	mux.HandleFunc(PathStatus, s.only(http.MethodGet, s.status))
	mux.HandleFunc(PathRolled, s.only(http.MethodGet, s.rolled))
	mux.HandleFunc(PathLogs, func(w http.ResponseWriter, r *http.Request) {
		if h := s.logs.Load(); h != nil {
			(*h).ServeHTTP(&orderedWriter{ResponseWriter: w}, r)
			return
		}
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s: this daemon takes no records on its socket", r.URL.Path))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, fmt.Sprintf("no admin endpoint %s", r.URL.Path))
	})
	return mux
}

// SetLogs makes the socket serve POST /v1/logs/{name} with h, the ingest
// handler (what `logrollctl pipe` posts to): the same answers as the
// ingest port, without its TLS and tokens, since the socket's mode already
// admits only its owner. Call it before Serve.
func (s *Server) SetLogs(h http.Handler) { s.logs.Store(&h) }

// Serve serves the admin endpoints on l until Shutdown; it closes l. It
// returns nil after Shutdown, and the listener's error otherwise.
func (s *Server) Serve(l net.Listener) error {
	err := s.srv.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops the server: it closes the listeners, so that no new
// connection is accepted, and waits for the requests in flight (a roll may
// take seconds). If ctx ends first, it cancels the contexts of those requests,
// closes their connections and returns ctx's error. It is idempotent: later
// calls wait for the first and return its result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.once.Do(func() {
		s.err = s.srv.Shutdown(ctx)
		if s.err != nil {
			// The requests' contexts end: a handler that waits on them
			// answers (a roll waiting for its compression: 503) within
			// a moment; then whatever is left is closed.
			s.cancel()
			grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			if s.srv.Shutdown(grace) != nil {
				s.srv.Close()
			}
			cancel()
		}
		s.cancel()
	})
	return s.err
}

// orderedWriter is the ResponseWriter of PathLogs: it says
// HeaderPipelining, and closes the connection after an answer but 2xx,
// so that a request pipelined after a refused one is not processed (it
// would be written before the refused one is sent again).
type orderedWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *orderedWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.wrote = true
		h := w.Header()
		h.Set(HeaderPipelining, "close-on-refusal")
		if code < 200 || code > 299 {
			h.Set("Connection", "close")
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *orderedWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap gives http.ResponseController the connection's writer.
func (w *orderedWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// only wraps h so that other methods are answered 405 (GET routes accept HEAD).
func (s *Server) only(method string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != method && (method != http.MethodGet || r.Method != http.MethodHead) {
			w.Header().Set("Allow", method)
			s.fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("%s %s: method not allowed, use %s", r.Method, r.URL.Path, method))
			return
		}
		start := time.Now()
		h(w, r)
		s.log.Debug("admin request", "method", r.Method, "path", r.URL.Path, "duration", time.Since(start))
	}
}

func (s *Server) roll(w http.ResponseWriter, r *http.Request) {
	var req RollRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		s.fail(w, r, bodyStatus(err), fmt.Sprintf("read body: %v", err))
		return
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("bad roll request: %v", err))
			return
		}
		if dec.More() {
			s.fail(w, r, http.StatusBadRequest, "bad roll request: data after the JSON object")
			return
		}
	}
	resp, err := s.b.Roll(r.Context(), req.Logs)
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if resp.Rolled == nil {
		resp.Rolled = []RolledFile{}
	}
	s.reply(w, r, http.StatusOK, resp)
}

func (s *Server) reload(w http.ResponseWriter, r *http.Request) {
	res, err := s.b.Reload(r.Context())
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	code := http.StatusOK
	if !res.OK {
		code = http.StatusUnprocessableEntity
	}
	s.reply(w, r, code, res)
}

func (s *Server) config(w http.ResponseWriter, r *http.Request) {
	if !s.noQuery(w, r) {
		return
	}
	s.reply(w, r, http.StatusOK, s.b.Config())
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	if !s.noQuery(w, r) {
		return
	}
	s.reply(w, r, http.StatusOK, s.b.Status())
}

func (s *Server) rolled(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "log" {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use log=NAME)", k))
			return
		}
	}
	files, err := s.b.Rolled(q["log"])
	if err != nil {
		s.backendError(w, r, err)
		return
	}
	if files == nil {
		files = []RolledFile{}
	}
	s.reply(w, r, http.StatusOK, RolledResponse{Rolled: files})
}

// metrics answers the series whose name is one of the name= parameters or
// matches the match= regular expression (unanchored, as grep); all series
// when neither is given. They are sorted by name, then labels.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	for k := range q {
		if k != "name" && k != "match" {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use name=NAME or match=REGEX)", k))
			return
		}
	}
	names := q["name"]
	var re *regexp.Regexp
	if m := q["match"]; len(m) > 1 {
		s.fail(w, r, http.StatusBadRequest, "match= given more than once; combine the expressions with |")
		return
	} else if len(m) == 1 {
		var err error
		if re, err = regexp.Compile(m[0]); err != nil {
			s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("bad match expression: %v", err))
			return
		}
	}
	all := s.b.Metrics()
	out := make([]Metric, 0, len(all))
	for _, m := range all {
		if (len(names) == 0 && re == nil) || slices.Contains(names, m.Name) || (re != nil && (re.MatchString(m.Name) || re.MatchString(m.Series()))) {
			out = append(out, m)
		}
	}
	SortMetrics(out)
	s.reply(w, r, http.StatusOK, MetricsResponse{Metrics: out})
}

// noQuery refuses query parameters on endpoints that take none.
func (s *Server) noQuery(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.RawQuery != "" {
		s.fail(w, r, http.StatusBadRequest, fmt.Sprintf("%s takes no query parameters", r.URL.Path))
		return false
	}
	return true
}

// backendError answers a Backend's error with the matching status.
func (s *Server) backendError(w http.ResponseWriter, r *http.Request, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrUnknownLog):
		code = http.StatusNotFound
	case errors.Is(err, ErrUnavailable):
		code = http.StatusServiceUnavailable
	default:
		s.log.Error("admin request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	s.fail(w, r, code, err.Error())
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.reply(w, r, code, ErrorResponse{Error: msg})
}

// reply writes v as indented JSON (readable with curl) with status code.
func (s *Server) reply(w http.ResponseWriter, r *http.Request, code int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		s.log.Error("admin answer cannot be encoded", "path", r.URL.Path, "err", err)
		code = http.StatusInternalServerError
		data, _ = json.Marshal(ErrorResponse{Error: fmt.Sprintf("encode answer: %v", err)})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

// bodyStatus is the status of a failed read of a request's body: 413 for
// one over the limit, else 400.
func bodyStatus(err error) int {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}
