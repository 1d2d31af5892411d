package logging

import (
	"os"
	"sync"
)

// flusher is the goroutine that starts the early writeback of written
// ranges (see startWriteback), off the writers: sync_file_range submits the
// writeback I/O in its caller's context, which on the writer goroutine cost
// about a sixth of the write path's throughput. Requests for one file are
// merged into one range while they wait. One flusher serves the collator;
// Close stops it after the writers.
type flusher struct {
	mu      sync.Mutex
	pending map[*os.File]wbSpan
	wake    chan struct{} // capacity 1: "there are requests" (coalescing)
	stop    chan struct{}
	done    chan struct{}
}

// wbSpan is a byte range of a file: [off, end).
type wbSpan struct{ off, end int64 }

func newFlusher() *flusher {
	return &flusher{
		pending: map[*os.File]wbSpan{},
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
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
	select {
	case fl.wake <- struct{}{}:
	default:
	}
}

// run handles requests until stop is closed, then what is left, and exits.
// A file closed in the meantime (a roll) is skipped by writeback itself.
func (fl *flusher) run(writeback func(f *os.File, off, n int64)) {
	defer close(fl.done)
	for {
		select {
		case <-fl.wake:
		case <-fl.stop:
			fl.handle(writeback)
			return
		}
		fl.handle(writeback)
	}
}

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

// shutdown stops the goroutine and waits for it. It must be called once,
// after the last request.
func (fl *flusher) shutdown() {
	close(fl.stop)
	<-fl.done
}
