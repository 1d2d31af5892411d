package syslog

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// nopWriter counts records.
type nopWriter struct{ n atomic.Int64 }

func (w *nopWriter) WriteLines(log string, recs [][]byte) error {
	w.n.Add(int64(len(recs)))
	return nil
}

// BenchmarkTCP sends octet-counted RFC 5424 messages of about 300 bytes
// over 4 connections to a Server whose Writer only counts them: the cost
// of reading, framing, parsing and routing (docs/performance.md, "Syslog").
func BenchmarkTCP(b *testing.B) {
	w := &nopWriter{}
	s := New(Config{Writer: w, Logger: quiet})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.ServeTCP(l)
	defer s.Shutdown(context.Background())
	const perBuf = 1000
	line := `203.0.113.7 - - [21/Nov/2026:06:00:00 +0000] "GET /api/v2/items/48213?page=3 HTTP/1.1" 200 5123 "https://example.com/list" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"`
	var sb strings.Builder
	for i := range perBuf {
		msg := fmt.Sprintf("<134>1 2026-11-21T06:00:00.000000Z web01 httpd 4211 - - %s %d", line, i)
		fmt.Fprintf(&sb, "%d %s", len(msg), msg)
	}
	buf := []byte(sb.String())
	conns := make([]net.Conn, 4)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", l.Addr().String()); err != nil {
			b.Fatal(err)
		}
		defer conns[i].Close()
	}
	b.SetBytes(int64(len(buf)) / perBuf)
	b.ResetTimer()
	var next atomic.Int64
	batches := int64(b.N/perBuf + 1)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Go(func() {
			for next.Add(1) <= batches {
				c.Write(buf)
			}
		})
	}
	wg.Wait()
	for w.n.Load() < batches*perBuf {
		runtimeGosched()
	}
	b.ReportMetric(float64(w.n.Load())/b.Elapsed().Seconds(), "records/s")
}

func runtimeGosched() { runtime.Gosched() }
