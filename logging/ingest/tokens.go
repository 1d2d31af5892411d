package ingest

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The bearer tokens file (proxy.config.ingest.auth_tokens_file,
// docs/security.md): one token a line, fields separated by spaces or tabs,
// '#' starting a comment:
//
//	# NAME     SHA-256 of the token (64 hex digits)                              LOGS            [admin]
//	web01      9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  access,errors
//	conveyer   60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752  access          admin
//
// NAME says who (in answers and the daemon's log); LOGS are the logs the
// token may write, declared or active names separated by commas, or "*" for
// every log; "admin" lets it use the remote admin listener (roll, rolled,
// status) for those logs. Only the hash is stored: the token itself is what
// the client sends as "Authorization: Bearer TOKEN".

// Token is one entry of a tokens file.
type Token struct {
	Name  string
	Logs  []string // active names ("access.log"); nil when All
	All   bool     // "*": every log
	Admin bool     // may use the remote admin listener
	hash  [sha256.Size]byte
}

// MayWrite reports whether the token may write to the log whose active name
// is log.
func (t *Token) MayWrite(log string) bool {
	return t.All || slices.Contains(t.Logs, log)
}

// Allowed says which logs the token may write, for messages.
func (t *Token) Allowed() string {
	if t.All {
		return "every log"
	}
	return strings.Join(t.Logs, ", ")
}

// Tokens is a parsed tokens file; immutable, safe for concurrent use.
type Tokens struct {
	File   string
	tokens []Token
}

// Len returns the number of tokens.
func (ts *Tokens) Len() int { return len(ts.tokens) }

// Entries describes each token by name, without the token: its logs, its
// admin right and the first bytes of its hash ("access.log, errors.log;
// admin; SHA-256 9f86d081…"), so that a reload can say which tokens it
// added, removed or changed. A nil Tokens has none.
func (ts *Tokens) Entries() map[string]string {
	out := map[string]string{}
	if ts == nil {
		return out
	}
	for i := range ts.tokens {
		t := &ts.tokens[i]
		d := t.Allowed()
		if t.Admin {
			d += "; admin"
		}
		out[t.Name] = d + "; SHA-256 " + hex.EncodeToString(t.hash[:4]) + "…"
	}
	return out
}

// TokenError is a problem of a tokens file, at FILE:LINE:COL.
type TokenError struct {
	File      string
	Line, Col int
	Msg       string
}

// Error reads "FILE:LINE:COL: message".
func (e *TokenError) Error() string {
	return e.File + ":" + strconv.Itoa(e.Line) + ":" + strconv.Itoa(e.Col) + ": " + e.Msg
}

// ParseTokens parses a tokens file's content; file names it in messages.
// declared reports whether a log name is declared (nil: do not check): a
// token naming a log that is not is a warning ("FILE:LINE:COL: …"), since
// the log may be declared later. Every problem is returned, joined; a file
// with none is an error too (use "" for no tokens instead).
func ParseTokens(data []byte, file string, declared func(string) bool) (*Tokens, []string, error) {
	ts := &Tokens{File: file}
	var errs []error
	var warns []string
	fail := func(line, col int, format string, a ...any) {
		errs = append(errs, &TokenError{File: file, Line: line, Col: col, Msg: fmt.Sprintf(format, a...)})
	}
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	if b, ok := bytes.CutPrefix(data, []byte("\uFEFF")); ok {
		// A byte order mark some editors write: not a field.
		warns = append(warns, fmt.Sprintf("%s:1:1: a UTF-8 byte order mark (EF BB BF) begins the file: skipped", file))
		data = b
	}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		line := i + 1
		text := string(raw)
		if j := strings.IndexByte(text, '#'); j >= 0 {
			text = text[:j]
		}
		fields, cols := splitFields(text)
		if len(fields) == 0 {
			continue
		}
		if len(fields) < 3 || len(fields) > 4 {
			fail(line, 1, "want NAME SHA256 LOGS [admin], got %d fields", len(fields))
			continue
		}
		var t Token
		t.Name = fields[0]
		if msg := checkTokenName(t.Name); msg != "" {
			fail(line, cols[0], "token name %q %s", t.Name, msg)
			continue
		}
		if prev, dup := names[t.Name]; dup {
			fail(line, cols[0], "token name %q is already used on line %d", t.Name, prev)
			continue
		}
		h, err := hex.DecodeString(fields[1])
		if err != nil || len(h) != sha256.Size {
			fail(line, cols[1], "%q is not a SHA-256 (64 hexadecimal digits): store the hash of the token, e.g. printf %%s \"$TOKEN\" | sha256sum", shorten(fields[1]))
			continue
		}
		copy(t.hash[:], h)
		if prev, dup := hashes[t.hash]; dup {
			fail(line, cols[1], "the same token is already listed on line %d", prev)
			continue
		}
		ok := true
		col := cols[2] // of each name in the list
		for _, l := range strings.Split(fields[2], ",") {
			_, nameErr := checkName(l)
			switch {
			case l == "*":
				t.All = true
			case l == "":
				fail(line, col, "an empty log name in the list (a ',' too many?)")
				ok = false
			case nameErr != nil:
				fail(line, col, "log %q is not a log name (letters, digits, '.', '_' and '-')", l)
				ok = false
			default:
				active := activeName(l)
				if !slices.Contains(t.Logs, active) {
					t.Logs = append(t.Logs, active)
				}
				if declared != nil && !declared(l) {
					warns = append(warns, fmt.Sprintf("%s:%d:%d: token %q allows log %q, which is not declared in [[logs]]", file, line, col, t.Name, l))
				}
			}
			col += len(l) + 1
		}
		if t.All {
			t.Logs = nil
		}
		if len(fields) == 4 {
			if fields[3] != "admin" {
				fail(line, cols[3], "unknown field %q: the fourth field may only be \"admin\"", shorten(fields[3]))
				ok = false
			}
			t.Admin = true
		}
		if !ok {
			continue
		}
		names[t.Name], hashes[t.hash] = line, line
		ts.tokens = append(ts.tokens, t)
	}
	if len(errs) == 0 && len(ts.tokens) == 0 {
		errs = append(errs, &TokenError{File: file, Line: 1, Col: 1, Msg: "no token: the file must list at least one (unset auth_tokens_file to accept requests without a token)"})
	}
	if len(errs) > 0 {
		return nil, warns, joinErrors(errs)
	}
	return ts, warns, nil
}

// joinErrors joins errors one a line.
func joinErrors(errs []error) error {
	if len(errs) == 1 {
		return errs[0]
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return &TokenErrors{Errs: errs, msg: strings.Join(msgs, "\n")}
}

// TokenErrors are every problem of a tokens file.
type TokenErrors struct {
	Errs []error
	msg  string
}

func (e *TokenErrors) Error() string   { return e.msg }
func (e *TokenErrors) Unwrap() []error { return e.Errs }

// splitFields splits s on spaces and tabs and returns the fields with
// their 1-based columns.
func splitFields(s string) (fields []string, cols []int) {
	start := -1
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == '\r' {
			if start >= 0 {
				fields = append(fields, s[start:i])
				cols = append(cols, start+1)
				start = -1
			}
			continue
		}
		if start < 0 {
			start = i
		}
	}
	return fields, cols
}

// checkTokenName accepts 1 to 64 letters, digits, '.', '_', '-' and '@'.
func checkTokenName(s string) string {
	if len(s) > 64 {
		return "is longer than 64 bytes"
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-' || c == '@') {
			return fmt.Sprintf("holds %q: use letters, digits, '.', '_', '-' and '@'", rune(c))
		}
	}
	return ""
}

func shorten(s string) string {
	if len(s) > 20 {
		return s[:20] + "…"
	}
	return s
}

// Authenticate returns the token whose hash is the SHA-256 of secret, or
// nil. Every entry is compared, each in constant time
// (crypto/subtle), whatever matches: the time taken says nothing about
// which hash, or how much of one, matched.
func (ts *Tokens) Authenticate(secret string) *Token {
	h := sha256.Sum256([]byte(secret))
	found := -1
	for i := range ts.tokens {
		if subtle.ConstantTimeCompare(h[:], ts.tokens[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil
	}
	return &ts.tokens[found]
}

// BearerToken extracts the token of an Authorization header value
// ("Bearer TOKEN", the scheme case-insensitive, RFC 6750); ok is false
// when the header is not of that form.
func BearerToken(header string) (token string, ok bool) {
	scheme, rest, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	rest = strings.TrimSpace(rest)
	return rest, rest != ""
}
