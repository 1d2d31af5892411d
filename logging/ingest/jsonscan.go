package ingest

import (
	"encoding/binary"
	"math/bits"
	"unicode/utf8"
)

// maxDepth is the deepest nesting of arrays and objects that JSON bodies may
// have. The scanner keeps its nesting in a fixed bit set, not on the Go stack,
// so no input can make it recurse.
const maxDepth = 1000

// scanner validates and compacts JSON values, one per call to record, and
// adds each to out as one line. It reads s, an arbitrarily long prefix of the
// body whose offsets are body offsets. A value that needs no compaction is
// added as it is (Records.line: in place while the block is the body's
// prefix); one that has whitespace removed is copied into out's block piece
// by piece as the scan goes. Every method that returns a position returns -1
// after recording a fault in errOff and errMsg.
type scanner struct {
	s      []byte   // input; scanning stops at len(s)
	body   []byte   // the whole body, of which s is a prefix
	out    *Records // where the records go
	eofMsg string   // what running off the end of s means

	mark   int  // start of the input not yet copied to out's block, in the current record
	copied bool // whether the current record has whitespace removed (is being copied to out's block)

	errOff int
	errMsg string

	noMem bool // out's hold refused memory: the scan stopped, Decode fails with errNoMemory

	kinds [(maxDepth + 63) / 64]uint64 // bit d: the container at depth d is an object
}

// isSpace reports whether c is JSON whitespace.
func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\r' || c == '\t' }

// skipSpace returns the first position >= i in s that is not JSON whitespace.
func skipSpace(s []byte, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// fail records a fault at i and returns -1.
func (sc *scanner) fail(i int, msg string) int {
	sc.errOff, sc.errMsg = i, msg
	return -1
}

// eof records a fault for input that ends (at i) in the middle of a value.
func (sc *scanner) eof(i int) int { return sc.fail(i, sc.eofMsg) }

// err returns the recorded fault as a SyntaxError located in body.
func (sc *scanner) err(body []byte) *SyntaxError { return syntaxError(body, sc.errOff, sc.errMsg) }

// record scans one value starting at s[i] (not whitespace) nested in depth
// containers, adds it compacted to sc.out as one line and returns the
// position after it.
func (sc *scanner) record(i, depth int) int {
	sc.mark, sc.copied = i, false
	from := len(sc.out.block) // where the record's line starts, moved to buf or not
	j := sc.value(i, depth)
	if j < 0 {
		return j
	}
	var ok bool
	if sc.copied { // the record's start is in out's block already
		ok = sc.out.put(from, sc.s[sc.mark:j])
	} else { // nothing to remove: the record is the input itself
		ok = sc.out.line(sc.body, i, j)
	}
	if !ok {
		sc.noMem = true
		return sc.fail(j, "")
	}
	return j
}

// skip returns the first position >= i that is not whitespace, copying the
// pending input before it to out's block when it skips any: the compaction.
func (sc *scanner) skip(i int) int {
	if i < len(sc.s) && sc.s[i] <= ' ' {
		return sc.skipSlow(i)
	}
	return i
}

func (sc *scanner) skipSlow(i int) int {
	j := skipSpace(sc.s, i)
	if j == i {
		return i
	}
	out := sc.out
	if !out.owned && !out.own(sc.body) { // first copy of this body: the block leaves it
		// End the input here: the value being scanned runs off the end
		// and fails; Decode sees noMem and reports errNoMemory.
		sc.noMem, sc.s = true, sc.s[:i]
		return i
	}
	out.block = append(out.block, sc.s[sc.mark:i]...)
	sc.mark, sc.copied = j, true
	return j
}

// setKind records whether the container opened at depth d is an object.
func (sc *scanner) setKind(d int, obj bool) {
	if obj {
		sc.kinds[d>>6] |= 1 << (d & 63)
	} else {
		sc.kinds[d>>6] &^= 1 << (d & 63)
	}
}

// value scans one JSON value starting at or after i, inside base containers,
// and returns the position just after it. It is iterative: nesting is kept in
// sc.kinds, and depth counts the open containers.
func (sc *scanner) value(i, base int) int {
	s := sc.s
	depth := base
	var c byte
val: // a value is expected at i
	i = sc.skip(i)
	if i >= len(s) {
		return sc.eof(i)
	}
	c = s[i]
	switch {
	case c == '"':
		i = sc.str(i + 1)
	case c == '{':
		if depth >= maxDepth {
			return sc.fail(i, "nesting deeper than 1000 arrays and objects")
		}
		sc.setKind(depth, true)
		depth++
		i = sc.skip(i + 1)
		if i < len(s) && s[i] == '}' {
			depth--
			i++
			goto next
		}
		goto key
	case c == '[':
		if depth >= maxDepth {
			return sc.fail(i, "nesting deeper than 1000 arrays and objects")
		}
		sc.setKind(depth, false)
		depth++
		i = sc.skip(i + 1)
		if i < len(s) && s[i] == ']' {
			depth--
			i++
			goto next
		}
		goto val
	case c == '-' || c-'0' < 10:
		i = sc.num(i)
	case c == 't':
		i = sc.lit(i, "true")
	case c == 'f':
		i = sc.lit(i, "false")
	case c == 'n':
		i = sc.lit(i, "null")
	default:
		return sc.fail(i, "invalid "+charDesc(c)+" looking for beginning of value")
	}
	if i < 0 {
		return i
	}
next: // a value ended just before i
	if depth == base {
		return i
	}
	i = sc.skip(i)
	if i >= len(s) {
		return sc.eof(i)
	}
	c = s[i]
	if sc.kinds[(depth-1)>>6]&(1<<((depth-1)&63)) != 0 {
		switch c {
		case ',':
			i = sc.skip(i + 1)
			goto key
		case '}':
			depth--
			i++
			goto next
		}
		return sc.fail(i, "invalid "+charDesc(c)+" after object key:value pair")
	}
	switch c {
	case ',':
		i++
		goto val
	case ']':
		depth--
		i++
		goto next
	}
	return sc.fail(i, "invalid "+charDesc(c)+" after array element")
key: // an object key is expected at i (whitespace skipped)
	if i >= len(s) {
		return sc.eof(i)
	}
	if s[i] != '"' {
		return sc.fail(i, "invalid "+charDesc(s[i])+" looking for beginning of object key string")
	}
	if i = sc.str(i + 1); i < 0 {
		return i
	}
	i = sc.skip(i)
	if i >= len(s) {
		return sc.eof(i)
	}
	if s[i] != ':' {
		return sc.fail(i, "invalid "+charDesc(s[i])+" after object key")
	}
	i++
	goto val
}

// strPlain is true for the bytes a string may hold that need no check:
// everything but '"', '\\', control characters and bytes >= 0x80.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// strStops returns a word with the high bit set in the first byte of x (in
// memory order) that a string cannot simply pass over ('"', '\\', < 0x20 or
// >= 0x80), if any, and zero if none. See lo and hi.
func strStops(x uint64) uint64 {
	q := x ^ (lo * '"')
	b := x ^ (lo * '\\')
	return ((q-lo)&^q | (b-lo)&^b | (x-lo*0x20)&^x | x) & hi
}

// str scans the rest of a string whose opening quote is just before i and
// returns the position after its closing quote. Its bytes are never
// rewritten.
func (sc *scanner) str(i int) int {
	s := sc.s
	for {
		for i+8 <= len(s) {
			if m := strStops(binary.LittleEndian.Uint64(s[i:])); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				goto stop
			}
			i += 8
		}
		for i < len(s) && strPlain[s[i]] {
			i++
		}
		if i >= len(s) {
			return sc.eof(i)
		}
	stop:
		switch c := s[i]; {
		case c == '"':
			return i + 1
		case c == '\\':
			if i = sc.escape(i); i < 0 {
				return i
			}
		case c < 0x20:
			return sc.fail(i, "invalid control "+charDesc(c)+" in string (must be escaped)")
		default:
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size <= 1 {
				return sc.fail(i, "invalid UTF-8 in string")
			}
			i += size
		}
	}
}

// hexDigit is true for the bytes of a \u escape's hexadecimal digits.
var hexDigit = func() (t [256]bool) {
	for _, c := range []byte("0123456789abcdefABCDEF") {
		t[c] = true
	}
	return t
}()

// escape checks the escape sequence whose backslash is at s[i] and returns
// the position after it. A \u escape needs four hex digits; as in RFC 8259 and
// encoding/json, the code unit it names is not checked (a lone surrogate is
// accepted and kept as written).
func (sc *scanner) escape(i int) int {
	s := sc.s
	if i+1 >= len(s) {
		return sc.eof(i + 1)
	}
	switch c := s[i+1]; c {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 2
	case 'u':
		for k := i + 2; k < i+6; k++ {
			if k >= len(s) {
				return sc.eof(k)
			}
			if !hexDigit[s[k]] {
				return sc.fail(k, "invalid "+charDesc(s[k])+` in \u hexadecimal character escape`)
			}
		}
		return i + 6
	default:
		return sc.fail(i+1, "invalid "+charDesc(c)+" in string escape code")
	}
}

// isDigit reports whether c is an ASCII digit.
func isDigit(c byte) bool { return c-'0' < 10 }

// num scans a number starting at s[i] ('-' or a digit) and returns the
// position after it: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (sc *scanner) num(i int) int {
	s := sc.s
	if s[i] == '-' {
		i++
		if i >= len(s) {
			return sc.eof(i)
		}
	}
	switch c := s[i]; {
	case c == '0':
		i++
	case isDigit(c):
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	default:
		return sc.fail(i, "invalid "+charDesc(c)+" in numeric literal")
	}
	if i < len(s) && s[i] == '.' {
		if i++; i >= len(s) {
			return sc.eof(i)
		}
		if !isDigit(s[i]) {
			return sc.fail(i, "invalid "+charDesc(s[i])+" after decimal point in numeric literal")
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	if i < len(s) && s[i]|0x20 == 'e' {
		if i++; i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i >= len(s) {
			return sc.eof(i)
		}
		if !isDigit(s[i]) {
			return sc.fail(i, "invalid "+charDesc(s[i])+" in exponent of numeric literal")
		}
		for i++; i < len(s) && isDigit(s[i]); i++ {
		}
	}
	return i
}

// lit scans the literal word (true, false or null) whose first byte is at
// s[i] and returns the position after it.
func (sc *scanner) lit(i int, word string) int {
	s := sc.s
	if i+len(word) <= len(s) && string(s[i:i+len(word)]) == word {
		return i + len(word)
	}
	for k := 1; k < len(word); k++ {
		if i+k >= len(s) {
			return sc.eof(i + k)
		}
		if s[i+k] != word[k] {
			return sc.fail(i+k, "invalid "+charDesc(s[i+k])+" in literal "+word+" (expecting '"+word[k:k+1]+"')")
		}
	}
	return i + len(word) // not reached: the fast path matched
}
