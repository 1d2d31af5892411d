package ingest

import "sync/atomic"

// Stats is a snapshot of a [Server]'s counters, all since NewServer (docs/design.md
// §7). The daemon exports them as proxy.process.log.ingest.* metrics.
type Stats struct {
	// Requests counts the requests answered, by HTTP status code; codes
	// never answered are absent (a code outside 100–599, which only a
	// Metrics handler could write, is counted under 0). It covers every path
	// (/v1/logs, /healthz, /metrics, unknown paths), the 429 and 503
	// refusals included, but not the requests net/http refuses before the
	// handler (a malformed request line, headers too large).
	Requests map[int]int64
	// Records counts the records accepted: written by the Writer and
	// acknowledged with 200.
	Records int64
	// Bytes counts the bytes the accepted records added to the log files:
	// their lengths plus the newline the Writer adds to each.
	Bytes int64
	// BodyBytes counts the request body bytes read whole, after
	// decompression, whether the request was then accepted or refused.
	// Bodies refused as too large, and bodies whose reading failed, are not
	// counted.
	BodyBytes int64
	// InFlight is the number of requests being handled at the moment of the
	// snapshot (all paths).
	InFlight int64
	// InFlightBytes is the memory the log requests in flight hold from the
	// in-flight budget at the moment of the snapshot, in bytes of buffer
	// capacity (see [ServerConfig.MaxInFlightBytes]).
	InFlightBytes int64
	// TLSHandshakeErrors counts the connections whose TLS handshake failed
	// (no valid client certificate, not TLS, timed out): no request was
	// read from them.
	TLSHandshakeErrors int64
}

// counters are the Server's lock-free counters.
type counters struct {
	status    [600]atomic.Int64 // by status code; index 0 holds codes out of range
	records   atomic.Int64
	bytes     atomic.Int64
	bodyBytes atomic.Int64
	tlsErrors atomic.Int64
}

// answered counts one request answered with status code.
func (c *counters) answered(code int) {
	if code < 100 || code >= len(c.status) {
		code = 0
	}
	c.status[code].Add(1)
}

// snapshot returns the counters as Stats (InFlight and InFlightBytes are filled by the caller).
func (c *counters) snapshot() Stats {
	st := Stats{
		Requests:  make(map[int]int64),
		Records:   c.records.Load(),
		Bytes:     c.bytes.Load(),
		BodyBytes: c.bodyBytes.Load(),

		TLSHandshakeErrors: c.tlsErrors.Load(),
	}
	for code := range c.status {
		if n := c.status[code].Load(); n != 0 {
			st.Requests[code] = n
		}
	}
	return st
}
