// Package ctl is logroll's admin protocol (docs/design.md §2, §3): HTTP+JSON over the
// daemon's Unix socket. It holds the wire types (protocol.go), the server that
// serves a Backend on a socket of mode 0600, and the Client that logrollctl
// and scripts use.
//
// ctl knows nothing of the write path: the daemon implements Backend.
//
// # Endpoints
//
// Every answer is a JSON document (indented, so that curl output reads well);
// every error answer is an ErrorResponse:
//
//	POST /v1/roll           body RollRequest (empty body: every log) → RollResponse
//	POST /v1/config/reload  no body → ReloadResult; 422 with the ReloadResult when refused
//	GET  /v1/config         → ConfigResponse
//	GET  /v1/metrics        ?name=N (repeated) &match=REGEX → MetricsResponse
//	GET  /v1/status         → Status
//	GET  /v1/rolled         ?log=L (repeated) → RolledResponse
//	POST /v1/logs/{name}    a text body → {"records":N}, served by the ingest handler (Server.SetLogs)
//
// Status codes: 200; 400 for a malformed body, an unknown query parameter or
// a bad regular expression; 404 for an unknown endpoint or a Backend error
// wrapping ErrUnknownLog; 405 for a wrong method (with Allow); 422 for a
// refused reload; 503 for ErrUnavailable; 500 for any other Backend error. A
// roll that failed for some logs is still 200, with RollResponse.Errors.
//
// /v1/metrics answers the series whose name is one of the name= values or
// matches the match= expression (Go syntax, unanchored as with grep; use ^…$
// to anchor); every series when neither is given. Series are sorted by name,
// then labels.
//
// With curl:
//
//	curl --unix-socket run/logrolld.sock -X POST http://logrolld/v1/roll
//	curl --unix-socket run/logrolld.sock 'http://logrolld/v1/metrics?match=^proxy.process.log.roll'
//
// # Socket
//
// Listen creates the socket with mode 0600 from the start (see Listen for
// how), refuses to take over a socket that another daemon answers on
// (ErrInUse), removes a stale one, and never removes anything that is not a
// socket.
//
// # Client
//
// Client errors are typed for the caller to branch on: *UnreachableError when
// the socket cannot be connected to (logrollctl exits 3), *RemoteError when
// the daemon answered with an error status (exit 1).
//
// # Pipe
//
// RunPipe is `logrollctl pipe LOG`: it reads lines from a stream into a
// bounded queue and posts them through a PipeConn, in order, retrying each
// request until it is answered 200 (docs/pipe.md). PipeConn writes each
// request in one writev, and sends the next one before the answer of the
// one before (pipelining) once the daemon says, in the
// Logroll-Pipelining answer header of POST /v1/logs/, that it closes the
// connection after a refusal: a request after a refused one is never
// processed, so order holds.
//
// # For the daemon and for tests
//
// ConfigFrom builds the GET /v1/config answer from a records.Config and
// ChangesFrom converts records.Diff's changes, so that every daemon answers
// in the form logrollctl reads. Package ctltest has a fake Backend and serves
// one on a temporary socket.
package ctl
