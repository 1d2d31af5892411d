package records

import (
	"fmt"
	"os"
	"path/filepath"
)

// Config is a loaded and validated configuration: a value for every record of
// the table and the declared logs with their effective settings. A Config is
// immutable once returned; it is safe to read from any number of goroutines.
type Config struct {
	// Source is the file the configuration was loaded from, "" for the
	// embedded defaults.
	Source string
	// Logs are the [[logs]] tables in the order they were declared.
	Logs []Log

	vals   map[string]any    // record name → int64 or string
	where  map[string]string // record name → "file:line:col" for values set in the file
	logPos *logPositions     // positions inside [[logs]], found on demand
}

// Log is one declared log with its effective rolling settings: the per-log
// overrides, and the global value for every rolling record it does not set.
type Log struct {
	// Filename is the active file's name, after Traffic Server's rule
	// (ActiveName): a filename without a dot gets ".log" appended ("access"
	// → "access.log"), one ending in a dot loses it ("debug." → "debug").
	Filename string
	// Declared is the filename as written in the config ("access").
	Declared string
	// SyslogAppNames and SyslogFacilities route syslog messages to this log
	// (syslog_app_name, and syslog_facility with canonical names), in the
	// order written; nil when the log's table does not set them.
	SyslogAppNames, SyslogFacilities []string

	vals  map[string]any  // every per-log record → effective value (int64, string or []string)
	over  map[string]bool // records the log's table sets itself
	index int             // its place among the [[logs]] tables
	pos   *logPositions   // nil for the embedded defaults
	file  string
}

// Int returns the value of an integer, bool, enum or file-mode record. It
// panics if name is not such a record: names are constants of this package.
func (c *Config) Int(name string) int64 {
	v, ok := c.vals[name].(int64)
	if !ok {
		panic(fmt.Sprintf("records: %q is not an integer record", name))
	}
	return v
}

// Str returns the value of a string record; it panics if name is not one.
func (c *Config) Str(name string) string {
	v, ok := c.vals[name].(string)
	if !ok {
		panic(fmt.Sprintf("records: %q is not a string record", name))
	}
	return v
}

// Argv returns the value of an argv record (a copy; empty when not set); it
// panics if name is not one.
func (c *Config) Argv(name string) []string {
	v, ok := c.vals[name].([]string)
	if !ok {
		panic(fmt.Sprintf("records: %q is not an argv record", name))
	}
	return append([]string(nil), v...)
}

// Value returns a record's value (int64, string or []string) and whether
// name is a record.
func (c *Config) Value(name string) (any, bool) {
	v, ok := c.vals[name]
	return v, ok
}

// Where says where a record's value comes from: "file:line:col" when the file
// sets it, "default" otherwise.
func (c *Config) Where(name string) string {
	if w, ok := c.where[name]; ok {
		return w
	}
	return "default"
}

// Log returns the declared log whose Filename or Declared name is name.
func (c *Config) Log(name string) (*Log, bool) {
	for i := range c.Logs {
		if c.Logs[i].Filename == name || c.Logs[i].Declared == name {
			return &c.Logs[i], true
		}
	}
	return nil, false
}

// Hostname returns the host name for rolled file names: the record's value,
// or the machine's host name when the record is "localhost" or "".
func (c *Config) Hostname() string {
	h := c.Str(Hostname)
	if h == "" || h == "localhost" {
		if n, err := os.Hostname(); err == nil && n != "" {
			return n
		}
		return "localhost"
	}
	return h
}

// Int returns the log's effective value of a per-log integer record
// (rolling_*). It panics if name is not such a record.
func (l *Log) Int(name string) int64 {
	v, ok := l.vals[name].(int64)
	if !ok {
		panic(fmt.Sprintf("records: %q is not a per-log integer record", name))
	}
	return v
}

// Str returns the log's effective value of a per-log string record
// (ship_url); it panics if name is not one.
func (l *Log) Str(name string) string {
	v, ok := l.vals[name].(string)
	if !ok {
		panic(fmt.Sprintf("records: %q is not a per-log string record", name))
	}
	return v
}

// Argv returns the log's effective value of a per-log argv record
// (on_roll_command): a copy; empty when not set. It panics if name is not
// one.
func (l *Log) Argv(name string) []string {
	v, ok := l.vals[name].([]string)
	if !ok {
		panic(fmt.Sprintf("records: %q is not a per-log argv record", name))
	}
	return append([]string(nil), v...)
}

// Value returns the log's effective value of a per-log record (int64,
// string or []string) and whether name is one.
func (l *Log) Value(name string) (any, bool) {
	v, ok := l.vals[name]
	return v, ok
}

// RolledDir returns the absolute folder the log's rolled files go into:
// its rolled_dir resolved against logfile_dir, or logfile_dir itself for
// "". The path is clean; Load refuses a rolled_dir with a ".." element, so
// a relative one stays inside logfile_dir.
//
// A folder is counted, listed and deleted from once whatever path names
// it: a rolled_dir that is the log folder or another log's rolled folder
// by another path (a symbolic link, a bind mount of the same filesystem's
// folder) is given as the log folder's path, or else as the smallest of
// those paths (whatever the order of the logs), so the daemon never
// counts one file twice (two paths to one file: twice the bytes, twice
// the files for rolling_max_count). This is the one place that looks at
// the machine: a folder that does not exist yet is taken by its path.
func (c *Config) RolledDir(l *Log) string {
	dir := c.Str(LogfileDir)
	rd := c.rolledPath(l)
	if rd == dir || sameFolder(rd, dir) {
		return dir
	}
	best := rd
	for i := range c.Logs {
		if other := c.rolledPath(&c.Logs[i]); other < best && other != dir && sameFolder(rd, other) {
			best = other
		}
	}
	return best
}

// rolledPath is the log's rolled folder as its record writes it, made
// absolute against logfile_dir.
func (c *Config) rolledPath(l *Log) string {
	dir := c.Str(LogfileDir)
	rd := l.Str(RolledDir)
	switch {
	case rd == "":
		return dir
	case filepath.IsAbs(rd):
		return filepath.Clean(rd)
	}
	return filepath.Join(dir, rd)
}

// Overrides reports whether the log's table sets the record itself, and
// where: "file:line:col" (positions are found on demand).
func (l *Log) Overrides(name string) (string, bool) {
	if !l.over[name] || l.pos == nil {
		return "", false
	}
	p := l.pos.at(l.index, (&Record{Name: name}).Short())
	return fmt.Sprintf("%s:%d:%d", l.file, p.Line, p.Col), true
}

// Key names the log's filename in messages: "logs[N].filename", N counting
// the [[logs]] tables from 1.
func (l *Log) Key() string {
	return fmt.Sprintf("logs[%d].filename", l.index+1)
}

// KeyOf names one of the log's records in messages: "logs[N].rolled_dir".
func (l *Log) KeyOf(name string) string {
	return fmt.Sprintf("logs[%d].%s", l.index+1, (&Record{Name: name}).Short())
}

// Where says where the log is declared: "file:line:col" of its filename,
// or "default" for the log of the embedded defaults.
func (l *Log) Where() string {
	if l.pos == nil {
		return "default"
	}
	p := l.pos.at(l.index, "filename")
	return fmt.Sprintf("%s:%d:%d", l.file, p.Line, p.Col)
}

// Defaults returns the embedded defaults: every record's default and one log,
// "access" (access.log). Relative paths resolve against the working directory.
func Defaults() *Config {
	c := &Config{vals: map[string]any{}, where: map[string]string{}}
	for i := range table {
		c.vals[table[i].Name] = table[i].Default
	}
	c.resolvePaths("")
	c.Logs = []Log{c.newLog("access")}
	return c
}

// newLog returns a log inheriting every per-log record from c.
func (c *Config) newLog(declared string) Log {
	l := Log{Filename: ActiveName(declared), Declared: declared, vals: map[string]any{}, over: map[string]bool{}}
	for i := range table {
		if table[i].PerLog {
			l.vals[table[i].Name] = c.vals[table[i].Name]
		}
	}
	return l
}

// resolvePaths makes the path records absolute, relative to the folder of the
// config file (or to the working directory when source is "").
func (c *Config) resolvePaths(source string) {
	base := "."
	if source != "" {
		base = filepath.Dir(source)
	}
	for _, name := range []string{LogfileDir, LocalStateDir, TLSCertFile, TLSKeyFile, TLSClientCAFile, AuthTokensFile} {
		p := c.vals[name].(string)
		if p == "" {
			continue // an optional file not set
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(base, p)
		}
		if abs, err := filepath.Abs(p); err == nil {
			p = abs
		}
		c.vals[name] = filepath.Clean(p)
	}
}

// ActiveName applies Traffic Server's filename rule (LogObject's
// generate_filenames): a name ending in a dot loses that dot and gets no
// extension ("debug." → "debug", "debug.." → "debug."); any other name
// with a dot is used as is ("error.txt"); a name without a dot gets ".log"
// appended ("access" → "access.log").
func ActiveName(filename string) string {
	if n := len(filename); n > 0 && filename[n-1] == '.' {
		return filename[:n-1]
	}
	for i := 0; i < len(filename); i++ {
		if filename[i] == '.' {
			return filename
		}
	}
	return filename + ".log"
}
