package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/logging/ingest"
	"github.com/logroll/logroll/records"
)

// The remote admin listener (docs/design.md §12, docs/security.md "Remote admin"):
// [proxy.config.admin] http_listen, off by default, for agents on other
// hosts that roll a log on demand and fetch the finished files (Conveyer's
// GET). It serves only
//
//	POST /v1/roll     body ctl.RollRequest (empty: every log the token may) → ctl.RollResponse
//	GET  /v1/roll     ?log=NAME (repeated) → the same, for agents that only GET
//	GET  /v1/rolled   ?log=NAME (repeated) → ctl.RolledResponse
//	GET  /v1/status   → ctl.Status
//
// always over TLS (the ingest port's certificate and client CAs) and with a
// token of the tokens file marked "admin" (the load rule refuses the
// listener without both); each answer is limited to the logs the token may
// write. Nothing else is served (404): no reload, no configuration, no
// records.

// remoteAdmin is the listener's server; its handler goroutines are
// net/http's, stopped by Shutdown.
type remoteAdmin struct {
	d  *Daemon
	hs *http.Server
}

// listenRemoteAdmin opens the remote admin listener when configured.
func (d *Daemon) listenRemoteAdmin(cfg *records.Config) (net.Listener, error) {
	addr := cfg.Str(records.AdminHTTPListen)
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("remote admin listener (%s): %w", records.AdminHTTPListen, err)
	}
	d.adminHTTPAddr = l.Addr().String()
	ra := &remoteAdmin{d: d}
	ra.hs = &http.Server{
		Handler:           ra,
		ReadHeaderTimeout: 10 * time.Second, // also bounds the TLS handshake
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelDebug),
	}
	d.remote = ra
	return &tlsListener{Listener: newLimitListener(l, maxAdminConns), sec: &d.sec}, nil
}

// ServeHTTP authenticates and routes a request.
func (ra *remoteAdmin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := ra.d
	sec := d.sec.Load()
	if sec == nil || sec.tls == nil || sec.tokens == nil || r.TLS == nil {
		// The load rule makes this impossible; fail closed all the same.
		ra.fail(w, r, http.StatusForbidden, "the remote admin listener needs TLS and a tokens file")
		return
	}
	secret, ok := ingest.BearerToken(r.Header.Get("Authorization"))
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="logroll"`)
		ra.fail(w, r, http.StatusUnauthorized, "missing bearer token: send Authorization: Bearer TOKEN")
		return
	}
	tok := sec.tokens.Authenticate(secret)
	if tok == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="logroll", error="invalid_token"`)
		ra.fail(w, r, http.StatusUnauthorized, "invalid bearer token: its SHA-256 is not in the tokens file")
		return
	}
	if !tok.Admin {
		ra.fail(w, r, http.StatusForbidden, fmt.Sprintf("token %q may not use the remote admin listener (mark it \"admin\" in the tokens file)", tok.Name))
		return
	}
	switch r.URL.Path {
	case ctl.PathRoll:
		ra.roll(w, r, tok)
	case ctl.PathRolled:
		if ra.method(w, r, http.MethodGet) {
			ra.rolled(w, r, tok)
		}
	case ctl.PathStatus:
		if ra.method(w, r, http.MethodGet) {
			ra.status(w, r, tok)
		}
	default:
		ra.fail(w, r, http.StatusNotFound, fmt.Sprintf("no endpoint %s %s: the remote admin listener serves POST or GET %s, GET %s and GET %s",
			r.Method, r.URL.Path, ctl.PathRoll, ctl.PathRolled, ctl.PathStatus))
	}
}

// method answers 405 unless r uses want (GET also admits HEAD).
func (ra *remoteAdmin) method(w http.ResponseWriter, r *http.Request, want string) bool {
	if r.Method == want || want == http.MethodGet && r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", want)
	ra.fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: use %s", r.Method, r.URL.Path, want))
	return false
}

// logsOf returns the active names of the logs asked for (query log=, or
// the body's), each of which the token must be allowed; none asked means
// every declared log it may write.
func (ra *remoteAdmin) logsOf(w http.ResponseWriter, r *http.Request, tok *ingest.Token, asked []string) ([]string, bool) {
	d := ra.d
	if len(asked) == 0 {
		var all []string
		for _, l := range d.config().Logs {
			if tok.MayWrite(l.Filename) {
				all = append(all, l.Filename)
			}
		}
		if len(all) == 0 {
			ra.fail(w, r, http.StatusForbidden, fmt.Sprintf("token %q may use none of the declared logs (it may: %s)", tok.Name, tok.Allowed()))
			return nil, false
		}
		return all, true
	}
	names, err := d.activeNames(asked)
	if err != nil {
		// Not the declared logs (the local socket's answer): a token
		// learns only the logs it may use.
		var unknown []string
		for _, n := range asked {
			if _, ok := d.config().Log(n); !ok {
				unknown = append(unknown, strconv.Quote(n))
			}
		}
		ra.fail(w, r, http.StatusNotFound, fmt.Sprintf("unknown log %s (token %q may use: %s)", strings.Join(unknown, ", "), tok.Name, tok.Allowed()))
		return nil, false
	}
	names = uniq(names) // log=access given 5,000 times is one log
	for _, n := range names {
		if !tok.MayWrite(n) {
			ra.fail(w, r, http.StatusForbidden, fmt.Sprintf("token %q may not use log %q (it may: %s)", tok.Name, n, tok.Allowed()))
			return nil, false
		}
	}
	return names, true
}

// roll: POST with a ctl.RollRequest body, or GET with ?log=.
func (ra *remoteAdmin) roll(w http.ResponseWriter, r *http.Request, tok *ingest.Token) {
	var asked []string
	switch r.Method {
	case http.MethodPost:
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			status := http.StatusBadRequest
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				status = http.StatusRequestEntityTooLarge
			}
			ra.fail(w, r, status, "read body: "+err.Error())
			return
		}
		if strings.TrimSpace(string(body)) != "" {
			var req ctl.RollRequest
			dec := json.NewDecoder(strings.NewReader(string(body)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&req); err != nil || dec.More() {
				ra.fail(w, r, http.StatusBadRequest, fmt.Sprintf("bad roll request: want {\"logs\": [NAME, …]}: %v", err))
				return
			}
			asked = req.Logs
		}
	case http.MethodGet:
		for k := range r.URL.Query() {
			if k != "log" {
				ra.fail(w, r, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use log=NAME)", k))
				return
			}
		}
		asked = r.URL.Query()["log"]
	default:
		w.Header().Set("Allow", "POST, GET")
		ra.fail(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s not allowed on %s: use POST or GET", r.Method, r.URL.Path))
		return
	}
	names, ok := ra.logsOf(w, r, tok, asked)
	if !ok {
		return
	}
	resp, err := ra.d.Roll(r.Context(), names)
	if err != nil {
		ra.backendError(w, r, err)
		return
	}
	ra.d.log.Info("remote roll", "token", tok.Name, "remote", r.RemoteAddr, "logs", names, "rolled", len(resp.Rolled))
	ra.reply(w, r, http.StatusOK, resp)
}

// rolled lists the rolled files of the logs asked for (or all the token's).
func (ra *remoteAdmin) rolled(w http.ResponseWriter, r *http.Request, tok *ingest.Token) {
	for k := range r.URL.Query() {
		if k != "log" {
			ra.fail(w, r, http.StatusBadRequest, fmt.Sprintf("unknown query parameter %q (use log=NAME)", k))
			return
		}
	}
	names, ok := ra.logsOf(w, r, tok, r.URL.Query()["log"])
	if !ok {
		return
	}
	files, err := ra.d.Rolled(names)
	if err != nil {
		ra.backendError(w, r, err)
		return
	}
	if files == nil {
		files = []ctl.RolledFile{}
	}
	ra.reply(w, r, http.StatusOK, ctl.RolledResponse{Rolled: files})
}

// status answers the daemon's status with the token's logs only.
func (ra *remoteAdmin) status(w http.ResponseWriter, r *http.Request, tok *ingest.Token) {
	if r.URL.RawQuery != "" {
		ra.fail(w, r, http.StatusBadRequest, r.URL.Path+" takes no query parameters")
		return
	}
	st := ra.d.Status()
	logs := st.Logs[:0:0]
	for _, l := range st.Logs {
		if tok.MayWrite(l.Name) {
			logs = append(logs, l)
		}
	}
	st.Logs = logs
	ra.reply(w, r, http.StatusOK, st)
}

// backendError answers an error of the daemon's admin methods.
func (ra *remoteAdmin) backendError(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, ctl.ErrUnknownLog):
		ra.fail(w, r, http.StatusNotFound, err.Error())
	case errors.Is(err, ctl.ErrUnavailable):
		w.Header().Set("Retry-After", "1")
		ra.fail(w, r, http.StatusServiceUnavailable, err.Error())
	default:
		ra.d.log.Error("remote admin request failed", "path", r.URL.Path, "err", err)
		ra.fail(w, r, http.StatusInternalServerError, err.Error())
	}
}

func (ra *remoteAdmin) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if code == http.StatusUnauthorized {
		w.Header().Set("Connection", "close") // no connection kept without a valid token
	}
	ra.d.log.Debug("remote admin request refused", "status", code, "path", r.URL.Path, "remote", r.RemoteAddr, "error", msg)
	ra.reply(w, r, code, ctl.ErrorResponse{Error: msg})
}

// reply writes v as indented JSON with status code.
func (ra *remoteAdmin) reply(w http.ResponseWriter, r *http.Request, code int, v any) {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		code = http.StatusInternalServerError
		data, _ = json.Marshal(ctl.ErrorResponse{Error: "encode answer: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		w.Write(append(data, '\n'))
	}
}

// serve serves l until shutdown.
func (ra *remoteAdmin) serve(l net.Listener) error {
	if err := ra.hs.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// shutdown stops the listener, waiting for the requests in flight (a roll)
// until ctx ends, then closing their connections.
func (ra *remoteAdmin) shutdown(ctx context.Context) error {
	err := ra.hs.Shutdown(ctx)
	if err != nil {
		ra.hs.Close()
	}
	return err
}

// uniq returns names without repeats, in their first order.
func uniq(names []string) []string {
	out := names[:0:0]
	for _, n := range names {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	return out
}
