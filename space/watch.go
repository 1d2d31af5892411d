package space

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// watcher is the fsnotify adapter: it turns the events of the log folder
// and of the rolled folders into reports to the manager (the same queue as
// Manager.Removed) and decides nothing. It exists apart from the manager
// because fsnotify cannot run in a testing/synctest bubble: tests of the
// manager report events themselves.
//
// Goroutine: startWatch starts one (run), which reads fsnotify's channels
// until they are closed; close closes the fsnotify watcher and waits for it.
// follow, called by the manager's goroutine, changes the folders watched.
//
// Events: Create, Remove and Rename (away) of a name in a folder watched
// are reported; Write and Chmod are dropped (the collator's writes are
// counted by Manager.Wrote; growth of other files is seen at the next
// scan). A lost event (queue overflow) or a watch error asks for a rescan;
// the log folder itself removed or moved ends the watch (Manager.Rewatch
// then replaces the watcher with one on the recreated folder); a rolled
// folder removed is watched again when the collator makes it again (follow,
// at the next rescan).
type watcher struct {
	fw       *fsnotify.Watcher
	done     chan struct{}
	lastWarn time.Time // of the last error logged at Warn; run's own

	mu      sync.Mutex
	watched map[string]bool // the folders watched; guarded by mu
}

// startWatch watches dirs (the log folder first) for m. Only the log
// folder must be watchable: a rolled folder that does not exist yet is
// watched once it does (follow).
func startWatch(m *Manager, dirs []string) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("space: watch %s: %w", m.dir, err)
	}
	if err := fw.Add(m.dir); err != nil {
		fw.Close()
		return nil, fmt.Errorf("space: watch %s: %w", m.dir, err)
	}
	w := &watcher{fw: fw, done: make(chan struct{}), watched: map[string]bool{m.dir: true}}
	w.follow(m, dirs)
	go w.run(m)
	return w, nil
}

// follow makes the watched folders dirs (the log folder stays watched):
// it watches those not watched yet that exist, and stops watching those
// no longer counted. A folder that cannot be watched is logged once and
// seen by rescans only.
func (w *watcher) follow(m *Manager, dirs []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for d := range w.watched {
		if d != m.dir && !slices.Contains(dirs, d) {
			_ = w.fw.Remove(d)
			delete(w.watched, d)
		}
	}
	for _, d := range dirs {
		if w.watched[d] {
			continue
		}
		if err := w.fw.Add(d); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				m.log.Warn("cannot watch a rolled folder: removals by others are seen by rescans", "dir", d, "err", err)
			}
			continue
		}
		w.watched[d] = true
	}
}

// watching reports whether dir is a folder watched.
func (w *watcher) watching(dir string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.watched[dir]
}

// forgetDir notes that dir itself went away: its watch ended.
func (w *watcher) forgetDir(dir string) {
	w.mu.Lock()
	delete(w.watched, dir)
	w.mu.Unlock()
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
	if w.watching(ev.Name) {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			// A rolled folder removed or moved: what was in it left the
			// count; the collator makes it again at the next roll into it.
			w.forgetDir(ev.Name)
			m.log.Warn("a rolled folder was removed or moved", "dir", ev.Name)
			m.mu.Lock()
			m.overflow = true // rescan
			m.mu.Unlock()
			m.Check()
		}
		return
	}
	if !w.watching(filepath.Dir(ev.Name)) {
		return
	}
	switch {
	case ev.Has(fsnotify.Rename):
		m.enqueue(event{path: ev.Name, moved: true})
	case ev.Has(fsnotify.Remove), ev.Has(fsnotify.Create):
		m.enqueue(event{path: ev.Name})
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
