package ingest

import (
	"errors"
	"sync/atomic"
	"unsafe"
)

// errNoMemory is returned by the body readers and Decode when the request
// could not get the memory it needs from the server's in-flight budget: the
// request is answered 429 and may be retried.
var errNoMemory = errors.New("ingest memory budget for requests in flight is spent")

// budget bounds the memory that log requests in flight hold at once: the
// body buffer, the block buffer (Records) and, for a Writer without
// WriteBlock, the record slice of each, in bytes of capacity. It is
// lock-free: one atomic add per grant.
//
// A request is always granted what it asks for while nobody else holds
// anything, so one request of the largest allowed
// body is never refused for memory; the bound is therefore the larger of
// the budget and what one request needs (see [ServerConfig.MaxInFlightBytes]).
type budget struct {
	max  atomic.Int64 // bytes; <= 0 means no bound
	used atomic.Int64 // bytes granted and not yet given back
}

// take grants n more bytes to a request already holding mine, or returns
// false (granting nothing) when that would pass max while others hold
// memory.
func (b *budget) take(n, mine int64) bool {
	used := b.used.Add(n)
	if m := b.max.Load(); m > 0 && used > m && used != mine+n {
		b.used.Add(-n)
		return false
	}
	return true
}

// give returns n bytes granted by take.
func (b *budget) give(n int64) { b.used.Add(-n) }

// hold is one request's share of a budget. A nil *hold (or one without a
// budget) grants everything: the exported readers and Decode use none.
type hold struct {
	b *budget
	n int64 // bytes held
}

// add asks for n more bytes; false means the budget refused them.
func (h *hold) add(n int64) bool {
	if h == nil || h.b == nil || n <= 0 {
		return true
	}
	if !h.b.take(n, h.n) {
		return false
	}
	h.n += n
	return true
}

// release gives back everything h holds.
func (h *hold) release() {
	if h != nil && h.b != nil {
		h.b.give(h.n)
		h.n = 0
	}
}

// recSize is the memory one entry of a record slice ([][]byte) takes, in
// bytes.
const recSize = int64(unsafe.Sizeof([]byte(nil)))

// held is the memory st's buffers hold, in bytes of capacity.
func (st *reqState) held() int64 {
	return int64(st.body.Cap()) + int64(cap(st.recs.buf)) + int64(cap(st.recs.recs))*recSize
}
