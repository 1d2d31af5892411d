package ship

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// The manager's goroutine (run) and what it owns: the configuration in
// force, the queue, the journal, the uploaders and the failure streaks.
// Everything here runs on run, but work, which runs on a worker goroutine
// per step and reads only what dispatch hands it.

// run is the manager's goroutine.
func (m *Manager) run() {
	defer close(m.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		m.dispatch()
		m.publish()
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if next := m.q.nextDue(); !next.IsZero() {
			timer.Reset(max(next.Sub(m.opts.Now()), time.Millisecond))
		}
		select {
		case <-m.quit:
			m.wg.Wait()
			for len(m.results) > 0 {
				m.handle(<-m.results)
			}
			for _, u := range m.uploaders {
				u.close()
			}
			m.publish()
			return
		case <-m.poke:
			m.intake()
		case r := <-m.results:
			m.handle(r)
		case <-timer.C:
		}
	}
}

// intake takes the new configuration and the reported files.
func (m *Manager) intake() {
	m.mu.Lock()
	cfg := m.newCfg
	m.newCfg = nil
	paths, items, forget := m.paths, m.items, m.forget
	m.paths, m.items, m.forget = nil, nil, nil
	m.mu.Unlock()
	if len(forget) > 0 {
		gone := make(map[string]bool, len(forget))
		for _, p := range forget {
			gone[p] = true
		}
		m.q.drop(func(_ step, it Item) bool { return !gone[it.Path] })
	}
	now := m.opts.Now()
	if cfg != nil {
		m.cfg = *cfg
		// New clients, so that credentials fixed in the shared files
		// count (the SDK reads them once per client); uploads in flight
		// keep theirs.
		for t, u := range m.uploaders {
			u.retired = true
			if u.inflight == 0 {
				u.close()
			} // else closed by handle after its last upload
			delete(m.uploaders, t)
		}
		byName := cfg.byName()
		m.q.drop(func(s step, it Item) bool { return byName[it.Log].steps()&s != 0 })
		if n := m.q.unpark(now); n > 0 {
			m.log.Info("configuration reloaded: retrying the steps refused for good", "steps", n)
		}
		m.mu.Lock()
		clear(m.parked)
		m.mu.Unlock()
	}
	for _, p := range paths {
		if it, ok := m.opts.Item(p); ok {
			m.queue(it, now)
		}
	}
	for _, it := range items {
		m.queue(it, now)
	}
}

// dispatch starts the steps that may start now.
func (m *Manager) dispatch() {
	now := m.opts.Now()
	for _, s := range []step{stepHook, stepShip} {
		limit := m.opts.HookConcurrency
		if s == stepShip {
			limit = m.opts.ShipConcurrency
		}
		for _, t := range m.q.ready(s, now, limit-m.running[s]) {
			l, ok := m.cfg.byNameOne(t.item.Log)
			if !ok || l.steps()&s == 0 {
				m.q.finish(t.id)
				continue
			}
			var up *uploader
			if s == stepShip && m.opts.upload == nil {
				var err error
				if up, err = m.uploader(*l.Ship); err != nil {
					m.q.fail(t.id, &Failure{Kind: KindRefused, Err: err}, now, 0)
					m.refused(t.id, t.item, &Failure{Kind: KindRefused, Err: err})
					continue
				}
			}
			if up != nil {
				up.inflight++
			}
			t.running = true
			m.running[s]++
			m.wg.Add(1)
			go m.work(t.id, t.item, l, m.cfg.Host, up)
		}
	}
}

// uploader returns the uploader of t, made on first use.
func (m *Manager) uploader(t Target) (*uploader, error) {
	if u := m.uploaders[t]; u != nil {
		return u, nil
	}
	u, err := newUploader(m.ctx, t, m.opts.PartSize, m.opts.ShipConcurrency, m.opts.StallTimeout)
	if err != nil {
		return nil, err
	}
	m.uploaders[t] = u
	return u, nil
}

// work runs one step on a worker goroutine and reports it.
func (m *Manager) work(id taskID, it Item, l Log, host string, up *uploader) {
	defer m.wg.Done()
	r := result{id: id, item: it, up: up}
	defer func() { m.results <- r }()
	if _, err := os.Lstat(it.Path); errors.Is(err, fs.ErrNotExist) {
		r.gone = true
		return
	}
	switch id.step {
	case stepHook:
		r.err = runHook(m.ctx, l.Command, it, host, m.opts.HookTimeout)
	case stepShip:
		if it.Host != "" {
			host = it.Host
		}
		end := it.KeyEnd // the same key whatever the zone (space.File)
		if end.IsZero() {
			end = it.End
		}
		key, err := Key(l.Ship.Prefix, host, it.Log, it.Name, end)
		if err != nil {
			r.err = &Failure{Kind: KindRefused, Err: err}
			return
		}
		if m.opts.upload != nil {
			r.res, r.err = m.opts.upload(m.ctx, *l.Ship, it, key)
		} else {
			r.res, r.err = up.upload(m.ctx, it, key)
		}
	}
}

// handle records a worker's report.
func (m *Manager) handle(r result) {
	m.running[r.id.step]--
	if u := r.up; u != nil {
		if u.inflight--; u.retired && u.inflight == 0 {
			u.close()
		}
	}
	sk := streakKey{r.id.step, r.item.Log}
	switch {
	case r.gone:
		m.q.finish(r.id)
		m.counts.gone++
		m.log.Warn("rolled file gone before it was handed on", "path", r.item.Path, "step", r.id.step.String())
	case r.err == nil:
		m.succeeded(r, sk)
	case m.ctx.Err() != nil:
		// Cancelled by Close: done again after the restart.
		if t := m.q.tasks[r.id]; t != nil {
			t.running = false
		}
	default:
		var f *Failure
		if !errors.As(r.err, &f) {
			f = &Failure{Kind: KindNetwork, Err: r.err}
		}
		m.failed(r, f, sk)
	}
}

// failed records a failed step: counted, due again after the backoff of
// its failures in a row, logged once per streak (or parked, when
// permanent).
func (m *Manager) failed(r result, f *Failure, sk streakKey) {
	now := m.opts.Now()
	m.counts.failures[f.Kind]++
	t := m.q.tasks[r.id]
	n := 1
	if t != nil {
		n = t.failures + 1
	}
	wait := Backoff(n, m.opts.MinBackoff, m.maxBackoff(), m.opts.Jitter())
	m.q.fail(r.id, f, now, wait)
	m.mu.Lock()
	m.snap.LastFailure, m.snap.LastFailureAt = fmt.Sprintf("%s %s: %v", r.id.step, r.item.Name, f), now
	m.mu.Unlock()
	if f.Kind.Permanent() {
		m.refused(r.id, r.item, f)
		return
	}
	m.streaks[sk]++
	if m.streaks[sk] == 1 {
		m.log.Warn(what(r.id.step)+" failed: retrying with backoff (logged once until it works again)",
			append([]any{"log", r.item.Log, "path", r.item.Path, "retry_in", wait.Round(time.Millisecond)}, f.attrs()...)...)
	}
}

// refused logs and records a permanent failure: the step waits for a
// reload or a restart.
func (m *Manager) refused(id taskID, it Item, f *Failure) {
	m.mu.Lock()
	m.parked[id.step.String()+" "+id.name] = f
	m.mu.Unlock()
	m.log.Error(what(id.step)+" refused for good: not retried until the configuration is reloaded or the daemon restarts",
		append([]any{"log", it.Log, "path", it.Path}, f.attrs()...)...)
}

// succeeded records a step done: the journal first, then the counters, and
// when the file is handed on, Options.HandedOn.
func (m *Manager) succeeded(r result, sk streakKey) {
	err := m.jr.appendLine(line(r.id.step, r.id.name, r.res.Key))
	if m.jr.removed {
		m.jr.removed = false
		m.log.Error("the hand-on journal was removed or moved away while in use: made again at its path; the steps it recorded will be done again after a restart", "path", m.jr.path)
	}
	switch {
	case err != nil:
		// Done all the same: a journal that cannot be written (a full
		// disk) must not hold the files whose deletion would free it.
		// What is not recorded is done again after a restart, if the
		// file is still there (the store recognises the bytes; a command
		// runs again): at least once.
		m.counts.failures[KindLocal]++
		if !m.journalFailing {
			m.journalFailing = true
			m.log.Error("cannot record steps done in the hand-on journal: they count as done until a restart, which does them again for the files still there (logged once until it works again)", "path", m.jr.path, "err", err)
		}
	case m.journalFailing:
		m.journalFailing = false
		m.log.Info("the hand-on journal can be written again", "path", m.jr.path)
	}
	m.q.finish(r.id)
	m.mu.Lock()
	rec := m.recs[r.id.name]
	rec.steps |= r.id.step
	if r.id.step == stepShip {
		rec.key = r.res.Key
	}
	m.recs[r.id.name] = rec
	l, configured := m.logs[r.item.Log]
	m.mu.Unlock()
	lc := m.counts.log(r.item.Log)
	switch r.id.step {
	case stepShip:
		m.counts.shipped++
		m.counts.shippedBytes += r.item.Size
		lc.shipped++
		lc.shippedBytes += r.item.Size
		if r.res.Already {
			m.counts.already++
		}
		if r.res.Multipart {
			m.counts.multipart++
		}
	case stepHook:
		m.counts.hooks++
		lc.hooks++
	}
	if n := m.streaks[sk]; n > 0 {
		m.log.Info(what(r.id.step)+" works again", "log", r.item.Log, "failures", n)
		delete(m.streaks, sk)
	}
	if need := l.steps(); need&^rec.steps == 0 && m.opts.HandedOn != nil {
		m.opts.HandedOn(r.item.Path, configured && l.deletes())
	}
}

// what names a step for log lines.
func what(s step) string {
	if s == stepShip {
		return "shipping"
	}
	return "on_roll_command"
}

// maxBackoff is the configured cap of the backoff.
func (m *Manager) maxBackoff() time.Duration {
	if m.cfg.MaxBackoff > 0 {
		return max(m.cfg.MaxBackoff, m.opts.MinBackoff)
	}
	return m.opts.MaxBackoff
}
