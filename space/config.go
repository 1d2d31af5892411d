package space

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/shirou/gopsutil/v3/disk"
)

// Defaults for zero Config and Options fields.
const (
	// DefaultScanInterval is space_scan_interval_sec's default: the time
	// between full rescans of the log folder.
	DefaultScanInterval = 60 * time.Second
	// DefaultMinFree is the default Config.MinFree, in bytes (1 MiB): the
	// partition free space below which logging is exhausted.
	DefaultMinFree int64 = 1 << 20
)

// RecheckInterval is how often the manager samples the partition's free
// space while the state is not Normal, and the longest it reuses a sample
// while the collator writes: space coming back without any event (another
// program freeing the partition) is noticed within this time.
const RecheckInterval = time.Second

// Log is one configured log, as the space manager sees it.
type Log struct {
	// Name is the active file's name in the log folder, e.g. "access.log"
	// (the collator's LogConfig.Name). Rolled files are recognised by it.
	Name string
	// MinCount is rolling_min_count: how many rolled files autodelete tries
	// to keep for this log, as a weight (see Plan). 0 means "keep as many as
	// possible": such a log loses files only after every other log.
	MinCount int
}

// Config is the space manager's configuration: plain data, which the daemon
// maps from records.toml. Every field but Dir can change with Manager.Apply.
type Config struct {
	// Dir is the log folder (logfile_dir). It must exist. A relative path is
	// made absolute at New; it cannot change (Apply refuses it).
	Dir string
	// Limit is M, max_space_mb_for_logs, in bytes. Must be > 0.
	Limit int64
	// Headroom is H, max_space_mb_headroom, in bytes. Must be ≥ 0.
	Headroom int64
	// MinFree is the partition free space, in bytes, below which there is
	// "no room to write": the state is Exhausted. It should cover what the
	// collator may hold in buffers (records accepted, not yet written).
	// 0 selects DefaultMinFree (1 MiB); must be ≥ 0.
	MinFree int64
	// AutoDelete is auto_delete_rolled_files: while the state is not Normal,
	// delete rolled files in Plan's order until it is.
	AutoDelete bool
	// ScanInterval is space_scan_interval_sec: the time between full
	// rescans. ≤ 0 selects DefaultScanInterval.
	ScanInterval time.Duration
	// Logs are the configured logs. Names must be unique; MinCount ≥ 0.
	Logs []Log
}

// Options are the manager's collaborators. Zero values select the defaults.
type Options struct {
	// Now is the clock, used for LastScan in Status and for ageing
	// accounting records; default time.Now. Timers are real timers: tests run
	// the manager inside a testing/synctest bubble.
	Now func() time.Time
	// Location is the zone of the times in rolled names (the collator's
	// Options.Location); default time.Local.
	Location *time.Location
	// Free returns the free bytes of the partition holding dir, as available
	// to the daemon. Default: gopsutil's disk.Usage(dir).Free (statfs
	// f_bavail × f_bsize). It is called from the manager's goroutine only,
	// never from the write path, since it can block (a hung network mount).
	Free func(dir string) (uint64, error)
	// Accept is called when the state enters Exhausted (ok false, with a
	// reason for the people refused) and when it leaves it (ok true, ""):
	// the collator's SetAccepting. It is called from the manager's goroutine
	// only, and must not block. nil: nobody is told.
	Accept func(ok bool, reason string)
	// Logger receives transitions (Warn on entry into Low and Exhausted, Info
	// on recovery), deletions (Info) and failures (Warn); default
	// slog.Default().
	Logger *slog.Logger
	// Watch starts the fsnotify adapter, which reports files created,
	// removed and renamed in Dir by anyone. Without it (tests inside a
	// synctest bubble, where fsnotify cannot run) the caller reports removals
	// with Manager.Removed, and files appearing are seen at the next scan.
	Watch bool

	// remove deletes a file; default os.Remove. Tests make it fail.
	remove func(path string) error
}

// withDefaults returns o with its zero fields set to the defaults.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Free == nil {
		o.Free = diskFree
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.remove == nil {
		o.remove = os.Remove
	}
	return o
}

// diskFree is the default Options.Free.
func diskFree(dir string) (uint64, error) {
	u, err := disk.Usage(dir)
	if err != nil {
		return 0, fmt.Errorf("space: partition usage of %s: %w", dir, err)
	}
	return u.Free, nil
}

// normalize validates c and returns it with its defaults set and Dir
// absolute and clean. Errors say which field is wrong and why.
func (c Config) normalize() (Config, error) {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("space config: dir is empty"))
	} else if abs, err := filepath.Abs(c.Dir); err != nil {
		errs = append(errs, fmt.Errorf("space config: dir %s: %w", c.Dir, err))
	} else {
		c.Dir = abs
	}
	if c.Limit <= 0 {
		errs = append(errs, fmt.Errorf("space config: limit must be positive, got %d bytes", c.Limit))
	}
	if c.Headroom < 0 {
		errs = append(errs, fmt.Errorf("space config: headroom must not be negative, got %d bytes", c.Headroom))
	}
	if c.MinFree < 0 {
		errs = append(errs, fmt.Errorf("space config: min free must not be negative, got %d bytes", c.MinFree))
	} else if c.MinFree == 0 {
		c.MinFree = DefaultMinFree
	}
	if c.ScanInterval <= 0 {
		c.ScanInterval = DefaultScanInterval
	}
	seen := make(map[string]bool, len(c.Logs))
	for i, l := range c.Logs {
		switch {
		case l.Name == "" || strings.ContainsRune(l.Name, '/'):
			errs = append(errs, fmt.Errorf("space config: logs[%d]: name %q is not a file name", i, l.Name))
		case seen[l.Name]:
			errs = append(errs, fmt.Errorf("space config: logs[%d]: name %q given twice", i, l.Name))
		}
		seen[l.Name] = true
		if l.MinCount < 0 {
			errs = append(errs, fmt.Errorf("space config: log %s: min count must not be negative, got %d", l.Name, l.MinCount))
		}
	}
	c.Logs = append([]Log(nil), c.Logs...)
	return c, errors.Join(errs...)
}

// actives returns the configured active names, for logging.ParseRolledName.
func (c Config) actives() []string {
	names := make([]string, len(c.Logs))
	for i, l := range c.Logs {
		names[i] = l.Name
	}
	return names
}
