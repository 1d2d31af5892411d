package logging

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults for zero Config fields (the records package's defaults).
const (
	// DefaultBufferSize is log_buffer_size's default, in bytes.
	DefaultBufferSize = 9216
	// DefaultFlushInterval is max_secs_per_buffer's default.
	DefaultFlushInterval = 5 * time.Second
	// DefaultPerm is logfile_perm's default.
	DefaultPerm os.FileMode = 0o644
)

// Collator buffers records per log, writes them to the log files, and rolls
// those files (docs/design.md §5, §8).
//
// Start-up is in two steps, so that nothing the collator calls is called
// before it exists: New opens and repairs the files and performs the
// catch-up rolls, and starts no goroutine and calls no hook; Start starts
// the goroutines, reports New's rolls to Options.OnRoll, and from then on
// the hooks may be called. Open is New followed by Start.
//
// Goroutines: Start starts one writer goroutine per log. Whoever holds the
// log's writer token (token.go) uses its *os.File: a Write call that finds
// the token free writes the buffers queued at that moment itself, with one
// write(2) or writev(2) (never a system call per record), acknowledges them
// and hands the token to the next waiting call (leader-based group commit:
// no goroutine switch on the write path). The writer goroutine takes the
// token for everything else: it performs rolls between buffers, retries
// failed rolls, reopens the file and handles timers. It stops after writing
// everything accepted when the log is removed by Apply (which waits for it)
// or when Close is called (which waits for all of them). Start also starts
// the flusher (early writeback, writeback.go); Close stops it after the
// writers. No goroutine outlives Close. The collator deletes no rolled file:
// retention (rolling_max_count and the rest) and the disk budget belong to
// the space manager, which hears of every roll through Options.OnRoll.
//
// Concurrency: every method is safe for concurrent use. Write takes one short
// lock of its log per call, and may then write for the calls waiting with
// it; Apply and Close are serialised with each other.
// The clock (Options.Now) must move with real time, or the caller runs the
// collator inside a testing/synctest bubble: timers are real timers.
type Collator struct {
	dir string
	now func() time.Time
	loc *time.Location
	log *slog.Logger
	fs  fsOps // file-system calls that tests replace to inject faults

	onWrite        func(n int64)   // Options.OnWrite, or nil
	onWriteError   func(err error) // Options.OnWriteError, or nil
	onRoll         func(r Rolled)  // Options.OnRoll, or nil
	onDirRecreated func()          // Options.OnDirRecreated, or nil

	set     atomic.Pointer[Config]              // current normalised config
	logs    atomic.Pointer[map[string]*logFile] // declared logs; copy on write
	refuse  atomic.Pointer[string]              // non-nil: Write refused, with the reason
	started atomic.Bool                         // Start was called
	closed  atomic.Bool

	ctl      sync.Mutex     // serialises Start, Apply and Close
	newRolls []Rolled       // rolls made by New, reported by Start; guarded by ctl
	newJobs  []*job         // compressions New queued (catch-up rolls, recovery), submitted by Start; guarded by ctl
	comp     *compressor    // compresses rolled files, off the writers (compress.go)
	pub      *publisher     // publishes durable rolls of uncompressed logs, off the writers (publish.go)
	dirMu    sync.Mutex     // serialises recreateDir and folderReplaced; guards dirFI
	dirFI    os.FileInfo    // the log folder this collator created or found, to tell a replaced one
	wg       sync.WaitGroup // writer goroutines
	flush    *flusher       // early writeback at DurabilityRoll, off the writers

	total                         counters
	retiredMu                     sync.Mutex           // guards retired
	retired                       map[string]*counters // removed logs' counters, by name, until declared again (stats.go)
	openFiles                     atomic.Int64
	refusedWrites, refusedRecords atomic.Int64

	bufPool, waitPool sync.Pool
	blockPool         sync.Pool // *buffer with borrowed set (block.go)
}

// Open is New followed by Start: a collator ready for Write. A program whose
// hooks (Options) call into something created after the collator uses New
// and Start instead.
func Open(cfg Config, opts Options) (*Collator, error) {
	c, err := New(cfg, opts)
	if err != nil {
		return nil, err
	}
	c.Start()
	return c, nil
}

// New validates cfg, creates cfg.Dir if missing, opens (and repairs) every
// active file and performs the catch-up roll of logs that missed a boundary
// while stopped. It starts no goroutine and calls none of Options' hooks:
// Start does both, and Write, WriteLines, WriteBlock, Roll and Reopen fail
// with ErrNotStarted until then; Stats, Logs, SetAccepting and Close work
// at once. Zero BufferSize, FlushInterval, Perm and Durability select
// DefaultBufferSize, DefaultFlushInterval, DefaultPerm and DurabilityRoll.
// An unwritable folder is an error naming it.
func New(cfg Config, opts Options) (*Collator, error) {
	return newCollator(cfg, opts, fsOps{})
}

// Start starts the writer goroutines and the flusher, and reports the rolls
// New made (catch-up rolls) to Options.OnRoll, in order (at DurabilityRoll,
// and for compressed logs, once they are in their final form, which may
// come after rolls made since). From then on the
// collator calls its hooks, and accepts writes. A second call, or one after
// Close, does nothing.
func (c *Collator) Start() {
	c.ctl.Lock()
	defer c.ctl.Unlock()
	if c.closed.Load() || c.started.Swap(true) {
		return
	}
	c.flush.start(c.fs.writeback)
	c.comp.start()
	c.pub.start()
	for _, l := range *c.logs.Load() {
		c.start(l)
	}
	for _, r := range c.newRolls {
		c.reportRoll(r)
	}
	c.newRolls = nil
	for _, j := range c.newJobs {
		c.queueJob(j)
	}
	c.newJobs = nil
}

// start launches a log's writer goroutine.
func (c *Collator) start(l *logFile) {
	c.wg.Add(1)
	go l.run()
}

// Write appends records to the log named log (its active name, e.g.
// "access.log") and returns once they are written: handed to the kernel, and
// with DurabilitySync also fsynced. Records are given without their newline;
// the collator adds one to each. A record must not contain a newline.
//
// The records of one call are all or nothing: they go into the same file,
// contiguously, in order, and on any error none of them was written. Calls
// from any number of goroutines share buffers and system calls (group commit);
// calls from one goroutine keep their order. Write does not retain records.
//
// Errors wrap ErrUnknownLog, ErrClosed, ErrSpaceExhausted or ErrBadRecord, or
// the write failure.
func (c *Collator) Write(log string, records [][]byte) error {
	return c.write(log, records, true)
}

// WriteLines is Write for records the caller guarantees hold no newline,
// such as lines split on newlines: it skips Write's check of every record
// (a scan of every byte; docs/performance.md). A
// record that does hold a newline is written as it is, as two lines.
// ingest.Server uses it through ingest.LineWriter.
func (c *Collator) WriteLines(log string, records [][]byte) error {
	return c.write(log, records, false)
}

// write is Write, with the newline check when check is set.
func (c *Collator) write(log string, records [][]byte, check bool) error {
	l, err := c.writable(log, len(records))
	if err != nil {
		return err
	}
	if len(records) == 0 {
		return nil
	}
	size := 0
	for i, r := range records {
		if check && bytes.IndexByte(r, '\n') >= 0 {
			return fmt.Errorf("logging: write %s: record %d: %w", log, i, ErrBadRecord)
		}
		size += len(r) + 1
	}
	ch := c.getWaiter()
	lead, err := l.accept(records, size, ch)
	if err != nil {
		c.putWaiter(ch)
		return fmt.Errorf("logging: write %s: %w", log, err)
	}
	return c.await(l, ch, lead)
}

// writable returns the log a write of n records goes to, or why it cannot:
// the collator is closed or not started, the log unknown, or the space
// exhausted (the refusal is counted).
func (c *Collator) writable(log string, n int) (*logFile, error) {
	if c.closed.Load() {
		return nil, fmt.Errorf("logging: write %s: %w", log, ErrClosed)
	}
	if !c.started.Load() {
		return nil, fmt.Errorf("logging: write %s: %w", log, ErrNotStarted)
	}
	l := (*c.logs.Load())[log]
	if l == nil {
		return nil, fmt.Errorf("logging: write %q: %w", log, ErrUnknownLog)
	}
	if reason := c.refuse.Load(); reason != nil {
		c.refusedWrites.Add(1)
		c.refusedRecords.Add(int64(n))
		return nil, fmt.Errorf("logging: write %s: %w", log, &SpaceError{Reason: *reason})
	}
	return l, nil
}

// Reopen closes every active file and reopens it at its path, creating it if
// an external tool moved it away (SIGUSR2, for rolling_enabled = 0 with
// logrotate). Records accepted before the call are in the old file. A file
// still at its path is left as it is (same file, same START); a new one gets
// START = now.
func (c *Collator) Reopen() error {
	_, err := c.each("reopen", nil, func() *op { return &op{kind: opReopen} })
	return err
}

// Apply reloads the configuration (docs/design.md §4). It validates cfg fully first,
// and changes nothing on error. A different Dir is refused with
// ErrRestartRequired. Logs whose settings did not change keep their open file
// and START; a changed policy applies from now (a lowered size limit rolls at
// the next write, a new interval re-arms the timer); added logs are opened;
// removed logs are written out, rolled (cause reload) and closed, and Write
// to them then fails with ErrUnknownLog. Settings shared by all logs
// (Hostname, Perm, BufferSize, FlushInterval, Durability, Form, AutoDelete)
// apply to the next buffer or roll. A failed roll of a removed log is logged
// and counted, not returned: the configuration is applied.
func (c *Collator) Apply(cfg Config) error {
	ncfg, err := normalize(cfg)
	if err != nil {
		return err
	}
	c.ctl.Lock()
	defer c.ctl.Unlock()
	if c.closed.Load() {
		return fmt.Errorf("logging: apply: %w", ErrClosed)
	}
	if ncfg.Dir != c.dir {
		return fmt.Errorf("logging: apply: log folder change from %s to %s: %w", c.dir, ncfg.Dir, ErrRestartRequired)
	}
	old := *c.logs.Load()
	var added []LogConfig
	for _, lc := range ncfg.Logs {
		if old[lc.Name] == nil {
			added = append(added, lc)
		}
	}
	if !c.started.Load() {
		return fmt.Errorf("logging: apply: %w", ErrNotStarted)
	}
	created, err := c.makeRolledDirs(ncfg.Logs)
	if err != nil {
		return fmt.Errorf("logging: apply: %w", err)
	}
	prev := c.set.Swap(&ncfg) // new files below get the new Perm
	opened, err := c.openLogs(added)
	if err != nil {
		c.set.Store(prev)
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
		return fmt.Errorf("logging: apply: %w", err)
	}
	// Everything that could refuse the configuration has passed: from
	// here on it is applied. The folders it drops are remembered before
	// any roll can go by the new storage (formerdirs.go).
	c.rememberDropped(droppedDirs(c.dir, prev.Logs, ncfg.Logs))
	for _, l := range opened {
		c.revive(l)
	}
	c.catchUp(opened)
	m := make(map[string]*logFile, len(ncfg.Logs))
	for _, l := range opened {
		m[l.name] = l
		c.start(l)
	}
	for _, lc := range ncfg.Logs {
		if l := old[lc.Name]; l != nil {
			m[lc.Name] = l
			l.setPolicy(lc.Policy)
			l.store.Store(&lc.Storage)
		}
	}
	c.logs.Store(&m)
	for name, l := range old {
		if m[name] != nil {
			continue
		}
		o := &op{kind: opStop, roll: true, reply: make(chan opResult, 1)}
		if err := l.enqueue(o, ErrUnknownLog); err != nil {
			continue
		}
		res := <-o.reply
		<-l.done
		c.retire(l)
		if res.err != nil {
			c.log.Warn("removed log: final roll or close failed", "log", name, "err", res.err)
		}
		// The .meta stays, brought up to date with the final roll: it
		// holds the rolled names the log produced (declared again, the
		// log must not produce one twice: a shipped and deleted file's
		// name is a key in the store), and tells the space manager whose
		// files the log's are. The writer goroutine is done: its state
		// is read here.
		if res.rolled != nil {
			m := l.w.metaNow()
			if m.CreationTime.Before(m.LastEnd) {
				m.CreationTime = m.LastEnd
			}
			set := c.set.Load()
			if err := replaceMeta(metaPath(l.path), m, set.Perm, set.Durability >= DurabilityRoll); err != nil {
				c.log.Warn("removed log: cannot write log metadata", "log", name, "err", err)
			}
		}
	}
	return nil
}

// SetAccepting is the space manager's switch (docs/design.md §6): with ok false,
// Write refuses every call with ErrSpaceExhausted (reason says why) while
// records already accepted are still written; with ok true writing resumes.
func (c *Collator) SetAccepting(ok bool, reason string) {
	if ok {
		if c.refuse.Swap(nil) != nil {
			c.log.Info("logging resumed")
		}
		return
	}
	if c.refuse.Swap(&reason) == nil {
		c.log.Warn("logging stopped", "reason", reason)
	}
}

// Logs returns the declared logs' active names, in declaration order.
func (c *Collator) Logs() []string {
	lcs := c.set.Load().Logs
	names := make([]string, len(lcs))
	for i, lc := range lcs {
		names[i] = lc.Name
	}
	return names
}

// activeNames returns the declared names plus extra, for ParseRolledName.
func (c *Collator) activeNames(extra string) []string {
	names := c.Logs()
	for _, n := range names {
		if n == extra {
			return names
		}
	}
	return append(names, extra)
}

// Close stops accepting (Write then fails with ErrClosed), writes every
// accepted record, fsyncs and closes every file, and waits for the writer
// goroutines to exit. It does not roll. Files rolled before it and still
// being compressed are finished first, for at most 30 s (a file left then
// stays hidden until the next start compresses it). It is idempotent:
// later calls return nil.
func (c *Collator) Close() error {
	c.ctl.Lock()
	defer c.ctl.Unlock()
	if c.closed.Swap(true) {
		return nil
	}
	m := *c.logs.Load()
	if !c.started.Load() {
		// Never started: no writer owns the files New opened, and no
		// compression ran (the raw files of New's rolls stay for the
		// next start). New's rolls of logs stored uncompressed are
		// published, without a hook: the rolled files are where a
		// collator that never started leaves them.
		var errs []error
		for _, l := range m {
			errs = append(errs, l.w.stopFile())
			l.w.meta.close()
		}
		for _, j := range c.newJobs {
			if j.storage.Compression == CompressionNone {
				c.pub.pending.Add(1) // answered by publishFile on failure
				if c.publishFile(j) {
					c.pub.pending.Add(-1)
					j.closeDir()
				}
			} else {
				j.closeDir() // its raw file stays for the next start
			}
		}
		c.newJobs = nil
		c.comp.shutdown()
		c.pub.shutdown()
		return errors.Join(errs...)
	}
	var ops []*op
	for _, l := range m {
		o := &op{kind: opStop, reply: make(chan opResult, 1)}
		if l.enqueue(o, ErrClosed) == nil {
			ops = append(ops, o)
		}
	}
	var errs []error
	for _, o := range ops {
		if res := <-o.reply; res.err != nil {
			errs = append(errs, res.err)
		}
	}
	c.wg.Wait()
	c.flush.shutdown() // after the writers: no request follows
	// After the writers: no batch follows. The rolls waiting for their
	// fsync are published before Close returns, and compressions are
	// handed to the compressor.
	c.pub.shutdown()
	// After the publisher: no job follows. The compressions of the files
	// rolled before Close are finished, for at most drainWait; what is
	// left then stays hidden and the next start compresses it
	// (recover.go).
	c.comp.shutdown()
	return errors.Join(errs...)
}
