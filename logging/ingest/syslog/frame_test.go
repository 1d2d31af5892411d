package syslog

import (
	"strings"
	"testing"
)

// frames runs a framer over input fed in pieces of step bytes (as reads
// deliver it) and returns what it found, one string per event.
func frames(max int, input string, step int) []string {
	f := framer{max: max}
	var out []string
	var buf []byte
	for i := 0; i < len(input) || len(buf) > 0; {
		if i < len(input) {
			j := min(len(input), i+step)
			buf = append(buf, input[i:j]...)
			i = j
		}
		for {
			ev, msg, n, reason := f.next(buf)
			switch ev {
			case evMore:
			case evFrame:
				out = append(out, "frame:"+string(msg))
			case evOversize:
				out = append(out, "oversize")
			case evDiscard:
			case evBadLength:
				return append(out, "bad:"+reason)
			}
			if ev == evMore {
				break
			}
			buf = buf[n:]
		}
		if i >= len(input) {
			if f.pending(buf) {
				out = append(out, "cut")
			}
			break
		}
	}
	return out
}

func TestFramer(t *testing.T) {
	tests := []struct {
		name, in string
		max      int
		want     []string
	}{
		{"newline", "<13>a\n<13>b\r\n\n\r\n<13>c\n", 100, []string{"frame:<13>a", "frame:<13>b", "frame:<13>c"}},
		{"octet", "5 <13>a6 <13>b\n7 <13>c\r\n", 100, []string{"frame:<13>a", "frame:<13>b", "frame:<13>c"}},
		{"octet keeps inner newlines", "9 <13>a\nb\nc", 100, []string{"frame:<13>a\nb\nc"}},
		{"mixed", "<13>a\n5 <13>b<13>c\n", 100, []string{"frame:<13>a", "frame:<13>b", "frame:<13>c"}},
		{"cut in a line", "<13>a\n<13>b", 100, []string{"frame:<13>a", "cut"}},
		{"cut in an octet frame", "5 <13>a9 <13>b", 100, []string{"frame:<13>a", "cut"}},
		{"cut in a count", "5 <13>a12", 100, []string{"frame:<13>a", "cut"}},
		{"oversize line", "<13>" + strings.Repeat("x", 30) + "\n<13>ok\n", 10, []string{"oversize", "frame:<13>ok"}},
		{"line of max", "<13>456789\n", 10, []string{"frame:<13>456789"}},
		{"line of max with CR", "<13>456789\r\n", 10, []string{"frame:<13>456789"}},
		{"line of max+1", "<13>4567890\n<13>ok\n", 10, []string{"oversize", "frame:<13>ok"}},
		{"oversize octet", "40 <13>" + strings.Repeat("x", 36) + "6 <13>ok", 10, []string{"oversize", "frame:<13>ok"}},
		{"octet of max with LF", "11 <13>456789\n6 <13>ok", 10, []string{"frame:<13>456789", "frame:<13>ok"}},
		{"octet of max with CR LF", "12 <13>456789\r\n6 <13>ok", 10, []string{"frame:<13>456789", "frame:<13>ok"}},
		{"octet of max+1", "11 <13>4567890" + "6 <13>ok", 10, []string{"oversize", "frame:<13>ok"}},
		{"octet of max+1 with LF", "12 <13>4567890\n6 <13>ok", 10, []string{"oversize", "frame:<13>ok"}},
		{"count with leading zero", "05 <13>a", 100, []string{"bad:octet count \"05\" has a leading zero"}},
		{"count zero", "0 <13>a", 100, []string{"bad:octet count 0: a frame holds at least one byte"}},
		{"count with a letter", "1a <13>a", 100, []string{"bad:octet count \"1a\" is not a decimal number followed by a space"}},
		{"count too long", "123456789 x", 100, []string{"bad:octet count \"12345678\" is not a number of at most 7 digits followed by a space"}},
		{"not syslog is still a line", "hello\n", 100, []string{"frame:hello"}},
		{"CR alone", "\r\r\n", 100, []string{"frame:\r"}},
	}
	for _, tc := range tests {
		for _, step := range []int{1, 3, 1 << 20} {
			got := frames(tc.max, tc.in, step)
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Errorf("%s (reads of %d): got %q, want %q", tc.name, step, got, tc.want)
			}
		}
	}
}

func TestFramerNeed(t *testing.T) {
	f := framer{max: 100}
	if n := f.need([]byte("12 <13>")); n != 8 {
		t.Errorf("need = %d, want 8", n)
	}
	if n := f.need([]byte("<13>ab")); n != 1 {
		t.Errorf("need = %d, want 1", n)
	}
	f.skip = 42
	if n := f.need(nil); n != 42 {
		t.Errorf("need = %d, want 42", n)
	}
}
