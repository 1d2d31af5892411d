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
package ingest
