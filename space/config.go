package space

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
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
	// DefaultMinFreeInodes is the default Config.MinFreeInodes: the free
	// inodes below which logging is exhausted (a roll needs one for the
	// new active file, a .meta repaired at start one for its temporary).
	DefaultMinFreeInodes int64 = 2
	// DefaultHeadroomInodes is the default Config.HeadroomInodes: the free
	// inodes at or below which autodelete frees some, as the headroom does
	// for bytes.
	DefaultHeadroomInodes int64 = 1000
	// PartitionShare is the largest share of the partition's size, in
	// percent, that the headrooms may keep free (journald caps its
	// keep-free at 15 % of the filesystem the same way): a headroom
	// larger than that — 1,000 MiB on a 100 MiB partition — could never be
	// met, and autodelete would delete every rolled file the moment it
	// rolled. See docs/space.md.
	PartitionShare = 15
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
	// MaxCount is rolling_max_count: with AutoDelete, only the newest
	// MaxCount rolled files of the log are kept (BeyondMaxCount); 0 means
	// no limit.
	MaxCount int
	// Dir is the log's rolled folder (rolled_dir), where its rolled files
	// go; "" (or Config.Dir) is the log folder. The manager counts every
	// regular file of every log's rolled folder in U, as the log folder's,
	// and manages the rolled files it finds there, of any log. A relative
	// path is made absolute at New and Apply.
	Dir string
	// MaxAge is rolling_max_age_sec: with AutoDelete, the log's rolled files
	// are deleted once their END is MaxAge old (BeyondMaxAge), on time; 0
	// keeps them.
	MaxAge time.Duration
	// MaxTotal is rolling_max_total_mb in bytes: with AutoDelete, the log's
	// newest rolled files are kept while their sizes add up to at most
	// MaxTotal, the older ones deleted (BeyondMaxTotal); 0 means no limit.
	MaxTotal int64
}

// retains reports whether a retention rule applies to l.
func (l Log) retains() bool { return l.MaxCount > 0 || l.MaxAge > 0 || l.MaxTotal > 0 }

// Config is the space manager's configuration: plain data, which the daemon
// maps from records.toml. Every field but Dir can change with Manager.Apply.
type Config struct {
	// Dir is the log folder (logfile_dir). It must exist. A relative path is
	// made absolute at New; it cannot change (Apply refuses it). The logs'
	// rolled folders (Log.Dir) are counted with it; they may change.
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
	// MinFreeInodes is the partition's free inodes below which there is no
	// room to roll (the state is Exhausted); HeadroomInodes the free
	// inodes at or below which the state is Low and autodelete frees some
	// (each rolled file deleted frees one). 0 selects
	// DefaultMinFreeInodes and DefaultHeadroomInodes; both must be ≥ 0.
	// They count only on a filesystem that reports an inode limit.
	MinFreeInodes, HeadroomInodes int64
	// AutoDelete is auto_delete_rolled_files: while the state is not Normal,
	// delete rolled files in Plan's order until it is.
	AutoDelete bool
	// ScanInterval is space_scan_interval_sec: the time between full
	// rescans. ≤ 0 selects DefaultScanInterval.
	ScanInterval time.Duration
	// Host is this machine's host name as the collator writes it into
	// rolled names: a name whose host part is Host is this host's file of
	// the log its prefix names, whatever else is configured
	// (logging.ParseRolledName).
	Host string
	// Logs are the configured logs. Names must be unique; MinCount,
	// MaxCount, MaxAge and MaxTotal ≥ 0.
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
	// Free returns what the manager reads of the partition holding dir.
	// Default: gopsutil's disk.Usage(dir) (statfs: f_bavail × f_bsize free
	// bytes, f_blocks × f_bsize, f_ffree and f_files inodes). It is called
	// from the manager's goroutine only, never from the write path, since
	// it can block (a hung network mount).
	Free func(dir string) (Partition, error)
	// Accept is called when the state enters Exhausted (ok false, with a
	// reason for the people refused) and when it leaves it (ok true, ""):
	// the collator's SetAccepting. It is called from the manager's goroutine
	// only, and must not block. nil: nobody is told.
	Accept func(ok bool, reason string)
	// Logger receives transitions (Warn on entry into Low and Exhausted, Info
	// on recovery), deletions (Info) and failures (Warn); default
	// slog.Default().
	Logger *slog.Logger
	// Hold says whether a rolled file waits to be handed on (shipped, or its
	// on-roll command run) and whether the rules may delete it (Hold). It
	// is called from the manager's goroutine, for each file a rule would
	// delete, and must not block (a lookup). nil: every file is Free.
	Hold func(f File) Hold
	// DeletedUnhanded is told of each file deleted although Hold said
	// Unhanded (ship_before_delete = 0), after the deletion, so that the
	// hand-on forgets it without taking it for a file removed by someone
	// else. Called from the manager's goroutine; must not block. nil:
	// nobody is told.
	DeletedUnhanded func(path string)
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

// Partition is what the manager reads of the log folder's filesystem.
type Partition struct {
	// Free is the free space available to the daemon, in bytes.
	Free uint64
	// Size is the filesystem's size in bytes; 0 when unknown.
	Size uint64
	// FreeInodes are the inodes available to the daemon (f_favail, which
	// Linux reports as f_ffree), Inodes the filesystem's total. Inodes 0
	// means no inode limit is reported (btrfs, or unknown): the inode
	// conditions then count for nothing.
	FreeInodes, Inodes uint64
}

// diskFree is the default Options.Free.
func diskFree(dir string) (Partition, error) {
	u, err := disk.Usage(dir)
	if err != nil {
		return Partition{}, fmt.Errorf("space: partition usage of %s: %w", dir, err)
	}
	return Partition{Free: u.Free, Size: u.Total, FreeInodes: u.InodesFree, Inodes: u.InodesTotal}, nil
}

// Validate reports every problem of c that New and Apply would refuse, at
// once, without doing anything: a caller that applies a configuration to
// several parts checks each first, so that a refusal changes nothing.
func (c Config) Validate() error {
	_, err := c.normalize()
	return err
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
	if c.Headroom >= c.Limit && c.Limit > 0 {
		errs = append(errs, fmt.Errorf("space config: headroom %s must be less than the limit %s, or every rolled file is deleted as it rolls", mib(c.Headroom), mib(c.Limit)))
	}
	if c.MinFree < 0 {
		errs = append(errs, fmt.Errorf("space config: min free must not be negative, got %d bytes", c.MinFree))
	} else if c.MinFree == 0 {
		c.MinFree = DefaultMinFree
	}
	switch {
	case c.MinFreeInodes < 0 || c.HeadroomInodes < 0:
		errs = append(errs, fmt.Errorf("space config: inode thresholds must not be negative, got %d and %d", c.MinFreeInodes, c.HeadroomInodes))
	default:
		if c.MinFreeInodes == 0 {
			c.MinFreeInodes = DefaultMinFreeInodes
		}
		if c.HeadroomInodes == 0 {
			c.HeadroomInodes = DefaultHeadroomInodes
		}
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
		if l.MinCount < 0 || l.MaxCount < 0 {
			errs = append(errs, fmt.Errorf("space config: log %s: min and max count must not be negative, got %d and %d", l.Name, l.MinCount, l.MaxCount))
		}
		if l.MaxAge < 0 || l.MaxTotal < 0 {
			errs = append(errs, fmt.Errorf("space config: log %s: max age and max total must not be negative, got %v and %d bytes", l.Name, l.MaxAge, l.MaxTotal))
		}
	}
	c.Logs = append([]Log(nil), c.Logs...)
	for i := range c.Logs {
		d := c.Logs[i].Dir
		if d == "" {
			continue
		}
		abs, err := filepath.Abs(d)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("space config: log %s: rolled folder %s: %w", c.Logs[i].Name, d, err))
		case abs == c.Dir:
			c.Logs[i].Dir = ""
		default:
			c.Logs[i].Dir = abs
		}
	}
	return c, errors.Join(errs...)
}

// rolledDirs returns the logs' rolled folders other than Dir, each once,
// sorted.
func (c Config) rolledDirs() []string {
	var out []string
	for _, l := range c.Logs {
		if l.Dir != "" && !slices.Contains(out, l.Dir) {
			out = append(out, l.Dir)
		}
	}
	slices.Sort(out)
	return out
}

// actives returns the configured active names, for logging.ParseRolledName.
func (c Config) actives() []string {
	names := make([]string, len(c.Logs))
	for i, l := range c.Logs {
		names[i] = l.Name
	}
	return names
}
