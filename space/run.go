package space

import (
	"math"
	"path/filepath"
	"slices"
	"time"
)

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
		m.acct.setActives(cfg.actives(), cfg.Host)
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
	before := m.acct.aliases()
	err := m.acct.scan()
	m.scanDur = m.opts.Now().Sub(start)
	if now := m.acct.aliases(); err == nil && !slices.Equal(before, now) && len(now) > 0 {
		m.log.Warn("a counted folder is the same folder as another counted one (a link or a bind mount made since the start or the last reload): its files are counted once, under the path configured first",
			"folders", now)
	}
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
// wrote since. A compression's temporary counts in neither: its bytes come
// back when the compression ends (done, the raw file goes; failed, the
// temporary goes), so no rolled file is deleted, and no write refused, to
// make room for it — on a nearly full partition the compression fails
// with ENOSPC instead, and the raw file is published as it is in the end
// (docs/space.md, "Used space U").
func (m *Manager) figures() figures {
	w := m.written.Load()
	tr := m.acct.transient
	f := figures{
		used:           max(m.acct.base+(w-m.mark)-tr, 0), // approximations never make it negative
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
		f.free = max(m.free-(w-m.freeMark), 0) + tr
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
