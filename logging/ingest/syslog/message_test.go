package syslog

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// referenceParse is Parser.Parse without the header shortcut: a new
// Parser parses the whole message through the library's auto machine.
func referenceParse(msg []byte) (Message, error) { return NewParser().Parse(msg) }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		msg    string
		want   Message
		reason string
	}{
		{"<134>1 2026-11-21T06:00:00.000000Z web01 httpd 4211 - - GET / 200", Message{RFC5424, 16, 6, "httpd"}, ""},
		{"<13>1 - - - - - - no header fields", Message{RFC5424, 1, 5, ""}, ""},
		{`<165>1 2026-11-21T06:00:00Z h app - ID47 [ex@32473 iut="3" src="a\]b"] with SD`, Message{RFC5424, 20, 5, "app"}, ""},
		{"<13>1 2026-11-21T06:00:00Z h app - - -", Message{RFC5424, 1, 5, "app"}, ""},
		{"<34>Oct 11 22:14:15 mymachine su: 'su root' failed", Message{RFC3164, 4, 2, "su"}, ""},
		{"<38>2026-11-21T06:00:00.123+01:00 host sshd[42]: rsyslog forwarding", Message{RFC3164, 4, 6, "sshd"}, ""},
		{"<192>1 2026-11-21T06:00:00Z h app - - - pri 192", Message{}, ReasonSyntax},
		{"<13>1 yesterday h app - - - ts", Message{}, ReasonSyntax},
		{"<13>1 2026-11-21T06:00:00Z h app - - [unclosed sd", Message{}, ReasonSyntax},
		{"<13>1 2026-11-21T06:00:00Z h app - - -x", Message{}, ReasonSyntax},
		{"no PRI at all", Message{}, ReasonSyntax},
		{"<13>1 2026-11-21T06:00:00Z h app - - - \xc3\x28 bad", Message{}, ReasonUTF8},
		{"<13>1 2026-11-21T06:00:00Z h app - - - a\x00b", Message{}, ReasonNUL},
	} {
		// Alone, and after a message that sets the header shortcut.
		for _, before := range []string{"", "<13>1 2026-11-21T06:00:00Z h app - - - before"} {
			p := NewParser()
			if before != "" {
				if _, err := p.Parse([]byte(before)); err != nil || p.head == 0 {
					t.Fatalf("%q: %v, head %d", before, err, p.head)
				}
			}
			got, err := p.Parse([]byte(tc.msg))
			var e *Error
			switch {
			case tc.reason == "" && err != nil:
				t.Errorf("%q (after %q): %v", tc.msg, before, err)
			case tc.reason != "" && (!errors.As(err, &e) || e.Reason != tc.reason):
				t.Errorf("%q (after %q): error %v, want reason %s", tc.msg, before, err, tc.reason)
			case got != tc.want:
				t.Errorf("%q (after %q): %+v, want %+v", tc.msg, before, got, tc.want)
			}
		}
	}
}

// TestParseHeadUsed: a run of messages with headers of one length takes
// the short parse after the first (the fields still those of each one).
func TestParseHeadUsed(t *testing.T) {
	p := NewParser()
	for i, app := range []string{"aaa", "bbb", "ccc", "dddd", "e"} {
		msg := "<134>1 2026-11-21T06:00:00.000000Z web01 " + app + " 4211 - - " + strings.Repeat("m", 200)
		if i > 0 {
			if _, ok := p.parseHead([]byte(msg)); !ok {
				t.Errorf("message %d (app %q): no short parse", i, app)
			}
		}
		got, err := p.Parse([]byte(msg))
		if err != nil || got.AppName != app || got.Facility != 16 {
			t.Errorf("message %d: %+v, %v", i, got, err)
		}
	}
}

// FuzzParseHead: a Parser that parsed a first message (so that it may
// take the short parse) gives for a second one exactly what the whole
// message through the library gives: the same fields, or a refusal for
// the same reason.
func FuzzParseHead(f *testing.F) {
	f.Add([]byte("<13>1 2026-11-21T06:00:00Z h app - - - first"), []byte("<13>1 2026-11-21T06:00:00Z h ap - - [x@1 a=\"]\"] second"))
	f.Add([]byte("<134>1 2026-11-21T06:00:00.000000Z web01 httpd 4211 - - x"), []byte("<134>1 2026-11-21T06:00:00.000000Z web01 httpd 4211 - -x"))
	f.Add([]byte("<13>1 - - - - - - a"), []byte("<13>1 - - - - - - \xef\xbb\xbfbom"))
	f.Add([]byte("<13>1 - h a - - - a"), []byte("<34>Oct 11 22:14:15 mymachine su: 3164"))
	f.Add([]byte("<13>1 - h a - - - a"), []byte("<13>1 - h a - - [a@1 x=\"1\"][b@1] ok"))
	f.Fuzz(func(t *testing.T, first, second []byte) {
		p := NewParser()
		p.Parse(first)
		got, err := p.Parse(second)
		want, werr := referenceParse(second)
		var e, we *Error
		switch {
		case (err == nil) != (werr == nil):
			t.Fatalf("after %q, %q: error %v, the library alone: %v", first, second, err, werr)
		case err != nil && (!errors.As(err, &e) || !errors.As(werr, &we) || e.Reason != we.Reason):
			t.Fatalf("after %q, %q: error %v, the library alone: %v", first, second, err, werr)
		case got != want:
			t.Fatalf("after %q, %q: %+v, the library alone: %+v", first, second, got, want)
		}
	})
}

// TestParseHeadSwitchesOff: on a connection where the shortcut mostly
// misses (RFC 3164 after an RFC 5424 message), it is switched off for a
// window after a window of tries, and tried again after that; headers of
// alternating lengths keep taking it (the longest of the window is
// remembered).
func TestParseHeadSwitchesOff(t *testing.T) {
	p := NewParser()
	if _, err := p.Parse([]byte("<13>1 2026-11-21T06:00:00Z h app - - - first")); err != nil {
		t.Fatal(err)
	}
	for i := range headWindow {
		if _, err := p.Parse(fmt.Appendf(nil, "<34>Oct 11 22:14:15 mymachine su: attempt %d to become root failed", i)); err != nil {
			t.Fatal(err)
		}
	}
	if p.off != headWindow || p.tries != 0 || p.head != 0 {
		t.Fatalf("after a window of misses: off %d, tries %d, head %d; want off %d", p.off, p.tries, p.head, headWindow)
	}
	for i := range headWindow {
		p.Parse([]byte("<13>1 2026-11-21T06:00:00Z h app - - - again"))
		if want := headWindow - 1 - i; p.off != want {
			t.Fatalf("message %d of the window off: off %d, want %d", i, p.off, want)
		}
	}
	hosts := []string{"a", "a-much-longer-host-name.example.com", "b"}
	for i := range 3 * headWindow {
		msg := fmt.Appendf(nil, "<13>1 2026-11-21T06:00:00Z %s app - - - message %d", hosts[i%3], i)
		if _, err := p.Parse(msg); err != nil {
			t.Fatal(err)
		}
	}
	if p.off != 0 {
		t.Errorf("headers of alternating lengths switched the shortcut off")
	}
}
