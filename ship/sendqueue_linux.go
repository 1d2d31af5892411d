package ship

import (
	"net"
	"syscall"

	"golang.org/x/sys/unix"
)

// sendQueue returns the bytes written to c that its peer has not yet
// acknowledged (SIOCOUTQ), -1 when unknown.
func sendQueue(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	rc.Control(func(fd uintptr) {
		if v, err := unix.IoctlGetInt(int(fd), unix.SIOCOUTQ); err == nil {
			n = v
		}
	})
	return n
}
