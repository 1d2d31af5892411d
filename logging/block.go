package logging

import (
	"fmt"
)

// WriteBlock is Write for records already laid out as they go into the
// file: block holds records lines, each ending in '\n', none empty. It is
// written as it is, without being copied into a log buffer: the call
// returns only after the write (and the fsync, with DurabilitySync), and
// block is not kept after it returns. The caller guarantees the layout;
// only what costs nothing to check is checked: an empty block, one that
// does not end in a newline or starts with an empty line, or records < 1
// fails with ErrBadRecord and writes nothing (an empty block with no
// records is a no-op). Newlines in the middle are not counted. Records, bytes and
// partition between files are as for Write with the same records; a
// block is never split between files.
//
// The ingest server uses it for text bodies that need no rewriting
// (ingest.BlockWriter): it saves splitting the body into records and
// copying them, about a fifth of the daemon's CPU per GB of text.
func (c *Collator) WriteBlock(log string, block []byte, records int) error {
	l, err := c.writable(log, records)
	if err != nil {
		return err
	}
	if records <= 0 && len(block) == 0 {
		return nil
	}
	if n := len(block); records <= 0 || n == 0 || block[n-1] != '\n' || block[0] == '\n' {
		// The checks that cost nothing: a block without its final newline
		// would join its last line to the next call's first.
		return fmt.Errorf("logging: write %s: block of %d bytes given as %d records: want whole lines, each ending in a newline, none empty: %w",
			log, n, records, ErrBadRecord)
	}
	ch := c.getWaiter()
	lead, err := l.acceptBlock(block, records, ch)
	if err != nil {
		c.putWaiter(ch)
		return fmt.Errorf("logging: write %s: %w", log, err)
	}
	return c.await(l, ch, lead)
}

// acceptBlock queues block as a buffer of its own (borrowed: never
// appended to, never pooled with its memory) behind everything accepted
// so far, the current buffer sealed first, and registers wait as its
// waiter. Like accept, it reads the clock once, queues a due time roll
// first, and reports whether the call took the free writer token.
func (l *logFile) acceptBlock(block []byte, records int, wait chan error) (lead bool, err error) {
	a := &l.acc
	a.mu.Lock()
	if a.shut != nil {
		err := a.shut
		a.mu.Unlock()
		return false, err
	}
	now := l.c.now()
	l.boundaryLocked(now)
	l.sealLocked(now)
	b := l.c.getBlockBuffer()
	b.b, b.records, b.created, b.sealed = block, int64(records), now, now
	b.waiters = append(b.waiters, wait)
	a.queue = append(a.queue, item{buf: b})
	lead = a.tok.acquire(ownerCaller)
	a.mu.Unlock()
	return lead, nil
}

// getBlockBuffer returns an empty buffer for a borrowed block.
func (c *Collator) getBlockBuffer() *buffer {
	if b, ok := c.blockPool.Get().(*buffer); ok {
		return b
	}
	return &buffer{borrowed: true}
}
