package logging

import (
	"os"
	"sync"
)

// flusher is the goroutine that starts the early writeback of written
// ranges (see startWriteback), off the writers: sync_file_range submits the
// writeback I/O in its caller's context (docs/performance.md, "Early
// writeback"). Requests for one file are merged into one range while they
// wait. One flusher serves the collator; Close stops it after the writers.
type flusher struct {
	worker
	mu      sync.Mutex // guards pending
	pending map[*os.File]wbSpan
}

// wbSpan is a byte range of a file: [off, end).
type wbSpan struct{ off, end int64 }

func newFlusher() *flusher {
	return &flusher{worker: newWorker(), pending: map[*os.File]wbSpan{}}
}

// request asks for the writeback of n bytes of f from off. It does not
// block.
func (fl *flusher) request(f *os.File, off, n int64) {
	fl.mu.Lock()
	s, ok := fl.pending[f]
	if !ok {
		s = wbSpan{off, off + n}
	}
	s.off, s.end = min(s.off, off), max(s.end, off+n)
	fl.pending[f] = s
	fl.mu.Unlock()
	fl.poke()
}

// start starts the goroutine, which hands every pending range to
// writeback. A file closed in the meantime (a roll) is skipped by
// writeback itself.
func (fl *flusher) start(writeback func(f *os.File, off, n int64)) {
	fl.worker.start(func() { fl.handle(writeback) })
}

// shutdown stops the goroutine after the last request, and waits for it.
func (fl *flusher) shutdown() { fl.worker.shutdown(func() {}) }

// handle starts the writeback of every pending range.
func (fl *flusher) handle(writeback func(f *os.File, off, n int64)) {
	fl.mu.Lock()
	todo := fl.pending
	if len(todo) == 0 {
		fl.mu.Unlock()
		return
	}
	fl.pending = map[*os.File]wbSpan{}
	fl.mu.Unlock()
	for f, s := range todo {
		writeback(f, s.off, s.end-s.off)
	}
}
