// Package ingest is logroll's HTTP ingest server and its body decoders: the
// pure functions that turn a request body into the records of a log, shared by
// every input (HTTP today, syslog or a socket later).
//
// # Body decoding
//
// A body is read whole with [ReadBody] or, for Content-Encoding gzip,
// [Decompress]; both stop after limit+1 bytes of output, so an oversized or
// bomb body is refused with bounded memory ([*TooLargeError]). [FormatFor] maps
// the Content-Type to a [Format], and [Decode] splits and validates the whole
// body into a reusable [Records] before anything is returned: a body is
// all-or-nothing, and a malformed one yields a [*SyntaxError] naming the line
// and byte offset of the first fault.
//
//   - [Text] (text/plain or no type): each line is a record.
//   - [NDJSON] (application/x-ndjson and its aliases): each line is one JSON
//     value, written back compact.
//   - [JSON] (application/json): one object (Logstash format => json) or an
//     array of objects (Logstash json_batch), each object one compact record.
//
// Records are laid out as one block of lines, each record followed by '\n',
// as the log file gets them and a [BlockWriter] takes them: the body itself
// when it is already its records' lines from its start (text with '\n' line
// ends and no empty line, compact NDJSON), else one buffer of at most the
// body's size into which the records are copied as they are decoded. A body
// costs O(its bytes), never anything per record.
//
// JSON is validated strictly per RFC 8259 and compacted by an iterative byte
// scanner, never decoded into maps or structs: keys keep the order they were
// received in and the bytes of every string are kept verbatim, escapes included.
//
// # Errors and HTTP statuses
//
// Callers branch on the typed errors with errors.As:
//
//	*UnsupportedError  415  content type, charset or content encoding
//	*TooLargeError     413  body larger than the limit (after decompression)
//	*SyntaxError       400  malformed body (line, byte offset, what)
//	*CorruptError      400  malformed gzip stream
//
// Any other error from ReadBody or Decompress comes from the body's reader
// (a client that went away, a server-side read limit) and is wrapped with %w.
//
// # The HTTP server
//
// [Server] serves the ingest port (docs/design.md §3) and nothing else that changes
// state:
//
//	POST /v1/logs/{name}  append the body's records to a log
//	GET  /healthz         200 "ok" while serving, 503 once shutting down
//	GET  /metrics         ServerConfig.Metrics (404 when nil)
//
// {name} is the log's filename or active name (access or access.log; a name
// without a dot gets ".log", Traffic Server's rule). It is matched after
// percent-decoding and must be one plain path component of letters, digits,
// '.', '_' and '-', not starting with a dot, at most 100 bytes with ".log";
// paths are never cleaned or redirected, so ../x, a%2Fb, %2e%2e or a NUL are
// refused with 404, as are unknown paths.
//
// With SetTokens (auth_tokens_file), the listeners given to Serve ask for
// a bearer token on POST /v1/logs and GET /metrics before anything else:
// 401 without one or with an unknown one, 403 for a log the token may not
// write (auth.go; the tokens file is parsed by ParseTokens, tokens.go).
// Handler(), which the admin socket serves, asks for none.
//
// A log request is handled in this order; the first failure answers, and
// nothing of the request is written:
//
//  1. name check (404); method (405, Allow: POST);
//  2. Content-Type and Content-Encoding (415);
//  3. Content-Length above the limit (413, without reading; for gzip the
//     compressed length is compared with limit + limit/64 + 64 KiB, more
//     than any body within the limit can take);
//  4. a MaxInFlight slot, without waiting (429 with Retry-After);
//  5. the whole body is read, and decompressed, within MaxBodyBytes (413
//     past it, counted after decompression, so a gzip bomb costs no more
//     memory than an honest body; 400 for corrupt gzip or a client that went
//     away; 503 with Retry-After when ReadTimeout ends the body, since a
//     retry may succeed and shippers drop 408). A body without length
//     (chunked) is read the same way: 411 is never answered. A
//     Content-Length reserves at most 256 KiB before the bytes arrive;
//     the buffer grows as they do, never past the Content-Length;
//  6. the whole body is decoded (400 with line and byte offset);
//
// Steps 5 and 6 take their memory (body buffer, block buffer, and the
// record slice of a Writer without WriteBlock) from a budget shared by the
// requests in flight, MaxInFlightBytes (32 MiB by default), as it grows: a
// request that cannot get what it needs is answered 429 with Retry-After,
// nothing written. A request alone is never refused for memory, so any body
// within the limit can pass, one at a time if need be;
//  7. one write of all the records, all or nothing: WriteBlock with the
//     block when the Writer is a [BlockWriter] (logging.Collator is),
//     else Write with the records one by one. A body with zero records (an
//     empty text or NDJSON body, "[]") still makes the call, with no
//     records, so that an undeclared log is 404 and a stopped collator 503
//     whatever the body;
//  8. 200 with {"records":N} once the write returned nil: the records are
//     written.
//
// Write errors: logging.ErrUnknownLog 404, ErrBadRecord 400,
// ErrSpaceExhausted 503 with Retry-After, ErrClosed 503 with Retry-After and
// Connection: close, anything else (a failed write) 500, so that Logstash
// retries what may succeed later (429, 5xx) and drops what never will. Every
// error answer is application/json {"error":"..."} saying what and where,
// and is logged at Debug; a 500 is also logged at Warn.
//
// Body buffers and Records are pooled and reused across requests; the block
// may be the body itself, which is kept until the write returns. In steady
// state the handler allocates nothing, per record or per request (net/http's
// own per-request allocations aside).
package ingest
