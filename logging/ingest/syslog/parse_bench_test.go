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
	b.ReportMetric(float64(processCPU()-c0)/float64(b.N*perBuf), "cpu-ns/msg")
}
