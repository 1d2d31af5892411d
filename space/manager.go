package space

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/logroll/logroll/logging"
)

// ErrClosed is returned by Apply once Close has begun.
var ErrClosed = errors.New("space manager closed")

// maxQueued bounds the events waiting for the manager's goroutine (it may be
// blocked in Options.Free on a hung mount); beyond it they are dropped and
// the next step rescans instead.
const maxQueued = 10_000

// Manager is the space manager of one log folder (docs/design.md §6).
//
// Goroutines: New starts one goroutine (run) that owns the accounting, the
// state and the deletions: it alone reads the folder, calls Options.Free and
// Options.Accept, and deletes files. Everyone else talks to it without
// waiting: Wrote adds to an atomic counter, and Wrote, Check, Removed,
// Rewatch and Apply poke a channel of capacity 1 ("check space"), which
// coalesces; events, a new configuration and a Rewatch request wait in a
// short mutex-guarded queue. With
// Options.Watch, New also starts the fsnotify adapter's goroutine, which
// only turns events into Removed-like reports; once run has started, run
// owns the adapter: Rewatch asks it to replace the adapter with one on the
// recreated folder, and it stops the adapter (waiting for its goroutine)
// when it exits. Close stops run and waits for it, so no goroutine
// outlives Close.
//
// Timers: the goroutine rescans the folder every Config.ScanInterval; while
// the state is not Normal it samples the partition's free space every
// RecheckInterval (1 s), since that can come back without any event; and
// with a log's Log.MaxAge it wakes up when the next rolled file reaches that
// age (files age without any event), to apply the retention rules.
//
// Concurrency: every method is safe for concurrent use. Status reads a
// snapshot the goroutine publishes after every check. Options.Accept and
// Options.Logger are called from the goroutine and must not call Close.
type Manager struct {
	opts  Options
	dir   string
	log   *slog.Logger
	watch *watcher // nil without Options.Watch or when it could not start; run's once run starts

	written   atomic.Int64  // bytes the collator reported by Wrote, since New
	resample  atomic.Bool   // WriteFailed: sample the partition at the next check
	poke      chan struct{} // capacity 1: "check space" (coalescing)
	quit      chan struct{} // closed by Close
	done      chan struct{} // closed when run has exited
	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex // guards the fields up to snap
	closed   bool
	events   []event  // reports waiting for the goroutine
	overflow bool     // reports were lost: rescan
	lost     bool     // the watch stopped (the folder itself moved)
	rewatch  bool     // Rewatch: watch the (recreated) folder again
	newCfg   *Config  // from Apply; the latest wins
	shipped  []string // HandedOn with del: to delete by RuleShipped
	snap     snapshot

	// Owned by run (and by New before run starts).
	cfg          Config
	acct         *acct
	mark         int64 // written when the last successful scan began
	state        State
	reason       string
	accepting    string // the reason last given to Options.Accept with false; "" while accepting
	free         int64  // P at the last sample; -1 unknown
	part         Partition
	freeMark     int64 // written just before that sample
	freeAt       time.Time
	freeFailing  bool
	scanFailing  bool
	watchLost    bool  // Options.Watch was asked but events no longer come
	watchErr     error // from stopping the adapter when run exits; read by Close
	scans        int64
	lastScan     time.Time
	scanDur      time.Duration
	deleted      map[Rule]*Count            // deletions by rule
	deletedLog   map[string]map[Rule]*Count // deletions by log and rule
	deleteErrors int64
	warned       []string // the warnings last logged (warnings)
	unhanded     int64    // files not yet handed on deleted anyway (Unhanded)
	heldFiles    int64    // held files the last autodelete skipped
	heldBytes    int64
	expiry       time.Time // when the next rolled file reaches its log's max age (retain); zero for none
}

// event is a report that something happened to a path in a folder counted.
type event struct {
	path  string // absolute
	moved bool   // renamed away (it may reappear under another name)
}

// New validates cfg, scans cfg.Dir, and starts the manager's goroutine (and
// with opts.Watch the fsnotify adapter, which starts before the scan so that
// nothing is missed). The first check (and with it any transition and
// autodelete) follows at once on the goroutine. A folder that cannot be read
// is an error naming it; a watch that cannot start is logged, and the
// manager then rescans every second while the state is not Normal (at most
// once every 10 scan durations).
func New(cfg Config, opts Options) (*Manager, error) {
	c, err := cfg.normalize()
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(c.Dir); err != nil {
		return nil, fmt.Errorf("space: log folder: %w", err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("space: log folder %s: not a directory", c.Dir)
	}
	opts = opts.withDefaults()
	m := &Manager{
		opts:       opts,
		dir:        c.Dir,
		log:        opts.Logger,
		poke:       make(chan struct{}, 1),
		quit:       make(chan struct{}),
		done:       make(chan struct{}),
		cfg:        c,
		acct:       newAcct(c.Dir, c.rolledDirs(), opts.Location, c.actives(), c.Host),
		free:       -1,
		deleted:    map[Rule]*Count{},
		deletedLog: map[string]map[Rule]*Count{},
	}
	if opts.Watch {
		if m.watch, err = startWatch(m, m.acct.dirs); err != nil {
			m.log.Warn("cannot watch the log folder: removals by others are seen by rescans", "dir", c.Dir, "err", err)
			m.watchLost = true
		}
	}
	start := opts.Now()
	if err := m.acct.scan(); err != nil {
		if m.watch != nil {
			_ = m.watch.close()
		}
		return nil, fmt.Errorf("space: scan log folder %s: %w", c.Dir, err)
	}
	m.scans, m.lastScan, m.scanDur = 1, start, opts.Now().Sub(start)
	m.publish(m.figures())
	go m.run()
	m.Check()
	return m, nil
}

// Wrote reports that the collator wrote n bytes to a file in the folder (an
// active file); n < 0 reports bytes cut back off a file. It is meant for the
// write path (the collator's Options.OnWrite, on writer goroutines, once per
// write syscall): an atomic add and a non-blocking poke, it never blocks and
// never allocates. It is safe on a nil *Manager and after Close.
func (m *Manager) Wrote(n int64) {
	if m == nil {
		return
	}
	m.written.Add(n)
	m.Check()
}

// WriteFailed reports that a write to an active file failed (the
// collator's Options.OnWriteError). The estimate of the partition's free
// space — the last sample less the collator's own writes — cannot show a
// partition that another program filled, and writes that fail report no
// bytes; so the next check samples the partition afresh instead of waiting
// up to a second, or, while the state is Normal, for the next scan. A full
// partition then turns the state Exhausted (503 with Retry-After) at the
// first failed write. Like Wrote it is meant for the write path: an atomic
// store and a non-blocking poke. It is safe on a nil *Manager and after
// Close.
func (m *Manager) WriteFailed() {
	if m == nil {
		return
	}
	m.resample.Store(true)
	m.Check()
}

// Check asks for a check of the space now (coalesced with any pending one).
// It never blocks.
func (m *Manager) Check() {
	select {
	case m.poke <- struct{}{}:
	default:
	}
}

// Rolled reports that a file was rolled into a folder counted under name
// (the collator's OnRoll), a base name in the log folder or a path in the
// log folder or a rolled folder: the manager
// accounts for it, samples the partition (a roll takes an inode) and
// applies the retention rules at its next step, without waiting for the
// folder's events or the next scan. Like Removed it never blocks for long,
// and it is safe on a nil *Manager and after Close.
func (m *Manager) Rolled(name string) {
	if m == nil {
		return
	}
	m.resample.Store(true)
	m.Removed(name) // the same look at the name again
}

// Removed reports that a file left a folder counted (a caller's own
// deletion). name is a base name in the log folder, or a path in the log
// folder or a rolled folder (others are ignored). The manager looks at the
// path again (Lstat) and subtracts the size it knew, so a report for a file
// still there, or reported twice, changes nothing. It never blocks for
// long (a short lock). It is safe on a nil *Manager and after Close.
func (m *Manager) Removed(name string) {
	if m == nil {
		return
	}
	if path, ok := m.pathOf(name); ok {
		m.enqueue(event{path: path}) // the goroutine ignores paths outside the folders it counts
	}
}

// pathOf returns the absolute path name stands for: a base name in the log
// folder, or a path (in the log folder or a rolled folder: the goroutine
// checks that); false for anything that names no file.
func (m *Manager) pathOf(name string) (string, bool) {
	path := filepath.Join(m.dir, name)
	if strings.ContainsRune(name, filepath.Separator) {
		p, err := filepath.Abs(name)
		if err != nil {
			return "", false
		}
		path = p
	}
	if b := filepath.Base(path); b == "" || b == "." || b == ".." || b == string(filepath.Separator) {
		return "", false
	}
	return path, true
}

// enqueue queues e for the goroutine and pokes it.
func (m *Manager) enqueue(e event) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if len(m.events) < maxQueued {
		m.events = append(m.events, e)
	} else {
		m.overflow = true
	}
	m.mu.Unlock()
	m.Check()
}

// Rewatch reports that the log folder was created again after someone
// removed it (the collator's Options.OnDirRecreated). The fsnotify watch
// ended with the removed folder, and removals by others in the new one
// would only be seen by rescans; so the goroutine's next step stops the old
// adapter (waiting for its goroutine), starts one on the folder now at
// Config.Dir, and rescans it (the watch starts first, so that nothing is
// missed). A watch that cannot start is logged, and the manager goes on
// with rescans alone. Without Options.Watch it only rescans. Like Check
// it never blocks; it is safe on a nil *Manager and after Close (it then
// does nothing).
func (m *Manager) Rewatch() {
	if m == nil {
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.rewatch = true
	m.mu.Unlock()
	m.Check()
}

// Apply reloads the configuration: the limits, MinFree, AutoDelete, the
// scan interval and the logs apply from the goroutine's next step, which
// also rescans the folder at once. It validates cfg first and changes
// nothing on error; a different Dir is refused with an error wrapping
// logging.ErrRestartRequired. It does not wait for the rescan.
func (m *Manager) Apply(cfg Config) error {
	c, err := cfg.normalize()
	if err != nil {
		return err
	}
	if c.Dir != m.dir {
		return fmt.Errorf("space: log folder %s → %s: %w", m.dir, c.Dir, logging.ErrRestartRequired)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return ErrClosed
	}
	m.newCfg = &c
	m.mu.Unlock()
	m.Check()
	return nil
}

// Close stops the manager's goroutine and, through it, the fsnotify
// adapter, waiting for both (a deletion in progress finishes; so does a
// call to Options.Free).
// It does not call Options.Accept: a collator refusing for space stays so.
// It is idempotent: later calls return the first call's result. It must not
// be called from Options.Accept (it would wait for itself).
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.closed = true
		m.mu.Unlock()
		close(m.quit)
		<-m.done
		m.closeErr = m.watchErr // written by run before done was closed
	})
	return m.closeErr
}
