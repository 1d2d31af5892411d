package logging

import (
	"errors"
	"runtime"
)

// The writer token: who may use a log's writer (its open file and every
// field of writer) at a given moment.
//
// Writing a buffer means copying it into the page cache. Done by the log's
// writer goroutine, that copy reads memory the Write call filled on another
// core, and every call costs two goroutine switches (waking the writer,
// being woken by it). Measured with the benchmark command on 2 cores, the
// daemon then spent 2.6 times the bare baseline's kernel copy time per byte.
// So the calls write their buffers themselves, one at a time (leader-based
// group commit):
//
//   - A Write call that finds the token free takes it (in accept, under the
//     accept lock) and becomes the leader: it writes every buffer queued so
//     far, its own included, with one write(2) or writev(2), acknowledges
//     them, and releases the token. A lone call thus writes on its own core
//     and is never handed to another goroutine (it yields its P once, see
//     lead, which returns at once when nothing else is runnable).
//   - Calls arriving meanwhile append to the current buffer and wait. The
//     releasing leader hands the token to the oldest of them (errLead on its
//     waiter channel), which wakes up, writes everything queued by then (its
//     own records, and the calls that arrived after it: group commit) and
//     hands on in turn. The accept lock makes "nothing left to hand on, the
//     token is free" one atomic step, so no call is left waiting.
//   - Work a caller must not do — control operations (rolls, reopen, stop),
//     time boundaries, retries, the size roll a leader's write made due —
//     goes to the log's writer goroutine: whoever queues it sets toWriter,
//     leaders then stop before it, and the token passes to the writer
//     goroutine, which does all of it in queue order, exactly as before, and
//     then hands the token to a waiting caller or frees it.
//
// The writer goroutine still owns the file in the sense that matters: it
// creates, rolls, reopens and closes it, and only the holder of the token
// touches it. Callers holding the token only prepare (recreate a deleted
// file), write, fsync (DurabilitySync) and acknowledge, in queue order.

// owner says who holds a log's writer token.
type owner uint8

const (
	ownerNone   owner = iota // free: the next Write call takes it
	ownerCaller              // a Write call leads
	ownerWriter              // the writer goroutine
)

// errLead, received on a waiter channel, hands the writer token to the
// waiting Write call (see lead). Write never returns it.
var errLead = errors.New("logging: take the writer token")

// lead is a Write call's turn with the writer token: it writes the buffers
// queued before the first control operation (all of them, and the current
// buffer, when there is none), acknowledges them, and releases the token.
// When a write takes the file to its size limit, the roll and the buffers
// after it are left to the writer goroutine.
//
// The leader yields its P once before it takes the queue: the calls its
// predecessor acknowledged are typically runnable on this P by then, and
// yielding lets them accept their next records into the current buffer
// (finding the token taken, they wait) so that they join this write instead
// of forming the next one. Larger writes are cheaper per byte in the kernel:
// a buffered write allocates page-cache folios no larger than the bytes it
// writes and no larger than its offset's alignment, so many short unaligned
// writes cost several small folios each (docs/performance.md, "Write
// size"). In BenchmarkWrite this took the bytes per write(2) from about 63 to
// 180 KB and the collator from 0.62–0.71× to a median of 0.93× of bufio.
// With nothing else runnable, Gosched returns at once; with every P busy
// the leader may wait a scheduling round before writing, while the calls
// behind it wait too (measured on 2 cores up to 16 connections: no loss).
func (l *logFile) lead() {
	runtime.Gosched()
	w := l.w
	var pol Policy
	w.items, pol = l.takeLead(w.items[:0])
	w.pol = pol
	w.write(w.items, true)
	clear(w.items)
	l.release(ownerCaller)
}

// needWriterLocked records that work only the writer goroutine does is
// pending and wakes it. acc.mu must be held.
func (l *logFile) needWriterLocked() {
	l.acc.toWriter = true
	l.wake()
}

// acquireWriter gives the writer goroutine the token if it is free or was
// handed to it. When a caller holds it, it asks for it instead (the caller
// hands it over when done, with a wake-up) and reports false.
func (l *logFile) acquireWriter() bool {
	a := &l.acc
	a.mu.Lock()
	defer a.mu.Unlock()
	switch a.owner {
	case ownerNone:
		a.owner = ownerWriter
		return true
	case ownerWriter:
		return true
	}
	a.toWriter = true
	return false
}

// release passes the token on after its holder (by) is done: to the writer
// goroutine if it has work, else to the oldest waiting Write call, else
// nobody. It reports whether the holder, being the writer goroutine, keeps
// the token for more work of its own.
func (l *logFile) release(by owner) (keep bool) {
	a := &l.acc
	a.mu.Lock()
	var next chan error
	wakeWriter := false
	switch {
	case a.toWriter:
		a.owner = ownerWriter
		keep = by == ownerWriter
		wakeWriter = !keep
	default:
		next = firstWaiter(a.queue, a.cur)
		a.owner = ownerNone
		if next != nil {
			a.owner = ownerCaller
		}
	}
	a.mu.Unlock()
	if wakeWriter {
		l.wake()
	}
	if next != nil {
		next <- errLead
	}
	return keep
}

// firstWaiter returns the waiter channel of the oldest Write call whose
// records are not written yet, or nil. Without toWriter the queue holds
// buffers only.
func firstWaiter(queue []item, cur *buffer) chan error {
	for _, it := range queue {
		if it.buf != nil && len(it.buf.waiters) > 0 {
			return it.buf.waiters[0]
		}
	}
	if cur != nil && len(cur.waiters) > 0 {
		return cur.waiters[0]
	}
	return nil
}
