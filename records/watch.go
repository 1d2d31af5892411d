package records

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// DefaultDebounce is the quiet period a Watcher waits for after the last change
// to the configuration file before reading it.
const DefaultDebounce = 200 * time.Millisecond

// readAttempts is how many reads in a row may fail before a Watcher reports
// the failure through OnChange. Failed reads are retried one quiet period
// apart, so with the default debounce a file may be missing for about a
// second (an editor's save by rename) without an error being reported.
const readAttempts = 5

// Messages of the watcher's Debug logs (tests wait for them).
const (
	logEvent      = "records: config file event"
	logUnchanged  = "records: config file content unchanged, not reloaded"
	logReadFailed = "records: config file read failed, will retry"
)

// WatchOptions configures a Watcher. Only OnChange is required.
type WatchOptions struct {
	// Debounce is the quiet period after the last change before the file is
	// read, so that an editor's burst of writes gives one reload. Zero or
	// negative means DefaultDebounce (200 ms).
	Debounce time.Duration

	// Load validates the content; name is the watched path as given to
	// NewWatcher. Nil means the package's Load. Tests pass a fake.
	Load func(data []byte, name string) (*Config, []Warning, error)

	// OnChange receives each reload. It is called from the Watcher's
	// debouncing goroutine, one call at a time, never concurrently with
	// itself. It must not call Close (Close waits for it to return).
	//
	// With err == nil, cfg is the new valid configuration and warnings are
	// Load's adjustments. With err != nil, cfg and warnings are nil and
	// nothing is to be applied: the previous configuration stays. err is
	// either Load's error, unchanged, or a read error that persisted over
	// several quiet periods (errors.Is(err, fs.ErrNotExist) when the file is
	// gone). The same content is reported once; see Watcher.
	OnChange func(cfg *Config, warnings []Warning, err error)

	// Logger receives fsnotify's errors (Error level), the loss of the
	// watched folder (Warn), and a trace of events, skipped contents and
	// retried reads (Debug). Nil means slog.Default().
	Logger *slog.Logger

	// Initial is the content already applied, so that saving it again is not
	// a reload. Optional: with nil, the first change is always reloaded. When
	// set, the Watcher also reads the file once at start (after one quiet
	// period) and reloads if it no longer matches, which closes the gap
	// between the caller's own read and the start of the watch.
	Initial []byte
}

// Watcher reloads a configuration file when it changes.
//
// It watches the file's folder, not the file: editors save by writing a new
// file and renaming it over the old one, which would lose a watch on the file
// itself. Events for other names in the folder are ignored, except when the
// path is a symbolic link at start (as Kubernetes mounts a ConfigMap, whose
// update swaps a link to a data folder): then every event in the folder leads
// to a read. Bursts of events are debounced (WatchOptions.Debounce); the file is
// then read and its SHA-256 compared with that of the last content seen (at
// first WatchOptions.Initial). Unchanged content is skipped; new content goes
// through Load and the result to OnChange.
//
// The last content seen is updated for invalid content too: saving the same
// broken file again reports nothing new, and any other content afterwards,
// the previously applied one included, is loaded and reported, so the caller
// learns that the error is resolved.
//
// A read that fails (the file missing for a moment during a save) is retried
// one quiet period later and at every event, and is reported through OnChange
// only after several failures in a row (about 5 quiet periods), once per
// streak. After such a report, the next readable content is reloaded even if
// it equals the last one seen.
//
// Goroutines: NewWatcher starts two. One reads fsnotify's channels, filters
// events and logs errors; the other debounces, reads the file and calls Load
// and OnChange. Close stops both and returns when they have exited.
type Watcher struct {
	path     string // as given; passed to Load
	dir      string // the watched folder
	base     string // the file's name in dir
	anyEvent bool   // the path was a symbolic link at start: every event in dir counts
	opts     WatchOptions
	log      *slog.Logger

	fsw        *fsnotify.Watcher
	deb        *debouncer
	stop       chan struct{} // closed by Close; ends the reader even if fsnotify's channels stay open
	readerDone chan struct{}

	closeOnce sync.Once
	closeErr  error

	// Owned by the debouncer goroutine.
	hash         [sha256.Size]byte // of the last content seen
	haveHash     bool
	readFailures int // consecutive failed reads
}

// NewWatcher starts watching the configuration file at path. The file need
// not exist yet, but its folder must. See Watcher for what is reloaded when,
// and Close to stop it.
func NewWatcher(path string, opts WatchOptions) (*Watcher, error) {
	if opts.OnChange == nil {
		return nil, fmt.Errorf("records: watch %s: OnChange is required", path)
	}
	if opts.Debounce <= 0 {
		opts.Debounce = DefaultDebounce
	}
	if opts.Load == nil {
		opts.Load = Load
	}
	w := &Watcher{
		path:       path,
		dir:        filepath.Dir(path),
		base:       filepath.Base(path),
		opts:       opts,
		log:        opts.Logger,
		stop:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		w.anyEvent = true
	}
	if opts.Initial != nil {
		w.hash, w.haveHash = sha256.Sum256(opts.Initial), true
	}

	fsw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, fmt.Errorf("records: watch %s: %w", path, err)
	}
	if err := fsw.Add(w.dir); err != nil {
		fsw.Close()
		return nil, fmt.Errorf("records: watch %s: folder %s: %w", path, w.dir, err)
	}
	w.fsw = fsw
	w.deb = newDebouncer(opts.Debounce, w.check)
	go w.read()
	if opts.Initial != nil {
		w.deb.Signal()
	}
	return w, nil
}

// Close stops watching: it closes the fsnotify watcher, drops a pending
// reload, waits for a running OnChange to return and for both goroutines to
// exit. It must not be called from OnChange. It is idempotent; every call
// returns the first call's result.
func (w *Watcher) Close() error {
	w.closeOnce.Do(func() {
		close(w.stop)
		if err := w.fsw.Close(); err != nil {
			w.closeErr = fmt.Errorf("records: watch %s: close: %w", w.path, err)
		}
		<-w.readerDone
		w.deb.Close()
	})
	return w.closeErr
}

// read runs in the reader goroutine until Close.
func (w *Watcher) read() {
	defer close(w.readerDone)
	events, errs := w.fsw.Events, w.fsw.Errors
	for events != nil || errs != nil {
		select {
		case <-w.stop:
			return
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			w.event(ev)
		case err, ok := <-errs:
			if !ok {
				errs = nil
				continue
			}
			w.log.Error("records: watching config folder", "path", w.path, "err", err)
			if errors.Is(err, fsnotify.ErrEventOverflow) {
				// Events were lost; look at the file in case one was ours.
				w.deb.Signal()
			}
		}
	}
}

// event filters one fsnotify event. Every operation on the file's name counts:
// Create (also how a rename over it shows), Write, Remove and Rename (the
// read after the quiet period finds what replaced it), and Chmod (a file made
// readable again). The hash keeps those that did not change content from
// reloading.
func (w *Watcher) event(ev fsnotify.Event) {
	if filepath.Clean(ev.Name) == filepath.Clean(w.dir) {
		if ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename) {
			w.log.Warn("records: config folder removed or renamed; changes are no longer watched",
				"path", w.path)
		}
		return
	}
	if !w.anyEvent && filepath.Base(ev.Name) != w.base {
		return
	}
	w.log.Debug(logEvent, "path", w.path, "name", ev.Name, "op", ev.Op.String())
	w.deb.Signal()
}

// check runs in the debouncer goroutine after a quiet period.
func (w *Watcher) check() {
	data, err := os.ReadFile(w.path)
	if err != nil {
		w.readFailures++
		switch {
		case w.readFailures < readAttempts:
			w.log.Debug(logReadFailed, "path", w.path, "attempt", w.readFailures, "err", err)
			w.deb.Signal()
		case w.readFailures == readAttempts:
			// Reported once per streak; forget the hash so that whatever
			// content comes back is reloaded and clears the error.
			w.haveHash = false
			w.opts.OnChange(nil, nil, fmt.Errorf("records: reload %s: %w", w.path, err))
		}
		return
	}
	w.readFailures = 0
	sum := sha256.Sum256(data)
	if w.haveHash && sum == w.hash {
		w.log.Debug(logUnchanged, "path", w.path)
		return
	}
	w.hash, w.haveHash = sum, true
	cfg, warnings, err := w.opts.Load(data, w.path)
	if err != nil {
		w.opts.OnChange(nil, nil, err)
		return
	}
	w.opts.OnChange(cfg, warnings, nil)
}
