package syslog

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// pipeListener is a net.Listener whose connections are net.Pipe ends, for
// tests in a synctest bubble: dial returns the client's end.
type pipeListener struct {
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.UnixAddr{Name: "pipe", Net: "pipe"} }

func (l *pipeListener) dial() net.Conn {
	server, client := net.Pipe()
	l.conns <- server
	return client
}

// closed reports whether the server closed c (a read ends at once).
func closed(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)
}

// TestTCPIdleEvicted: with MaxConns open, a new connection takes the place
// of the one idle longest between frames once it has been idle IdleEvict;
// while none has, the new one is refused. The evicted connection's
// messages are written.
func TestTCPIdleEvicted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newMemWriter("syslog.log")
		s := New(Config{Logger: quiet, Writer: w, MaxConns: 2, IdleEvict: time.Minute})
		l := newPipeListener()
		served := make(chan error, 1)
		go func() { served <- s.ServeTCP(l) }()
		msg := func(text string) []byte { return []byte("<13>1 2026-12-07T00:00:00Z web01 app - - - " + text + "\n") }

		old := l.dial()
		old.Write(msg("from the oldest"))
		time.Sleep(30 * time.Second)
		busy := l.dial()
		busy.Write(msg("from the busy one"))
		time.Sleep(40 * time.Second) // old idle 70 s, busy 40 s
		synctest.Wait()

		// A third: old is closed to make room, the new one is served.
		third := l.dial()
		synctest.Wait()
		if !closed(old) {
			t.Error("the connection idle 70 s was not closed")
		}
		third.Write(msg("from the third"))
		synctest.Wait()
		// A fourth: the others have been idle less than a minute.
		fourth := l.dial()
		synctest.Wait()
		if !closed(fourth) {
			t.Error("a connection beyond MaxConns was served with none idle a minute")
		}
		if closed(busy) || closed(third) {
			t.Error("a connection idle less than a minute was closed")
		}
		st := s.Stats()
		if st.ConnectionsEvicted != 1 || st.ConnectionsRefused != 1 || st.Connections != 2 {
			t.Errorf("evicted %d, refused %d, open %d; want 1, 1, 2", st.ConnectionsEvicted, st.ConnectionsRefused, st.Connections)
		}
		if got := w.lines("syslog.log"); len(got) != 3 {
			t.Errorf("written %q, want the three messages", got)
		}
		for _, c := range []net.Conn{busy, third} {
			c.Close()
		}
		if err := s.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := <-served; err != nil {
			t.Fatal(err)
		}
	})
}

// TestBytesWaiting: a connection with bytes unread in its socket is told
// apart from an idle one, without reading them.
func TestBytesWaiting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	server, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer server.Close()
	if bytesWaiting(server) {
		t.Error("bytes waiting before any was sent")
	}
	client.Write([]byte("<13>1 - h a - - - x\n"))
	deadline := time.Now().Add(5 * time.Second)
	for !bytesWaiting(server) {
		if time.Now().After(deadline) {
			t.Fatal("the bytes sent are not seen waiting")
		}
		time.Sleep(time.Millisecond)
	}
	buf := make([]byte, 64)
	if n, _ := server.Read(buf); n != 20 {
		t.Errorf("read %d bytes after the peek, want all 20", n)
	}
}
