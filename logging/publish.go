package logging

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Publishing a durable roll off the write path (DurabilityRoll, logs stored
// uncompressed).
//
// A rolled file must be on disk before it appears under its rolled name:
// that is what makes a .old file complete, after a power loss too. Under
// sustained load that fsync waits for the disk, and a roll that made it
// before the rename kept the log's writers waiting with it: with early
// writeback the wait is short on an idle disk, but as long as the disk is
// behind the writes when it is not. So a roll at DurabilityRoll renames the
// active file to the hidden pending name .<rolled name>.raw, as a roll of a
// compressed log does, the writers go on into the next file at once, and
// the publisher then, in roll order:
//
//  1. fsyncs the pending file;
//  2. renames it to its rolled name (never replacing a file);
//  3. fsyncs the folder;
//  4. logs and reports the roll (Options.OnRoll) and answers a forced Roll.
//
// A failed fsync is logged and the file published all the same: the rename
// still gives a correct file, which may not survive a power loss (as a
// failed fsync before the rename always did). A failed rename keeps the
// pending file hidden and the forced Roll waiting for it gets the error;
// the next start tries again (recover.go), unless someone else made a file
// under its rolled name: then both stay, and every start says so. Hidden
// files count toward the log space and are never deleted.
//
// The queue has no bound: when the disk stays behind the writes, pending
// files pile up (publish_pending_files shows them) until the log space
// refuses writes or the kernel throttles its dirty pages, and a clean stop
// waits for their fsyncs (a stop killed before that leaves them to the
// next start).
//
// A kill or a power loss at any point leaves the records in exactly one
// file: the pending file, which the next start fsyncs and publishes, or
// the rolled file. What a power loss can cost is the tail of a pending file
// not yet fsynced — records no roll had made durable yet, which
// DurabilityRoll does not promise (docs/reliability.md) — never a part of
// a visible rolled file.
//
// The publisher also does the rest of a durable roll's fsyncs, those of the
// next active file's .meta and of the folder: a flush of the disk's cache
// waits for every write queued before it, and the writer goroutine must be
// free for the next size roll (deferred.go).
//
// Goroutines: start starts one (worker.go), which does the batches in the
// order submit queued them. shutdown does what is queued and waits for
// it: no job is left for the next start by a clean stop.
type publisher struct {
	worker
	c *Collator

	mu      sync.Mutex // guards queue and stopped
	queue   []*deferred
	stopped bool

	pending atomic.Int64 // plain jobs submitted and not published: Stats
}

func newPublisher(c *Collator) *publisher { return &publisher{worker: newWorker(), c: c} }

// start starts the goroutine, once.
func (p *publisher) start() { p.worker.start(p.handle) }

// submit queues the batch b, which it owns from then on, without blocking.
// After shutdown, b is done on the caller's goroutine (a clean stop leaves
// nothing hidden).
func (p *publisher) submit(b *deferred) {
	for _, j := range b.jobs {
		if j.storage.Compression == CompressionNone {
			p.pending.Add(1)
		}
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		p.c.finishBatch(b)
		return
	}
	p.queue = append(p.queue, b)
	p.mu.Unlock()
	p.poke()
}

// handle does the queued batches, in order.
func (p *publisher) handle() {
	p.mu.Lock()
	q := p.queue
	p.queue = nil
	p.mu.Unlock()
	for _, b := range q {
		p.c.finishBatch(b)
	}
}

// shutdown does what is queued and stops the goroutine (see publisher). It
// is idempotent.
func (p *publisher) shutdown() {
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.worker.shutdown(p.handle)
}

// finishBatch does b in order: the .meta fsyncs, the folder fsyncs, then
// its jobs — a plain one published, a compressed one handed to the
// compressor — and then its held-back answers. Failed fsyncs are logged:
// the roll happened, and only its survival of a power loss is in doubt.
func (c *Collator) finishBatch(b *deferred) {
	for _, m := range b.metas {
		if err := c.syncPending(m); err != nil {
			c.log.Warn("log metadata sync failed", "path", m, "err", err)
		}
	}
	if b.dir {
		if err := c.fs.syncDir(c.dir); err != nil {
			c.log.Warn("log folder sync after roll failed", "dir", c.dir, "err", err)
		}
	}
	if b.rolledDir != "" {
		if err := c.fs.syncDir(b.rolledDir); err != nil {
			c.log.Warn("rolled folder sync after roll failed", "dir", b.rolledDir, "err", err)
		}
	}
	for _, j := range b.jobs {
		if j.storage.Compression == CompressionNone {
			c.publish(j)
		} else {
			c.comp.submit(j)
		}
	}
	for _, r := range b.replies {
		r.ch <- r.res
	}
}

// publish puts j's pending file under its rolled name (the sequence of
// publisher) and reports it.
func (c *Collator) publish(j *job) {
	if c.publishFile(j) {
		c.finished(j, j.rolled)
	}
}

// publishFile does publish's file-system part and reports whether the
// rolled file is in place; a failure is logged and answered.
func (c *Collator) publishFile(j *job) bool {
	if j.durable {
		if err := c.syncRaw(j); err != nil {
			c.log.Warn("rolled file sync failed; published all the same, it may not survive a power loss",
				"log", j.log, "path", j.raw, "err", err)
		} else {
			c.countJob(j, cSyncs, 1)
		}
	}
	if j.recovered {
		j.rolled.Records = c.countRaw(j)
	}
	if err := c.renameRaw(j, filepath.Base(j.final()), j.durable); err != nil {
		c.log.Error("cannot publish rolled file; it stays hidden until the next start",
			"log", j.log, "path", j.raw, "err", err)
		c.answer(j, opResult{err: fmt.Errorf("logging: roll %s: publish %s: %w", j.log, j.raw, err)})
		return false
	}
	j.rolled.Path = j.where(filepath.Base(j.final()))
	return true
}

// syncPending fsyncs the file at path through c.fs (by path: the writer
// may have closed or reused its own descriptor meanwhile).
func (c *Collator) syncPending(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	return c.syncClose(f)
}

// syncClose fsyncs f through c.fs and closes it.
func (c *Collator) syncClose(f *os.File) error {
	err := c.fs.syncFile(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// countRaw returns the lines of j's raw file (0 when it cannot be read):
// the records of a pending file a crash left, counted by the publisher, off
// the start path.
func (c *Collator) countRaw(j *job) int64 {
	d, err := j.folder()
	if err != nil {
		return 0
	}
	f, err := openAt(int(d.Fd()), j.raw, unix.O_RDONLY, 0)
	if err != nil {
		return 0
	}
	defer f.Close()
	lc := &lineCounter{r: f}
	if _, err := io.Copy(io.Discard, lc); err != nil {
		c.log.Warn("cannot count the records of a rolled file a crash left hidden", "path", j.raw, "err", err)
	}
	return lc.n
}
