package logging

import (
	"slices"
	"sync"
	"time"
)

// How records are partitioned between files (docs/design.md §5, "no overlap").
//
// Each log has one queue, guarded by its accept lock, of sealed buffers and
// control operations (roll, reopen, stop), in the order they were accepted.
// Every event that needs a time — accepting a call, sealing a buffer, queuing
// a roll — reads the clock once while holding that lock, so the times agree
// with the queue's order. The log's writer goroutine handles the queue
// strictly in order: a roll marker therefore splits the records into those
// accepted before its instant (in buffers ahead of it, written into the old
// file before the rename) and those accepted after (in buffers behind it,
// written into the new file). A buffer never straddles a marker: queuing a
// marker seals the current buffer first. The generation of a buffer is its
// position relative to the markers.
//
// Roll instants, which become END:
//   - time: the boundary. The accept path itself compares its clock reading
//     with the next boundary, so a record accepted at or after it never joins
//     the old file even if the timer is late; the writer's timer does the same
//     check when nothing is written.
//   - forced, reload: when the request is queued.
//   - size: when the buffer whose write reached the limit was sealed; the
//     writer rolls right after that write, and every later buffer was
//     created after that instant.
//   - retry of a failed time or size roll: when the retry is queued, like a
//     forced roll (see retry.go): the file then also holds records accepted
//     after the failed roll's instant.
//
// START of a file is the creation time of its first buffer, clamped to be no
// earlier than the roll instant that created the file, so START(next) ≥
// END(previous) always; names show both floored to the second.

// buffer holds the records of one or more Write calls, each call's records
// contiguous, on their way to the file: alone in one write(2), or with the
// other buffers queued at the same moment in one writev(2). A buffer belongs
// to exactly one file generation: it is sealed before any roll marker that
// follows it in the log's queue, so all its records land in the same file.
type buffer struct {
	b       []byte       // records, each followed by '\n'
	records int64        // number of records in b
	created time.Time    // clock reading when its first record was accepted
	sealed  time.Time    // clock reading when it was sealed (handed to the writer)
	waiters []chan error // one per Write call waiting for this buffer
	err     error        // outcome of the write, set by the writer
	// borrowed: b is a WriteBlock caller's memory, written as it is and
	// dropped (not pooled) once acknowledged (block.go).
	borrowed bool
}

// item is one entry of a log's queue: a sealed buffer or a control operation,
// in acceptance order. The writer handles them strictly in order, which is
// what makes the partition between files exact.
type item struct {
	buf *buffer
	op  *op
}

// opKind is the kind of a control operation.
type opKind int

const (
	opRoll   opKind = iota // roll now (time, forced)
	opReopen               // close and reopen the active file (external rotation)
	opStop                 // final: write everything, optionally roll, close, exit
)

// op is a control operation queued behind the buffers accepted before it.
type op struct {
	kind  opKind
	cause RollCause     // for opRoll, and for opStop with roll set
	roll  bool          // opStop: roll (cause reload) before closing
	retry bool          // opRoll: the retry of a failed roll (see retry.go)
	at    time.Time     // the instant: roll END, reopen START
	pol   Policy        // CauseTime: the policy whose boundary this is
	reply chan opResult // nil when nobody waits (time rolls)
}

// opResult is the writer's answer to an op.
type opResult struct {
	rolled *Rolled
	err    error
}

// maxPooledBuffer is the largest buffer capacity kept for reuse, in bytes
// (or 8 × BufferSize when that is more): a huge request's buffer is left to
// the GC. It is well above the bodies shippers send (Logstash's json_batch
// and syslog-ng's batches are tens to hundreds of KiB, and 1000 access-log
// lines are about 240 KiB): a buffer of such a request dropped after each
// write costs a fresh allocation, page faults and zeroing per request, which
// measured as a third of the daemon's CPU per GB at the default 9 KiB
// log_buffer_size.
const maxPooledBuffer = 4 << 20

// getBuffer returns an empty buffer able to hold at least need bytes, reusing
// pooled memory. bufSize is the configured BufferSize; buffers get twice
// that capacity, so that a buffer not yet full (below bufSize) can take one
// more typical call without reallocating.
func (c *Collator) getBuffer(bufSize, need int) *buffer {
	b, _ := c.bufPool.Get().(*buffer)
	if b == nil || cap(b.b) < 2*bufSize {
		b = &buffer{b: make([]byte, 0, 2*bufSize)}
	}
	if need > cap(b.b) {
		b.b = slices.Grow(b.b, need)
	}
	return b
}

// putBuffer recycles b once its write is acknowledged.
func (c *Collator) putBuffer(b *buffer) {
	clear(b.waiters)
	if b.borrowed {
		*b = buffer{waiters: b.waiters[:0], borrowed: true}
		c.blockPool.Put(b)
		return
	}
	*b = buffer{b: b.b[:0], waiters: b.waiters[:0]}
	if cap(b.b) > max(maxPooledBuffer, 8*c.set.Load().BufferSize) {
		return
	}
	c.bufPool.Put(b)
}

// getWaiter returns a channel on which a Write call receives the outcome of
// its buffer's write. Channels are recycled: steady-state writes allocate
// nothing.
func (c *Collator) getWaiter() chan error {
	if ch, ok := c.waitPool.Get().(chan error); ok {
		return ch
	}
	return make(chan error, 1)
}

// putWaiter recycles an empty waiter channel.
func (c *Collator) putWaiter(ch chan error) { c.waitPool.Put(ch) }

// accepter is the accept side of one log: the current buffer, the queue of
// sealed buffers and control operations, and the policy as the accept path
// sees it. Everything here is guarded by mu, held for one short critical
// section per Write call (no syscall, no allocation in steady state).
type accepter struct {
	mu    sync.Mutex
	pol   Policy
	next  time.Time // next time boundary; zero when the policy has none
	cur   *buffer   // current buffer, nil when empty
	queue []item    // sealed buffers and ops, oldest first
	shut  error     // non-nil once the log stopped accepting: ErrClosed or ErrUnknownLog

	// tok is the writer token (token.go), wanted whenever an op is queued.
	tok token
}

// accept appends one Write call's records (size bytes with newlines) to the
// log's current buffer under one lock acquisition and registers wait as a
// waiter of that buffer. It reads the clock once: if a time boundary has been
// reached, the current buffer is sealed and a time roll is queued first, so a
// record accepted at or after the boundary never lands in the old file, even
// if the timer is late. It reports whether the call took the free writer
// token and must now lead (see lead.go).
func (l *logFile) accept(records [][]byte, size int, wait chan error) (lead bool, err error) {
	bufSize := l.c.set.Load().BufferSize
	a := &l.acc
	a.mu.Lock()
	if a.shut != nil {
		err := a.shut
		a.mu.Unlock()
		return false, err
	}
	now := l.c.now()
	l.boundaryLocked(now)
	b := a.cur
	if b != nil && len(b.b)+size > cap(b.b) {
		l.sealLocked(now) // would reallocate: start a new buffer instead
		b = nil
	}
	if b == nil {
		b = l.c.getBuffer(bufSize, size)
		b.created = now
		a.cur = b
	}
	for _, r := range records {
		b.b = append(b.b, r...)
		b.b = append(b.b, '\n')
	}
	b.records += int64(len(records))
	b.waiters = append(b.waiters, wait)
	if len(b.b) >= bufSize {
		l.sealLocked(now)
	}
	lead = a.tok.acquire(ownerCaller)
	a.mu.Unlock()
	return lead, nil
}

// boundaryLocked queues a time roll if now has reached the next boundary:
// the current buffer is sealed first (it belongs to the old file), the roll's
// END is the boundary itself, and the next boundary is computed from now, so
// any number of boundaries missed in a stall make one roll.
func (l *logFile) boundaryLocked(now time.Time) {
	a := &l.acc
	if a.next.IsZero() || now.Before(a.next) {
		return
	}
	l.sealLocked(now)
	a.queue = append(a.queue, item{op: &op{kind: opRoll, cause: CauseTime, at: a.next, pol: a.pol}})
	a.next = nextBoundary(a.pol, now, l.c.loc)
	l.needWriterLocked()
}

// sealLocked moves the current buffer, if any, to the queue.
func (l *logFile) sealLocked(now time.Time) {
	a := &l.acc
	if a.cur == nil {
		return
	}
	a.cur.sealed = now
	a.queue = append(a.queue, item{buf: a.cur})
	a.cur = nil
}

// enqueue queues a control operation behind every record accepted so far and
// returns the instant it was queued at (its roll instant). For opStop the log
// stops accepting, with shut as the error later Writes get.
func (l *logFile) enqueue(o *op, shut error) error {
	a := &l.acc
	a.mu.Lock()
	if a.shut != nil {
		err := a.shut
		a.mu.Unlock()
		return err
	}
	now := l.c.now()
	l.boundaryLocked(now) // a due time roll comes first
	l.sealLocked(now)
	o.at = now
	a.queue = append(a.queue, item{op: o})
	if o.kind == opStop {
		a.shut = shut
	}
	if o.kind == opRoll || o.roll {
	}
	l.needWriterLocked()
	a.mu.Unlock()
	return nil
}

// setPolicy changes the log's policy from now on: a new interval or offset
// re-arms the boundary; a lowered size limit takes effect at the next write.
// A boundary of the old policy that is already due but not yet noticed (no
// write since, the timer not yet run) is queued first, under the old policy,
// so that the change does not drop it.
func (l *logFile) setPolicy(p Policy) {
	a := &l.acc
	a.mu.Lock()
	if a.pol != p {
		now := l.c.now()
		l.boundaryLocked(now)
		a.pol = p
		a.next = nextBoundary(p, now, l.c.loc)
	}
	a.mu.Unlock()
	l.wake()
}

// take hands the writer goroutine everything there is to do, appended to
// items: the queue, and the current buffer if a caller waits for it or it is
// older than FlushInterval. Every op queued so far is taken: the token is
// served. It also returns the policy and the instant the writer must wake up
// at by itself (next boundary or flush deadline; zero for none).
func (l *logFile) take(items []item) (_ []item, _ Policy, wake time.Time) {
	flush := l.c.set.Load().FlushInterval
	a := &l.acc
	a.mu.Lock()
	now := l.c.now()
	l.boundaryLocked(now)
	if a.cur != nil && (len(a.cur.waiters) > 0 || now.Sub(a.cur.created) >= flush) {
		l.sealLocked(now)
	}
	items = append(items, a.queue...)
	clear(a.queue)
	a.queue = a.queue[:0]
	a.tok.served()
	wake = a.next
	if a.cur != nil {
		if due := a.cur.created.Add(flush); wake.IsZero() || due.Before(wake) {
			wake = due
		}
	}
	pol := a.pol
	a.mu.Unlock()
	return items, pol, wake
}

// takeLead hands a leading Write call (lead.go) the buffers it may write,
// appended to items: those queued before the first op, and, when no op is
// queued, the current buffer too. It also returns the policy.
func (l *logFile) takeLead(items []item) (_ []item, _ Policy) {
	a := &l.acc
	a.mu.Lock()
	now := l.c.now()
	l.boundaryLocked(now)
	n := 0
	for n < len(a.queue) && a.queue[n].buf != nil {
		n++
	}
	if n == len(a.queue) {
		l.sealLocked(now)
		n = len(a.queue)
	}
	items = append(items, a.queue[:n]...)
	m := copy(a.queue, a.queue[n:])
	clear(a.queue[m:])
	a.queue = a.queue[:m]
	pol := a.pol
	a.mu.Unlock()
	return items, pol
}

// wake tells the writer there is work, without blocking: the channel has
// capacity 1 and coalesces wake-ups.
func (l *logFile) wake() {
	select {
	case l.work <- struct{}{}:
	default:
	}
}

// nextBoundary is the next time boundary after now under p, or zero when p
// does not roll on time.
func nextBoundary(p Policy, now time.Time, loc *time.Location) time.Time {
	if !p.timeRolls() {
		return time.Time{}
	}
	return p.next(now, loc)
}
