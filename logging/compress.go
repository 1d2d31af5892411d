package logging

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"
)

// Compression of rolled files (rolled_compression, docs/design.md §10), off the
// write path.
//
// A roll of a log stored compressed renames the active file, as any roll
// does, but to a hidden in-progress name in the log's rolled folder,
// .<final name>.raw (final name = <rolled name>.gz or .zst), and the
// writer goes on with the next file at once. A small pool of workers (the
// compressor) then compresses the raw file into a hidden temporary,
// .<final name>.tmp<random>, fsyncs it (Durability ≥ Roll), sets its times
// to the raw file's (its END: the order of rolled files, space.OrderKey),
// renames it to the final name, fsyncs the folder, and removes the raw
// file. Only then is the roll reported (Options.OnRoll, the "rolled" log
// line) and a forced Roll answered, with the final path: a script never
// sees a half-written or a raw-then-compressed file, since hidden names are
// never rolled names. A restart finishes what a crash interrupted
// (recover.go).
//
// A failed attempt (a full disk: ENOSPC) removes its temporary, keeps the
// raw file, and is tried again after firstCompressRetry, doubling up to
// maxCompressRetry; after maxCompressAttempts the raw file is published as
// it is under its plain rolled name (<rolled name>, the .old file), so that
// it is visible, listed and deletable by the space manager: nothing is
// lost and nothing stays hidden for ever. Every failure is counted, a
// streak is logged once.

// Retries of a failed compression.
const (
	firstCompressRetry  = time.Second
	maxCompressRetry    = 30 * time.Second
	maxCompressAttempts = 4
)

// maxCompressBacklog bounds the rolled files waiting for their compression
// (besides the one being compressed and those waiting for a retry): when
// the logs roll faster than the threads compress — a saturated machine
// runs them at the lowest priority, a high level is slow — the oldest
// waiting file is published as it is, under its plain rolled name, so
// that hidden raw files, which count toward the log space but which the
// space manager never deletes, cannot pile up until logging stops. Up to
// maxCompressBacklog files always wait; more, up to maxCompressBacklogFiles,
// while they hold at most maxCompressBacklogBytes together, so that a
// burst of small rolls is compressed, not published plain.
const (
	maxCompressBacklog      = 8
	maxCompressBacklogFiles = 256
	maxCompressBacklogBytes = 512 << 20
)

// errBehind is why a file is published uncompressed when the backlog is
// full.
var errBehind = errors.New("compression falls behind the rolls")

// errMovedAtStop is why a file is published uncompressed at a stop: its
// compression did not end within drainWait, and its folder was moved away.
var errMovedAtStop = errors.New("the stop came before its compression ended, in a folder moved away")

// errAborted is a compression stopped by Close once drainWait has passed:
// the raw file stays, the next start compresses it.
var errAborted = errors.New("compression stopped by Close")

// drainWait bounds how long Close goes on compressing the files rolled
// before it (the one in progress, those waiting, and the retries due
// within it): a graceful stop leaves no file hidden when it can, and
// still ends within the shipped unit's TimeoutStopSec (60 s) with the
// ingest and admin drains before it. What is left after it stays hidden, and the next
// start compresses it.
const drainWait = 30 * time.Second

// compressor is the pool of compression workers.
//
// Goroutines: start starts one (run) that owns the jobs waiting (ready, and
// failed ones waiting for their retry), and the workers, which take one job
// at a time from run and hand it back. submit queues a job without waiting
// (it is called by writer goroutines). shutdown, called once nothing more
// is submitted, lets run drain: it goes on with the job in progress, those
// ready, and the retries that fall due, without yielding to a load that is
// gone, until none is left or drain has passed; then it aborts the jobs
// still in progress (their raw files stay for the next start), answers
// every Roll still waiting with ErrClosed, and waits for the workers: no
// goroutine outlives shutdown.
type compressor struct {
	c       *Collator
	workers int        // files compressed at once
	chunks  *chunkPool // the threads that compress them, chunk by chunk (chunks.go); started by start
	threads int

	mu      sync.Mutex // guards queue and stopped
	queue   []*job     // submitted, not yet taken by run
	stopped bool
	poke    chan struct{} // capacity 1: "jobs submitted" (coalescing)
	quit    chan struct{} // closed by shutdown
	done    chan struct{} // closed when run has exited
	once    sync.Once     // start
	stop    sync.Once     // shutdown

	pending atomic.Int64 // jobs submitted and not finished: Stats

	cpu      *cpuSampler   // whether the machine is busy (idle.go); the file worker's
	draining atomic.Bool   // set by shutdown: nothing is written any more, yield no longer waits
	drain    time.Duration // how long shutdown goes on compressing (drainWait; tests shorten it)
	// backlogBytes is maxCompressBacklogBytes (tests lower it).
	backlogBytes int64
}

// yield waits while the machine's CPUs are busy (see yieldStep in
// chunks.go): while less than half a CPU is idle, it waits yieldStep, at
// most yieldMax in a row, or until abort is closed. It is called by the
// file worker only.
func (p *compressor) yield(abort <-chan struct{}) {
	for waited := time.Duration(0); waited < yieldMax; waited += yieldStep {
		if p.draining.Load() || !p.cpu.busy(p.c.now()) {
			return
		}
		t := time.NewTimer(yieldStep)
		select {
		case <-t.C:
		case <-abort:
			t.Stop()
			return
		}
	}
}

// newCompressor returns a pool compressing one file at a time on threads
// threads (at least one).
func newCompressor(c *Collator, threads int) *compressor {
	return &compressor{
		c: c, workers: 1, threads: max(threads, 1), cpu: newCPUSampler(), drain: drainWait, backlogBytes: maxCompressBacklogBytes,
		poke: make(chan struct{}, 1),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
}

// start starts the threads and run, once.
func (p *compressor) start() {
	p.once.Do(func() {
		p.chunks = newChunkPool(p.threads, false, func(err error) {
			p.c.log.Warn("compression runs at normal priority", "err", err)
		})
		go p.run()
	})
}

// submit queues j. It never blocks. After shutdown, j is answered with
// ErrClosed (its raw file stays for the next start).
func (p *compressor) submit(j *job) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		p.abandon(j)
		return
	}
	p.queue = append(p.queue, j)
	p.pending.Add(1)
	p.mu.Unlock()
	select {
	case p.poke <- struct{}{}:
	default:
	}
}

// shutdown drains the pool, then stops it and waits for its goroutines
// (see compressor). It is idempotent. Without start, it answers what was
// queued.
func (p *compressor) shutdown() {
	p.stop.Do(func() {
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		p.draining.Store(true)
		close(p.quit)
		started := true
		p.once.Do(func() { started = false })
		if started {
			<-p.done
		} else {
			p.abandonQueued(nil)
		}
	})
}

// abandon answers j's waiting Roll, if any, with ErrClosed.
func (p *compressor) abandon(j *job) {
	j.closeDir()
	if j.reply != nil {
		j.reply <- opResult{err: fmt.Errorf("logging: roll %s: %w: %s stays hidden and is compressed at the next start", j.log, ErrClosed, j.raw)}
		j.reply = nil
	}
}

// abandonQueued abandons the jobs in more and those still queued.
func (p *compressor) abandonQueued(more []*job) {
	p.mu.Lock()
	more = append(more, p.queue...)
	p.queue = nil
	p.mu.Unlock()
	for _, j := range more {
		p.pending.Add(-1)
		p.abandon(j)
	}
}

// run is the pool's goroutine: it hands ready jobs to the workers in
// order, takes back their results, and arms one timer for the earliest
// retry. Once shutdown closes quit it drains (see compressor): it takes
// what was queued, goes on until no job is ready, waiting or in progress,
// or until p.drain has passed, then stops the workers and ends every job
// left (finish).
func (p *compressor) run() {
	defer close(p.done)
	work := make(chan *job)
	results := make(chan *job)
	abort := make(chan struct{})
	var wg sync.WaitGroup
	for range p.workers {
		wg.Go(func() { p.worker(work, results, abort) })
	}
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	var ready, waiting []*job
	busy := 0
	quit := p.quit
	var drainEnd <-chan time.Time // set once quit is closed
	for drainEnd == nil || len(ready)+len(waiting)+busy > 0 {
		var send chan *job
		var next *job
		if len(ready) > 0 {
			send, next = work, ready[0]
		}
		select {
		case <-p.poke:
			ready = p.takeQueued(ready)
		case send <- next:
			ready[0] = nil
			ready = ready[1:]
			busy++
		case j := <-results:
			busy--
			if j.due.IsZero() {
				continue // done (and no longer pending: see answer)
			}
			waiting = append(waiting, j)
			p.arm(timer, waiting)
		case <-timer.C:
			ready, waiting = p.takeDue(ready, waiting)
			p.arm(timer, waiting)
		case <-quit:
			// Nothing is submitted any more (stopped is set).
			quit = nil
			ready = p.takeQueued(ready)
			if n := len(ready) + len(waiting) + busy; n > 0 {
				p.c.log.Info("stopping: finishing the compression of rolled files", "files", n, "at_most", p.drain)
			}
			t := time.NewTimer(p.drain)
			defer t.Stop()
			drainEnd = t.C
		case <-drainEnd:
			p.finish(work, results, abort, &wg, append(ready, waiting...), busy)
			return
		}
	}
	p.finish(work, results, abort, &wg, nil, 0)
}

// takeQueued moves what submit queued to ready; beyond maxCompressBacklog
// the oldest are published as they are.
func (p *compressor) takeQueued(ready []*job) []*job {
	p.mu.Lock()
	ready = append(ready, p.queue...)
	p.queue = nil
	p.mu.Unlock()
	var bytes int64
	for _, j := range ready {
		bytes += j.rolled.RawBytes
	}
	for len(ready) > maxCompressBacklog && (len(ready) > maxCompressBacklogFiles || bytes > p.backlogBytes) {
		j := ready[0]
		bytes -= j.rolled.RawBytes
		ready[0] = nil
		ready = ready[1:]
		p.c.publishRaw(j, errBehind)
	}
	return ready
}

// finish ends run's drain: it aborts the busy jobs in progress and waits for
// the workers, then ends the jobs left, those and the ones in left, which
// were not begun or wait for a retry: published uncompressed where their
// folder was moved away (publishMoved), otherwise abandoned hidden, named,
// for the next start.
func (p *compressor) finish(work, results chan *job, abort chan struct{}, wg *sync.WaitGroup, left []*job, busy int) {
	close(abort)
	close(work)
	for ; busy > 0; busy-- {
		if j := <-results; !j.due.IsZero() {
			left = append(left, j)
		}
	}
	wg.Wait()
	p.chunks.close()
	left = p.publishMoved(left)
	if len(left) > 0 {
		raws := make([]string, len(left))
		for i, j := range left {
			raws[i] = j.raw
		}
		p.c.log.Warn("stopping: rolled files left hidden, the next start compresses them", "files", len(left), "raw", raws)
	}
	p.abandonQueued(left)
}

// publishMoved publishes uncompressed, under their plain rolled names, the
// jobs of jobs whose folder was moved away (the next start, which looks in
// the configured folders, would never find them hidden there), and returns
// the others.
func (p *compressor) publishMoved(jobs []*job) []*job {
	kept := jobs[:0]
	for _, j := range jobs {
		if j.dir != nil {
			if _, moved := movedDir(j.dir, filepath.Dir(j.raw)); moved {
				p.c.publishRaw(j, errMovedAtStop) // its answer counts it off pending
				continue
			}
		}
		kept = append(kept, j)
	}
	return kept
}

// takeDue moves the jobs of waiting whose retry is due to ready.
func (p *compressor) takeDue(ready, waiting []*job) ([]*job, []*job) {
	now := p.c.now()
	kept := waiting[:0]
	for _, j := range waiting {
		if !now.Before(j.due) {
			j.due = time.Time{}
			ready = append(ready, j)
		} else {
			kept = append(kept, j)
		}
	}
	clear(waiting[len(kept):])
	return ready, kept
}

// arm sets timer to the earliest due retry among waiting.
func (p *compressor) arm(timer *time.Timer, waiting []*job) {
	var at time.Time
	for _, j := range waiting {
		at = earliest(at, j.due)
	}
	timer.Stop()
	if !at.IsZero() {
		timer.Reset(max(at.Sub(p.c.now()), 0))
	}
}

// worker compresses the jobs run hands it, one at a time, until work is
// closed. A job returns to run with due set when it must be tried again
// (or, aborted by Close, abandoned with its raw file kept).
func (p *compressor) worker(work <-chan *job, results chan<- *job, abort <-chan struct{}) {
	for j := range work {
		p.c.finishJob(j, abort)
		results <- j
	}
}
