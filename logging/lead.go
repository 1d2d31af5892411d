package logging

import "runtime"

// Leader-based group commit: Write calls write their buffers themselves.
//
// Writing a buffer means copying it into the page cache. Done by the log's
// writer goroutine, that copy reads memory the Write call filled on another
// core, and every call costs two goroutine switches, waking the writer and
// being woken by it (docs/performance.md, "Design decisions": "Leader-based
// group commit"). So the calls hold the writer token (token.go) in turn:
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
//     hands on in turn.
//   - Work a caller must not do — control operations (rolls, reopen, stop),
//     time boundaries, retries, the size roll a leader's write made due —
//     goes to the log's writer goroutine: whoever queues it wants the token
//     for it, leaders then stop before it, and the token passes to the
//     writer goroutine, which does all of it in queue order and then hands
//     the token to a waiting caller or frees it.
//
// The writer goroutine still owns the file in the sense that matters: it
// creates, rolls, reopens and closes it, and only the holder of the token
// touches it. Callers holding the token only prepare (recreate a deleted
// file), write, fsync (DurabilitySync) and acknowledge, in queue order.

// await waits for the outcome of a Write call's buffer on ch, leading
// first if the call took the token, and whenever the token is handed to it.
func (c *Collator) await(l *logFile, ch chan error, lead bool) error {
	if lead {
		l.lead()
	}
	var err error
	for {
		err = <-ch
		if err != errLead {
			break
		}
		l.lead()
	}
	c.putWaiter(ch)
	return err
}

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
// writes cost several small folios each (docs/performance.md, "Design
// decisions": "Write size"). With nothing else runnable, Gosched returns at once; with every P
// busy the leader may wait a scheduling round before writing, while the
// calls behind it wait too.
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
