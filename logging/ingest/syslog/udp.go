package syslog

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// UDP: one message per datagram (RFC 5426). The socket is read in runs:
// after a blocking wait for the first datagram, every datagram already
// queued is taken without waiting (recvmsg with MSG_DONTWAIT), up to
// udpBatchBytes, and the run is written as one batch per log before the
// socket is read again. While the Writer refuses a batch, the socket is not
// read: the kernel's receive buffer fills and then drops datagrams, which
// it counts for the socket (SO_RXQ_OVFL, delivered with each datagram
// read) and the server reports as UDPDropped.

// udpBatchBytes bounds the datagram bytes of one run.
const udpBatchBytes = 1 << 20

// udpRoom is the room a datagram is read into: a message of max bytes,
// its framing (CR LF), and one more byte, so that MSG_TRUNC tells a longer
// one (a UDP payload is at most 65,507 bytes).
func udpRoom(max int) int { return min(max+2, 65535) + 1 }

// ServeUDP reads datagrams from c until Shutdown, then reads what is still
// queued, writes it, closes c and returns nil. A read error other than the
// stop is returned as is (c closed).
func (s *Server) ServeUDP(c *net.UDPConn) error {
	s.mu.Lock()
	if s.isStopping() {
		s.mu.Unlock()
		c.Close()
		return nil
	}
	s.udps = append(s.udps, c)
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	defer c.Close()
	if err := c.SetReadBuffer(s.udpBuf); err != nil {
		s.log.Warn("syslog: cannot set the UDP receive buffer", "bytes", s.udpBuf, "err", err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RXQ_OVFL, 1)
	}); err == nil && serr != nil {
		s.log.Warn("syslog: the kernel will not count UDP drops (SO_RXQ_OVFL)", "err", serr)
	}
	u := &udpReader{s: s, rc: rc, local: c.LocalAddr().String(),
		buf: make([]byte, udpBatchBytes+udpRoom(s.max)), oob: make([]byte, unix.CmsgSpace(4)), p: NewParser()}
	for {
		err := rc.Read(u.read)
		if err == nil {
			err = u.err
		}
		s.deliver(&u.b)
		u.off = 0
		if err == nil {
			continue
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && s.isStopping() {
			// Take what is queued, without waiting, then stop.
			c.SetReadDeadline(time.Time{})
			u.drain = true
			err = rc.Read(u.read)
			s.deliver(&u.b)
			if err == nil {
				err = u.err
			}
			if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return err
			}
			return nil
		}
		return err
	}
}

// udpReader holds the reading state of one UDP socket (owned by ServeUDP's
// goroutine).
type udpReader struct {
	s     *Server
	rc    syscall.RawConn
	local string
	buf   []byte
	oob   []byte
	off   int // bytes of buf used by the current run
	b     batch
	p     *Parser
	err   error
	drain bool // at stop: never wait
}

// read is the RawConn callback: it takes datagrams without waiting until
// none is queued, the run is full, or an error; it returns false (wait for
// the socket to be readable) only when it took nothing and may wait.
func (u *udpReader) read(fd uintptr) bool {
	s := u.s
	u.err = nil
	room := udpRoom(s.max)
	taken := 0
	for u.off+room <= len(u.buf) && u.off < udpBatchBytes {
		n, oobn, flags, from, err := unix.Recvmsg(int(fd), u.buf[u.off:u.off+room], u.oob, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return taken > 0 || u.drain
		}
		if err != nil {
			u.err = err
			return true
		}
		taken++
		u.dropped(u.oob[:oobn])
		s.stats.bytes.Add(int64(n))
		where := func() string { return sockaddrString(from) + " (udp)" }
		msg := u.buf[u.off : u.off+min(n, room)]
		if flags&unix.MSG_TRUNC != 0 {
			s.refuse(ReasonOversize, where(), "datagram longer than max_message_bytes: discarded")
			continue
		}
		// A trailing LF (or CR LF) is framing some senders add: the
		// limit is the message's, after it, as over TCP.
		if k := len(msg); k > 0 && msg[k-1] == '\n' {
			msg = msg[:k-1]
			if k > 1 && msg[k-2] == '\r' {
				msg = msg[:k-2]
			}
		}
		if len(msg) > s.max {
			s.refuse(ReasonOversize, where(), "datagram longer than max_message_bytes: discarded")
			continue
		}
		if len(msg) == 0 {
			continue
		}
		s.accept(u.p, &u.b, msg, "udp", where)
		u.off += n
	}
	return true
}

// dropped reads the SO_RXQ_OVFL count of a datagram's control data: the
// datagrams the kernel dropped for this socket since it was opened.
func (u *udpReader) dropped(oob []byte) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_RXQ_OVFL && len(m.Data) >= 4 {
			n := int64(binary.NativeEndian.Uint32(m.Data))
			for {
				old := u.s.stats.udpDropped.Load()
				if n <= old || u.s.stats.udpDropped.CompareAndSwap(old, n) {
					break
				}
			}
		}
	}
}

// sockaddrString renders a datagram's source address.
func sockaddrString(sa unix.Sockaddr) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return (&net.UDPAddr{IP: a.Addr[:], Port: a.Port}).String()
	case *unix.SockaddrInet6:
		return (&net.UDPAddr{IP: a.Addr[:], Port: a.Port}).String()
	}
	return "?"
}
