package logging

import (
	"errors"
	"log/slog"
)

// Typed errors callers branch on with errors.Is. The collator always returns
// them wrapped with context (the log's name, the path).
var (
	// ErrUnknownLog is returned by Write and Roll for a name that is not a
	// declared log (never declared, or removed by Apply). Ingest maps it to 404.
	ErrUnknownLog = errors.New("unknown log")
	// ErrClosed is returned by every method once Close has begun.
	ErrClosed = errors.New("collator closed")
	// ErrNotStarted is returned by Write, WriteLines, WriteBlock, Roll,
	// Reopen and Apply on a collator made by New, until Start.
	ErrNotStarted = errors.New("collator not started")
	// ErrSpaceExhausted is matched by Write's error while the space manager
	// has stopped accepting (see Collator.SetAccepting); the error is a
	// *SpaceError with the reason. Nothing of the call was written. Ingest
	// maps it to 503 with Retry-After.
	ErrSpaceExhausted = errors.New("log space exhausted")
	// ErrRestartRequired is returned by Apply for a change that cannot be
	// applied live (the log folder). The running configuration is kept.
	ErrRestartRequired = errors.New("restart required")
	// ErrBadRecord is returned by Write for a record that contains a newline:
	// every line of a log file is one whole record. Nothing of the call was
	// written.
	ErrBadRecord = errors.New("record contains a newline")
)

// SpaceError is the error of a Write refused because the log space is
// exhausted: it says why, and what it takes to resume, as the space manager
// put it (Collator.SetAccepting). It matches ErrSpaceExhausted.
type SpaceError struct {
	// Reason is the space manager's reason, current when the call was
	// refused.
	Reason string
}

// Error implements error.
func (e *SpaceError) Error() string { return ErrSpaceExhausted.Error() + ": " + e.Reason }

// Unwrap returns ErrSpaceExhausted.
func (e *SpaceError) Unwrap() error { return ErrSpaceExhausted }

// errLatch logs a failure that may repeat (a full disk fails every write) once
// when it starts and once when it clears, with the number of failures in
// between, instead of once per occurrence. It is not safe for concurrent use:
// each latch is guarded by what serialises its failing operation (a log's
// writer token: see writer).
type errLatch struct {
	failing bool
	count   int64
}

// fail records a failure and logs msg with err at error level if it is the
// first since the latch was last clear.
func (e *errLatch) fail(log *slog.Logger, msg string, err error, attrs ...any) {
	e.count++
	if !e.failing {
		e.failing = true
		log.Error(msg, append(attrs, "err", err)...)
	}
}

// ok records a success and, if the latch was failing, logs that the failure
// cleared and how many times it happened.
func (e *errLatch) ok(log *slog.Logger, msg string, attrs ...any) {
	if !e.failing {
		return
	}
	n := e.count
	e.failing, e.count = false, 0
	log.Info(msg, append(attrs, "failures", n)...)
}
