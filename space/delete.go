package space

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// The executor: every deletion the daemon makes happens here, on the
// manager's goroutine, for one rule at a time, and is logged and counted
// with its rule.

// retain deletes what the retention rules call for (Retain), oldest first,
// and sets expiry, the instant the next kept file reaches its log's
// maximum age (the run loop's timer). It runs when the rolled files or the
// configuration changed and when that timer fires, and stops early on
// Close.
func (m *Manager) retain() {
	m.acct.retain = false
	m.expiry = time.Time{}
	if !slices.ContainsFunc(m.cfg.Logs, Log.retains) {
		return // no rule to apply: spare the listing
	}
	victims, next := Retain(m.acct.rolled(), m.cfg.Logs, m.opts.Now())
	m.expiry = next
	for _, v := range victims {
		if m.closing() {
			return
		}
		m.deleteFile(v.File, v.Rule, v.Why, m.figures())
	}
}

// autodelete deletes rolled files in Plan's order, one at a time, while the
// figures are not Normal (re-evaluated after each deletion, with P sampled
// afresh). It runs on the manager's goroutine and stops early on Close.
//
// Files held for shipping (Options.Hold) are skipped, and counted for the
// reason: when only they could free the budget, the state goes on to
// Exhausted (ingest answers 503) and the reason says so.
func (m *Manager) autodelete() {
	m.heldFiles, m.heldBytes = 0, 0
	for _, f := range Plan(m.acct.rolled(), m.cfg.Logs) {
		if m.closing() {
			return
		}
		fig := m.figures()
		st, why := classify(fig)
		if st == Normal {
			return
		}
		if m.hold(f) == Held {
			m.heldFiles++
			m.heldBytes += f.Size
			continue
		}
		m.deleteFile(f, RuleBudget, why, fig)
	}
}

// closing reports whether Close has begun.
func (m *Manager) closing() bool {
	select {
	case <-m.quit:
		return true
	default:
		return false
	}
}

// deleteFile deletes the rolled file f, which rule calls for (why, with the
// figures fig), unless it is held for shipping (Options.Hold): every rule
// goes through here, so none deletes a held file. A file not yet handed on
// but not held (ship_before_delete = 0) is deleted, and that is logged as an
// error and counted. A file already gone (a script got there first) is only
// forgotten; a name that now holds another file is looked at again and
// left for the next plan; a failure is logged, counted, and takes the file
// out of the candidates until the next scan.
func (m *Manager) deleteFile(f File, rule Rule, why string, fig figures) {
	hold := m.hold(f)
	if hold == Held {
		m.log.Debug("rolled file kept: not yet handed on", "name", f.Name, "rule", string(rule))
		return
	}
	path := filepath.Join(f.Dir, f.Name)
	now := m.opts.Now()
	e := m.acct.files[path]
	if e == nil {
		return
	}
	fi, err := os.Lstat(path)
	if err == nil && (!fi.Mode().IsRegular() || !sameFile(e, statOf(fi))) {
		m.acct.reconcile(path, false, now)
		return
	}
	if err == nil {
		err = m.opts.remove(path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.acct.forget(path, false, now)
		m.log.Debug("rolled file already gone", "path", path)
	case err != nil:
		m.acct.markFailed(path)
		m.deleteErrors++
		m.log.Warn("cannot delete rolled file: it stays, out of the rules' reach until the next scan, and counts in the used space",
			"path", path, "bytes", e.size, "log", f.Log, "rule", string(rule), "why", why, "err", err)
	default:
		m.acct.forget(path, false, now)
		m.count(f.Log, rule, fi.Size())
		if hold == Unhanded {
			m.unhanded++
			m.log.Error("deleted rolled file not yet handed on (ship_before_delete = 0)", "path", path, "bytes", fi.Size(), "log", f.Log, "rule", string(rule))
			if m.opts.DeletedUnhanded != nil {
				m.opts.DeletedUnhanded(path)
			}
		}
		m.log.Info("deleted rolled file", "path", path, "bytes", fi.Size(), "log", f.Log, "rule", string(rule), "why", why,
			"used", fig.used, "limit", fig.limit, "headroom", fig.headroom, "free", fig.free)
		m.sampleFree(now)
	}
}

// count adds one deletion of size bytes of log's by rule.
func (m *Manager) count(log string, rule Rule, size int64) {
	add := func(c map[Rule]*Count) {
		if c[rule] == nil {
			c[rule] = &Count{}
		}
		c[rule].Files++
		c[rule].Bytes += size
	}
	add(m.deleted)
	if m.deletedLog[log] == nil {
		m.deletedLog[log] = map[Rule]*Count{}
	}
	add(m.deletedLog[log])
	m.acct.dirty = true // the per-log deletions are in the status
}
