package daemon

import (
	"errors"
	"net"
	"testing"
	"time"
)

// TestLimitListener: a third connection waits for one of the first two to
// close; the connections keep CloseWrite; Close ends a waiting Accept.
func TestLimitListener(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := newLimitListener(tl, 2)
	accepted := make(chan net.Conn, 3)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	for range 3 {
		c, err := net.Dial("tcp", tl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	first := <-accepted
	<-accepted
	select {
	case <-accepted:
		t.Fatal("a third connection was accepted with two open")
	case <-time.After(200 * time.Millisecond):
	}
	if _, ok := first.(interface{ CloseWrite() error }); !ok {
		t.Error("the connection hides CloseWrite")
	}
	first.Close()
	first.Close() // gives its slot back once
	third := <-accepted
	if third == nil {
		t.Fatal("the third connection was not accepted once one closed")
	}
	third.Close()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for range accepted {
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Accept after Close: %v", err)
	}
}
