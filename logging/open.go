package logging

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// A collator's first step (New): the configuration normalized, the rolled
// folders made, every log's active file opened and repaired, and the
// catch-up rolls performed — all before any goroutine starts or any hook is
// called (Collator's doc comment). Start, in collator.go, is the second.

// fsOps are the file-system calls through which the collator renames,
// deletes and fsyncs, so that tests can inject faults and observe them. A
// nil field selects the real call.
type fsOps struct {
	rename    func(oldpath, newpath string) error                                               // os.Rename
	syncFile  func(f *os.File) error                                                            // (*os.File).Sync
	syncDir   func(dir string) error                                                            // syncPath
	writeMeta func(mf *metaFile, path string, m metaContent, perm os.FileMode, sync bool) error // (*metaFile).write
	writeback func(f *os.File, off, n int64)                                                    // startWriteback's sync_file_range
	// compressed, when set, wraps what a compression writes into its
	// temporary file (tests inject a full disk); nil writes it as it is.
	compressed func(w io.Writer) io.Writer
}

// open is Open with the file-system calls as a parameter, for fault tests.
func open(cfg Config, opts Options, fsys fsOps) (*Collator, error) {
	c, err := newCollator(cfg, opts, fsys)
	if err != nil {
		return nil, err
	}
	c.Start()
	return c, nil
}

// newCollator is New with the file-system calls as a parameter.
func newCollator(cfg Config, opts Options, fsys fsOps) (*Collator, error) {
	if fsys.rename == nil {
		fsys.rename = os.Rename
	}
	if fsys.syncFile == nil {
		fsys.syncFile = (*os.File).Sync
	}
	if fsys.syncDir == nil {
		fsys.syncDir = syncPath
	}
	if fsys.writeMeta == nil {
		fsys.writeMeta = (*metaFile).write
	}
	if fsys.writeback == nil {
		fsys.writeback = startFileWriteback
	}
	ncfg, err := normalize(cfg)
	if err != nil {
		return nil, err
	}
	c := &Collator{
		dir:   ncfg.Dir,
		now:   opts.Now,
		loc:   opts.Location,
		log:   opts.Logger,
		fs:    fsys,
		flush: newFlusher(),

		onWrite:        opts.OnWrite,
		onWriteError:   opts.OnWriteError,
		onRoll:         opts.OnRoll,
		onDirRecreated: opts.OnDirRecreated,
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.loc == nil {
		c.loc = time.Local
	}
	if c.log == nil {
		c.log = defaultLogger()
	}
	c.set.Store(&ncfg)
	c.comp = newCompressor(c, ncfg.CompressThreads)
	c.pub = newPublisher(c)
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		return nil, fmt.Errorf("logging: create log folder %s: %w", c.dir, err)
	}
	if fi, err := os.Stat(c.dir); err != nil {
		return nil, fmt.Errorf("logging: log folder %s: %w", c.dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("logging: log folder %s is not a folder", c.dir)
	} else {
		c.dirFI = fi
	}
	m := map[string]*logFile{}
	c.logs.Store(&m)
	if _, err := c.makeRolledDirs(ncfg.Logs); err != nil {
		return nil, fmt.Errorf("logging: %w", err)
	}
	opened, err := c.openLogs(ncfg.Logs)
	if err != nil {
		return nil, err
	}
	m = make(map[string]*logFile, len(opened))
	for _, l := range opened {
		m[l.name] = l
	}
	c.logs.Store(&m)
	// Compressions a crash interrupted, then the catch-up rolls: both
	// are kept in newJobs (and newRolls) for Start.
	configured := rolledDirs(c.dir, ncfg.Logs)
	former, err := formerDirsAtStart(c.dir, configured)
	if err != nil {
		c.log.Warn("cannot read the list of rolled folders a reload dropped: files left there are neither finished nor handed on until it can be read",
			"path", filepath.Join(c.dir, formerDirsName), "err", err)
	}
	c.newJobs = c.recoverPending(append(configured, former...))
	c.pruneFormerDirs(former, c.newJobs)
	c.catchUp(opened)
	return c, nil
}

// rolledDirs returns the folders the logs' rolled files go into, the log
// folder dir first, each once.
func rolledDirs(dir string, lcs []LogConfig) []string {
	dirs := []string{dir}
	for _, lc := range lcs {
		if d := lc.Storage.Dir; d != "" && !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

// makeRolledDirs creates the logs' rolled folders that are missing, after
// checking each (CheckRolledDir), and returns the folders it created, the
// outermost first. On error it removes them again: nothing is left.
func (c *Collator) makeRolledDirs(lcs []LogConfig) ([]string, error) {
	var created []string
	undo := func() {
		for i := len(created) - 1; i >= 0; i-- {
			_ = os.Remove(created[i])
		}
	}
	for _, d := range rolledDirs(c.dir, lcs)[1:] {
		if err := CheckRolledDir(c.dir, d); err != nil {
			undo()
			return nil, err
		}
		var missing []string
		for p := d; !exists(p); p = filepath.Dir(p) {
			missing = append(missing, p)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			undo()
			return nil, fmt.Errorf("create rolled folder %s: %w", d, err)
		}
		slices.Reverse(missing)
		created = append(created, missing...)
	}
	if len(created) > 0 && c.set.Load().Durability >= DurabilityRoll {
		for _, d := range created {
			if err := c.fs.syncDir(filepath.Dir(d)); err != nil {
				c.log.Warn("sync of a rolled folder's parent failed", "dir", filepath.Dir(d), "err", err)
			}
		}
	}
	return created, nil
}

// openLogs opens the given logs, all or none: first it checks every log's
// paths (checkLogPaths), then opens them one by one, and on a failure
// closes those it opened and removes the files it created for them, so
// that a refused Apply leaves the folder as it found it. With Durability ≥
// Roll it then fsyncs the folder once, before any writer starts, so that
// the directory entries of the active files it created survive a power
// loss before anything is acknowledged into them. It performs no roll:
// see catchUp.
func (c *Collator) openLogs(lcs []LogConfig) ([]*logFile, error) {
	if err := checkLogPaths(c.dir, lcs); err != nil {
		return nil, err
	}
	now := c.now()
	// One unsorted listing for every log's recovery (leftover .meta
	// temporaries, rolled names): with 100,000 rolled files, a sorted
	// listing per log and per purpose was a third of the start-up time.
	names, err := listNames(c.dir)
	if err != nil {
		return nil, fmt.Errorf("logging: list log folder %s: %w", c.dir, err)
	}
	// The names of the rolled files in each log's rolled folder, for its
	// rolled-name state (namestate.go): the raw files waiting for their
	// compression count under their final names.
	listings := map[string][]string{c.dir: rolledNames(names)}
	var opened []*logFile
	for _, lc := range lcs {
		ns := listings[c.dir]
		if d := lc.Storage.Dir; d != "" {
			if _, ok := listings[d]; !ok {
				more, err := listNames(d)
				if err != nil && !errors.Is(err, fs.ErrNotExist) {
					c.log.Warn("cannot list a rolled folder", "dir", d, "err", err)
				}
				listings[d] = rolledNames(more)
			}
			ns = append(slices.Clone(ns), listings[d]...)
		}
		l, err := c.openLog(lc, now, ns)
		if err != nil {
			for _, o := range opened {
				o.undoOpen()
			}
			return nil, err
		}
		opened = append(opened, l)
	}
	if len(opened) > 0 && c.set.Load().Durability >= DurabilityRoll {
		if err := c.fs.syncDir(c.dir); err != nil {
			c.log.Warn("log folder sync after opening log files failed", "dir", c.dir, "err", err)
		}
	}
	return opened, nil
}

// catchUp performs the catch-up roll of each opened log whose START lies
// before a boundary that passed without a roll (the process was stopped or
// stalled): exactly one roll, whose END is now, since the time of the last
// record written by the previous process is unknown and now is the
// tightest bound known to be above it. The logs' writers must not have
// started.
func (c *Collator) catchUp(opened []*logFile) {
	now := c.now()
	for _, l := range opened {
		w := l.w
		if !w.pol.catchUp(w.start, now, c.loc) {
			continue
		}
		if _, err := w.roll(CauseTime, now); err != nil {
			c.log.Warn("catch-up roll failed", "log", l.name, "err", err)
		}
		w.finishRoll()
		w.publish()
	}
}
