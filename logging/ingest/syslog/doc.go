// Package syslog is logroll's syslog input (docs/design.md §12, docs/syslog.md):
// RFC 5424 and RFC 3164 messages over UDP (one per datagram) and TCP
// (octet counting or newline framing, RFC 6587), each written as one line
// to the log a Router chooses.
//
//	s := syslog.New(syslog.Config{Writer: coll, Router: syslog.NewRouter("syslog.log").App("nginx", "nginx.log")})
//	go s.ServeTCP(tcpListener)
//	go s.ServeUDP(udpConn)
//	...
//	s.SetRouter(newRouter) // on reload
//	err := s.Shutdown(ctx)
//
// The pure parts, shared by both transports and tested on their own:
// the framer (frame.go) splits a stream into messages; Parser checks a
// message (valid UTF-8, no NUL) and parses it with the go-syslog
// library's RFC 5424 and RFC 3164 parsers, for the routing fields (an RFC
// 5424 header alone when the connection's recent messages show where MSG
// begins; see Parser); Line
// gives the line written (the message as received, CR and LF inside it
// escaped as #015 and #012); Router picks the log.
//
// Backpressure: each read's whole messages are written (one Writer call
// per log) before the connection is read again; a refused write (log
// space exhausted, failed write) is retried every Config.RetryWait while
// nothing more is read. TCP senders then block; UDP datagrams pile up in
// the socket's buffer and, once it is full, the kernel drops them and
// counts them (Stats.UDPDropped).
//
// Imports: syslog → logging/ingest (the Writer interfaces), logging (its
// errors); the daemon wires it.
package syslog
