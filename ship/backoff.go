package ship

import (
	"net/http"
	"time"
)

// Retry policy: transient failures (the store answered 5xx, 408 or 429, a
// 4xx whose S3 code says it passes, or did not answer: refused connection,
// reset, timeout, a connection that stalled) are retried with
// exponential backoff for as long as they last; permanent ones (any other
// 4xx: 400, 403, 404 NoSuchBucket; a different object already under the
// key) are logged and counted, and the file waits, not retried, until the
// next reload or restart (the operator fixes the policy or the bucket).
// A hook that fails (exit status, timeout, cannot start) is retried with
// the same backoff: only the program knows whether it will ever succeed.

// Kind classifies a failure, for the retry decision and the metrics.
type Kind string

// The kinds of failure.
const (
	// KindNetwork: the store did not answer (connection refused or reset,
	// timeout, DNS). Transient.
	KindNetwork Kind = "network"
	// KindServer: the store answered 5xx, 408 Request Timeout, 429, a
	// transient S3 error code with a 4xx (400 RequestTimeout, 403
	// RequestTimeTooSkewed), or a temporary redirect. Transient.
	KindServer Kind = "server"
	// KindRefused: the store answered another 4xx (403 AccessDenied, 400,
	// 404 NoSuchBucket, 400 BadDigest) or 301 PermanentRedirect. Permanent.
	KindRefused Kind = "refused"
	// KindConflict: an object with other bytes already has the key (412 to
	// the conditional create, and the stored checksum differs). Permanent:
	// nothing ever overwrites it.
	KindConflict Kind = "conflict"
	// KindLocal: the local file could not be read. Transient (the disk).
	KindLocal Kind = "local"
	// KindExit, KindTimeout, KindStart: on_roll_command exited non-zero,
	// ran past its timeout (killed), or could not be started. Transient.
	KindExit    Kind = "exit"
	KindTimeout Kind = "timeout"
	KindStart   Kind = "start"
)

// Kinds lists every kind, for metrics with a zero for each.
var Kinds = []Kind{KindNetwork, KindServer, KindRefused, KindConflict, KindLocal, KindExit, KindTimeout, KindStart}

// Permanent reports whether failures of kind k are not retried (until a
// reload or a restart).
func (k Kind) Permanent() bool { return k == KindRefused || k == KindConflict }

// Failure is a failed attempt to hand a file on.
type Failure struct {
	Kind Kind
	// Status is the store's HTTP status (0 when it did not answer, or for
	// a hook); Code its error code ("AccessDenied").
	Status int
	Code   string
	Err    error
}

func (f *Failure) Error() string { return f.Err.Error() }

// attrs are f's log attributes: the store's status and code only when it
// answered (a hook's failure has neither; its exit status is in err).
func (f *Failure) attrs() []any {
	a := []any{"kind", string(f.Kind)}
	if f.Status != 0 {
		a = append(a, "status", f.Status)
	}
	if f.Code != "" {
		a = append(a, "code", f.Code)
	}
	return append(a, "err", f.Err)
}
func (f *Failure) Unwrap() error { return f.Err }

// transientCodes are S3 error codes that come with a 4xx status but pass
// by themselves (the SDK's own retryer retries them too): 400
// RequestTimeout (the store found the connection too slow), 403
// RequestTimeTooSkewed (the clock is being corrected), and the throttling
// codes some stores send with a 400.
var transientCodes = map[string]bool{
	"RequestTimeout":       true,
	"RequestTimeTooSkewed": true,
	"SlowDown":             true,
	"Throttling":           true,
	"ThrottlingException":  true,
	"RequestThrottled":     true,
}

// Classify returns the kind of a failure the store answered with its HTTP
// status and S3 error code ("" when none): a pure function.
func Classify(status int, code string) Kind {
	switch {
	case status >= 500, status == http.StatusRequestTimeout, status == http.StatusTooManyRequests:
		return KindServer
	case status == http.StatusConflict:
		// 409 ConditionalRequestConflict: a concurrent conditional write to
		// the same key; AWS says to retry.
		return KindServer
	case status >= 400 && transientCodes[code]:
		return KindServer
	case status >= 400, status == http.StatusMovedPermanently:
		// 301 PermanentRedirect: the bucket is in another region than
		// ship_region, or the endpoint is wrong: only the operator can
		// mend it.
		return KindRefused
	case status >= 300:
		return KindServer // 307 TemporaryRedirect and the like
	}
	return KindNetwork
}

// Backoff returns how long to wait before attempt n+1 after n failures in a
// row (n ≥ 1): min·2^(n−1), at most max, spread by jitter in [0, 1) over
// ±20 % so that a fleet that lost its store does not come back in step. A
// pure function.
func Backoff(n int, min, max time.Duration, jitter float64) time.Duration {
	if n < 1 {
		n = 1
	}
	d := min
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	d = time.Duration(float64(d) * (0.8 + 0.4*jitter))
	if d > max {
		d = max
	}
	if d < min/2 {
		d = min / 2
	}
	return d
}
