package records

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// convert checks a decoded TOML value against a record and returns the value
// to store (int64 or string), a warning when it was adjusted, and an error
// message when it is invalid. It is pure: table-tested on its own.
func convert(rec *Record, raw any) (v any, warn, errMsg string) {
	switch rec.Kind {
	case KindString:
		s, ok := raw.(string)
		if !ok {
			return nil, "", "expected a string, got " + describe(raw)
		}
		if rec.check != nil {
			if m := rec.check(s); m != "" {
				return nil, "", fmt.Sprintf("%q %s", s, m)
			}
		}
		return s, "", ""
	case KindPerm:
		return convertPerm(raw)
	case KindArgv:
		return convertArgv(rec, raw)
	case KindEnum:
		if s, ok := raw.(string); ok {
			for _, e := range rec.Enum {
				if e.Name == s {
					return e.Value, "", ""
				}
			}
			var names []string
			for _, e := range rec.Enum {
				names = append(names, e.Name)
			}
			return nil, "", fmt.Sprintf("unknown value %q: expected %s%s", s, rec.Range(), didYouMean(s, names))
		}
	case KindBool:
		if b, ok := raw.(bool); ok {
			if b {
				return int64(1), "", ""
			}
			return int64(0), "", ""
		}
	}
	n, ok := raw.(int64)
	if !ok {
		want := "an integer"
		switch rec.Kind {
		case KindEnum:
			want = "an integer or a name"
		case KindBool:
			want = "0 or 1"
		}
		return nil, "", fmt.Sprintf("expected %s, got %s", want, describe(raw))
	}
	if rec.adjust != nil {
		adj, w := rec.adjust(n)
		if w != "" {
			warn = w
		}
		n = adj
	}
	if n < rec.Min || n > rec.Max {
		return nil, "", fmt.Sprintf("%d is out of range: expected %s", n, rec.Range())
	}
	return n, warn, ""
}

// convertArgv accepts a TOML array of strings, each checked by rec.check.
func convertArgv(rec *Record, raw any) (any, string, string) {
	if ss, ok := raw.([]string); ok { // a default
		raw = anys(ss)
	}
	arr, ok := raw.([]any)
	if !ok {
		return nil, "", "expected an array of strings such as [\"/usr/local/bin/prog\", \"arg\"], got " + describe(raw)
	}
	argv := make([]string, 0, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, "", fmt.Sprintf("element %d: expected a string, got %s", i, describe(e))
		}
		argv = append(argv, s)
	}
	if rec.checkArgv != nil {
		if m := rec.checkArgv(argv); m != "" {
			return nil, "", m
		}
	}
	return argv, "", ""
}

// convertPerm accepts "rw-r--r--", "0644" or an integer such as 0o644.
func convertPerm(raw any) (any, string, string) {
	switch v := raw.(type) {
	case int64:
		if v < 0 || v > 0o777 {
			return nil, "", fmt.Sprintf("%#o is not a file mode (0 to 0777)", v)
		}
		return v, "", ""
	case string:
		if m, ok := parsePerm(v); ok {
			return m, "", ""
		}
		return nil, "", fmt.Sprintf("%q is not a file mode: expected nine characters like \"rw-r--r--\" or octal like \"0644\"", v)
	}
	return nil, "", "expected a file mode string such as \"rw-r--r--\", got " + describe(raw)
}

func parsePerm(s string) (int64, bool) {
	if len(s) == 9 && strings.Trim(s, "rwx-") == "" {
		var m int64
		for i, want := range "rwxrwxrwx" {
			switch rune(s[i]) {
			case want:
				m |= 1 << (8 - i)
			case '-':
			default:
				return 0, false
			}
		}
		return m, true
	}
	if len(s) >= 3 && len(s) <= 4 {
		m, err := strconv.ParseInt(s, 8, 64)
		if err == nil && m >= 0 && m <= 0o777 {
			return m, true
		}
	}
	return 0, false
}

func formatPerm(m int64) string {
	const letters = "rwxrwxrwx"
	b := []byte("---------")
	for i := range b {
		if m&(1<<(8-i)) != 0 {
			b[i] = letters[i]
		}
	}
	return string(b)
}

// describe names a decoded TOML value's type for messages.
func describe(raw any) string {
	switch v := raw.(type) {
	case string:
		if len(v) > 40 {
			v = v[:40] + "…"
		}
		return fmt.Sprintf("string %q", v)
	case int64:
		return fmt.Sprintf("integer %d", v)
	case float64:
		f := strconv.FormatFloat(v, 'g', -1, 64)
		if !strings.ContainsAny(f, ".eEn") { // keep 5.0 looking like a float
			f += ".0"
		}
		return "float " + f
	case bool:
		return fmt.Sprintf("boolean %v", v)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case nil:
		return "nothing"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("a %T", raw)
}

// anys converts a []string to the []any that TOML decoding gives.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
