package ship

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/logroll/logroll/space"
)

// ErrClosed is returned by Apply once Close has begun.
var ErrClosed = errors.New("ship: manager closed")

// Manager hands finished files on: it runs each log's on_roll_command and
// uploads its files to its ship_url, retries what fails, and keeps what is
// done in the journal, so that pending work survives restarts and kill -9.
//
// Goroutines: New loads the journal and the pending set and starts nothing;
// Start starts one goroutine (run), which owns the pending set, the journal
// and the uploaders, and starts a worker goroutine per step it runs (at
// most ShipConcurrency uploads and HookConcurrency commands at once). A
// worker does one upload or one command and reports on a channel that can
// hold every worker's report, so it never waits for run. Everyone else
// talks to run without waiting: Rolled, Add and Apply queue under mu and
// poke a channel of capacity 1. Hold, FileState and Status read what run
// publishes under mu. Close cancels the steps in flight (an interrupted
// upload or command is done again after the restart), waits for the
// workers and run, and records what finished before it returned: no
// goroutine outlives Close.
//
// Concurrency: every method is safe for concurrent use. Options.HandedOn
// and Options.Item are called from run only.
type Manager struct {
	opts     Options
	log      *slog.Logger
	poke     chan struct{}   // capacity 1: "look at the queues" (coalescing)
	results  chan result     // capacity: every worker's report
	quit     chan struct{}   // closed by Close
	done     chan struct{}   // closed when run has exited
	ctx      context.Context // cancelled by Close: the steps in flight stop
	cancel   context.CancelFunc
	started  sync.Once
	closing  sync.Once
	closeErr error

	mu      sync.Mutex // guards the fields up to snap
	closed  bool
	paths   []string // Rolled: paths for run to parse and queue
	forget  []string // Forget: paths whose steps run drops
	items   []Item   // Add
	newCfg  *Config  // Apply; the latest wins
	logs    map[string]Log
	recs    map[string]record // the journal's records, by file name
	parked  map[string]*Failure
	snap    Status
	release []Item // handed on at New, to report once Start runs

	// Owned by run (and by New before Start).
	cfg            Config
	q              *queue
	running        map[step]int
	jr             *journal
	uploaders      map[Target]*uploader
	streaks        map[streakKey]int // failures in a row, by step and log
	journalFailing bool              // the last append to the journal failed
	wg             sync.WaitGroup    // the workers
	counts         counters
}

// streakKey names a failure streak: one step of one log.
type streakKey struct {
	step step
	log  string
}

// result is a worker's report.
type result struct {
	id   taskID
	item Item
	res  Result
	err  error
	gone bool      // the file was gone before the step started
	up   *uploader // the upload's, nil for a command
}

// New validates cfg, loads the journal and queues what existing files (the
// rolled files found at start, with space.RolledFile's fields) still need.
// It compacts the journal to the files that exist (unless no log hands
// anything on: then the caller need not list the files, and the journal is
// left alone). It starts nothing:
// Hold answers at once (the space manager's first check asks it), and Start
// starts the work.
func New(cfg Config, opts Options, existing []Item) (*Manager, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if opts.Journal == "" || opts.Item == nil {
		return nil, errors.New("ship: Options.Journal and Options.Item are required")
	}
	opts = opts.withDefaults()
	// The journal is what saves work, never what stops logging: one that
	// cannot be read, compacted or written leaves the steps not known done
	// to be done again (the store recognises bytes it holds; commands run
	// again), with an error that says so.
	if err := removeJournalTemp(opts.Journal); err != nil {
		opts.Logger.Warn("cannot remove the temporary of a journal compaction a crash interrupted", "path", journalTemp(opts.Journal), "err", err)
	}
	recs, skipped, err := loadJournal(opts.Journal)
	if err != nil {
		opts.Logger.Error("cannot read the hand-on journal: every step not known done is done again (uploads the store holds are recognised; on_roll_command runs again)", "path", opts.Journal, "err", err)
	} else if skipped > 0 {
		opts.Logger.Warn("hand-on journal: lines not understood were skipped: their steps are done again", "path", opts.Journal, "lines", skipped)
	}
	names := make(map[string]bool, len(existing))
	for _, it := range existing {
		names[it.Name] = true
	}
	if !cfg.HandsOn() {
		existing = nil // nothing to queue; the journal is kept as it is for a later reload
	} else if len(recs) > 0 {
		for name := range recs {
			if !names[name] {
				delete(recs, name)
			}
		}
		if err := compactJournal(opts.Journal, recs, func(string) bool { return true }); err != nil {
			opts.Logger.Warn("cannot compact the hand-on journal: appending to it as it is", "path", opts.Journal, "err", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := cfg.clone()
	m := &Manager{
		opts:      opts,
		log:       opts.Logger,
		poke:      make(chan struct{}, 1),
		results:   make(chan result, opts.ShipConcurrency+opts.HookConcurrency),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
		ctx:       ctx,
		cancel:    cancel,
		logs:      c.byName(),
		recs:      recs,
		parked:    map[string]*Failure{},
		cfg:       c,
		q:         newQueue(),
		running:   map[step]int{},
		jr:        &journal{path: opts.Journal, sync: !opts.NoSync},
		uploaders: map[Target]*uploader{},
		streaks:   map[streakKey]int{},
		counts:    newCounters(),
	}
	now := opts.Now()
	for _, it := range existing {
		if m.queue(it, now) == 0 {
			if l, ok := m.logs[it.Log]; ok && l.steps() != 0 && l.deletes() {
				m.release = append(m.release, it) // handed on before a crash, not yet deleted
			}
		}
	}
	m.publish()
	return m, nil
}

// queue adds the steps it still needs; it returns how many it needs
// (queued now or before). Owned by run (or New).
func (m *Manager) queue(it Item, now time.Time) int {
	l, ok := m.cfg.byNameOne(it.Log)
	if !ok {
		return 0
	}
	m.mu.Lock()
	done := m.recs[it.Name].steps
	m.mu.Unlock()
	n := 0
	for _, s := range []step{stepHook, stepShip} {
		if l.steps()&s != 0 && done&s == 0 {
			m.q.add(s, it, now)
			n++
		}
	}
	return n
}

// byNameOne returns the log named name.
func (c Config) byNameOne(name string) (Log, bool) {
	for _, l := range c.Logs {
		if l.Name == name {
			return l, true
		}
	}
	return Log{}, false
}

// Start starts the manager's goroutine, and reports the files found handed
// on (ship_delete_after) at New. Calls after the first do nothing.
func (m *Manager) Start() {
	m.started.Do(func() {
		go m.run()
		m.mu.Lock()
		rel := m.release
		m.release = nil
		m.mu.Unlock()
		if m.opts.HandedOn != nil {
			for _, it := range rel {
				m.opts.HandedOn(it.Path, true)
			}
		}
	})
}

// Rolled reports a finished file (the collator's OnRoll): run parses it
// with Options.Item and queues what its log asks for. It never blocks for
// long; it is safe on a nil *Manager and after Close.
func (m *Manager) Rolled(path string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	if !m.closed {
		m.paths = append(m.paths, path)
	}
	m.mu.Unlock()
	m.kick()
}

// Add queues items (a rescan after a reload, which may have given a log a
// new step); items already pending or done are left alone.
func (m *Manager) Add(items ...Item) {
	if m == nil || len(items) == 0 {
		return
	}
	m.mu.Lock()
	if !m.closed {
		m.items = append(m.items, items...)
	}
	m.mu.Unlock()
	m.kick()
}

// Forget drops the steps left for the file at path, which the space
// manager deleted before it was handed on (ship_before_delete = 0; it
// logged and counted that): not a file removed by someone else. It never
// blocks; safe on a nil *Manager and after Close.
func (m *Manager) Forget(path string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	if !m.closed {
		m.forget = append(m.forget, path)
	}
	m.mu.Unlock()
	m.kick()
}

// kick pokes run without blocking.
func (m *Manager) kick() {
	select {
	case m.poke <- struct{}{}:
	default:
	}
}

// Validate reports what Apply would refuse in cfg, changing nothing.
func (c Config) Validate() error { return c.validate() }

// Apply takes a new configuration: Hold answers by it at once; run drops
// the steps logs no longer ask for, and makes the files parked by a
// permanent refusal due again (the operator may have fixed the policy).
// Steps a log newly asks for are queued by Add (the daemon rescans).
func (m *Manager) Apply(cfg Config) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	c := cfg.clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	// A log the new configuration removes goes on handing on, with its
	// last settings, what it rolled: removing a log must not leave its
	// last files unshipped (the reload rolls it one last time). A log
	// declared again takes its new settings.
	declared := c.byName()
	for _, name := range slices.Sorted(maps.Keys(m.logs)) {
		if l := m.logs[name]; !declared[name].declared() && l.steps() != 0 {
			if !l.Removed {
				m.log.Info("log removed from the configuration: the files it rolled are still handed on, with its last settings, until the daemon stops", "log", name)
			}
			l.Removed = true
			c.Logs = append(c.Logs, l)
		}
	}
	m.newCfg = &c
	m.logs = c.byName()
	m.kick()
	return nil
}

// Hold says whether the space manager's rules may delete f (its
// Options.Hold): Free when f's log hands nothing on or f is handed on,
// else Held (ship_before_delete = 1) or Unhanded. A file the manager has
// not heard of yet is judged the same way, from its log and the journal, so
// there is no moment between a roll and its report when it could go.
func (m *Manager) Hold(f space.File) space.Hold {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.logs[f.Log]
	need := l.steps()
	if !ok || need == 0 || need&^m.recs[f.Name].steps == 0 {
		return space.Free
	}
	if l.HoldBeforeDelete {
		return space.Held
	}
	return space.Unhanded
}

// FileState is what the manager knows of one rolled file, for listings.
type FileState struct {
	// Ship and Hook are "" (the log does not ask for it), "pending",
	// "done" or "failed" (a permanent refusal: waits for a reload).
	Ship, Hook string
	// Key is the object key once shipped.
	Key string
}

// State returns f's FileState.
func (m *Manager) State(f space.File) FileState {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := m.logs[f.Log]
	r := m.recs[f.Name]
	var st FileState
	word := func(s step) string {
		switch {
		case r.steps&s != 0:
			return "done"
		case l.steps()&s == 0:
			return ""
		case m.parked[s.String()+" "+f.Name] != nil:
			return "failed"
		}
		return "pending"
	}
	st.Ship, st.Hook, st.Key = word(stepShip), word(stepHook), r.key
	return st
}

// Close stops the manager: the steps in flight are cancelled (done again
// after a restart), the workers and run are waited for, and what finished
// is recorded in the journal. It is idempotent; it returns the journal's
// close error.
func (m *Manager) Close() error {
	m.closing.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		m.cancel()
		close(m.quit)
		m.started.Do(func() { close(m.done) }) // never started: nothing runs
		<-m.done
		m.closeErr = m.jr.close()
	})
	return m.closeErr
}
