package logging

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Rolled file names (docs/design.md §5):
//
//	<active>.<host>.<START>-<END>.old        FormDot
//	<active>_<host>.<START>-<END>.old        FormATS
//	<active>.<host>.<START>-<END>.<N>.old    collision number N = 1, 2, …
//	<active>.<START>-<END>.old               no host: Traffic Server's own
//	                                         diags.log and traffic.out names
//	<any of the above>.gz, <…>.zst           stored compressed (rolled_compression)
//
// with START and END written as %Y%m%d.%Hh%Mm%Ss (Go layout nameTimeLayout),
// e.g. access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old.

// nameTimeLayout is the time layout of START and END in a rolled name.
const nameTimeLayout = "20060102.15h04m05s"

// nameTimeLen is the length of one formatted time; nameRangeLen that of START-END.
const (
	nameTimeLen  = len(nameTimeLayout)
	nameRangeLen = 2*nameTimeLen + 1
)

// nameSuffix ends every rolled name.
const nameSuffix = ".old"

// errNotRolled is matched (errors.Is) by every error of [ParseRolledName]: the
// name is not that of a rolled file. The error itself is a *[nameError].
var errNotRolled = errors.New("not a rolled file name")

// nameError says why [ParseRolledName] rejected a name. It wraps [errNotRolled].
type nameError struct {
	// Name is the rejected name, as given.
	Name string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error.
func (e *nameError) Error() string {
	return fmt.Sprintf("parse rolled name %q: %s", e.Name, e.Reason)
}

// Unwrap returns [errNotRolled].
func (e *nameError) Unwrap() error { return errNotRolled }

// RolledName describes a rolled file's name: which active file it was, which
// host wrote it, and the time range it covers.
//
// Names have a resolution of one second: START is written as the floor of the
// time the file's first buffer was created and END as the floor of the roll time,
// so that every record time t in the file satisfies START ≤ floor(t) ≤ END,
// compared at whole seconds in the wall clock of the name's location. (On a day
// the clock goes back, wall times repeat, so START may read later than END.)
type RolledName struct {
	// Active is the active file name, e.g. "access.log". Not empty, no '/', no
	// leading '.'.
	Active string
	// Host is the host name written into the name, no '/'; it may contain
	// '.' and '_'. It is empty only in the host-less names Traffic Server
	// gives its own diags.log and traffic.out (<active>.<START>-<END>.old),
	// which are parsed but never written by the collator.
	Host string
	// Start is the START time; only whole seconds are written.
	Start time.Time
	// End is the END time; only whole seconds are written.
	End time.Time
	// Seq is the collision number inserted before ".old"; 0 (or less) is none.
	Seq int
	// Form is the separator between Active and Host.
	Form NameForm
	// Compression is how the file is stored: CompressionNone for the plain
	// .old file, else the name ends in the compression's extension
	// (".old.gz", ".old.zst"). The name without it, the plain rolled name,
	// is what is unique (namestate.go).
	Compression Compression
}

// String returns the file name (a base name, no folder). Start is formatted in
// its own location and End in its own; callers pass both in the daemon's zone.
// Fractions of a second are dropped. Any Form other than FormATS is FormDot.
func (r RolledName) String() string {
	sep := byte('.')
	if r.Form == FormATS {
		sep = '_'
	}
	var b strings.Builder
	b.Grow(len(r.Active) + len(r.Host) + nameRangeLen + 16)
	b.WriteString(r.Active)
	if r.Host != "" {
		b.WriteByte(sep)
		b.WriteString(r.Host)
	}
	b.WriteByte('.')
	b.WriteString(r.Start.Format(nameTimeLayout))
	b.WriteByte('-')
	b.WriteString(r.End.Format(nameTimeLayout))
	if r.Seq > 0 {
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(r.Seq))
	}
	b.WriteString(nameSuffix)
	b.WriteString(r.Compression.Ext())
	return b.String()
}

// ParseRolledName parses a base file name written by [RolledName.String], with
// times in loc (nil means time.Local). Any other name fails with an error
// saying why it is not a rolled file's: active files, meta files, names with
// a '/' or a leading '.' (the hidden in-progress and temporary files of
// compression among them), names without ".old" (or ".old.gz", ".old.zst":
// the compressed forms, see RolledName.Compression), and names whose times
// are not two valid %Y%m%d.%Hh%Mm%Ss times existing in loc.
//
// Active and host are split as follows, since both may contain dots:
//
//  0. host is this machine's host name (never empty): what comes before
//     the times ending in '.' or '_' and host is this host's file of the
//     log named by the rest, configured or not. Our own names are never
//     split otherwise, whatever other names are configured: a log
//     "access.log.web01" does not take access.log's files of host web01,
//     and the files of a log no longer configured, "access.log.json", are
//     not access.log's of a host "json.web01";
//  1. actives are the configured active names: the longest one that the name
//     starts with, followed by '.' (FormDot) or '_' (FormATS) and a non-empty
//     host, is the active name; what comes before the times being exactly
//     a configured active name is a host-less name of that log;
//  2. otherwise (a log no longer configured), what comes before the times is
//     split just after the first ".log" that is followed by '.' or '_'
//     ("app.log.web01.example.com" → "app.log", "web01.example.com"); if it
//     ends in ".log" it is a host-less name ("diags.log", Traffic Server's
//     own diags.log.<START>-<END>.old);
//  3. otherwise it is split at its last '.' or '_' ("squid.web01" → "squid",
//     "web01"; a host with dots is then cut wrongly, which only matters for
//     display).
//
// Anything accepted turns back into name by String.
//
// A name's times are wall-clock times without their UTC offset, so they
// do not say which instant they were: in a repeated hour (the clock going
// back) they parse to one of the two instants, and a name written under
// another time zone (the daemon restarted with another TZ) parses as if it
// were loc's, or not at all when loc skips that wall time. Parse in UTC to
// read any name's wall times as written. Never order rolled files by these
// times alone: the space manager orders them by their modification time,
// which the collator sets to the exact END at the roll (see space.OrderKey).
func ParseRolledName(name string, actives []string, host string, loc *time.Location) (RolledName, error) {
	loc = policyLoc(loc)
	fail := func(format string, args ...any) (RolledName, error) {
		return RolledName{}, &nameError{Name: name, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case strings.ContainsAny(name, "/\x00"):
		return fail("not a base name")
	case strings.HasPrefix(name, "."):
		return fail("hidden file")
	}
	r := RolledName{}
	rest := name
	for _, c := range []Compression{CompressionGzip, CompressionZstd} {
		if s, ok := strings.CutSuffix(rest, c.Ext()); ok {
			rest, r.Compression = s, c
			break
		}
	}
	rest, ok := strings.CutSuffix(rest, nameSuffix)
	if !ok {
		return fail("no %s suffix", nameSuffix)
	}
	if i := strings.LastIndexByte(rest, '.'); i >= 0 && nameAllDigits(rest[i+1:]) {
		digits := rest[i+1:]
		if digits[0] == '0' {
			return fail("collision number %q: leading zero", digits)
		}
		n, err := strconv.Atoi(digits)
		if err != nil {
			return fail("collision number %q: out of range", digits)
		}
		r.Seq, rest = n, rest[:i]
	}
	if len(rest) < nameRangeLen+1 || rest[len(rest)-nameRangeLen-1] != '.' {
		return fail("no .START-END times before %s", nameSuffix)
	}
	times := rest[len(rest)-nameRangeLen:]
	if times[nameTimeLen] != '-' {
		return fail("START and END not separated by '-'")
	}
	var err error
	if r.Start, err = nameParseTime(times[:nameTimeLen], loc); err != nil {
		return fail("START: %v", err)
	}
	if r.End, err = nameParseTime(times[nameTimeLen+1:], loc); err != nil {
		return fail("END: %v", err)
	}
	prefix := rest[:len(rest)-nameRangeLen-1]
	i := nameSplit(prefix, actives, host)
	if i == len(prefix) && i > 0 {
		r.Active = prefix // host-less
		return r, nil
	}
	if i <= 0 || i >= len(prefix)-1 {
		return fail("cannot split %q into active name and host", prefix)
	}
	r.Active, r.Host = prefix[:i], prefix[i+1:]
	if prefix[i] == '_' {
		r.Form = FormATS
	}
	return r, nil
}

// nameSplit returns the index of the separator between active name and host
// in prefix (see ParseRolledName), len(prefix) when prefix is an active name
// without a host, or -1.
func nameSplit(prefix string, actives []string, host string) int {
	if a, ok := strings.CutSuffix(prefix, host); ok && host != "" && len(a) >= 2 && nameIsSep(a[len(a)-1]) {
		return len(a) - 1
	}
	best := -1
	for _, a := range actives {
		if a == prefix {
			return len(prefix) // a configured log's host-less name
		}
		if a != "" && len(a) > best && len(prefix) > len(a)+1 && strings.HasPrefix(prefix, a) && nameIsSep(prefix[len(a)]) {
			best = len(a)
		}
	}
	if best >= 0 {
		return best
	}
	for from := 0; ; {
		j := strings.Index(prefix[from:], ".log")
		if j < 0 {
			break
		}
		sep := from + j + len(".log")
		if sep < len(prefix)-1 && nameIsSep(prefix[sep]) {
			return sep
		}
		from = sep
	}
	if strings.HasSuffix(prefix, ".log") {
		// Traffic Server rolls its own diags.log and traffic.out without
		// a host part: diags.log.<START>-<END>.old.
		return len(prefix)
	}
	return strings.LastIndexAny(prefix, "._")
}

// nameIsSep reports whether c separates an active name from a host.
func nameIsSep(c byte) bool { return c == '.' || c == '_' }

// nameAllDigits reports whether s is a non-empty run of ASCII digits.
func nameAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// nameParseTime parses exactly one nameTimeLayout time (strictly: fixed widths,
// ASCII digits) in loc.
func nameParseTime(s string, loc *time.Location) (time.Time, error) {
	const shape = "dddddddd.ddhddmdds"
	if len(s) != len(shape) {
		return time.Time{}, fmt.Errorf("%q is not %%Y%%m%%d.%%Hh%%Mm%%Ss", s)
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == 'd' && (s[i] < '0' || s[i] > '9') || shape[i] != 'd' && s[i] != shape[i] {
			return time.Time{}, fmt.Errorf("%q is not %%Y%%m%%d.%%Hh%%Mm%%Ss", s)
		}
	}
	num := func(from, to int) int {
		n := 0
		for i := from; i < to; i++ {
			n = n*10 + int(s[i]-'0')
		}
		return n
	}
	year, month, day := num(0, 4), num(4, 6), num(6, 8)
	hour, minute, sec := num(9, 11), num(12, 14), num(15, 17)
	switch {
	case month < 1 || month > 12:
		return time.Time{}, fmt.Errorf("%q: month %d out of range", s, month)
	case day < 1 || day > 31:
		return time.Time{}, fmt.Errorf("%q: day %d out of range", s, day)
	case hour > 23:
		return time.Time{}, fmt.Errorf("%q: hour %d out of range", s, hour)
	case minute > 59:
		return time.Time{}, fmt.Errorf("%q: minute %d out of range", s, minute)
	case sec > 59:
		return time.Time{}, fmt.Errorf("%q: second %d out of range", s, sec)
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, loc)
	if t.Format(nameTimeLayout) != s {
		// 30 February, or a wall time skipped by the clock going forward
		// (parse in UTC, which skips none, to read such a name's walls).
		return time.Time{}, fmt.Errorf("%q does not exist in %s", s, loc)
	}
	return t, nil
}
