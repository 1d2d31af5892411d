package records

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// These tests use real fsnotify in a temporary folder (fsnotify cannot run in
// a synctest bubble). They wait for outcomes through channels and the
// watcher's Debug logs, never for a fixed time, except to check that no more
// reloads follow one that was expected.

const (
	testDebounce = 20 * time.Millisecond
	testTimeout  = 5 * time.Second
)

// fakeLoad accepts any content without "bad" and echoes it as the only
// warning, so that tests can tell which content was loaded.
func fakeLoad(data []byte, name string) (*Config, []Warning, error) {
	if bytes.Contains(data, []byte("bad")) {
		return nil, nil, fmt.Errorf("%s:1:1: bad content %q", name, data)
	}
	return &Config{Source: name}, []Warning{{Msg: string(data)}}, nil
}

type reload struct {
	cfg      *Config
	warnings []Warning
	err      error
}

// logCapture is a slog.Handler keeping every record's message and name attribute.
type logCapture struct {
	mu      sync.Mutex
	recs    []logRec
	changed chan struct{} // capacity 1: a record arrived
}

type logRec struct{ msg, name string }

func newLogCapture() *logCapture { return &logCapture{changed: make(chan struct{}, 1)} }

func (c *logCapture) Enabled(context.Context, slog.Level) bool { return true }
func (c *logCapture) WithAttrs([]slog.Attr) slog.Handler       { return c }
func (c *logCapture) WithGroup(string) slog.Handler            { return c }

func (c *logCapture) Handle(_ context.Context, r slog.Record) error {
	rec := logRec{msg: r.Message}
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "name" {
			rec.name = a.Value.String()
		}
		return true
	})
	c.mu.Lock()
	c.recs = append(c.recs, rec)
	c.mu.Unlock()
	select {
	case c.changed <- struct{}{}:
	default:
	}
	return nil
}

func (c *logCapture) count(msg string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, r := range c.recs {
		if r.msg == msg {
			n++
		}
	}
	return n
}

func (c *logCapture) names(msg string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for _, r := range c.recs {
		if r.msg == msg {
			names = append(names, r.name)
		}
	}
	return names
}

// waitCount waits until msg has been logged at least n times.
func (c *logCapture) waitCount(t *testing.T, msg string, n int) {
	t.Helper()
	deadline := time.After(testTimeout)
	for c.count(msg) < n {
		select {
		case <-c.changed:
		case <-deadline:
			t.Fatalf("waited %v for %q to be logged %d times; got %d", testTimeout, msg, n, c.count(msg))
		}
	}
}

type harness struct {
	path     string
	target   string // the file path links to (startLinked), else ""
	w        *Watcher
	reloads  chan reload
	logs     *logCapture
	debounce time.Duration
}

// start writes initial (when not nil) to records.toml in a new folder and
// watches it with Initial set to it. With an initial content, it waits for the
// start-up check to find the file unchanged.
func start(t *testing.T, initial []byte, debounce time.Duration) *harness {
	t.Helper()
	h := &harness{
		path:     filepath.Join(t.TempDir(), "records.toml"),
		reloads:  make(chan reload, 100),
		logs:     newLogCapture(),
		debounce: debounce,
	}
	if initial != nil {
		writeFile(t, h.path, string(initial))
	}
	h.watch(t, initial)
	if initial != nil {
		h.logs.waitCount(t, logUnchanged, 1)
	}
	return h
}

func (h *harness) watch(t *testing.T, initial []byte) {
	t.Helper()
	w, err := NewWatcher(h.path, WatchOptions{
		Debounce: h.debounce,
		Load:     fakeLoad,
		OnChange: func(cfg *Config, warnings []Warning, err error) { h.reloads <- reload{cfg, warnings, err} },
		Logger:   slog.New(h.logs),
		Initial:  initial,
	})
	if err != nil {
		t.Fatal(err)
	}
	h.w = w
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
}

// next waits for the next OnChange call.
func (h *harness) next(t *testing.T) reload {
	t.Helper()
	select {
	case r := <-h.reloads:
		return r
	case <-time.After(testTimeout):
		t.Fatalf("no reload within %v", testTimeout)
		return reload{}
	}
}

// nextConfig waits for the next OnChange call and checks it carries want.
func (h *harness) nextConfig(t *testing.T, want string) {
	t.Helper()
	r := h.next(t)
	if r.err != nil {
		t.Fatalf("reload: unexpected error: %v", r.err)
	}
	if r.cfg == nil || r.cfg.Source != h.path {
		t.Fatalf("reload: config %+v, want Source %q", r.cfg, h.path)
	}
	if len(r.warnings) != 1 || r.warnings[0].Msg != want {
		t.Fatalf("reload: loaded %v, want content %q", r.warnings, want)
	}
}

// nextError waits for the next OnChange call and checks it reports an error.
func (h *harness) nextError(t *testing.T) error {
	t.Helper()
	r := h.next(t)
	if r.err == nil {
		t.Fatalf("reload: got config with %v, want an error", r.warnings)
	}
	if r.cfg != nil || r.warnings != nil {
		t.Errorf("reload with error: cfg %+v, warnings %v, want both nil", r.cfg, r.warnings)
	}
	return r.err
}

// noMore checks that no OnChange call comes within three quiet periods.
func (h *harness) noMore(t *testing.T) {
	t.Helper()
	select {
	case r := <-h.reloads:
		t.Fatalf("unexpected extra reload: cfg %+v, warnings %v, err %v", r.cfg, r.warnings, r.err)
	case <-time.After(3 * h.debounce):
	}
}

// noneYet checks that no OnChange call has happened so far.
func (h *harness) noneYet(t *testing.T) {
	t.Helper()
	select {
	case r := <-h.reloads:
		t.Fatalf("unexpected reload: cfg %+v, warnings %v, err %v", r.cfg, r.warnings, r.err)
	default:
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replace saves as editors do: write a temporary file, rename it over path.
func replace(t *testing.T, path, content string) {
	t.Helper()
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp")
	writeFile(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func TestWatchRenameReplace(t *testing.T) {
	h := start(t, []byte("a"), testDebounce)
	replace(t, h.path, "b")
	h.nextConfig(t, "b")
	h.noMore(t)
}

// quickly runs a scenario whose outcome is defined only if save finishes
// within one quiet period: an in-place write truncates the file before
// writing it, and a read in between would see it empty. save is timed from
// before its first change, so when it is quicker than the quiet period, the
// first read comes after it whatever the scheduling. When it took longer (a
// loaded machine), the attempt says nothing about the watcher: it is run again
// with a new watcher, and after three such attempts the test is skipped.
func quickly(t *testing.T, debounce time.Duration, initial string, save func(h *harness), check func(h *harness)) {
	t.Helper()
	quicklyFrom(t, start, debounce, initial, save, check)
}

// quicklyFrom is quickly with the harness made by begin.
func quicklyFrom(t *testing.T, begin func(*testing.T, []byte, time.Duration) *harness,
	debounce time.Duration, initial string, save func(h *harness), check func(h *harness)) {
	t.Helper()
	for attempt := 1; attempt <= 3; attempt++ {
		h := begin(t, []byte(initial), debounce)
		began := time.Now()
		save(h)
		took := time.Since(began)
		if took < debounce {
			check(h)
			return
		}
		t.Logf("attempt %d: the save took %v, not less than the quiet period %v; trying again",
			attempt, took, debounce)
		h.w.Close()
	}
	t.Skipf("the machine is too busy for a save to finish within %v", debounce)
}

func TestWatchWriteInPlace(t *testing.T) {
	quickly(t, testDebounce, "a",
		func(h *harness) { writeFile(t, h.path, "b") },
		func(h *harness) {
			h.nextConfig(t, "b")
			h.noMore(t)
		})
}

// The file's old version is moved away before the new one is written, so it
// is missing for a moment: the save gives one reload and no error.
func TestWatchSaveByMovingAway(t *testing.T) {
	quickly(t, testDebounce, "a",
		func(h *harness) {
			if err := os.Rename(h.path, h.path+"~"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, h.path, "b")
		},
		func(h *harness) {
			h.nextConfig(t, "b")
			h.noMore(t)
		})
}

func TestWatchBurstGivesOneReload(t *testing.T) {
	quickly(t, 250*time.Millisecond, "a",
		func(h *harness) {
			for i := 1; i <= 20; i++ {
				writeFile(t, h.path, fmt.Sprintf("v%d", i))
			}
		},
		func(h *harness) {
			h.nextConfig(t, "v20")
			h.noMore(t)
		})
}

func TestWatchUnchangedSave(t *testing.T) {
	t.Run("rename", func(t *testing.T) {
		h := start(t, []byte("a"), testDebounce) // start-up check: unchanged once
		replace(t, h.path, "a")
		h.logs.waitCount(t, logUnchanged, 2)
		h.noneYet(t)
	})
	t.Run("in place", func(t *testing.T) {
		quickly(t, testDebounce, "a",
			func(h *harness) { writeFile(t, h.path, "a") },
			func(h *harness) {
				h.logs.waitCount(t, logUnchanged, 2)
				h.noneYet(t)
			})
	})
}

// Without Initial, the first change is reloaded whatever it is.
func TestWatchNoInitial(t *testing.T) {
	h := start(t, nil, testDebounce)
	replace(t, h.path, "a")
	h.nextConfig(t, "a")
	replace(t, h.path, "a")
	h.logs.waitCount(t, logUnchanged, 1)
	h.noneYet(t)
}

// A change made between the caller's read and the start of the watch is
// found by the start-up check.
func TestWatchInitialOutdated(t *testing.T) {
	h := &harness{
		path:     filepath.Join(t.TempDir(), "records.toml"),
		reloads:  make(chan reload, 100),
		logs:     newLogCapture(),
		debounce: testDebounce,
	}
	writeFile(t, h.path, "b")
	h.watch(t, []byte("a"))
	h.nextConfig(t, "b")
	h.noMore(t)
}

func TestWatchInvalidThenValid(t *testing.T) {
	h := start(t, []byte("a"), testDebounce)

	replace(t, h.path, "bad 1")
	if err := h.nextError(t); !strings.Contains(err.Error(), "bad content") {
		t.Errorf("error %q does not come from Load", err)
	}

	// The same broken content again: already reported, nothing new.
	replace(t, h.path, "bad 1")
	h.logs.waitCount(t, logUnchanged, 2)
	h.noneYet(t)

	replace(t, h.path, "b")
	h.nextConfig(t, "b")
	h.noMore(t)
}

// Going back to the content applied before an invalid save reloads it, so
// that the caller learns the error is resolved.
func TestWatchRevertAfterInvalid(t *testing.T) {
	h := start(t, []byte("a"), testDebounce)
	replace(t, h.path, "bad")
	h.nextError(t)
	replace(t, h.path, "a")
	h.nextConfig(t, "a")
	h.noMore(t)
}

// A file that stays missing is reported once, after retries; when it comes
// back, even with the same content, it is reloaded.
func TestWatchFileRemoved(t *testing.T) {
	h := start(t, []byte("a"), testDebounce)
	if err := os.Remove(h.path); err != nil {
		t.Fatal(err)
	}
	err := h.nextError(t)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v, want fs.ErrNotExist", err)
	}
	if got := h.logs.count(logReadFailed); got != readAttempts-1 {
		t.Errorf("%d retried reads before the report, want %d", got, readAttempts-1)
	}
	h.noMore(t)

	replace(t, h.path, "a")
	h.nextConfig(t, "a")
	h.noMore(t)
}

func TestWatchIgnoresOtherFiles(t *testing.T) {
	h := start(t, []byte("a"), testDebounce)
	dir := filepath.Dir(h.path)
	other := filepath.Join(dir, "other.toml")
	for i := range 5 {
		writeFile(t, other, fmt.Sprint(i))
	}
	replace(t, other, "x")
	if err := os.Chmod(other, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "logs", "records.toml"), "in a subfolder")
	if err := os.Remove(other); err != nil {
		t.Fatal(err)
	}

	// Events arrive in order: once the change below is reloaded, the events
	// above have all been seen and none may have been taken for the file.
	replace(t, h.path, "b")
	h.nextConfig(t, "b")
	for _, name := range h.logs.names(logEvent) {
		if name != h.path {
			t.Errorf("event for %s was taken for the config file", name)
		}
	}
	h.noMore(t)
}

// A path that is a symbolic link is followed as Kubernetes updates a mounted
// ConfigMap: records.toml -> ..data/records.toml, and the update swaps the
// ..data link to a new folder by renaming a new link over it.
func TestWatchSymlinkSwap(t *testing.T) {
	dir := realTempDir(t)
	for v, content := range map[string]string{"v1": "a", "v2": "b"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o755); err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, v, "records.toml"), content)
	}
	mustSymlink(t, "v1", filepath.Join(dir, "..data"))
	mustSymlink(t, filepath.Join("..data", "records.toml"), filepath.Join(dir, "records.toml"))

	h := &harness{
		path:     filepath.Join(dir, "records.toml"),
		reloads:  make(chan reload, 100),
		logs:     newLogCapture(),
		debounce: testDebounce,
	}
	h.watch(t, []byte("a"))
	h.logs.waitCount(t, logUnchanged, 1)

	mustSymlink(t, "v2", filepath.Join(dir, "..data_tmp"))
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	h.nextConfig(t, "b")
	h.watching(t, dir, filepath.Join(dir, "v2"))

	// The target's folder has moved from v1 to v2.
	writeFile(t, filepath.Join(dir, "v1", "records.toml"), "old")
	replace(t, filepath.Join(dir, "v2", "records.toml"), "c")
	h.nextConfig(t, "c")
	h.noEventFor(t, filepath.Join(dir, "v1", "records.toml"))
	h.noMore(t)
}

// startLinked is start with records.toml a symbolic link to a file of the
// same name in another folder (h.target), which holds initial.
func startLinked(t *testing.T, initial []byte, debounce time.Duration) *harness {
	t.Helper()
	h := &harness{
		path:     filepath.Join(t.TempDir(), "records.toml"),
		target:   filepath.Join(realTempDir(t), "records.toml"),
		reloads:  make(chan reload, 100),
		logs:     newLogCapture(),
		debounce: debounce,
	}
	writeFile(t, h.target, string(initial))
	mustSymlink(t, h.target, h.path)
	h.watch(t, initial)
	h.logs.waitCount(t, logUnchanged, 1)
	return h
}

// realTempDir is t.TempDir with symbolic links resolved, as the watcher
// names a link target's folder.
func realTempDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// noEventFor checks that no event for name was taken for the config file.
// Events arrive in order, so after a reload that follows changes to name,
// those changes have been seen.
func (h *harness) noEventFor(t *testing.T, name string) {
	t.Helper()
	if slices.Contains(h.logs.names(logEvent), name) {
		t.Errorf("event for %s was taken for the config file", name)
	}
}

// watching checks the folders fsnotify watches. The watcher changes them
// before it schedules the read that leads to a reload, so after a reload they
// are settled.
func (h *harness) watching(t *testing.T, want ...string) {
	t.Helper()
	got := h.w.fsw.WatchList()
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("watching %q, want %q", got, want)
	}
}

// A link to a file in another folder: saves of the target are seen there.
func TestWatchLinkTargetWriteInPlace(t *testing.T) {
	quicklyFrom(t, startLinked, testDebounce, "a",
		func(h *harness) { writeFile(t, h.target, "b") },
		func(h *harness) {
			h.nextConfig(t, "b")
			h.noMore(t)
		})
}

func TestWatchLinkTargetRenameReplace(t *testing.T) {
	h := startLinked(t, []byte("a"), testDebounce)
	other := filepath.Join(filepath.Dir(h.target), "other.toml")
	writeFile(t, other, "x")
	replace(t, h.target, "b")
	h.nextConfig(t, "b")
	h.noEventFor(t, other)
	h.noEventFor(t, filepath.Join(filepath.Dir(h.target), ".records.toml.tmp"))
	h.noMore(t)
}

// The target is missing for a moment: the link dangles, and its folder stays
// watched.
func TestWatchLinkTargetSaveByMovingAway(t *testing.T) {
	quicklyFrom(t, startLinked, testDebounce, "a",
		func(h *harness) {
			if err := os.Rename(h.target, h.target+"~"); err != nil {
				t.Fatal(err)
			}
			writeFile(t, h.target, "b")
		},
		func(h *harness) {
			h.nextConfig(t, "b")
			h.noMore(t)
		})
}

// A link to a file in its own folder needs no second watch (fsnotify would
// take the same folder under another name for the one it has).
func TestWatchLinkInSameFolder(t *testing.T) {
	dir := t.TempDir()
	h := &harness{
		path:     filepath.Join(dir, "records.toml"),
		target:   filepath.Join(dir, "real.toml"),
		reloads:  make(chan reload, 100),
		logs:     newLogCapture(),
		debounce: testDebounce,
	}
	writeFile(t, h.target, "a")
	mustSymlink(t, "real.toml", h.path)
	h.watch(t, []byte("a"))
	h.logs.waitCount(t, logUnchanged, 1)
	replace(t, h.target, "b")
	h.nextConfig(t, "b")
	h.watching(t, dir)
	h.noMore(t)
}

// Re-pointing the link (as "ln -sfn" does: a new link renamed over it) moves
// the watch to the new target's folder; the old target is no longer the
// configuration.
func TestWatchLinkRepointed(t *testing.T) {
	h := startLinked(t, []byte("a"), testDebounce)
	h.watching(t, filepath.Dir(h.path), filepath.Dir(h.target))
	newTarget := filepath.Join(realTempDir(t), "conf.toml")
	writeFile(t, newTarget, "c")
	tmp := filepath.Join(filepath.Dir(h.path), ".records.toml.new")
	mustSymlink(t, newTarget, tmp)
	if err := os.Rename(tmp, h.path); err != nil {
		t.Fatal(err)
	}
	h.nextConfig(t, "c")
	h.watching(t, filepath.Dir(h.path), filepath.Dir(newTarget))

	unchanged := h.logs.count(logUnchanged)
	writeFile(t, h.target, "old")
	replace(t, h.target, "old again")
	replace(t, newTarget, "d")
	h.nextConfig(t, "d")
	h.noEventFor(t, h.target)
	if got := h.logs.count(logUnchanged); got != unchanged {
		t.Errorf("%d reads found the content unchanged after the old target's edits, want none", got-unchanged)
	}
	h.noMore(t)
}

func mustSymlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links unavailable: %v", err)
	}
}

func TestNewWatcherErrors(t *testing.T) {
	dir := t.TempDir()
	onChange := func(*Config, []Warning, error) {}
	tests := []struct {
		name string
		path string
		opts WatchOptions
		want string
	}{
		{"no OnChange", filepath.Join(dir, "records.toml"), WatchOptions{}, "OnChange is required"},
		{"no folder", filepath.Join(dir, "missing", "records.toml"), WatchOptions{OnChange: onChange}, "folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := NewWatcher(tt.path, tt.opts)
			if err == nil {
				w.Close()
				t.Fatal("NewWatcher succeeded, want an error")
			}
			if !strings.HasPrefix(err.Error(), "records: watch "+tt.path) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to start with the path and mention %q", err, tt.want)
			}
		})
	}
}

func TestWatchDefaultsAndClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.toml")
	w, err := NewWatcher(path, WatchOptions{OnChange: func(*Config, []Warning, error) {}})
	if err != nil {
		t.Fatal(err)
	}
	if w.opts.Debounce != DefaultDebounce || w.opts.Load == nil || w.log == nil {
		t.Errorf("defaults not applied: debounce %v, load set %v, logger set %v",
			w.opts.Debounce, w.opts.Load != nil, w.log != nil)
	}
	var errs []error
	for range 3 {
		errs = append(errs, w.Close())
	}
	if slices.ContainsFunc(errs, func(err error) bool { return err != nil }) {
		t.Errorf("Close: %v, want nil every time", errs)
	}
}

// TestWatchFolderRenamedAndMadeAgain: the config's folder renamed away and
// made again at its path with a new file: the watcher watches the new
// folder, reloads its file, and sees the saves after (an outside tester's
// finding: it stopped watching for good).
func TestWatchFolderRenamedAndMadeAgain(t *testing.T) {
	h := start(t, []byte("a"), testDebounce)
	dir := filepath.Dir(h.path)
	replaceFolder(t, dir, func() {
		h.logs.waitCount(t, "records: config folder removed or renamed; changes are watched again once a folder is back at its path", 1)
	})
	writeFile(t, h.path, "b")
	h.nextConfig(t, "b")
	replace(t, h.path, "c")
	h.nextConfig(t, "c")
	writeFile(t, filepath.Join(dir+".old", "records.toml"), "z") // the old folder is not watched
	h.noMore(t)
}

// TestWatchLinkTargetFolderReplaced: the folder of the link's target
// renamed away and made again (the link dangles a moment): the new folder is
// watched, and edits of the target there are seen.
func TestWatchLinkTargetFolderReplaced(t *testing.T) {
	h := startLinked(t, []byte("a"), testDebounce)
	replaceFolder(t, filepath.Dir(h.target), func() {
		time.Sleep(3 * testDebounce) // the event seen while the link dangles
	})
	writeFile(t, h.target, "b")
	h.nextConfig(t, "b")
	writeFile(t, h.target, "c")
	h.nextConfig(t, "c")
	h.noMore(t)
}

// replaceFolder renames dir to dir.old, runs between, and makes dir again.
func replaceFolder(t *testing.T, dir string, between func()) {
	t.Helper()
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	between()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
