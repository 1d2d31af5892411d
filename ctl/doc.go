// Package ctl is logroll's admin protocol (DESIGN §2, §3): HTTP+JSON over the
// daemon's Unix socket. It holds the wire types (protocol.go), the server that
// serves a Backend on a socket of mode 0600, and the Client that logrollctl
// and scripts use.
//
// ctl knows nothing of the write path: the daemon implements Backend.
package ctl
