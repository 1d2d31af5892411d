package logging

import (
	"fmt"
	"io"
	"syscall"
	"time"
	"unsafe"
)

// The write path of the holder of a log's writer token (a leading Write call
// or the writer goroutine, token.go): one batch taken from the queue,
// written in order (write), each group of buffers readying the active file
// (prepare) and then written with one write(2) or writev(2)
// (writeBuffers), and acknowledged (ack.go).

// write handles one batch in order and reports whether the writer must
// exit. Consecutive buffers are written together (see writeBuffers), up to
// and including the one that reaches the size limit. Buffers are
// acknowledged before any op and at the end of the batch; with
// DurabilitySync one fsync covers every buffer of the group. A size roll
// follows the acknowledgement of the buffer that reached the limit: its
// callers do not wait for the roll. A leader (lead.go) has buffers only, and
// leaves a due size roll and the buffers after it to the writer goroutine.
func (w *writer) write(items []item, leader bool) (stop bool) {
	for i := 0; i < len(items); {
		if items[i].buf == nil {
			w.ack()
			if w.handle(items[i].op) {
				return true
			}
			i++
			continue
		}
		if err := w.prepare(items[i].buf); err != nil {
			items[i].buf.err = err
			w.acks = append(w.acks, items[i].buf)
			i++
			continue
		}
		// Gather the run of buffers written by one system call: it ends at
		// an op, at maxGroup buffers, or at the buffer that takes the file
		// to its size limit (later buffers belong to the next file).
		w.group = w.group[:0]
		size, roll := w.size, false
		for ; i < len(items) && items[i].buf != nil && len(w.group) < maxGroup; i++ {
			b := items[i].buf
			w.group = append(w.group, b)
			size += int64(len(b.b))
			if w.pol.sizeReached(size) && w.retry.at.IsZero() {
				roll = true
				i++
				break
			}
		}
		err := w.writeBuffers(w.group)
		for _, b := range w.group {
			b.err = err
		}
		w.acks = append(w.acks, w.group...)
		// The roll instant of a size roll is the sealing of the buffer that
		// reached the limit: everything accepted before it is in the file,
		// everything after is in later buffers. It is read now: ack recycles
		// the buffer, which may then be reused and resealed at once.
		end := w.group[len(w.group)-1].sealed
		clear(w.group)
		if roll && err == nil {
			w.ack()
			if leader {
				w.sizeRollAt = end
				w.leftover = append(w.leftover, items[i:]...)
				w.l.acc.mu.Lock()
				w.l.needWriterLocked()
				w.l.acc.mu.Unlock()
				return false
			}
			t0 := w.c.now()
			_, _ = w.roll(CauseSize, end)
			w.finishRoll()
			w.l.pause(w.c.now().Sub(t0))
		}
	}
	w.ack()
	return false
}

// maxGroup bounds the buffers written by one system call (IOV_MAX is 1024).
const maxGroup = 64

// prepare readies the active file for a write whose first buffer is first.
// A file deleted by someone else is noticed before the write (one fstat per
// write group, never per record) and recreated first, so that no record is
// acknowledged into an unlinked file.
//
// START of a file is the creation time of its first buffer: when the file is
// empty, START moves to max(buffer creation, current START) and the .meta is
// rewritten before the data. The .meta written when the file was created
// holds the roll instant, which is also a valid START (≤ every record, ≥ END
// of the previous file), so this rewrite needs no fsync.
func (w *writer) prepare(first *buffer) error {
	c, l := w.c, w.l
	err := w.ensureFile(first.created)
	if err == nil {
		w.checkLinked(first.created)
		err = w.ensureFile(first.created) // the recreation may have failed
	}
	if err != nil {
		l.count(cWriteErrors, 1)
		w.writeErr.fail(c.log, "log write failed", err, "log", l.name)
		c.writeFailed(err)
		return fmt.Errorf("logging: write %s: %w", l.name, err)
	}
	if w.size == 0 && first.created.Truncate(time.Second).After(w.start.Truncate(time.Second)) {
		w.start = first.created
		w.writeMeta(false) // published by the write that follows
	}
	return nil
}

// writeBuffers writes a group of buffers, in order, to the file readied by
// prepare, with one system call: write(2) for one buffer, writev(2) for
// several (a short write is resumed where it stopped). A failed write is cut
// back off the file, so that the group is all or nothing and every line
// stays whole; the error then belongs to every buffer of the group.
func (w *writer) writeBuffers(bufs []*buffer) error {
	c, l := w.c, w.l
	first := bufs[0]
	var n int64
	var err error
	if len(bufs) == 1 {
		var m int
		m, err = w.f.Write(first.b)
		n = int64(m)
	} else {
		n, err = w.writev(bufs)
	}
	if err != nil {
		if n > 0 {
			if terr := w.f.Truncate(w.size); terr != nil {
				w.size += n // could not undo: at least keep the count right
				w.publish()
				if c.onWrite != nil {
					c.onWrite(n)
				}
			}
		}
		l.count(cWriteErrors, int64(len(bufs)))
		w.writeErr.fail(c.log, "log write failed", err, "log", l.name)
		c.writeFailed(err)
		return fmt.Errorf("logging: write %s: %w", l.name, err)
	}
	w.writeErr.ok(c.log, "log writes work again", "log", l.name)
	var records int64
	for _, b := range bufs {
		records += b.records
	}
	w.size += n
	w.records += records
	w.dirty = true
	w.startWriteback(n)
	w.publish()
	l.count(cRecords, records)
	l.count(cBytes, n)
	l.count(cWriteCalls, 1)
	if c.onWrite != nil {
		c.onWrite(n)
	}
	return nil
}

// writeFailed tells Options.OnWriteError, if set, that a write, an fsync
// or the creation of an active file failed.
func (c *Collator) writeFailed(err error) {
	if c.onWriteError != nil {
		c.onWriteError(err)
	}
}

// writev writes bufs to the active file with writev(2), resuming after short
// writes, and returns the bytes written. The iovec array and the function
// handed to the file's RawConn are reused: it allocates nothing.
func (w *writer) writev(bufs []*buffer) (int64, error) {
	if w.rcFile != w.f {
		rc, err := w.f.SyscallConn()
		if err != nil {
			return 0, err
		}
		w.rc, w.rcFile = rc, w.f
	}
	if w.writevFn == nil {
		w.writevFn = w.writevFD
	}
	w.iov = w.iov[:0]
	for _, b := range bufs {
		if len(b.b) > 0 {
			w.iov = append(w.iov, syscall.Iovec{Base: &b.b[0], Len: uint64(len(b.b))})
		}
	}
	w.iovN, w.iovErr = 0, nil
	err := w.rc.Write(w.writevFn)
	if err == nil {
		err = w.iovErr
	}
	n := w.iovN
	clear(w.iov)
	return n, err
}

// writevFD is writev's RawConn callback: it writes w.iov to fd, resuming
// after short writes and EINTR, and leaves the count and error in w.iovN and
// w.iovErr.
func (w *writer) writevFD(fd uintptr) bool {
	iov := w.iov
	for len(iov) > 0 {
		r, _, e := syscall.Syscall(syscall.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&iov[0])), uintptr(len(iov)))
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			w.iovErr = e
			return true
		}
		n := int64(r)
		if n == 0 {
			w.iovErr = io.ErrShortWrite
			return true
		}
		w.iovN += n
		for len(iov) > 0 && n >= int64(iov[0].Len) {
			n -= int64(iov[0].Len)
			iov = iov[1:]
		}
		if n > 0 {
			iov[0].Base = (*byte)(unsafe.Add(unsafe.Pointer(iov[0].Base), n))
			iov[0].Len -= uint64(n)
		}
	}
	return true
}
