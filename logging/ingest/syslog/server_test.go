package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/logroll/logroll/logging"
)

// memWriter is a fake collator: it keeps the lines per log, and refuses
// writes with ErrSpaceExhausted while full is set.
type memWriter struct {
	mu      sync.Mutex
	logs    map[string][]string
	known   map[string]bool
	full    bool
	refused int
	calls   int
}

func newMemWriter(logs ...string) *memWriter {
	w := &memWriter{logs: map[string][]string{}, known: map[string]bool{}}
	for _, l := range logs {
		w.known[l] = true
	}
	return w
}

func (w *memWriter) WriteLines(log string, recs [][]byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.known[log] {
		return fmt.Errorf("write %q: %w", log, logging.ErrUnknownLog)
	}
	if w.full {
		w.refused++
		return fmt.Errorf("write %s: %w", log, logging.ErrSpaceExhausted)
	}
	w.calls++
	for _, r := range recs {
		w.logs[log] = append(w.logs[log], string(r))
	}
	return nil
}

func (w *memWriter) lines(log string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.logs[log])
}

func (w *memWriter) setFull(full bool) {
	w.mu.Lock()
	w.full = full
	w.mu.Unlock()
}

func (w *memWriter) refusals() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.refused
}

// quiet discards the servers' diagnostics.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// serveTCP starts s on a loopback TCP listener and returns its address;
// the server is shut down when the test ends.
func serveTCP(t *testing.T, s *Server) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTCP(l) }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("ServeTCP: %v", err)
		}
	})
	return l.Addr().String()
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func send(t *testing.T, addr, data string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

// TestTCPRouting sends RFC 5424 and RFC 3164 messages in both framings and
// checks each lands, as sent, in the log its app name or facility routes it
// to; malformed ones are refused and counted, and the rest still written.
func TestTCPRouting(t *testing.T) {
	w := newMemWriter("syslog.log", "auth.log", "nginx.log")
	r := NewRouter("syslog.log").App("nginx", "nginx.log").Facility(4, "auth.log").Facility(10, "auth.log")
	s := New(Config{Logger: quiet, Writer: w, Router: r, MaxMessage: 200})
	addr := serveTCP(t, s)
	m5424 := "<13>1 2026-11-21T06:00:00Z web01 app 1 - - hello 5424"
	m3164 := "<14>Nov 21 06:00:00 web01 cron[5]: hello 3164"
	nginx := "<190>1 2026-11-21T06:00:00Z web01 nginx 7 - - GET / 200"
	auth := "<38>Nov 21 06:00:00 web01 sshd[9]: accepted"        // auth.info, app sshd
	authpriv := "<86>Nov 21 06:00:00 web01 sudo: session opened" // authpriv.info
	nginxAuth := "<37>Nov 21 06:00:00 web01 nginx: app beats facility"
	multi := "<13>1 2026-11-21T06:00:00Z web01 app 1 - - line one\nline two\r"
	stream := m5424 + "\n" +
		fmt.Sprintf("%d %s", len(m3164), m3164) +
		nginx + "\r\n" +
		"<13>not syslog at all\n" + // refused: syntax
		"<999>1 2026-11-21T06:00:00Z h a - - - bad pri\n" + // refused: syntax (PRI)
		"<13>1 2026-11-21T06:00:00Z h a - - - bad \xff utf8\n" + // refused: utf8
		fmt.Sprintf("%d %s", len(multi), multi) +
		"<13>1 2026-11-21T06:00:00Z h a - - - " + strings.Repeat("x", 300) + "\n" + // refused: oversize
		auth + "\n" + authpriv + "\n" + nginxAuth + "\n" +
		"12 <13>a\x00bcdefgh" + // refused: NUL
		"5 <13>"
	send(t, addr, stream)
	waitFor(t, "the stream to end", func() bool { st := s.Stats(); return st.Connections == 0 && st.Refused[ReasonCut] == 1 })
	if got, want := w.lines("syslog.log"), []string{m5424, m3164, "<13>1 2026-11-21T06:00:00Z web01 app 1 - - line one#012line two#015"}; !slices.Equal(got, want) {
		t.Errorf("syslog.log = %q, want %q", got, want)
	}
	if got, want := w.lines("nginx.log"), []string{nginx, nginxAuth}; !slices.Equal(got, want) {
		t.Errorf("nginx.log = %q, want %q", got, want)
	}
	if got, want := w.lines("auth.log"), []string{auth, authpriv}; !slices.Equal(got, want) {
		t.Errorf("auth.log = %q, want %q", got, want)
	}
	st := s.Stats()
	want := map[string]int64{ReasonSyntax: 2, ReasonUTF8: 1, ReasonNUL: 1, ReasonOversize: 1, ReasonLength: 0, ReasonCut: 1}
	for r, n := range want {
		if st.Refused[r] != n {
			t.Errorf("refused[%s] = %d, want %d (all: %v)", r, st.Refused[r], n, st.Refused)
		}
	}
	if st.Received["tcp"] != 7 || st.Written != 7 {
		t.Errorf("received %v, written %d, want 7 and 7", st.Received, st.Written)
	}
}

// TestTCPBadLength: an octet count that is not one closes the connection;
// what came before it is written.
func TestTCPBadLength(t *testing.T) {
	w := newMemWriter("syslog.log")
	s := New(Config{Logger: quiet, Writer: w})
	addr := serveTCP(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("<13>1 - - - - - - ok\n12x3 <13>1 - - - - - - never\n"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("connection still open after a bad octet count")
	}
	waitFor(t, "the refusal", func() bool { return s.Stats().Refused[ReasonLength] == 1 })
	if got := w.lines("syslog.log"); !slices.Equal(got, []string{"<13>1 - - - - - - ok"}) {
		t.Errorf("syslog.log = %q", got)
	}
}

// TestTCPBackpressure: while the writer refuses (space exhausted) the
// connection is not read, so the sender blocks once the socket buffers are
// full; when space comes back every message is written once, in order.
func TestTCPBackpressure(t *testing.T) {
	w := newMemWriter("syslog.log")
	w.setFull(true)
	s := New(Config{Logger: quiet, Writer: w, RetryWait: 5 * time.Millisecond})
	addr := serveTCP(t, s)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 60000 // about 12 MB: more than socket buffers hold
	sent := make(chan int, 1)
	go func() {
		i := 0
		defer func() { sent <- i }()
		var b strings.Builder
		for i < n {
			b.Reset()
			for j := 0; j < 500; j, i = j+1, i+1 {
				fmt.Fprintf(&b, "<13>1 - h app - - - message %06d %s\n", i, strings.Repeat("p", 170))
			}
			if _, err := c.Write([]byte(b.String())); err != nil {
				return
			}
		}
	}()
	waitFor(t, "refused writes", func() bool { return w.refusals() >= 5 })
	// The sender is blocked: bytes read stop growing.
	before := s.Stats().Bytes
	time.Sleep(100 * time.Millisecond)
	if after := s.Stats().Bytes; after != before {
		t.Errorf("read %d more bytes while the writer refused", after-before)
	}
	if len(w.lines("syslog.log")) != 0 {
		t.Fatal("written while full")
	}
	select {
	case i := <-sent:
		t.Fatalf("the sender finished (%d messages) while nothing could be written", i)
	default:
	}
	w.setFull(false)
	if i := <-sent; i != n {
		t.Fatalf("sent %d, want %d", i, n)
	}
	c.Close()
	waitFor(t, "every message", func() bool { return s.Stats().Written == n })
	for i, l := range w.lines("syslog.log") {
		if want := fmt.Sprintf("<13>1 - h app - - - message %06d ", i); !strings.HasPrefix(l, want) {
			t.Fatalf("line %d = %q, want prefix %q", i, l, want)
		}
	}
	if s.Stats().Retries == 0 {
		t.Error("no retry counted")
	}
}

// TestTCPStopFinishesFrame: at Shutdown a connection reads the rest of the
// octet-counted frame it is in (no further), writes it and closes.
func TestTCPStopFinishesFrame(t *testing.T) {
	w := newMemWriter("syslog.log")
	s := New(Config{Logger: quiet, Writer: w})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTCP(l) }()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msg := "<13>1 - h app - - - the whole frame"
	first := "<13>1 - h app - - - before\n"
	c.Write([]byte(first + fmt.Sprintf("%d ", len(msg)) + msg[:10]))
	waitFor(t, "the first message", func() bool { return len(w.lines("syslog.log")) == 1 })
	stopped := make(chan error, 1)
	go func() { stopped <- s.Shutdown(context.Background()) }()
	time.Sleep(50 * time.Millisecond)
	c.Write([]byte(msg[10:] + "<13>1 - h app - - - after\n"))
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := w.lines("syslog.log"); !slices.Equal(got, []string{first[:len(first)-1], msg}) {
		t.Errorf("syslog.log = %q", got)
	}
}

// TestStopWhileExhausted: a batch still refused when Shutdown's context
// ends is dropped, counted as lost, and Shutdown says so.
func TestStopWhileExhausted(t *testing.T) {
	w := newMemWriter("syslog.log")
	w.setFull(true)
	s := New(Config{Logger: quiet, Writer: w, RetryWait: 5 * time.Millisecond})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTCP(l) }()
	send(t, l.Addr().String(), "<13>1 - h a - - - one\n<13>1 - h a - - - two\n")
	waitFor(t, "a refusal", func() bool { return w.refusals() > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := s.Shutdown(ctx); !errors.Is(err, ErrStopTimeout) {
		t.Errorf("Shutdown = %v, want ErrStopTimeout", err)
	}
	<-done
	if st := s.Stats(); st.Lost["stop"] != 2 {
		t.Errorf("lost = %v, want stop 2", st.Lost)
	}
}

// TestTCPConnLimit: connections beyond MaxConns are closed at once and
// counted.
func TestTCPConnLimit(t *testing.T) {
	s := New(Config{Logger: quiet, Writer: newMemWriter("syslog.log"), MaxConns: 2})
	addr := serveTCP(t, s)
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	waitFor(t, "two connections", func() bool { return s.Stats().Connections == 2 })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("third connection not closed")
	}
	if st := s.Stats(); st.ConnectionsRefused != 1 || st.Connections != 2 {
		t.Errorf("connections %d, refused %d", st.Connections, st.ConnectionsRefused)
	}
}

// TestTCPStalledFrame: a frame not finished within FrameTimeout is refused
// as cut and its connection closed; an idle connection between frames is
// not.
func TestTCPStalledFrame(t *testing.T) {
	s := New(Config{Logger: quiet, Writer: newMemWriter("syslog.log"), FrameTimeout: 100 * time.Millisecond})
	addr := serveTCP(t, s)
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("<13>1 - h a - - - never ends"))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Fatal("stalled connection not closed")
	}
	waitFor(t, "the stalled connection's end", func() bool { return s.Stats().Connections == 1 })
	if st := s.Stats(); st.Refused[ReasonCut] != 1 {
		t.Errorf("cut %d, want 1", st.Refused[ReasonCut])
	}
}

// TestUDP sends datagrams, one refused, and checks the lines; then, with
// the writer refusing and a small receive buffer, floods the socket: every
// datagram sent is either written or counted as dropped by the kernel.
func TestUDP(t *testing.T) {
	w := newMemWriter("syslog.log", "auth.log")
	s := New(Config{Logger: quiet, Writer: w, Router: NewRouter("syslog.log").Facility(4, "auth.log"), RetryWait: 5 * time.Millisecond, UDPReadBuffer: 64 << 10})
	c := serveUDP(t, s)
	c.Write([]byte("<13>1 - h a - - - one\n"))
	c.Write([]byte("garbage"))
	c.Write([]byte("<34>Nov 21 06:00:00 h su: two"))
	waitFor(t, "two lines", func() bool { return len(w.lines("syslog.log"))+len(w.lines("auth.log")) == 2 })
	if got := w.lines("syslog.log"); !slices.Equal(got, []string{"<13>1 - h a - - - one"}) {
		t.Errorf("syslog.log = %q", got)
	}
	if got := w.lines("auth.log"); !slices.Equal(got, []string{"<34>Nov 21 06:00:00 h su: two"}) {
		t.Errorf("auth.log = %q", got)
	}
	waitFor(t, "the refusal", func() bool { return s.Stats().Refused[ReasonSyntax] == 1 })

	w.setFull(true)
	const flood = 20000
	for i := range flood {
		c.Write([]byte(fmt.Sprintf("<13>1 - h a - - - flood %05d %s", i, strings.Repeat("z", 100))))
	}
	w.setFull(false)
	// One more datagram reports the kernel's drop count.
	time.Sleep(50 * time.Millisecond)
	c.Write([]byte("<13>1 - h a - - - last"))
	waitFor(t, "every datagram written or dropped", func() bool {
		st := s.Stats()
		return st.Written+st.UDPDropped == 2+flood+1
	})
	st := s.Stats()
	if st.UDPDropped == 0 {
		t.Errorf("no drop counted: written %d", st.Written)
	}
	t.Logf("flood of %d: %d written, %d dropped by the kernel", flood, st.Written-3, st.UDPDropped)
}

// TestUDPLimitAfterFraming: max_message_bytes is the message's length
// after the trailing LF or CR LF some senders add, as over TCP: a
// datagram of the limit plus its framing is taken, one byte more refused.
func TestUDPLimitAfterFraming(t *testing.T) {
	const limit = 480
	w := newMemWriter("syslog.log")
	s := New(Config{Logger: quiet, Writer: w, Router: NewRouter("syslog.log"), MaxMessage: limit})
	c := serveUDP(t, s)
	msg := func(tag string, n int) string {
		head := "<13>1 - h a - - - " + tag + " "
		return head + strings.Repeat("x", n-len(head))
	}
	c.Write([]byte(msg("lf", limit) + "\n"))
	c.Write([]byte(msg("crlf", limit) + "\r\n"))
	c.Write([]byte(msg("bare", limit)))
	c.Write([]byte(msg("over", limit+1) + "\n"))
	waitFor(t, "three lines and a refusal", func() bool {
		return len(w.lines("syslog.log")) == 3 && s.Stats().Refused[ReasonOversize] == 1
	})
	for _, l := range w.lines("syslog.log") {
		if len(l) != limit || strings.Contains(l, "over") {
			t.Errorf("written %d bytes: %.40q…", len(l), l)
		}
	}
}

// serveUDP runs s.ServeUDP on a loopback port until the test ends (then
// Shutdown, which must succeed) and returns a connection to it.
func serveUDP(t *testing.T, s *Server) net.Conn {
	t.Helper()
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeUDP(pc) }()
	c, err := net.Dial("udp", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		if err := s.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return c
}
