package logging

import "sync"

// worker is the life of a goroutine that does work handed to it in
// coalesced wake-ups: the flusher's and the publisher's. Its owner keeps
// the work under its own lock and calls poke after adding some; run calls
// the owner's handle after every wake-up and, once shutdown is called,
// once more for what is left, then exits.
//
// start and shutdown are idempotent. shutdown waits for run to exit; when
// start was never called it calls handle itself, on its caller's
// goroutine, so that nothing handed over is dropped either way.
type worker struct {
	wake chan struct{} // capacity 1: "there is work" (coalescing)
	quit chan struct{} // closed by shutdown
	done chan struct{} // closed when run has exited
	once sync.Once     // start
	stop sync.Once     // shutdown
}

func newWorker() worker {
	return worker{wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
}

// poke wakes run up if it is not woken already. It never blocks.
func (w *worker) poke() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// start starts run with handle, once.
func (w *worker) start(handle func()) { w.once.Do(func() { go w.run(handle) }) }

func (w *worker) run(handle func()) {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
			handle()
		case <-w.quit:
			handle()
			return
		}
	}
}

// shutdown stops run after its last handle and waits for it; without a
// start, it calls handle instead.
func (w *worker) shutdown(handle func()) {
	w.stop.Do(func() {
		close(w.quit)
		started := true
		w.once.Do(func() { started = false })
		if started {
			<-w.done
			return
		}
		handle()
	})
}
