package ship

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultShipConcurrency = 8
	DefaultHookConcurrency = 4
	DefaultHookTimeout     = 5 * time.Minute
	DefaultPartSize        = 16 << 20
	DefaultMinBackoff      = time.Second
	DefaultMaxBackoff      = 5 * time.Minute
	minPartSize            = 5 << 20 // S3's smallest part (but the last)
)

// Log is one log's hand-on settings (docs/design.md §11), from its records.
type Log struct {
	// Name is the log's active name, "access.log".
	Name string
	// Command is on_roll_command: a program (absolute path) and its
	// arguments; empty runs nothing.
	Command []string
	// Ship is where ship_url sends the files; nil ships nothing.
	Ship *Target
	// DeleteAfter is ship_delete_after: once handed on, the file is deleted
	// (by the space manager, rule shipped), when the log ships (deletes):
	// a log with only an on_roll_command keeps its files, since a hook is
	// told of a file, not given it.
	DeleteAfter bool
	// HoldBeforeDelete is ship_before_delete: no rule deletes the file
	// before it is handed on.
	HoldBeforeDelete bool
	// Removed marks a log a reload removed, kept by Apply with its last
	// settings so that the files it rolled (its last one by the reload
	// itself) are still handed on, until the daemon stops.
	Removed bool
}

// deletes reports whether a handed-on file of the log is deleted: only a
// file also stored elsewhere, in the object store.
func (l Log) deletes() bool { return l.DeleteAfter && l.Ship != nil }

// declared reports whether l is a log of the configuration (not the zero
// Log of a name it does not have).
func (l Log) declared() bool { return l.Name != "" }

// steps returns the steps the log asks for.
func (l Log) steps() step {
	var s step
	if l.Ship != nil {
		s |= stepShip
	}
	if len(l.Command) > 0 {
		s |= stepHook
	}
	return s
}

// Config is the hand-on configuration: plain data the daemon maps from
// records.toml. It can change with Manager.Apply.
type Config struct {
	// Host is the daemon's host name, for keys and the command's
	// environment when a rolled name carries none.
	Host string
	// Logs are the configured logs; a log that is not listed (or lists
	// nothing) hands nothing on.
	Logs []Log
	// MaxBackoff, when > 0, replaces Options.MaxBackoff
	// (ship_retry_max_sec).
	MaxBackoff time.Duration
}

// validate checks c.
func (c Config) validate() error {
	var errs []error
	seen := map[string]bool{}
	for i, l := range c.Logs {
		if l.Name == "" || seen[l.Name] {
			errs = append(errs, fmt.Errorf("ship config: logs[%d]: name %q empty or given twice", i, l.Name))
		}
		seen[l.Name] = true
		if len(l.Command) > 0 && !filepath.IsAbs(l.Command[0]) {
			errs = append(errs, fmt.Errorf("ship config: log %s: command %q is not an absolute path", l.Name, l.Command[0]))
		}
		if t := l.Ship; t != nil && (t.Bucket == "" || t.Region == "") {
			errs = append(errs, fmt.Errorf("ship config: log %s: target %s needs a bucket and a region", l.Name, t))
		}
	}
	return errors.Join(errs...)
}

// clone returns a deep copy of c.
func (c Config) clone() Config {
	out := Config{Host: c.Host, Logs: make([]Log, len(c.Logs)), MaxBackoff: c.MaxBackoff}
	for i, l := range c.Logs {
		l.Command = slices.Clone(l.Command)
		if l.Ship != nil {
			t := *l.Ship
			l.Ship = &t
		}
		out.Logs[i] = l
	}
	return out
}

// byName returns c's logs by name.
func (c Config) byName() map[string]Log {
	m := make(map[string]Log, len(c.Logs))
	for _, l := range c.Logs {
		m[l.Name] = l
	}
	return m
}

// HandsOn reports whether any log hands anything on.
func (c Config) HandsOn() bool {
	return slices.ContainsFunc(c.Logs, func(l Log) bool { return l.steps() != 0 })
}

// Options are the manager's collaborators and limits. Zero values select
// the defaults.
type Options struct {
	// Journal is the journal's path (JournalName in the log folder).
	// Required.
	Journal string
	// Item turns a path Manager.Rolled reports into an Item (the daemon
	// parses the name with space.RolledFile); false: not a rolled file.
	// Required. Called on the manager's goroutine.
	Item func(path string) (Item, bool)
	// HandedOn is told when a file is handed on (every step its log asks
	// for done), with del for ship_delete_after: the space manager's
	// HandedOn, which deletes it. Called on the manager's goroutine; must
	// not block. nil: nobody is told.
	HandedOn func(path string, del bool)
	// Now is the clock; default time.Now. Timers are real timers: tests
	// run the manager in a testing/synctest bubble.
	Now func() time.Time
	// Logger receives failures (once per streak), permanent refusals, and
	// recoveries; default slog.Default().
	Logger *slog.Logger
	// ShipConcurrency and HookConcurrency bound the uploads and the
	// commands running at once; HookTimeout bounds one command's run.
	ShipConcurrency, HookConcurrency int
	HookTimeout                      time.Duration
	// PartSize is the multipart part size; files larger go in parts.
	// At least 5 MiB (S3's smallest part).
	PartSize int64
	// MinBackoff and MaxBackoff bound the wait between attempts (Backoff).
	MinBackoff, MaxBackoff time.Duration
	// NoSync skips the journal's fsyncs (benchmarks of the upload path only).
	NoSync bool
	// Jitter returns a number in [0, 1) that spreads the backoff; default
	// math/rand/v2.
	Jitter func() float64

	// StallTimeout is how long a connection to the store may move no
	// byte before the attempt is abandoned (stall.go); default
	// StallTimeout.
	StallTimeout time.Duration

	// upload replaces the S3 uploader (tests).
	upload func(ctx context.Context, t Target, it Item, key string) (Result, error)
}

// withDefaults returns o with its zero fields set.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.ShipConcurrency <= 0 {
		o.ShipConcurrency = DefaultShipConcurrency
	}
	if o.HookConcurrency <= 0 {
		o.HookConcurrency = DefaultHookConcurrency
	}
	if o.StallTimeout <= 0 {
		o.StallTimeout = StallTimeout
	}
	if o.HookTimeout <= 0 {
		o.HookTimeout = DefaultHookTimeout
	}
	if o.PartSize <= 0 {
		o.PartSize = DefaultPartSize
	}
	o.PartSize = max(o.PartSize, minPartSize)
	if o.MinBackoff <= 0 {
		o.MinBackoff = DefaultMinBackoff
	}
	if o.MaxBackoff < o.MinBackoff {
		o.MaxBackoff = max(DefaultMaxBackoff, o.MinBackoff)
	}
	if o.Jitter == nil {
		o.Jitter = rand.Float64
	}
	return o
}
