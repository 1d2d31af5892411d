package syslog

import "sync/atomic"

// Stats is a snapshot of a Server's counters since New (the daemon exports
// them as proxy.process.log.syslog.* metrics, docs/daemon.md).
type Stats struct {
	// Received counts the messages that parsed, by transport ("tcp",
	// "udp"); each is then written, or counted in Lost.
	Received map[string]int64
	// Written counts the records written to log files.
	Written int64
	// Refused counts the messages (or streams) refused, by reason (the
	// Reason constants): nothing of them was written.
	Refused map[string]int64
	// Lost counts messages that parsed but could not be written: "stop"
	// (the daemon stopped while the log space was exhausted and the stop
	// timeout ended), "unknown_log" (the log they were routed to was
	// removed by a reload, and so was the default log).
	Lost map[string]int64
	// UDPDropped counts the datagrams the kernel dropped because the
	// socket's receive buffer was full (SO_RXQ_OVFL; known when the next
	// datagram is read).
	UDPDropped int64
	// Retries counts batch writes refused (log space exhausted, or a failed
	// write) and tried again: the TCP connection or UDP socket was not read
	// meanwhile.
	Retries int64
	// Connections is the number of TCP connections open now;
	// ConnectionsRefused counts those closed at once because MaxConns were
	// open, ConnectionsEvicted those closed, idle, to make room for a new
	// one (Config.MaxConns).
	Connections, ConnectionsRefused, ConnectionsEvicted int64
	// Bytes counts the bytes read from connections and datagrams.
	Bytes int64
}

// counters are a Server's lock-free counters.
type counters struct {
	receivedTCP, receivedUDP atomic.Int64
	written                  atomic.Int64
	refused                  [nReasons]atomic.Int64
	lostStop, lostUnknown    atomic.Int64
	udpDropped               atomic.Int64
	retries                  atomic.Int64
	conns, connsRefused      atomic.Int64
	connsEvicted             atomic.Int64
	bytes                    atomic.Int64
}

// reasons lists the refusal reasons in the order of counters.refused.
var reasons = [...]string{ReasonSyntax, ReasonUTF8, ReasonNUL, ReasonOversize, ReasonLength, ReasonCut}

const nReasons = len(reasons)

func (c *counters) refuse(reason string) {
	for i, r := range reasons {
		if r == reason {
			c.refused[i].Add(1)
			return
		}
	}
}

// Stats returns a snapshot of the counters. It is safe to call at any
// time, also after Shutdown.
func (s *Server) Stats() Stats {
	c := &s.stats
	st := Stats{
		Received:           map[string]int64{"tcp": c.receivedTCP.Load(), "udp": c.receivedUDP.Load()},
		Written:            c.written.Load(),
		Refused:            map[string]int64{},
		Lost:               map[string]int64{"stop": c.lostStop.Load(), "unknown_log": c.lostUnknown.Load()},
		UDPDropped:         c.udpDropped.Load(),
		Retries:            c.retries.Load(),
		Connections:        c.conns.Load(),
		ConnectionsRefused: c.connsRefused.Load(),
		ConnectionsEvicted: c.connsEvicted.Load(),
		Bytes:              c.bytes.Load(),
	}
	for i, r := range reasons {
		st.Refused[r] = c.refused[i].Load()
	}
	return st
}
