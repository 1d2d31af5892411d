package ingest

import (
	"sync"
	"sync/atomic"
)

// gate admits requests until it is closed, and says when the requests it
// admitted have all left. It is lock-free on the request path: one atomic
// add to enter, one to leave.
type gate struct {
	// state is the number of admitted requests still in, plus closedBit once
	// closed.
	state atomic.Int64
	idle  chan struct{} // closed once the gate is closed and empty
	once  sync.Once     // closes idle
}

const closedBit = 1 << 62

func (g *gate) init() { g.idle = make(chan struct{}) }

// enter admits a request, or returns false once the gate is closed. A true
// must be matched by one leave.
func (g *gate) enter() bool {
	if g.state.Add(1)&closedBit != 0 {
		g.leave()
		return false
	}
	return true
}

// leave ends a request admitted by enter (or refused by it).
func (g *gate) leave() {
	if g.state.Add(-1) == closedBit {
		g.once.Do(func() { close(g.idle) })
	}
}

// close refuses every later enter and returns a channel closed once every
// admitted request has left. It is idempotent.
func (g *gate) close() <-chan struct{} {
	if old := g.state.Or(closedBit); old&^closedBit == 0 {
		g.once.Do(func() { close(g.idle) })
	}
	return g.idle
}

// closed reports whether close was called.
func (g *gate) closed() bool { return g.state.Load()&closedBit != 0 }

// inFlight returns the number of requests inside the gate (refused ones
// included for the instant they take to leave).
func (g *gate) inFlight() int64 { return g.state.Load() &^ closedBit }
