package syslog

import (
	"bytes"
	"strconv"
)

// Stream framing (RFC 6587). A TCP stream is a sequence of frames, each
// told apart by its first byte:
//
//   - octet counting (RFC 6587 §3.4.1, RFC 5425): "MSG-LEN SP MSG", where
//     MSG-LEN is a decimal number without leading zero (at most 7 digits:
//     max_message_bytes is at most 1 MiB);
//   - newline framing ("non-transparent", §3.4.2): MSG ending in LF; a CR
//     before the LF is dropped, and empty lines between frames are skipped.
//
// A frame starting with a digit is octet-counted, any other is
// newline-framed (a message starts with '<'; a line that does not is a
// frame all the same, which the parser then refuses). The two may be mixed
// on one connection.

// frameEvent says what framer.next found.
type frameEvent int

const (
	evMore      frameEvent = iota // no whole frame yet: read more
	evFrame                       // a frame: msg holds it, n bytes consumed
	evOversize                    // a frame longer than the limit begins: n bytes of it to discard
	evDiscard                     // n more bytes of an oversize frame to discard
	evBadLength                   // an octet count that is not one: the stream cannot be followed any more
)

// maxLenDigits bounds MSG-LEN: 1 MiB has 7 digits.
const maxLenDigits = 7

// framer splits a stream into frames. It is the pure part of a TCP
// connection's reading: the connection hands it the unread bytes and it
// says what they hold. The zero value is not ready: set max.
type framer struct {
	max int // largest message, in bytes (without framing)

	// An oversize frame is discarded as it arrives, without buffering it:
	// skip is the number of bytes of an octet-counted one still to
	// discard; skipLine says a newline-framed one is discarded up to its LF.
	skip     int
	skipLine bool
}

// next looks at buf, the unread bytes of the stream, and returns what they
// start with. For evFrame, msg is the frame's message (a subslice of buf,
// possibly empty: a CR alone on its line) and n the bytes to consume; for
// evOversize and evDiscard, n bytes are to be consumed and dropped (the
// framer remembers what is left of the frame to discard; evOversize is
// returned once per frame); for evBadLength, reason says what is wrong and
// the connection must end.
func (f *framer) next(buf []byte) (ev frameEvent, msg []byte, n int, reason string) {
	if f.skip > 0 {
		n = min(f.skip, len(buf))
		f.skip -= n
		if n == 0 {
			return evMore, nil, 0, ""
		}
		return evDiscard, nil, n, ""
	}
	if f.skipLine {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			if len(buf) == 0 {
				return evMore, nil, 0, ""
			}
			return evDiscard, nil, len(buf), ""
		}
		f.skipLine = false
		return evDiscard, nil, i + 1, ""
	}
	// Skip the empty lines some senders put between frames.
	skipped := 0
	for skipped < len(buf) && (buf[skipped] == '\n' || buf[skipped] == '\r' && skipped+1 < len(buf) && buf[skipped+1] == '\n') {
		skipped++
	}
	buf = buf[skipped:]
	if len(buf) == 0 {
		return evMore, nil, 0, ""
	}
	if c := buf[0]; c >= '0' && c <= '9' {
		ev, msg, n, reason = f.octet(buf)
	} else {
		ev, msg, n = f.line(buf)
	}
	if ev == evFrame || ev == evOversize {
		n += skipped
	}
	return ev, msg, n, reason
}

// octet reads an octet-counted frame at the start of buf.
func (f *framer) octet(buf []byte) (frameEvent, []byte, int, string) {
	sp := 0
	for sp < len(buf) && sp <= maxLenDigits && buf[sp] >= '0' && buf[sp] <= '9' {
		sp++
	}
	switch {
	case sp > maxLenDigits:
		return evBadLength, nil, 0, "octet count " + strconv.Quote(string(buf[:sp])) + " is not a number of at most 7 digits followed by a space"
	case sp == len(buf):
		return evMore, nil, 0, ""
	case buf[sp] != ' ':
		return evBadLength, nil, 0, "octet count " + strconv.Quote(string(buf[:sp+1])) + " is not a decimal number followed by a space"
	case sp == 1 && buf[0] == '0':
		return evBadLength, nil, 0, "octet count 0: a frame holds at least one byte"
	case buf[0] == '0':
		return evBadLength, nil, 0, "octet count " + strconv.Quote(string(buf[:sp])) + " has a leading zero"
	}
	digits := buf[:sp]
	size, _ := strconv.Atoi(string(digits)) // at most 7 digits: cannot fail
	// Room for the message and a CR LF ending it (framing).
	if size > f.max+2 {
		k := min(size, len(buf)-sp-1)
		f.skip = size - k
		return evOversize, nil, sp + 1 + k, ""
	}
	end := sp + 1 + size
	if len(buf) < end {
		return evMore, nil, 0, ""
	}
	msg := buf[sp+1 : end]
	// Many senders end an octet-counted message with LF too; it is
	// framing, not content.
	if k := len(msg); k > 0 && msg[k-1] == '\n' {
		msg = msg[:k-1]
		if k > 1 && msg[k-2] == '\r' {
			msg = msg[:k-2]
		}
	}
	if len(msg) > f.max { // the limit is the message's, after its framing
		return evOversize, nil, end, ""
	}
	return evFrame, msg, end, ""
}

// line reads a newline-framed frame at the start of buf.
func (f *framer) line(buf []byte) (frameEvent, []byte, int) {
	i := bytes.IndexByte(buf, '\n')
	if i < 0 {
		if len(buf) <= f.max+1 { // the message and a CR may still end in LF
			return evMore, nil, 0
		}
		f.skipLine = true
		return evOversize, nil, len(buf)
	}
	msg := buf[:i]
	if i > 0 && msg[i-1] == '\r' {
		msg = msg[:i-1]
	}
	if len(msg) > f.max {
		return evOversize, nil, i + 1
	}
	return evFrame, msg, i + 1
}

// need returns the number of bytes the frame begun in buf (the unread
// bytes, which hold no whole frame) still needs when it is known (an
// octet-counted frame whose length has been read, or a discard), and 1
// otherwise: a connection that stops reads no further than that.
func (f *framer) need(buf []byte) int {
	if f.skip > 0 {
		return f.skip
	}
	if len(buf) > 0 && buf[0] >= '0' && buf[0] <= '9' {
		if sp := bytes.IndexByte(buf, ' '); sp > 0 {
			if size, err := strconv.Atoi(string(buf[:sp])); err == nil && sp+1+size > len(buf) {
				return sp + 1 + size - len(buf)
			}
		}
	}
	return 1
}

// pending reports whether a frame has begun and not ended: bytes of it are
// in buf, or the discard of an oversize one is under way.
func (f *framer) pending(buf []byte) bool {
	return f.discarding() || f.partial(buf)
}

// discarding reports whether an oversize frame (already refused) is being
// discarded.
func (f *framer) discarding() bool { return f.skip > 0 || f.skipLine }

// partial reports whether buf holds the beginning of a frame (not a
// discard): a stream ending there cuts a message.
func (f *framer) partial(buf []byte) bool {
	if f.discarding() {
		return false
	}
	for _, c := range buf {
		if c != '\n' && c != '\r' {
			return true
		}
	}
	return false
}
