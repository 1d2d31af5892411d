package logging

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
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

// fsOps are the file-system calls through which the collator renames,
// deletes and fsyncs, so that tests can inject faults and observe them. A
// nil field selects the real call.
type fsOps struct {
	rename    func(oldpath, newpath string) error                                               // os.Rename
	syncFile  func(f *os.File) error                                                            // (*os.File).Sync
	syncDir   func(dir string) error                                                            // syncPath
	writeMeta func(mf *metaFile, path string, m metaContent, perm os.FileMode, sync bool) error // (*metaFile).write
	writeback func(f *os.File, off, n int64)                                                    // startWriteback's sync_file_range
	// compressed, when set, wraps what a compression writes into its
	// temporary file (tests inject a full disk); nil writes it as it is.
	compressed func(w io.Writer) io.Writer
}

// open is Open with the file-system calls as a parameter, for fault tests.
func open(cfg Config, opts Options, fsys fsOps) (*Collator, error) {
	c, err := newCollator(cfg, opts, fsys)
	if err != nil {
		return nil, err
	}
	c.Start()
	return c, nil
}

// newCollator is New with the file-system calls as a parameter.
func newCollator(cfg Config, opts Options, fsys fsOps) (*Collator, error) {
	if fsys.rename == nil {
		fsys.rename = os.Rename
	}
	if fsys.syncFile == nil {
		fsys.syncFile = (*os.File).Sync
	}
	if fsys.syncDir == nil {
		fsys.syncDir = syncPath
	}
	if fsys.writeMeta == nil {
		fsys.writeMeta = (*metaFile).write
	}
	if fsys.writeback == nil {
		fsys.writeback = startFileWriteback
	}
	ncfg, err := normalize(cfg)
	if err != nil {
		return nil, err
	}
	c := &Collator{
		dir:   ncfg.Dir,
		now:   opts.Now,
		loc:   opts.Location,
		log:   opts.Logger,
		fs:    fsys,
		flush: newFlusher(),

		onWrite:        opts.OnWrite,
		onWriteError:   opts.OnWriteError,
		onRoll:         opts.OnRoll,
		onDirRecreated: opts.OnDirRecreated,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	c.set.Store(&ncfg)
	c.comp = newCompressor(c, ncfg.CompressThreads)
	c.pub = newPublisher(c)
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("logging: create log folder %s: %w", c.dir, err)
	}
	if fi, err := os.Stat(c.dir); err != nil {
		return nil, fmt.Errorf("logging: log folder %s: %w", c.dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("logging: log folder %s is not a folder", c.dir)
	} else {
		c.dirFI = fi
	}
	m := map[string]*logFile{}
	c.logs.Store(&m)
	if _, err := c.makeRolledDirs(ncfg.Logs); err != nil {
		return nil, err
	}
	opened, err := c.openLogs(ncfg.Logs)
	if err != nil {
		return nil, err
	}
	m = make(map[string]*logFile, len(opened))
	for _, l := range opened {
		m[l.name] = l
	}
	c.logs.Store(&m)
	// Compressions a crash interrupted, then the catch-up rolls: both
	// are kept in newJobs (and newRolls) for Start.
	configured := rolledDirs(c.dir, ncfg.Logs)
	former := formerDirsAtStart(c.dir, configured)
	c.newJobs = c.recoverPending(append(configured, former...))
	c.pruneFormerDirs(former, c.newJobs)
	c.catchUp(opened)
	return c, nil
}

// rolledDirs returns the folders the logs' rolled files go into, the log
// folder dir first, each once.
func rolledDirs(dir string, lcs []LogConfig) []string {
	dirs := []string{dir}
	for _, lc := range lcs {
		if d := lc.Storage.Dir; d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// makeRolledDirs creates the logs' rolled folders that are missing, after
// checking each (CheckRolledDir), and returns the folders it created, the
// outermost first. On error it removes them again: nothing is left.
func (c *Collator) makeRolledDirs(lcs []LogConfig) ([]string, error) {
	var created []string
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
	}
	for _, d := range rolledDirs(c.dir, lcs)[1:] {
		if err := CheckRolledDir(c.dir, d); err != nil {
			undo()
			return nil, fmt.Errorf("logging: %w", err)
		}
		var missing []string
		for p := d; !exists(p); p = filepath.Dir(p) {
			missing = append(missing, p)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			undo()
			return nil, fmt.Errorf("logging: create rolled folder %s: %w", d, err)
		}
		slices.Reverse(missing)
		created = append(created, missing...)
	}
	if len(created) > 0 && c.set.Load().Durability >= DurabilityRoll {
		for _, d := range created {
			if err := c.fs.syncDir(filepath.Dir(d)); err != nil {
				c.log.Warn("sync of a rolled folder's parent failed", "dir", filepath.Dir(d), "err", err)
			}
		}
	}
	return created, nil
}

// openLogs opens the given logs, all or none: first it checks every log's
// paths (checkLogPaths), then opens them one by one, and on a failure
// closes those it opened and removes the files it created for them, so
// that a refused Apply leaves the folder as it found it. With Durability ≥
// Roll it then fsyncs the folder once, before any writer starts, so that
// the directory entries of the active files it created survive a power
// loss before anything is acknowledged into them. It performs no roll:
// see catchUp.
func (c *Collator) openLogs(lcs []LogConfig) ([]*logFile, error) {
	if err := checkLogPaths(c.dir, lcs); err != nil {
		return nil, err
	}
	now := c.now()
	// One unsorted listing for every log's recovery (leftover .meta
	// temporaries, rolled names): with 100,000 rolled files, a sorted
	// listing per log and per purpose was a third of the start-up time.
	names, err := listNames(c.dir)
	if err != nil {
		return nil, fmt.Errorf("logging: list log folder %s: %w", c.dir, err)
	}
	// The names of the rolled files in each log's rolled folder, for its
	// rolled-name state (namestate.go): the raw files waiting for their
	// compression count under their final names.
	listings := map[string][]string{c.dir: rolledNames(names)}
	var opened []*logFile
	for _, lc := range lcs {
		ns := listings[c.dir]
		if d := lc.Storage.Dir; d != "" {
			if _, ok := listings[d]; !ok {
				more, err := listNames(d)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					c.log.Warn("cannot list a rolled folder", "dir", d, "err", err)
				}
				listings[d] = rolledNames(more)
			}
			ns = append(slices.Clone(ns), listings[d]...)
		}
		l, err := c.openLog(lc, now, ns)
		if err != nil {
			for _, o := range opened {
				o.undoOpen()
			}
			return nil, err
		}
		opened = append(opened, l)
	}
	if len(opened) > 0 && c.set.Load().Durability >= DurabilityRoll {
		if err := c.fs.syncDir(c.dir); err != nil {
			c.log.Warn("log folder sync after opening log files failed", "dir", c.dir, "err", err)
		}
	}
	return opened, nil
}

// catchUp performs the catch-up roll of each opened log whose START lies
// before a boundary that passed without a roll (the process was stopped or
// stalled): exactly one roll, whose END is now, since the time of the last
// record written by the previous process is unknown and now is the
// tightest bound known to be above it. The logs' writers must not have
// started.
func (c *Collator) catchUp(opened []*logFile) {
	now := c.now()
	for _, l := range opened {
		w := l.w
		if !w.pol.catchUp(w.start, now, c.loc) {
			continue
		}
		if _, err := w.roll(CauseTime, now); err != nil {
			c.log.Warn("catch-up roll failed", "log", l.name, "err", err)
		}
		w.finishRoll()
		w.publish()
	}
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
		if res.err != nil {
			c.log.Warn("removed log: final roll or close failed", "log", name, "err", res.err)
		}
		if res.rolled != nil {
			_ = os.Remove(metaPath(l.path))
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

// normalize validates cfg and returns a copy with defaults filled in. All
// problems are reported at once.
func normalize(cfg Config) (Config, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("logging: config: "+format, args...))
	}
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Dir) {
		bad("log folder %q must be an absolute path", cfg.Dir)
	} else {
		cfg.Dir = filepath.Clean(cfg.Dir)
	}
	if cfg.Hostname == "" || strings.ContainsAny(cfg.Hostname, "/\x00") {
		bad("hostname %q must be non-empty and contain no '/'", cfg.Hostname)
	}
	if cfg.Perm == 0 {
		cfg.Perm = DefaultPerm
	} else if cfg.Perm&^os.ModePerm != 0 {
		bad("file mode %v has bits beyond 0777", cfg.Perm)
	}
	switch {
	case cfg.BufferSize == 0:
		cfg.BufferSize = DefaultBufferSize
	case cfg.BufferSize < 0:
		bad("buffer size %d must be positive", cfg.BufferSize)
	}
	switch {
	case cfg.FlushInterval == 0:
		cfg.FlushInterval = DefaultFlushInterval
	case cfg.FlushInterval < 0:
		bad("flush interval %v must be positive", cfg.FlushInterval)
	}
	switch {
	case cfg.Durability == DurabilityDefault:
		cfg.Durability = DurabilityRoll
	case cfg.Durability < DurabilityWrite || cfg.Durability > DurabilitySync:
		bad("durability %d out of range (DurabilityWrite, DurabilityRoll or DurabilitySync)", int(cfg.Durability))
	}
	if cfg.Form != FormDot && cfg.Form != FormATS {
		bad("rolled-name form %d out of range 0–1", cfg.Form)
	}
	seen := map[string]bool{}
	for i, lc := range cfg.Logs {
		n := lc.Name
		switch {
		case n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") || n[0] == '.':
			bad("log %d: name %q must be one path component without a leading dot", i, n)
		case seen[n]:
			bad("log %q declared twice", n)
		}
		seen[n] = true
		errs = append(errs, validatePolicy(n, lc.Policy)...)
	}
	switch {
	case cfg.CompressThreads == 0:
		cfg.CompressThreads = runtime.GOMAXPROCS(0)
	case cfg.CompressThreads < 0:
		bad("compress threads %d must not be negative", cfg.CompressThreads)
	}
	cfg.Logs = append([]LogConfig(nil), cfg.Logs...)
	for i := range cfg.Logs {
		var serrs []error
		cfg.Logs[i].Storage, serrs = validateStorage(cfg.Logs[i].Name, cfg.Dir, cfg.Logs[i].Storage)
		errs = append(errs, serrs...)
	}
	return cfg, errors.Join(errs...)
}

// validatePolicy checks one log's policy.
func validatePolicy(name string, p Policy) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("logging: config: log %s: "+format, append([]any{name}, args...)...))
	}
	if p.Mode < ModeNone || p.Mode > ModeTimeAndSize {
		bad("rolling mode %d out of range 0–4", p.Mode)
	}
	if p.Calendar < CalendarNone || p.Calendar > CalendarMonthly {
		bad("rolling calendar %d out of range 0–2", p.Calendar)
	}
	if p.timeRolls() {
		if p.Calendar == CalendarNone && (p.Interval < time.Second || p.Interval%time.Second != 0 || (24*time.Hour)%p.Interval != 0) {
			bad("rolling interval %v must be whole seconds dividing 24h", p.Interval)
		}
		if p.OffsetHours < 0 || p.OffsetHours > 23 {
			bad("rolling offset %d h out of range 0–23", p.OffsetHours)
		}
	}
	if p.sizeRolls() && p.SizeBytes <= 0 {
		bad("rolling size %d bytes must be positive", p.SizeBytes)
	}
	if p.MinCount < 0 {
		bad("rolling_min_count must not be negative")
	}
	return errs
}
