package syslog

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
)

// benchFrames returns n octet-counted RFC 5424 frames of about 300 bytes,
// as cmd/logroll-bench sends them.
func benchFrames(n int) []byte {
	line := `203.0.113.7 - - [21/Nov/2026:06:00:00 +0000] "GET /api/v2/items/48213?page=3 HTTP/1.1" 200 5123 "https://example.com/list" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"`
	var sb strings.Builder
	for i := range n {
		msg := fmt.Sprintf("<134>1 2026-11-21T06:00:%02d.%06dZ web01 httpd 4211 - - %s %d", i%60, i, line, i)
		fmt.Fprintf(&sb, "%d %s", len(msg), msg)
	}
	return []byte(sb.String())
}

// processCPU returns the process's user + system CPU time, in ns.
func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkFrames frames, parses and routes a read buffer of 1000
// messages and delivers it to a Writer that only counts, in one goroutine
// and without a network: the per-message CPU of the syslog input itself.
// cpu-ns/msg is the process's CPU time (the garbage collector's included).
func BenchmarkFrames(b *testing.B) {
	const perBuf = 1000
	buf := benchFrames(perBuf)
	w := &nopWriter{}
	s := New(Config{Writer: w, Logger: quiet})
	f := framer{max: s.max}
	p := NewParser()
	var bt batch
	where := func() string { return "bench" }
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		for start := 0; start < len(buf); {
			ev, msg, n, _ := f.next(buf[start:])
			if ev != evFrame {
				b.Fatalf("event %d at %d", ev, start)
			}
			s.accept(p, &bt, msg, "tcp", where)
			start += n
		}
		s.deliver(&bt)
	}
	b.ReportMetric(float64(processCPU()-c0)/float64(b.N*perBuf), "cpu-ns/msg")
}

// BenchmarkParse is BenchmarkFrames' parse alone (Parser.Parse of each
// message).
func BenchmarkParse(b *testing.B) {
	const perBuf = 1000
	buf := benchFrames(perBuf)
	var msgs [][]byte
	f := framer{max: DefaultMaxMessage}
	for start := 0; start < len(buf); {
		_, msg, n, _ := f.next(buf[start:])
		msgs = append(msgs, msg)
		start += n
	}
	benchParse(b, msgs)
}

// benchParse parses msgs, again and again with one Parser, and reports
// the process's CPU time per message.
func benchParse(b *testing.B, msgs [][]byte) {
	p := NewParser()
	b.ReportAllocs()
	c0 := processCPU()
	for b.Loop() {
		for _, m := range msgs {
			if _, err := p.Parse(m); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(processCPU()-c0)/float64(b.N*len(msgs)), "cpu-ns/msg")
}

// mixedMessages returns n messages as a relay or a shared UDP socket
// sees them: RFC 5424 from hosts and apps with names of many lengths,
// some with structured data, and one in eight RFC 3164.
func mixedMessages(n int) [][]byte {
	hosts := []string{"a", "web01", "db-primary-07.example.com", "lb2", "very-long-hostname-of-a-cache.eu-west.example.net"}
	apps := []string{"x", "nginx", "postgres", "kernel", "a-daemon-with-a-long-name"}
	out := make([][]byte, n)
	for i := range out {
		h, a := hosts[i%len(hosts)], apps[(i/len(hosts))%len(apps)]
		switch {
		case i%8 == 7:
			out[i] = fmt.Appendf(nil, "<38>Nov 21 06:00:%02d %s %s[%d]: message %d with some text after it, as rsyslog forwards", i%60, h, a, i%5000, i)
		case i%5 == 3:
			out[i] = fmt.Appendf(nil, `<165>1 2026-11-21T06:00:%02d.%06dZ %s %s %d ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="%d"] message %d with some text after it`, i%60, i, h, a, i%5000, i, i)
		default:
			out[i] = fmt.Appendf(nil, "<134>1 2026-11-21T06:00:%02d.%06dZ %s %s %d - - message %d with some text after it, about a line", i%60, i, h, a, i%5000, i)
		}
	}
	return out
}

// BenchmarkParseMixed is BenchmarkParse over mixedMessages: headers of
// many lengths in turn, the worst case for the header shortcut.
func BenchmarkParseMixed(b *testing.B) { benchParse(b, mixedMessages(1000)) }
