package logging

import "errors"

// token is a log's writer token: who may use the log's writer — its open
// file and every writer field marked "guarded by the token" — at a given
// moment. Its holder is nobody, one Write call (the leader, lead.go), or
// the log's writer goroutine (run, writer.go); wanted says that work only
// the writer goroutine does is pending (an op queued, a size roll a leader
// left to it, or the writer goroutine asked for the token while a Write
// call held it).
//
// The token is guarded by its log's accept lock (acc.mu), together with the
// queue it is about: a Write call queues its records and acquires the free
// token in one critical section, and a releasing holder picks the next
// holder from that queue in another, so "nothing left to hand on, the
// token is free" is one atomic step and no call is left waiting. Its
// methods change the state only; a releasing holder then delivers the
// hand-over after unlocking (logFile.handOver): errLead on the waiter
// channel of the Write call that is to lead, or a wake-up of the writer
// goroutine.
//
// Transitions ("+w": wanted; a dash: no change):
//
//	state      a Write call acquires   the writer goroutine acquires   want       release
//	nobody     caller (it leads)       writer                          nobody+w   (nobody holds it)
//	nobody+w   refused (it waits)      writer+w                        —          (nobody holds it)
//	caller     refused (it waits)      refused: caller+w               caller+w   caller (the oldest waiting call), else nobody
//	caller+w   refused (it waits)      refused                         —          writer+w (the writer goroutine is woken)
//	writer     refused (it waits)      writer (holds it already)       writer+w   caller (the oldest waiting call), else nobody
//	writer+w   refused (it waits)      writer+w (holds it already)     —          writer+w (the writer goroutine keeps it)
//
// served (the writer goroutine has taken every op queued: take, buffer.go)
// clears wanted. A Write call that finds the token taken waits for its
// buffer's outcome or for the token, whichever is handed to it first. The
// writer goroutine keeps the token when it exits after the log's opStop:
// the log accepts nothing more.
//
// Invariant:
//   - at most one holder, and only the holder touches the writer's fields
//     guarded by the token;
//   - a Write call waits only while the token is held, or while it is
//     wanted and the writer goroutine has a wake-up pending: the token is
//     released to nobody only when no call waits and it is not wanted;
//   - while it is wanted, no Write call acquires it, and its next release
//     gives it to the writer goroutine: queued work of the writer goroutine
//     waits for the current holder only, never for more leaders;
//   - whoever is handed the token is told: a Write call by errLead, the
//     writer goroutine, unless it released the token itself, by a wake-up.
type token struct {
	owner    owner
	toWriter bool // wanted
}

// owner says who holds a log's writer token.
type owner uint8

const (
	ownerNone   owner = iota // free: the next Write call takes it
	ownerCaller              // a Write call leads
	ownerWriter              // the writer goroutine
)

// acquire gives the token to by if that is allowed, and reports whether
// it did: to a Write call (which then leads) when it is free and not
// wanted; to the writer goroutine when it is free or already its. A
// writer goroutine that finds a Write call holding it wants it instead:
// that call's release hands it over.
func (t *token) acquire(by owner) bool {
	switch {
	case by == ownerCaller && t.owner == ownerNone && !t.toWriter:
		t.owner = ownerCaller
		return true
	case by == ownerWriter && t.owner == ownerNone:
		t.owner = ownerWriter
		return true
	case by == ownerWriter && t.owner == ownerWriter:
		return true
	case by == ownerWriter:
		t.toWriter = true
	}
	return false
}

// want records that work only the writer goroutine does is pending. Whoever
// calls it wakes the writer goroutine (logFile.needWriterLocked).
func (t *token) want() { t.toWriter = true }

// served records that the writer goroutine, holding the token, has taken
// every op queued so far.
func (t *token) served() { t.toWriter = false }

// release passes the token on from its holder and returns the next
// holder: the writer goroutine when it is wanted, else a Write call when
// one waits (waiting), else nobody.
func (t *token) release(waiting bool) owner {
	switch {
	case t.toWriter:
		t.owner = ownerWriter
	case waiting:
		t.owner = ownerCaller
	default:
		t.owner = ownerNone
	}
	return t.owner
}

// errLead, received on a waiter channel, hands the writer token to the
// waiting Write call (see Collator.await). Write never returns it.
var errLead = errors.New("logging: take the writer token")

// needWriterLocked records that work only the writer goroutine does is
// pending and wakes it. acc.mu must be held.
func (l *logFile) needWriterLocked() {
	l.acc.tok.want()
	l.wake()
}

// acquireWriter gives the writer goroutine the token if it is free or was
// handed to it. When a Write call holds it, it asks for it instead (the
// call hands it over when done, with a wake-up) and reports false.
func (l *logFile) acquireWriter() bool {
	a := &l.acc
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.tok.acquire(ownerWriter)
}

// release passes the token on after its holder (by) is done: to the writer
// goroutine if it is wanted, else to the oldest waiting Write call, else
// nobody. It reports whether the holder, being the writer goroutine, keeps
// the token for more work of its own.
func (l *logFile) release(by owner) (keep bool) {
	a := &l.acc
	a.mu.Lock()
	var next chan error
	if !a.tok.toWriter { // else the writer goroutine is next
		next = firstWaiter(a.queue, a.cur)
	}
	to := a.tok.release(next != nil)
	a.mu.Unlock()
	return l.handOver(by, to, next)
}

// handOver delivers the token released by by to its next holder to, after
// acc.mu is released: a Write call gets errLead on its waiter channel next,
// the writer goroutine a wake-up unless it released the token itself, in
// which case it keeps it (and handOver reports so).
func (l *logFile) handOver(by, to owner, next chan error) (keep bool) {
	switch to {
	case ownerWriter:
		if by == ownerWriter {
			return true
		}
		l.wake()
	case ownerCaller:
		next <- errLead
	}
	return false
}

// firstWaiter returns the waiter channel of the oldest Write call whose
// records are not written yet, or nil. Unless the writer goroutine is
// wanted, the queue holds buffers only.
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
