package space

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher is the fsnotify adapter: it turns the log folder's events into
// reports to the manager (the same queue as Manager.Removed) and decides
// nothing. It exists apart from the manager because fsnotify cannot run in a
// testing/synctest bubble: tests of the manager report events themselves.
//
// Goroutine: startWatch starts one (run), which reads fsnotify's channels
// until they are closed; close closes the fsnotify watcher and waits for it.
//
// Events: Create, Remove and Rename (away) of a name in the folder are
// reported; Write and Chmod are dropped (the collator's writes are counted
// by Manager.Wrote; growth of other files is seen at the next scan). A lost
// event (queue overflow) or a watch error asks for a rescan; the folder
// itself removed or moved ends the watch (Manager.Rewatch then replaces the
// watcher with one on the recreated folder).
type watcher struct {
	fw       *fsnotify.Watcher
	done     chan struct{}
	lastWarn time.Time // of the last error logged at Warn; run's own
}

// startWatch watches m.dir for m.
func startWatch(m *Manager) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("space: watch %s: %w", m.dir, err)
	}
	if err := fw.Add(m.dir); err != nil {
		fw.Close()
		return nil, fmt.Errorf("space: watch %s: %w", m.dir, err)
	}
	w := &watcher{fw: fw, done: make(chan struct{})}
	go w.run(m)
	return w, nil
}

// run forwards events until fsnotify closes its channels.
func (w *watcher) run(m *Manager) {
	defer close(w.done)
	events, errs := w.fw.Events, w.fw.Errors
	for events != nil || errs != nil {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.event(m, ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			if now := time.Now(); now.Sub(w.lastWarn) >= time.Minute {
				m.log.Warn("log folder watch: events lost, rescanning", "dir", m.dir, "err", err)
				w.lastWarn = now
			}
			m.mu.Lock()
			m.overflow = true
			m.mu.Unlock()
			m.Check()
		}
	}
}

// event reports one fsnotify event to m.
func (w *watcher) event(m *Manager, ev fsnotify.Event) {
	if ev.Name == m.dir {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			m.log.Warn("the log folder was removed or moved: removals by others are seen by rescans", "dir", m.dir)
			m.mu.Lock()
			m.lost = true
			m.mu.Unlock()
			m.Check()
		}
		return
	}
	if filepath.Dir(ev.Name) != m.dir {
		return
	}
	name := filepath.Base(ev.Name)
	switch {
	case ev.Has(fsnotify.Rename):
		m.enqueue(event{name: name, moved: true})
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Create):
		m.enqueue(event{name: name})
	}
}

// close stops the watch and waits for run to exit.
func (w *watcher) close() error {
	err := w.fw.Close()
	<-w.done
	if err != nil {
		return fmt.Errorf("space: stop watching: %w", err)
	}
	return nil
}
