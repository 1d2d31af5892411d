package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/records"
)

// The checks of a valid configuration against the machine: what Start
// would refuse before it binds a port, found without creating or changing
// anything. Start runs them first, logrollctl config check runs them
// (Check), and a reload runs those that concern what it changes (the
// folders that need a restart, the logs it adds), so the three agree.

// CheckError holds every problem Check found, in the order of the checks.
type CheckError struct {
	Problems []*ConfigError
}

// Error is one problem a line, "FILE:LINE:COL: RECORD: failure".
func (e *CheckError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, so that errors.As finds a *ConfigError.
func (e *CheckError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}

// Check reports, as a *CheckError, every problem Start would find in cfg
// (a configuration records.Load accepted) short of binding the ingest port:
// a logfile_dir or local_state_dir that is a file, lies below one, or
// cannot be created or written; an admin socket path too long for a Unix
// socket or taken by something other than a socket; a log folder lock or
// an active log file that is not a regular file, or an active file that
// cannot be written. Nothing is created. Permissions are those of the
// calling user, which for logrollctl config check may not be the daemon's.
// A socket that answers (a daemon running on this configuration) is not a
// problem.
func Check(cfg *records.Config) error {
	return checkAgainst(cfg, nil, nil)
}

// checkAgainst runs the checks of cfg; for a reload (started and running
// set), only those about what it would change: a logfile_dir or
// local_state_dir whose value differs from the one the daemon started with
// (a restart would take it), and the active files of logs that running
// does not have (in the folder in use) or of every log (in a new folder).
// The folders in use were checked when the daemon started and are its own
// since.
func checkAgainst(cfg, started, running *records.Config) error {
	var problems []*ConfigError
	add := func(where, record string, err error) {
		if err != nil {
			problems = append(problems, &ConfigError{Where: where, Record: record, Err: err})
		}
	}
	changed := func(rec string) bool { return started == nil || cfg.Str(rec) != started.Str(rec) }

	dir := cfg.Str(records.LogfileDir)
	dirChanged := changed(records.LogfileDir)
	dirOK := true
	if dirChanged {
		err := checkFolder(dir)
		dirOK = err == nil
		add(cfg.Where(records.LogfileDir), records.LogfileDir, err)
		if dirOK {
			add(cfg.Where(records.LogfileDir), records.LogfileDir, checkRegular(filepath.Join(dir, LockName), "the log folder's lock", false))
		}
	}
	if state := cfg.Str(records.LocalStateDir); changed(records.LocalStateDir) {
		err := checkFolder(state)
		if err == nil {
			err = ctl.CheckPath(filepath.Join(state, ctl.SocketName))
			if err != nil {
				err = errors.New(strings.TrimPrefix(err.Error(), "ctl: listen: "))
			}
		}
		add(cfg.Where(records.LocalStateDir), records.LocalStateDir, err)
	}
	if !dirOK {
		return checkError(problems)
	}
	for i := range cfg.Logs {
		l := &cfg.Logs[i]
		if !dirChanged && running != nil {
			if _, ok := running.Log(l.Filename); ok {
				continue
			}
		}
		add(l.Where(), l.Key(), checkRegular(filepath.Join(dir, l.Filename), "the active file", true))
	}
	problems = append(problems, checkRolledDirs(cfg)...)
	return checkError(problems)
}

// checkRolledDirs says why the logs' rolled folders (rolled_dir) cannot
// hold rolled files (logging.CheckRolledDir): a file, below a file, not
// writable, or on another filesystem than logfile_dir (a roll is a
// rename). Each problem is at the value's place: the log's own rolled_dir,
// or the global one it inherits. Nothing is created: a folder that does
// not exist yet is made by the collator.
func checkRolledDirs(cfg *records.Config) []*ConfigError {
	dir := cfg.Str(records.LogfileDir)
	seen := map[string]bool{}
	var problems []*ConfigError
	for i := range cfg.Logs {
		l := &cfg.Logs[i]
		rd := cfg.RolledDir(l)
		if rd == dir || seen[rd] {
			continue
		}
		seen[rd] = true
		if err := logging.CheckRolledDir(dir, rd); err != nil {
			where, rec := cfg.Where(records.RolledDir), records.RolledDir
			if w, ok := l.Overrides(records.RolledDir); ok {
				where, rec = w, l.KeyOf(records.RolledDir)
			}
			problems = append(problems, &ConfigError{Where: where, Record: rec, Err: err})
		}
	}
	return problems
}

func checkError(problems []*ConfigError) error {
	if len(problems) == 0 {
		return nil
	}
	return &CheckError{Problems: problems}
}

// checkFolder says why dir cannot be the daemon's folder: something that is
// not a folder is there or on its path, or it cannot be created or written.
// A folder that does not exist is fine when its nearest existing parent is
// a writable folder (the daemon creates it).
func checkFolder(dir string) error {
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return fmt.Errorf("%s is not a folder (%s)", dir, describe(fi.Mode()))
	case err == nil:
		if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
			return fmt.Errorf("%s is not writable: %w", dir, err)
		}
		return nil
	case errors.Is(err, unix.ENOTDIR):
		return fmt.Errorf("%s cannot be a folder: a part of its path is a file", dir)
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%s: %w", dir, err)
	}
	parent := filepath.Dir(dir)
	for parent != filepath.Dir(parent) {
		if _, err := os.Stat(parent); err == nil {
			break
		}
		parent = filepath.Dir(parent)
	}
	if err := unix.Access(parent, unix.W_OK|unix.X_OK); err != nil {
		return fmt.Errorf("%s cannot be created: %s is not writable: %w", dir, parent, err)
	}
	return nil
}

// checkRegular says why path, when something is there, cannot be what the
// daemon opens there (without following a symbolic link): anything but a
// regular file, or, with write, a file it cannot write. what names it in
// the message.
func checkRegular(path, what string, write bool) error {
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("%s %s: %w", what, path, err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("%s %s is %s, not a regular file", what, path, describe(fi.Mode()))
	case write:
		if err := unix.Access(path, unix.W_OK); err != nil {
			return fmt.Errorf("%s %s is not writable: %w", what, path, err)
		}
	}
	return nil
}

// describe names a file's type for messages.
func describe(m fs.FileMode) string {
	switch {
	case m.IsRegular():
		return "a regular file"
	case m.IsDir():
		return "a folder"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	}
	return "of mode " + m.String()
}
