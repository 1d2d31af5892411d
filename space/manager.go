package space

import (
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
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
		acct:       newAcct(c.Dir, c.rolledDirs(), opts.Location, c.actives()),
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

// run is the manager's goroutine. It stops the fsnotify adapter, which it
// owns, when it exits.
func (m *Manager) run() {
	defer close(m.done)
	defer func() {
		if m.watch != nil {
			m.watchErr = m.watch.close()
		}
	}()
	scanT := time.NewTimer(m.cfg.ScanInterval)
	defer scanT.Stop()
	tick := time.NewTicker(RecheckInterval)
	defer tick.Stop()
	ageT := time.NewTimer(time.Hour)
	ageT.Stop()
	defer ageT.Stop()
	var armed time.Time // the expiry ageT is set to; zero when stopped
	for {
		var scan, force bool
		select {
		case <-m.quit:
			return
		case <-m.poke:
		case <-scanT.C:
			scan = true
		case <-ageT.C:
			armed = time.Time{}
			m.acct.retain = true // a file reached its log's max age
		case <-tick.C:
			if m.state == Normal {
				continue
			}
			force = true
			scan = m.watchLost && m.opts.Now().Sub(m.lastScan) >= max(RecheckInterval, 10*m.scanDur)
		}
		if m.step(scan, force) {
			scanT.Reset(m.cfg.ScanInterval)
		}
		if !m.expiry.Equal(armed) {
			// retain leaves expiry after now: every file at or past its
			// age was deleted or taken out of the candidates.
			armed = m.expiry
			if armed.IsZero() {
				ageT.Stop()
			} else {
				ageT.Reset(max(armed.Sub(m.opts.Now()), 0))
			}
		}
	}
}

// step takes a new configuration and the queued reports, rescans if asked
// (or needed), and checks. force resamples the partition's free space. It
// reports whether it rescanned.
func (m *Manager) step(scan, force bool) bool {
	m.mu.Lock()
	cfg := m.newCfg
	m.newCfg = nil
	if m.overflow {
		m.overflow, scan = false, true
	}
	if m.lost {
		m.lost, m.watchLost = false, true
	}
	rewatch := m.rewatch
	m.rewatch = false
	m.mu.Unlock()
	if rewatch {
		m.restartWatch()
		scan = true
	}
	if cfg != nil {
		m.cfg = *cfg
		m.acct.setActives(cfg.actives())
		for _, lb := range m.acct.leftBehind(cfg.rolledDirs()) {
			if lb.files > 0 {
				m.log.Warn("rolled folder no longer configured: its rolled files are no longer counted, listed or deleted; move them into a configured folder (mv keeps the names and times their order needs)",
					"dir", lb.dir, "files", lb.files, "bytes", lb.bytes)
			}
			if lb.pending > 0 {
				m.log.Warn("rolled folder no longer configured holds rolled files still being compressed or published: they finish there, after a crash at the next start, and then stay there like its other rolled files",
					"dir", lb.dir, "pending", lb.pending)
			}
		}
		m.acct.setDirs(cfg.rolledDirs())
		scan = true
	}
	if scan && m.watch != nil {
		m.watch.follow(m, m.acct.dirs) // rolled folders added, removed, or made again
	}
	if scan {
		_ = m.rescan() // logged
		force = true
	}
	m.mu.Lock()
	evs := m.events
	m.events = nil
	shipped := m.shipped
	m.shipped = nil
	m.mu.Unlock()
	now := m.opts.Now()
	refollow := false
	for _, e := range evs {
		if dir := filepath.Dir(e.path); m.acct.counts(dir) {
			m.acct.reconcile(e.path, e.moved, now)
			refollow = refollow || m.watch != nil && !m.watch.watching(dir)
		}
	}
	if refollow {
		m.watch.follow(m, m.acct.dirs) // a rolled folder made (again) since
	}
	m.deleteShipped(shipped) // ship_delete_after: whatever auto_delete_rolled_files says
	m.check(force || len(evs) > 0 || m.resample.Swap(false))
	return scan
}

// restartWatch replaces the fsnotify adapter with one on the folder now at
// m.dir (Rewatch). The old one is stopped first, and a folder removal it
// reported is then forgotten: it was about the removed folder. The caller
// rescans afterwards.
func (m *Manager) restartWatch() {
	if !m.opts.Watch {
		return
	}
	if m.watch != nil {
		if err := m.watch.close(); err != nil {
			m.log.Warn("stopping the removed log folder's watch failed", "dir", m.dir, "err", err)
		}
		m.watch = nil
	}
	m.mu.Lock()
	m.lost = false
	m.mu.Unlock()
	w, err := startWatch(m, m.acct.dirs)
	if err != nil {
		m.log.Warn("cannot watch the recreated log folder: removals by others are seen by rescans", "dir", m.dir, "err", err)
		m.watchLost = true
		return
	}
	m.watch, m.watchLost = w, false
	m.log.Info("watching the recreated log folder", "dir", m.dir)
}

// rescan replaces the accounting with a full scan. Reports queued before it
// began are dropped: the scan sees their effect (and reconcile is
// idempotent for those that arrive late). A failure keeps the accounting
// and is logged once per failure streak.
func (m *Manager) rescan() error {
	start := m.opts.Now()
	mark := m.written.Load()
	m.mu.Lock()
	m.events = nil
	m.mu.Unlock()
	err := m.acct.scan()
	m.scanDur = m.opts.Now().Sub(start)
	if err != nil {
		if !m.scanFailing {
			m.log.Warn("cannot scan the log folder: keeping the previous accounting", "dir", m.dir, "err", err)
		}
		m.scanFailing = true
		return err
	}
	if m.scanFailing {
		m.log.Info("log folder scans work again", "dir", m.dir)
		m.scanFailing = false
	}
	m.mark, m.lastScan = mark, start
	m.scans++
	return nil
}

// check samples P if forced or stale; with autodelete on, applies the
// retention rules when the rolled files changed and deletes by the budget
// while the figures are not Normal; then moves the state and publishes a
// snapshot.
func (m *Manager) check(force bool) {
	now := m.opts.Now()
	m.acct.prune(now)
	if force || m.freeAt.IsZero() || now.Sub(m.freeAt) >= RecheckInterval {
		m.sampleFree(now)
	}
	if m.acct.retain {
		if m.cfg.AutoDelete {
			m.retain()
		} else {
			m.acct.retain, m.expiry = false, time.Time{}
		}
	}
	f := m.figures()
	if s, _ := classify(f); s != Normal && m.cfg.AutoDelete && m.acct.candidates > 0 {
		m.autodelete()
		f = m.figures()
	}
	st, why := next(m.state, f)
	if st == Normal {
		m.heldFiles, m.heldBytes = 0, 0
	}
	why = heldWhy(why, m.heldFiles, m.heldBytes)
	m.transition(st, why, f)
	m.warn(f)
	m.publish(f)
}

// sampleFree calls Options.Free. A failure makes P unknown (its conditions
// count for nothing) and is logged once per failure streak.
func (m *Manager) sampleFree(now time.Time) {
	mark := m.written.Load()
	p, err := m.opts.Free(m.dir)
	m.freeAt, m.freeMark = now, mark
	if err != nil {
		if !m.freeFailing {
			m.log.Warn("cannot read the partition's free space: only the limit applies until it works", "dir", m.dir, "err", err)
		}
		m.freeFailing, m.free, m.part = true, -1, Partition{}
		return
	}
	if m.freeFailing {
		m.log.Info("the partition's free space is readable again", "dir", m.dir)
		m.freeFailing = false
	}
	m.free, m.part = int64(min(p.Free, math.MaxInt64)), p
}

// figures returns U and P now: P is the last sample less what the collator
// wrote since.
func (m *Manager) figures() figures {
	w := m.written.Load()
	f := figures{
		used:           max(m.acct.base+(w-m.mark), 0), // approximations never make it negative
		limit:          m.cfg.Limit,
		headroom:       m.cfg.Headroom,
		minFree:        m.cfg.MinFree,
		free:           -1,
		size:           int64(min(m.part.Size, math.MaxInt64)),
		freeInodes:     int64(min(m.part.FreeInodes, math.MaxInt64)),
		inodes:         int64(min(m.part.Inodes, math.MaxInt64)),
		minFreeInodes:  m.cfg.MinFreeInodes,
		headroomInodes: m.cfg.HeadroomInodes,
	}
	if m.free >= 0 {
		f.free = max(m.free-(w-m.freeMark), 0)
	}
	return f
}

// transition moves to state st, logging and telling Accept on a change.
// While Exhausted, Accept is told again whenever the reason changes, so
// that refused writers are given the current figures.
func (m *Manager) transition(st State, why string, f figures) {
	old := m.state
	m.state, m.reason = st, why
	if st == Exhausted && why != m.accepting {
		m.accepting = why
		if m.opts.Accept != nil {
			m.opts.Accept(false, why)
		}
	}
	if st == old {
		return
	}
	args := []any{"dir", m.dir, "used", f.used, "limit", f.limit, "headroom", f.headroom, "free", f.free}
	if f.inodes > 0 {
		args = append(args, "free_inodes", f.freeInodes)
	}
	if old == Exhausted {
		// Left for Normal, or for Low where no hysteresis holds (inodes).
		m.accepting = ""
		if m.opts.Accept != nil {
			m.opts.Accept(true, "")
		}
	}
	switch {
	case st == Exhausted:
		m.log.Warn("log space exhausted: refusing new records", append(args, "reason", why)...)
	case st == Low && old == Exhausted:
		m.log.Warn("log space low: accepting records again", append(args, "reason", why, "auto_delete", m.cfg.AutoDelete)...)
	case st == Low:
		m.log.Warn("log space low", append(args, "reason", why, "auto_delete", m.cfg.AutoDelete)...)
	case old == Exhausted:
		m.log.Info("log space back to normal: accepting records again", args...)
	default:
		m.log.Info("log space back to normal", args...)
	}
}

// warn logs the figures' warnings (a headroom the partition cannot hold)
// when they change: once, not at every check.
func (m *Manager) warn(f figures) {
	ws := warnings(f)
	if slices.Equal(ws, m.warned) {
		return
	}
	for _, w := range ws {
		if !slices.Contains(m.warned, w) {
			m.log.Warn("log space: "+w, "dir", m.dir)
		}
	}
	m.warned = ws
}
