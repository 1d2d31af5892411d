package ingest

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// SWAR ("SIMD within a register") constants: lo has 0x01 in every byte, hi
// 0x80. For a word x read little-endian from the input, (x-lo)&^x&hi has the
// high bit set in the lowest zero byte of x, and possibly (through borrows) in
// bytes above it but never below, so bits.TrailingZeros64(m)/8 is the index of
// the first zero byte.
const (
	lo = 0x0101010101010101
	hi = 0x8080808080808080
)

// textStop is true for the bytes the text scanner must look at: '\n' (end of
// line), NUL (refused) and every byte >= 0x80 (start of a UTF-8 sequence).
var textStop = func() (t [256]bool) {
	t['\n'], t[0] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// textStops returns a word with the high bit set in the first byte of x (in
// memory order) that is '\n', NUL or >= 0x80, if any, and zero if none.
func textStops(x uint64) uint64 {
	nl := x ^ (lo * '\n')
	return ((x-lo)&^x | (nl-lo)&^nl | x) & hi
}

// decodeText splits body into lines, checks each and adds the non-empty
// ones to out (see Decode): in place, without a copy, for as long as the
// body is exactly its records' lines.
//
// A valid body — the case that matters for speed — is checked and split
// with the standard library's vectorised scans: bytes.IndexByte for NUL,
// utf8.Valid, then bytes.IndexByte per line; that is three passes, each
// faster than one pass of the byte-precise scanner (BenchmarkDecodeText;
// docs/performance.md). Lines are counted in a loop of their own while the body
// is its own block, which is what a shipper's body is. A body that fails a
// check goes to the precise scanner, which finds the first problem and its
// position.
func decodeText(body []byte, out *Records) error {
	if bytes.IndexByte(body, 0) >= 0 || !utf8.Valid(body) {
		return decodeTextChecked(body, out)
	}
	// The body's prefix that is exactly its lines — each ended by '\n', none
	// empty, none ending in '\r' — is the block as it is (out.line's in
	// place case, without a call per line): count its lines, then go on
	// below from the first line that is not.
	i, n := 0, 0
	for i < len(body) {
		k := bytes.IndexByte(body[i:], '\n')
		if k <= 0 || body[i+k-1] == '\r' {
			break
		}
		if out.split && !out.push(body[i:i+k:i+k]) {
			return errNoMemory
		}
		i += k + 1
		n++
	}
	if out.n = n; !out.split {
		out.block = body[:i]
	}
	for i < len(body) {
		end, next := len(body), len(body)
		if k := bytes.IndexByte(body[i:], '\n'); k >= 0 {
			end, next = i+k, i+k+1
		}
		if end > i && body[end-1] == '\r' {
			end--
		}
		if end > i && !out.line(body, i, end) {
			return errNoMemory
		}
		i = next
	}
	return nil
}

// decodeTextChecked is decodeText's byte-precise scanner: one pass that
// splits lines and stops at the first NUL or invalid UTF-8 sequence with
// its position.
func decodeTextChecked(body []byte, out *Records) error {
	n := len(body)
	for i := 0; i < n; i++ { // each turn: one line from i; i++ steps over its '\n'
		start := i
		for {
			for i+8 <= n {
				if m := textStops(binary.LittleEndian.Uint64(body[i:])); m != 0 {
					i += bits.TrailingZeros64(m) >> 3
					goto stop
				}
				i += 8
			}
			for i < n && !textStop[body[i]] {
				i++
			}
			if i == n {
				break
			}
		stop:
			c := body[i]
			if c == '\n' {
				break
			}
			if c == 0 {
				return syntaxError(body, i, "NUL byte in text line")
			}
			r, size := utf8.DecodeRune(body[i:])
			if r == utf8.RuneError && size <= 1 {
				return syntaxError(body, i, "invalid UTF-8 in text line")
			}
			i += size
		}
		end := i
		if end > start && body[end-1] == '\r' {
			end--
		}
		if end > start && !out.line(body, start, end) {
			return errNoMemory
		}
	}
	return nil
}
