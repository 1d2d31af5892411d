package ingest

import (
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Bearer tokens on the ingest port (docs/design.md §12, docs/security.md). With
// SetTokens(ts) (proxy.config.ingest.auth_tokens_file), a request to
// POST /v1/logs/{name} or GET /metrics on a listener served by Serve must
// carry "Authorization: Bearer TOKEN" whose SHA-256 is listed:
//
//	401 no Authorization header, another scheme, or an unknown token
//	    (WWW-Authenticate: Bearer realm="logroll", with error="invalid_token"
//	    for an unknown one); nothing else of the request is looked at
//	403 a known token that may not write to that log
//
// Both are answered before the body is read, with the usual JSON
// {"error": …}; nothing is written. GET /healthz needs no token (load
// balancers probe it). Handler() (the admin socket's) asks for none.

// SetTokens sets the tokens the ingest port asks for from now on; nil asks
// for none. It is safe to call at any time (a reload).
func (s *Server) SetTokens(ts *Tokens) { s.tokens.Store(ts) }

var (
	hdrAuthMissing = []string{`Bearer realm="logroll"`}
	hdrAuthInvalid = []string{`Bearer realm="logroll", error="invalid_token"`}
)

// authenticate checks r's bearer token when tokens are set: it returns the
// token (nil when none is asked for) and true, or answers 401 and returns
// false.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*Token, bool) {
	ts := s.tokens.Load()
	if ts == nil {
		return nil, true
	}
	h := r.Header.Get("Authorization")
	secret, ok := BearerToken(h)
	if !ok {
		w.Header()["Www-Authenticate"] = hdrAuthMissing
		msg := "missing bearer token: send Authorization: Bearer TOKEN (proxy.config.ingest.auth_tokens_file is set)"
		if h != "" {
			msg = "Authorization is not a bearer token: send Authorization: Bearer TOKEN"
		}
		s.refuse(w, r, http.StatusUnauthorized, msg, "")
		return nil, false
	}
	tok := ts.Authenticate(secret)
	if tok == nil {
		w.Header()["Www-Authenticate"] = hdrAuthInvalid
		s.refuse(w, r, http.StatusUnauthorized, "invalid bearer token: its SHA-256 is not in the tokens file", "")
		return nil, false
	}
	if s.log.Enabled(r.Context(), slog.LevelDebug) {
		s.log.LogAttrs(r.Context(), slog.LevelDebug, "ingest: token accepted", slog.String("token", tok.Name),
			slog.String("path", r.URL.Path), slog.String("remote", r.RemoteAddr), slog.String("logs", tok.Allowed()))
	}
	return tok, true
}

// serverLog receives net/http's own error lines. A failed TLS handshake
// (a client without a valid certificate, a scanner, a plain HTTP request,
// a slowloris cut by the timeout) is counted (Stats.TLSHandshakeErrors) and
// logged at Warn at most once every 10 s with the count since, every one
// at Debug: anyone who reaches the port can cause them. Other lines go to
// Warn.
type serverLog struct {
	s      *Server
	mu     sync.Mutex
	last   time.Time
	hidden int64
}

func (l *serverLog) Write(p []byte) (int, error) {
	msg := strings.TrimSpace(string(p))
	s := l.s
	if !strings.HasPrefix(msg, "http: TLS handshake error") {
		s.log.Warn(msg)
		return len(p), nil
	}
	s.stats.tlsErrors.Add(1)
	l.mu.Lock()
	now := time.Now()
	show := l.last.IsZero() || now.Sub(l.last) >= 10*time.Second
	n := l.hidden
	if show {
		l.last, l.hidden = now, 0
	} else {
		l.hidden++
	}
	l.mu.Unlock()
	if show {
		s.log.Warn(msg, "refused_since_last_warning", n)
	} else {
		s.log.Debug(msg)
	}
	return len(p), nil
}
