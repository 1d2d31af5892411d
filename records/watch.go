package records

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
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
	logTarget     = "records: watching the config link's target folder"
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
	// watched folder and a link target's folder that cannot be watched
	// (Warn), and a trace of events, followed links, skipped contents and
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
// path is a symbolic link (as Kubernetes mounts a ConfigMap, whose update
// swaps a link to a data folder): then every event in the folder leads to a
// read. Bursts of events are debounced (WatchOptions.Debounce); the file is
// then read and its SHA-256 compared with that of the last content seen (at
// first WatchOptions.Initial). Unchanged content is skipped; new content goes
// through Load and the result to OnChange.
//
// When the path is a symbolic link, the folder of the file it finally points
// to (through any chain of links; the file itself may be missing) is watched
// too, unless it is the link's own folder; there only events for the target's
// name count. The link is resolved again after every event that counts, so
// that when it is re-pointed (or a Kubernetes update swaps the data folder)
// the new target's folder is watched and the previous one no longer is. The
// link's own folder stays watched until Close. Links along the way that are
// in other folders are not watched: re-pointing one is noticed only at the
// next event that counts.
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
	path string // as given; passed to Load
	dir  string // the path's folder, watched until Close
	base string // the file's name in dir
	opts WatchOptions
	log  *slog.Logger

	// Set by follow; owned by the reader goroutine once it runs.
	anyEvent  bool   // the path is a symbolic link: every event in dir counts
	tdir      string // the watched folder of the link's target; "" if none or dir
	tbase     string // the target's name in tdir
	followErr string // the last failure to follow the link that was logged
	dirGone   bool   // the path's folder was removed or renamed: its watch is gone until rearm

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
	w.follow()
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

// rearmEvery is how often a watcher that lost a folder (its own, renamed
// or removed; a link target's that could not be followed) looks whether it
// is back: no event says so, as nothing watches the folder that holds it.
const rearmEvery = time.Second

// read runs in the reader goroutine until Close.
func (w *Watcher) read() {
	defer close(w.readerDone)
	events, errs := w.fsw.Events, w.fsw.Errors
	var ticker *time.Ticker
	defer func() {
		if ticker != nil {
			ticker.Stop()
		}
	}()
	for events != nil || errs != nil {
		var rearm <-chan time.Time
		switch lost := w.dirGone || w.followErr != ""; {
		case lost && ticker == nil:
			ticker = time.NewTicker(rearmEvery)
			fallthrough
		case lost:
			rearm = ticker.C
		case ticker != nil:
			ticker.Stop()
			ticker = nil
		}
		select {
		case <-w.stop:
			return
		case <-rearm:
			w.rearm()
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
				// Events were lost; look at the link and the file in case
				// one was ours.
				w.follow()
				w.deb.Signal()
			}
		}
	}
}

// event filters one fsnotify event. Every operation on the file's name (in
// dir, or the link target's in tdir) counts: Create (also how a rename over it
// shows), Write, Remove and Rename (the read after the quiet period finds what
// replaced it), and Chmod (a file made readable again). The hash keeps those
// that did not change content from reloading. The link is followed again
// before the read is scheduled, so that the read comes after the new target's
// folder is watched and no change made there in between is missed.
func (w *Watcher) event(ev fsnotify.Event) {
	name := filepath.Clean(ev.Name)
	dir, base := filepath.Dir(name), filepath.Base(name)
	gone := ev.Has(fsnotify.Remove) || ev.Has(fsnotify.Rename)
	switch {
	case name == w.dir:
		if gone && !w.dirGone {
			// A renamed folder keeps its watch, on the folder now elsewhere.
			_ = w.fsw.Remove(w.dir)
			w.dirGone = true
			w.log.Warn("records: config folder removed or renamed; changes are watched again once a folder is back at its path",
				"path", w.path)
		}
		return
	case w.tdir != "" && name == w.tdir:
		if !gone {
			return
		}
		// The target is gone with its folder; fsnotify has (or will have)
		// dropped the watch, which follow must add again if it comes back.
		_ = w.fsw.Remove(w.tdir)
		w.tdir, w.tbase = "", ""
	case dir == w.dir && (w.anyEvent || base == w.base):
	case w.tdir != "" && dir == w.tdir && base == w.tbase:
	default:
		return
	}
	w.log.Debug(logEvent, "path", w.path, "name", ev.Name, "op", ev.Op.String())
	w.follow()
	w.deb.Signal()
}

// rearm watches the path's folder again once it is back, and follows the
// link again when that failed; then the file is read, as it may have
// changed meanwhile (the hash keeps an unchanged one from reloading). It
// runs in the reader goroutine, every rearmEvery while something is lost.
func (w *Watcher) rearm() {
	if w.dirGone {
		if fi, err := os.Stat(w.dir); err != nil || !fi.IsDir() || w.fsw.Add(w.dir) != nil {
			return
		}
		w.dirGone = false
		w.log.Info("records: config folder back at its path; watching it again", "path", w.path)
	}
	w.follow()
	if w.followErr == "" {
		w.deb.Signal()
	}
}

// follow resolves the path and watches the folder of a link's target (see
// Watcher), then stops watching the previous target's folder if that is
// another one. It runs in NewWatcher, then in the reader goroutine. Failures
// are logged at Warn level once, not at every event, until follow succeeds.
func (w *Watcher) follow() {
	fi, err := os.Lstat(w.path)
	w.anyEvent = err == nil && fi.Mode()&os.ModeSymlink != 0
	var (
		tdir, tbase string
		failure     string // what could not be done, with failErr
		failErr     error
	)
	if w.anyEvent {
		target, err := resolve(w.path)
		switch {
		case err != nil:
			failure, failErr = "records: cannot resolve the config link; changes to its target are missed", err
		case !sameFolder(filepath.Dir(target), w.dir):
			tdir, tbase = filepath.Dir(target), filepath.Base(target)
			if tdir == w.tdir {
				break
			}
			if err := w.fsw.Add(tdir); err != nil {
				failure, failErr = "records: cannot watch the config link's target folder; changes there are missed", err
				tdir, tbase = "", ""
				break
			}
			w.log.Debug(logTarget, "path", w.path, "name", target)
		}
	}
	switch {
	case failErr == nil:
		w.followErr = ""
	case failErr.Error() != w.followErr:
		w.followErr = failErr.Error()
		w.log.Warn(failure, "path", w.path, "err", failErr)
	}
	if w.tdir != "" && w.tdir != tdir {
		if err := w.fsw.Remove(w.tdir); err != nil && !errors.Is(err, fsnotify.ErrNonExistentWatch) {
			w.log.Debug("records: unwatching the config link's previous target folder",
				"path", w.path, "folder", w.tdir, "err", err)
		}
	}
	w.tdir, w.tbase = tdir, tbase
}

// resolve returns the file that path names once all symbolic links are
// followed, like filepath.EvalSymlinks, except that the final file may be
// missing (a dangling link, or a target being saved by moving it away).
func resolve(path string) (string, error) {
	p := path
	for range 255 {
		// Resolving the folder first makes a relative link's ".." right.
		dir, err := filepath.EvalSymlinks(filepath.Dir(p))
		if err != nil {
			return "", err
		}
		p = filepath.Join(dir, filepath.Base(p))
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) || err == nil && fi.Mode()&os.ModeSymlink == 0 {
			return p, nil
		}
		if err != nil {
			return "", err
		}
		dest, err := os.Readlink(p)
		if err != nil {
			return "", err
		}
		if !filepath.IsAbs(dest) {
			dest = filepath.Join(dir, dest)
		}
		p = dest
	}
	return "", fmt.Errorf("resolve %s: too many levels of symbolic links", path)
}

// sameFolder reports whether a and b name the same folder: fsnotify keeps one
// watch per folder, whatever the name it was added by.
func sameFolder(a, b string) bool {
	if a == b {
		return true
	}
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	return err == nil && os.SameFile(fa, fb)
}

// check runs in the debouncer goroutine after a quiet period.
func (w *Watcher) check() {
	data, err := ReadFile(w.path)
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
			w.opts.OnChange(nil, nil, fmt.Errorf("read config: %w", err)) // the path is in err, as a reload words it
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
