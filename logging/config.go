package logging

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Mode is a log's rolling mode, Traffic Server's proxy.config.log.rolling_enabled.
type Mode int

// The rolling modes of docs/design.md §5.
const (
	// ModeNone never rolls: the file is rotated externally (move it, then Reopen).
	ModeNone Mode = 0
	// ModeTime rolls at each time boundary.
	ModeTime Mode = 1
	// ModeSize rolls when the file reaches Policy.SizeBytes.
	ModeSize Mode = 2
	// ModeTimeOrSize rolls at a boundary or on size, whichever comes first (ATS "both").
	ModeTimeOrSize Mode = 3
	// ModeTimeAndSize rolls at a boundary, but only if the file has reached
	// Policy.SizeBytes (ATS "any").
	ModeTimeAndSize Mode = 4
)

// Policy is the effective rolling configuration of one log.
type Policy struct {
	// Mode selects when the log rolls.
	Mode Mode
	// Interval between time boundaries; it divides 24h and is at least 1s.
	// Not used with a Calendar.
	Interval time.Duration
	// OffsetHours shifts the boundaries: they fall where
	// (seconds since local midnight − OffsetHours·3600) is a multiple of
	// Interval, or with a Calendar at OffsetHours:00 of its day. 0–23.
	OffsetHours int
	// Calendar, when set, replaces the interval grid for time rolls: one
	// boundary a week (Monday) or a month (the 1st) at OffsetHours (see
	// calendar.go).
	Calendar Calendar
	// SizeBytes is the size limit in bytes for modes 2, 3 and 4.
	SizeBytes int64
	// MinCount is rolling_min_count, used by the space manager (0: keep as many as possible).
	MinCount int
	// AllowEmpty lets a time boundary roll an empty file.
	AllowEmpty bool
}

// Durability is how far a record has gone before Write returns. The levels
// are ordered: each does what the one before it does, and more.
//
// The zero value, DurabilityDefault, selects DurabilityRoll, the default of
// docs/design.md §5 (proxy.config.log.durability = "roll"), as zero selects the
// default for the other Config fields: a Config that does not set Durability
// fsyncs at every roll. Writing without any fsync must be asked for with
// DurabilityWrite. The numeric values are therefore not the record's 0–2:
// whoever maps records onto a Config maps by level ("write" → DurabilityWrite,
// "roll" → DurabilityRoll, "sync" → DurabilitySync), never by number.
type Durability int

// The durability levels of docs/design.md §5.
const (
	// DurabilityDefault is the zero value; Open and Apply treat it as
	// DurabilityRoll.
	DurabilityDefault Durability = 0
	// DurabilityWrite acknowledges once the records are handed to the kernel
	// (write(2)), and never fsyncs except at Close.
	DurabilityWrite Durability = 1
	// DurabilityRoll also fsyncs the file before a roll's rename and the folder
	// after it, so that every .old file survives power loss, and the folder
	// after creating an active file. The default.
	DurabilityRoll Durability = 2
	// DurabilitySync also fsyncs before every acknowledgement; one fsync covers
	// every caller waiting at that moment (group commit). A failed fsync fails
	// those callers and cuts their records back off the file.
	DurabilitySync Durability = 3
)

// String returns the level as the record spells it: "write", "roll" or
// "sync" ("default" for the zero value).
func (d Durability) String() string {
	switch d {
	case DurabilityDefault:
		return "default"
	case DurabilityWrite:
		return "write"
	case DurabilityRoll:
		return "roll"
	case DurabilitySync:
		return "sync"
	}
	return fmt.Sprintf("Durability(%d)", int(d))
}

// NameForm selects the separator between a rolled file's active name and its host.
type NameForm int

const (
	// FormDot writes access.log.web01.START-END.old (the default).
	FormDot NameForm = 0
	// FormATS writes access.log_web01.START-END.old, as Traffic Server's own code does.
	FormATS NameForm = 1
)

// LogConfig is one declared log.
type LogConfig struct {
	// Name is the active file's name inside Config.Dir, e.g. "access.log". One path
	// component; it is also the name Write and Roll take.
	Name string
	// Policy is the log's effective rolling policy.
	Policy Policy
	// Storage is where and how its rolled files are stored: the folder
	// (rolled_dir) and the compression. Apply changes it for the next roll.
	Storage Storage
}

// Config is the collator's whole configuration. It is plain data: the records
// package maps records.toml onto it.
type Config struct {
	// Dir is the log folder (absolute). Changing it needs a new Collator.
	Dir string
	// Hostname is written into rolled names. Must not be empty.
	Hostname string
	// Perm is the mode of files the collator creates (logfile_perm); default 0644.
	Perm os.FileMode
	// BufferSize is log_buffer_size in bytes: a buffer is written once it holds at
	// least this many bytes.
	BufferSize int
	// FlushInterval is max_secs_per_buffer: the longest a record waits in a buffer
	// when nobody is waiting for it.
	FlushInterval time.Duration
	// Durability is the acknowledgement level; the zero value
	// (DurabilityDefault) means DurabilityRoll.
	Durability Durability
	// Form is the rolled-name separator form.
	Form NameForm
	// Logs are the declared logs, in declaration order; names are unique.
	Logs []LogConfig
	// CompressThreads is the number of threads that compress rolled files
	// (Storage.Compression): one file at a time, in chunks compressed in
	// parallel, at idle CPU priority (chunks.go); 0 selects GOMAXPROCS.
	// Only New reads it.
	CompressThreads int
}

// Options are the collator's collaborators. Zero values select the defaults.
type Options struct {
	// Now is the clock; default time.Now. Tests pass a fake or run in a synctest bubble.
	Now func() time.Time
	// Location is the zone rolled names and boundaries use; default time.Local.
	Location *time.Location
	// Logger receives the collator's diagnostics; default a text handler
	// on standard error, never slog.Default(): a program that makes one of
	// the collator's logs its default (slog.SetDefault or log.SetOutput
	// with a Writer) would get the collator's own lines in that file, in
	// the middle of a partial line.
	Logger *slog.Logger
	// OnWrite, when set, is called by whoever holds a log's writer token
	// (a Write call leading a group commit, or the log's writer goroutine;
	// one at a time per log) after each write(2) or writev(2) to an active file that left bytes in it, with
	// their number, and with a negative number when records are cut back off
	// the file (after a failed fsync): the space manager's accounting between
	// scans. It is on the write path: it must return at once, never block.
	OnWrite func(n int64)
	// OnWriteError, when set, is called by whoever holds a log's writer
	// token (as OnWrite) when a write, an fsync before an acknowledgement, or the creation of an
	// active file failed (the requests concerned were failed, nothing of
	// theirs acknowledged), with the error. The space manager then samples
	// the partition at once: a partition filled by another program fails
	// our writes without any byte of ours to account, and would otherwise
	// be noticed at its next scan. It must return at once, never block.
	OnWriteError func(err error)
	// OnRoll, when set, is called once for every file rolled (renamed to
	// its rolled name), with what Roll returns for it: on the log's writer
	// goroutine right after the rename (at DurabilityRoll, before the
	// folder's fsync that makes the rename survive a power loss), or, for
	// the catch-up rolls New makes, from Start. The space manager uses it
	// to account for the file and apply retention at once. It must return
	// at once, never block, and must not call the collator.
	OnRoll func(r Rolled)
	// OnDirRecreated, when set, is called once each time the log folder
	// became a new one: the collator created it again after someone
	// removed it (the warning "log folder was removed by someone else";
	// called right after the folder is created, before the active file is
	// opened in it), or someone else removed it and created it again
	// before a writer found it gone (the warning "log folder was replaced
	// by someone else"; called when the first active file is opened in the
	// new folder). The caller can then take the folder's lock again and
	// watch the new folder (internal/daemon does both). When several logs'
	// writers find the folder gone or replaced at once, only one calls the
	// hook.
	//
	// It is called on the write path, by whoever holds the writer token of
	// the log that found the folder gone (its writer goroutine or a Write
	// call leading a group commit), with no collator lock held; calls for
	// two removals may overlap. It must return quickly, never block on
	// anything the write path waits for, and must not call the collator's
	// Write, WriteLines, Roll, Reopen, Apply or Close (they would wait for
	// the token its caller holds).
	OnDirRecreated func()
}

// normalize validates cfg and returns a copy with defaults filled in. All
// problems are reported at once.
func normalize(cfg Config) (Config, error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("logging: config: "+format, args...))
	}
	if cfg.Dir == "" || !filepath.IsAbs(cfg.Dir) {
		bad("log folder %q must be an absolute path", cfg.Dir)
	} else {
		cfg.Dir = filepath.Clean(cfg.Dir)
	}
	if cfg.Hostname == "" || strings.ContainsAny(cfg.Hostname, "/\x00") {
		bad("hostname %q must be non-empty and contain no '/'", cfg.Hostname)
	}
	if cfg.Perm == 0 {
		cfg.Perm = DefaultPerm
	} else if cfg.Perm&^os.ModePerm != 0 {
		bad("file mode %v has bits beyond 0777", cfg.Perm)
	}
	switch {
	case cfg.BufferSize == 0:
		cfg.BufferSize = DefaultBufferSize
	case cfg.BufferSize < 0:
		bad("buffer size %d must be positive", cfg.BufferSize)
	}
	switch {
	case cfg.FlushInterval == 0:
		cfg.FlushInterval = DefaultFlushInterval
	case cfg.FlushInterval < 0:
		bad("flush interval %v must be positive", cfg.FlushInterval)
	}
	switch {
	case cfg.Durability == DurabilityDefault:
		cfg.Durability = DurabilityRoll
	case cfg.Durability < DurabilityWrite || cfg.Durability > DurabilitySync:
		bad("durability %d out of range (DurabilityWrite, DurabilityRoll or DurabilitySync)", int(cfg.Durability))
	}
	if cfg.Form != FormDot && cfg.Form != FormATS {
		bad("rolled-name form %d out of range 0–1", cfg.Form)
	}
	seen := map[string]bool{}
	for i, lc := range cfg.Logs {
		n := lc.Name
		switch {
		case n == "" || n == "." || n == ".." || strings.ContainsAny(n, "/\x00") || n[0] == '.':
			bad("log %d: name %q must be one path component without a leading dot", i, n)
		case seen[n]:
			bad("log %q declared twice", n)
		}
		seen[n] = true
		errs = append(errs, validatePolicy(n, lc.Policy)...)
	}
	switch {
	case cfg.CompressThreads == 0:
		cfg.CompressThreads = runtime.GOMAXPROCS(0)
	case cfg.CompressThreads < 0:
		bad("compress threads %d must not be negative", cfg.CompressThreads)
	}
	cfg.Logs = append([]LogConfig(nil), cfg.Logs...)
	for i := range cfg.Logs {
		var serrs []error
		cfg.Logs[i].Storage, serrs = validateStorage(cfg.Logs[i].Name, cfg.Dir, cfg.Logs[i].Storage)
		errs = append(errs, serrs...)
	}
	return cfg, errors.Join(errs...)
}

// validatePolicy checks one log's policy.
func validatePolicy(name string, p Policy) []error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("logging: config: log %s: "+format, append([]any{name}, args...)...))
	}
	if p.Mode < ModeNone || p.Mode > ModeTimeAndSize {
		bad("rolling mode %d out of range 0–4", p.Mode)
	}
	if p.Calendar < CalendarNone || p.Calendar > CalendarMonthly {
		bad("rolling calendar %d out of range 0–2", p.Calendar)
	}
	if p.timeRolls() {
		if p.Calendar == CalendarNone && (p.Interval < time.Second || p.Interval%time.Second != 0 || (24*time.Hour)%p.Interval != 0) {
			bad("rolling interval %v must be whole seconds dividing 24h", p.Interval)
		}
		if p.OffsetHours < 0 || p.OffsetHours > 23 {
			bad("rolling offset %d h out of range 0–23", p.OffsetHours)
		}
	}
	if p.sizeRolls() && p.SizeBytes <= 0 {
		bad("rolling size %d bytes must be positive", p.SizeBytes)
	}
	if p.MinCount < 0 {
		bad("rolling_min_count must not be negative")
	}
	return errs
}

// defaultLogger is Options.Logger's default.
func defaultLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, nil))
}
