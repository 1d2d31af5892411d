package ingest

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestRefusalReachesWholeBodyClients: a client that writes its whole body
// before it reads the answer (Python's http.client, most shippers) gets the
// status of a refusal sent before the body was read — not a reset or a
// broken pipe, which it would retry for ever — and a client whose body
// stalls gets it at once, not after the read timeout (linger.go).
func TestRefusalReachesWholeBodyClients(t *testing.T) {
	s := NewServer(&fakeWriter{}, ServerConfig{MaxBodyBytes: 1 << 20})
	base, _, _ := startServer(t, s)
	addr := strings.TrimPrefix(base, "http://")
	big := strings.Repeat("x", 8<<20)
	for _, tc := range []struct {
		name, target string
		code         int
	}{
		{"413 by Content-Length", "/v1/logs/access", http.StatusRequestEntityTooLarge},
		{"404 bad name", "/v1/logs/..%2fetc", http.StatusNotFound},
		{"404 no such endpoint", "/v2/logs/access", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(30 * time.Second))
			// Headers and the whole body first, as http.client does; the
			// write fails with a reset when the server closes on unread bytes.
			if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", tc.target, len(big), big); err != nil {
				t.Fatalf("writing the body: %v (the server closed before reading it)", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code || !strings.Contains(string(body), `"error"`) || !resp.Close {
				t.Errorf("answer %d %v %q, want %d with a JSON error and Connection: close", resp.StatusCode, resp.Header, body, tc.code)
			}
		})
	}
	t.Run("stalled body", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST /v1/logs/..%%2fetc HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n0123456789")
		start := time.Now()
		conn.SetReadDeadline(start.Add(lingerTime / 2)) // far below the 60 s read timeout, and the linger
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatalf("no answer while the body stalls: %v", err)
		}
		t.Logf("answered after %v", time.Since(start))
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusNotFound || !strings.Contains(string(body), "invalid log name") {
			t.Errorf("answer %d %q (%v), want the whole 404 while the body stalls", resp.StatusCode, body, err)
		}
	})
}

// TestLingerAcrossSlicesAndStop: a body that trickles in over several of
// the drain's slices is still drained whole, and its client gets the
// answer; a stop does not wait for a drain (it serves nothing then).
func TestLingerAcrossSlicesAndStop(t *testing.T) {
	s := NewServer(&fakeWriter{}, ServerConfig{MaxBodyBytes: 1 << 20})
	base, _, stop := startServer(t, s)
	addr := strings.TrimPrefix(base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	chunk := strings.Repeat("y", 64<<10)
	fmt.Fprintf(conn, "POST /v1/logs/..%%2fx HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", 5*len(chunk))
	for range 5 {
		time.Sleep(3 * lingerSlice / 2)
		if _, err := io.WriteString(conn, chunk); err != nil {
			t.Fatalf("writing a slice of the body: %v", err)
		}
	}
	conn.SetReadDeadline(time.Now().Add(lingerTime))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("answer %v, %v; want 404", resp, err)
	}
	resp.Body.Close()

	// A client stalled in its body while the server stops.
	stalled, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stalled.Close()
	fmt.Fprintf(stalled, "POST /v1/logs/..%%2fx HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\nabc")
	stalled.SetReadDeadline(time.Now().Add(lingerTime))
	if resp, err := http.ReadResponse(bufio.NewReader(stalled), nil); err != nil {
		t.Fatalf("no answer to the stalled client: %v", err)
	} else {
		resp.Body.Close()
	}
	start := time.Now()
	stop()
	if d := time.Since(start); d > lingerTime/2 {
		t.Errorf("Shutdown took %v with a client in its drain, want well under the drain's %v", d, lingerTime)
	}
}
