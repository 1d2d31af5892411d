package ingest

import (
	"strconv"
	"strings"
	"sync/atomic"
)

// maxNameBytes is the longest active log name the ingest path accepts, in
// bytes: the records package's limit for a [[logs]] filename (after ".log" is
// appended), so that rolled names stay within 255 bytes.
const maxNameBytes = 100

// activeName returns the active file name for a log name, by Traffic
// Server's rule: a name without a dot gets ".log" appended ("access" →
// "access.log"); a name ending in a dot loses it ("debug." → "debug"); any
// other name with a dot is used as is ("access.log", "error.txt"). It is
// the rule of records.ActiveName, kept here so that ingest does not depend
// on the configuration package (a test holds the two equal).
func activeName(name string) string {
	if n := len(name); n > 0 && name[n-1] == '.' {
		return name[:n-1]
	}
	if strings.IndexByte(name, '.') >= 0 {
		return name
	}
	return name + ".log"
}

// checkName validates the {name} of an ingest path (after percent-decoding)
// and returns the log's active name. The name must be one plain path
// component: only ASCII letters, digits, '.', '_' and '-', not starting with
// a dot (which also refuses "." and ".."), and at most maxNameBytes long
// once ".log" is appended. Anything else (a '/', whether sent as such or as
// %2F, a NUL, a space, a non-ASCII byte) is an error saying what is wrong;
// ingest answers it with 404, since no declared log can have that name.
//
// A valid name need not be a declared log: the Writer decides that.
func checkName(name string) (active string, err error) {
	if name == "" {
		return "", &nameError{name: name, reason: "empty log name"}
	}
	if name[0] == '.' {
		return "", &nameError{name: name, reason: "a log name must not start with a dot"}
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; !nameByte[c] {
			what := "character " + strconv.QuoteRune(rune(c))
			if c >= 0x80 {
				what = "byte 0x" + strconv.FormatUint(uint64(c), 16)
			}
			reason := what + " at byte " + strconv.Itoa(i) + " is not allowed: a log name is one path component of letters, digits, '.', '_' and '-'"
			return "", &nameError{name: name, reason: reason}
		}
	}
	active = activeName(name)
	if len(active) > maxNameBytes {
		return "", &nameError{name: name, reason: "log name longer than " + strconv.Itoa(maxNameBytes) + " bytes"}
	}
	return active, nil
}

// nameError reports an ingest path whose {name} cannot be a log (HTTP 404).
type nameError struct {
	name   string // the name as decoded from the path
	reason string // what is wrong with it
}

func (e *nameError) Error() string {
	return "invalid log name " + strconv.Quote(e.name) + ": " + e.reason
}

// nameByte is true for the bytes a log name may hold.
var nameByte = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	t['.'], t['_'], t['-'] = true, true, true
	return t
}()

// nameCache remembers the active names of the last few valid {name}s, so
// that a steady stream of requests to /v1/logs/access does not allocate
// "access.log" for each. It is a fixed set of slots, each holding one name,
// replaced on a miss: bounded whatever names clients send. Safe for
// concurrent use; lock-free.
type nameCache struct {
	slots [8]atomic.Pointer[nameEntry]
}

type nameEntry struct{ name, active string }

// check is checkName through the cache.
func (c *nameCache) check(name string) (string, error) {
	h := len(name)
	if h > 0 {
		h += int(name[0]) + int(name[h-1])
	}
	slot := &c.slots[h%len(c.slots)]
	if e := slot.Load(); e != nil && e.name == name {
		return e.active, nil
	}
	active, err := checkName(name)
	if err == nil {
		slot.Store(&nameEntry{name: strings.Clone(name), active: active})
	}
	return active, err
}
