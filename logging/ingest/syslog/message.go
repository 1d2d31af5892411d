package syslog

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf8"

	gosyslog "github.com/leodido/go-syslog/v4"
	"github.com/leodido/go-syslog/v4/auto"
	"github.com/leodido/go-syslog/v4/rfc3164"
	"github.com/leodido/go-syslog/v4/rfc5424"
)

// Format is the syntax a message was parsed as.
type Format int

// The message formats.
const (
	RFC5424 Format = iota + 1 // "<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG"
	RFC3164                   // BSD syslog, "<PRI>Mmm dd hh:mm:ss HOST TAG: MSG"
)

// String returns "rfc5424" or "rfc3164".
func (f Format) String() string {
	switch f {
	case RFC5424:
		return "rfc5424"
	case RFC3164:
		return "rfc3164"
	}
	return "Format(" + strconv.Itoa(int(f)) + ")"
}

// Message is what routing needs of a parsed syslog message.
type Message struct {
	Format   Format
	Facility int    // 0–23
	Severity int    // 0–7
	AppName  string // RFC 5424 APP-NAME, RFC 3164 TAG; "" when absent ("-")
}

// Refusal reasons: why a message (or a stream) was refused, as the
// proxy.process.log.syslog.refused metric labels them.
const (
	ReasonSyntax   = "syntax"   // the parser refused it: not RFC 5424 nor RFC 3164 (PRI out of range, bad header...)
	ReasonUTF8     = "utf8"     // not valid UTF-8 (a log file holds UTF-8 text)
	ReasonNUL      = "nul"      // a NUL byte
	ReasonOversize = "oversize" // longer than max_message_bytes
	ReasonLength   = "length"   // an octet count that is not one: the connection was closed
	ReasonCut      = "cut"      // the stream ended (or stalled) in the middle of a frame
)

// Error is a refused message: why, and at which byte of the message.
type Error struct {
	Reason string // one of the Reason constants
	Offset int    // 0-based byte offset of the fault in the message, -1 when not known
	Msg    string
}

// Error reads "byte N: what" (or just "what" without an offset).
func (e *Error) Error() string {
	if e.Offset < 0 {
		return e.Msg
	}
	return "byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Parser parses messages with the go-syslog library's parsers: RFC 5424 or
// RFC 3164, told apart from the message itself (the "auto" machine: after
// the PRI, a version number and a space mean RFC 5424; either parser is
// tried when the first fails). RFC 3164 accepts RFC 3339 timestamps and
// fractions of seconds as well (rsyslog's forwarding format) and, for
// octet-counted messages, newlines inside MSG. Nothing is best effort: a
// message either parses or is refused.
//
// The library copies MSG (most of a message's bytes) into a string and
// runs its machine over every byte of it. A Parser therefore remembers
// where MSG began in the RFC 5424 messages it parsed (the longest such
// header of the current window of headWindow tries) and first parses
// only that much of a message, plus headSlack bytes (see parseHead). When
// that parse reaches MSG, its verdict and fields are those of the whole
// message; otherwise the whole message is parsed. The shortcut pays when
// most tries succeed (a sender's messages, or a relay's, have headers of
// a few lengths); a window in which fewer than 3 in 4 did (RFC 3164 or
// invalid messages, headers growing past the slack) switches it off for
// the next one.
//
// A Parser is not safe for concurrent use; each connection has its own.
type Parser struct {
	m     gosyslog.Machine // the auto machine: RFC 5424 or RFC 3164
	m5424 gosyslog.Machine // the strict RFC 5424 machine alone, for parseHead
	head  int              // where MSG began in the longest RFC 5424 header of the window; 0: unknown
	tries int              // parseHead's tries in this window
	hits  int              // and those that reached MSG
	off   int              // messages left with parseHead switched off
}

const (
	// headSlack is how far past the header's length parseHead reads:
	// headers a few bytes longer (a longer PROCID, more fraction digits)
	// still take the short parse.
	headSlack = 16
	// headWindow is the number of tries after which the shortcut is
	// judged, head forgotten and the count started again.
	headWindow = 256
)

// NewParser returns a Parser.
func NewParser() *Parser {
	return &Parser{
		m:     auto.NewMachine(auto.WithRFC3164Options(rfc3164.WithRFC3339(), rfc3164.WithSecondFractions(), rfc3164.WithEmbeddedNewlines())),
		m5424: rfc5424.NewMachine(),
	}
}

// Parse checks msg (one message, without its framing) and returns what
// routing needs of it. Before the library sees it, msg must be valid UTF-8
// without NUL (a log line is text); then it must parse as RFC 5424 or RFC
// 3164. The error is an *Error saying why and where.
func (p *Parser) Parse(msg []byte) (Message, error) {
	if i := bytes.IndexByte(msg, 0); i >= 0 {
		return Message{}, &Error{Reason: ReasonNUL, Offset: i, Msg: "NUL byte in the message"}
	}
	if !utf8.Valid(msg) {
		return Message{}, &Error{Reason: ReasonUTF8, Offset: invalidUTF8(msg), Msg: "invalid UTF-8 in the message"}
	}
	if out, ok := p.parseHead(msg); ok {
		return out, nil
	}
	m, err := p.m.Parse(msg)
	if err != nil || m == nil {
		what := "not an RFC 5424 or RFC 3164 message"
		if err != nil {
			var pe *auto.ParseError
			if errors.As(err, &pe) && pe.Err != nil {
				err = pe.Err
			}
			what += ": " + err.Error()
		}
		return Message{}, &Error{Reason: ReasonSyntax, Offset: -1, Msg: what}
	}
	var base *gosyslog.Base
	out := Message{}
	switch v := m.(type) {
	case *rfc5424.SyslogMessage:
		base, out.Format = &v.Base, RFC5424
		if v.Message != nil {
			p.head = max(p.head, len(msg)-len(*v.Message))
		}
	case *rfc3164.SyslogMessage:
		base, out.Format = &v.Base, RFC3164
	default:
		return Message{}, &Error{Reason: ReasonSyntax, Offset: -1, Msg: "not an RFC 5424 or RFC 3164 message"}
	}
	return routing(out, base), nil
}

// parseHead parses msg (valid UTF-8 without NUL) up to where MSG began in
// the longest RFC 5424 header of the window, plus headSlack bytes, with
// the library's strict RFC 5424 machine. It reports true when that parse
// succeeded with a non-empty MSG: the result is then the whole message's.
// The library's RFC 5424 grammar takes any octets for MSG (without its
// WithCompliantMsg option, which the Parser does not use), so once the
// machine is inside MSG, no byte after can make the message invalid or
// change a header field; and a message that is valid RFC 5424 is parsed
// as RFC 5424 by the auto machine too (its "<PRI>VERSION SP" is what the
// detection looks for). FuzzParseHead checks both parses agree.
func (p *Parser) parseHead(msg []byte) (Message, bool) {
	if p.off > 0 {
		p.off--
		return Message{}, false
	}
	if p.head == 0 || len(msg) <= p.head {
		return Message{}, false
	}
	end := min(len(msg), p.head+headSlack)
	m, err := p.m5424.Parse(msg[:end])
	v, ok := m.(*rfc5424.SyslogMessage)
	hit := err == nil && ok && v != nil && v.Message != nil
	if p.tries++; hit {
		p.hits++
	}
	if p.tries == headWindow {
		if p.hits < headWindow*3/4 {
			p.off = headWindow
		}
		p.tries, p.hits, p.head = 0, 0, 0
	}
	if !hit {
		return Message{}, false
	}
	return routing(Message{Format: RFC5424}, &v.Base), true
}

// routing completes out with the routing fields of a parsed message.
func routing(out Message, base *gosyslog.Base) Message {
	if base.Facility != nil {
		out.Facility = int(*base.Facility)
	}
	if base.Severity != nil {
		out.Severity = int(*base.Severity)
	}
	if base.Appname != nil {
		out.AppName = *base.Appname
	}
	return out
}

// invalidUTF8 returns the offset of the first invalid UTF-8 sequence of b.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// Line returns the log line for a message: the message exactly as
// received, except that a CR or LF inside it (possible in octet-counted
// frames and datagrams) is written as "#015" or "#012", rsyslog's escapes,
// so that every message stays one line. It returns msg itself when there is
// nothing to escape; otherwise the escaped line is appended to scratch and
// scratch returned with it (the line is scratch[len(old scratch):]).
func Line(msg, scratch []byte) (line, newScratch []byte) {
	if !needsEscape(msg) {
		return msg, scratch
	}
	start := len(scratch)
	for _, c := range msg {
		switch c {
		case '\n':
			scratch = append(scratch, "#012"...)
		case '\r':
			scratch = append(scratch, "#015"...)
		default:
			scratch = append(scratch, c)
		}
	}
	return scratch[start:len(scratch):len(scratch)], scratch
}

func needsEscape(msg []byte) bool {
	return bytes.IndexByte(msg, '\n') >= 0 || bytes.IndexByte(msg, '\r') >= 0
}
