package ship

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// The journal: what was handed on, kept across restarts and kill -9.
//
// It is a hidden file in the log folder (JournalName), one line per step
// done, appended and fsynced before the step counts as done:
//
//	ship NAME KEY
//	hook NAME
//
// A file is pending while a step its log asks for (ship_url, on_roll_command)
// has no line: after a restart every rolled file the daemon finds is checked
// against the journal, and what is missing is done again. A crash between the
// store's answer and the line means one more upload of the same bytes under
// the same key, which the conditional create recognises (412, same
// checksum): nothing is shipped twice as two objects, and nothing is
// skipped. A torn last line (a crash in the append) is ignored, and ended
// with a newline before the next append, which then stays a line of its own. The journal is rewritten at start (compact) with the
// lines of the files still present, so it never grows beyond the folder.

// JournalName is the journal's file name in the log folder. Its leading dot
// keeps it from ever being taken for a rolled file.
const JournalName = ".logroll-handed"

// step is what a line records.
type step uint8

const (
	stepShip step = 1 << iota
	stepHook
)

func (s step) String() string {
	switch s {
	case stepShip:
		return "ship"
	case stepHook:
		return "hook"
	}
	return fmt.Sprintf("step(%d)", uint8(s))
}

// record is what the journal knows of one file.
type record struct {
	steps step
	key   string // the object key, when shipped
}

// journal is the open journal. It is owned by the manager's goroutine
// (Manager.run), except for load/compact at New.
type journal struct {
	path    string
	f       *os.File // nil until the first append
	sync    bool     // fsync each append (Options.NoSync false)
	removed bool     // the open journal was found removed and made again; cleared by the reader
}

// regularOrAbsent refuses a journal path that holds anything but a
// regular file, or a symlink to one: a FIFO would block the start for
// ever (and O_NONBLOCK covers one put there after this check).
func regularOrAbsent(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("ship: journal: %w", err)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("ship: journal %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	return nil
}

// linked reports whether an open file still has a name (st_nlink > 0).
func linked(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return !ok || st.Nlink > 0
}

// atPath reports whether fi (an open journal's) is the file at path.
func atPath(fi fs.FileInfo, path string) bool {
	at, err := os.Stat(path)
	return err == nil && os.SameFile(fi, at)
}

// loadJournal reads the journal at path: the records by file name, and
// the number of lines skipped (not understood). A missing file is an empty
// journal.
func loadJournal(path string) (map[string]record, int, error) {
	if err := regularOrAbsent(path); err != nil {
		return map[string]record{}, 0, err
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]record{}, 0, nil
	}
	if err != nil {
		return map[string]record{}, 0, fmt.Errorf("ship: read journal: %w", err)
	}
	recs, skipped := parseJournal(data)
	return recs, skipped, nil
}

// parseJournal parses journal lines; unknown, malformed and torn lines are
// skipped (a later version's lines, a crash, damage) and counted, but for
// a torn last line, which is what a crash in an append leaves.
func parseJournal(data []byte) (map[string]record, int) {
	out := map[string]record{}
	skipped := 0
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break // torn: the append did not finish
		}
		f := strings.Fields(string(data[:i]))
		data = data[i+1:]
		if len(f) < 2 {
			skipped++
			continue
		}
		r := out[f[1]]
		switch {
		case f[0] == "ship" && len(f) == 3 && strings.HasSuffix(f[2], "/"+f[1]):
			// A key ends in the file's name (Key): one that does not is a
			// torn line's, ended by the append after it.
			r.steps |= stepShip
			r.key = f[2]
		case f[0] == "hook" && len(f) == 2:
			r.steps |= stepHook
		default:
			skipped++
			continue
		}
		out[f[1]] = r
	}
	return out, skipped
}

// line returns the journal line of step s of name.
func line(s step, name, key string) string {
	if s == stepShip {
		return "ship " + name + " " + key + "\n"
	}
	return "hook " + name + "\n"
}

// journalTemp is the temporary file compactJournal writes before renaming
// it over the journal at path. One left by a crash is never the journal:
// the rename did not happen.
func journalTemp(path string) string { return path + ".tmp" }

// removeJournalTemp removes a temporary a crash left in the middle of a
// compaction; the journal beside it is whole. Only a regular file is
// compactJournal's: anything else under that name is left alone.
func removeJournalTemp(path string) error {
	tmp := journalTemp(path)
	if fi, err := os.Lstat(tmp); err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("ship: remove a compaction's leftover: %w", err)
	}
	return nil
}

// compactJournal rewrites the journal at path with the records of keep
// only: a temporary file, fsynced, renamed over the journal, the folder
// fsynced. An empty result removes the journal.
func compactJournal(path string, recs map[string]record, keep func(name string) bool) error {
	var b strings.Builder
	for name, r := range recs {
		if !keep(name) {
			continue
		}
		if r.steps&stepShip != 0 {
			b.WriteString(line(stepShip, name, r.key))
		}
		if r.steps&stepHook != 0 {
			b.WriteString(line(stepHook, name, ""))
		}
	}
	if b.Len() == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("ship: remove empty journal: %w", err)
		}
		return nil
	}
	tmp := journalTemp(path)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("ship: compact journal: %w", err)
	}
	_, werr := f.WriteString(b.String())
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ship: compact journal: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("ship: compact journal: %w", err)
	}
	return syncDir(filepath.Dir(path))
}

// appendLine appends one record and, unless sync is off, fsyncs it (and the
// folder, the first time, when the append created the file). A journal
// removed while open is made again (removed reports it: the records it
// held are forgotten, and their steps done again after a restart). A torn
// last line, which a crash in an append leaves, is ended first, so that it
// stays a line of its own, skipped, and the record is not glued to it.
func (j *journal) appendLine(s string) error {
	if j.f != nil {
		// Removed, or no longer at its path (its folder moved away and
		// made again: the records of the files rolled here from now on
		// belong in the journal of this folder).
		if fi, err := j.f.Stat(); err == nil && (!linked(fi) || !atPath(fi, j.path)) {
			j.f.Close()
			j.f = nil
			j.removed = true
		}
	}
	if j.f == nil {
		if err := regularOrAbsent(j.path); err != nil {
			return err
		}
		_, statErr := os.Stat(j.path)
		f, err := os.OpenFile(j.path, os.O_RDWR|os.O_CREATE|os.O_APPEND|syscall.O_NONBLOCK, 0o644)
		if err != nil {
			return fmt.Errorf("ship: open journal: %w", err)
		}
		if fi, err := f.Stat(); err == nil && fi.Size() > 0 {
			last := make([]byte, 1)
			if _, err := f.ReadAt(last, fi.Size()-1); err == nil && last[0] != '\n' {
				s = "\n" + s
			}
		}
		j.f = f
		if errors.Is(statErr, fs.ErrNotExist) && j.sync {
			if err := syncDir(filepath.Dir(j.path)); err != nil {
				return err
			}
		}
	}
	if _, err := j.f.WriteString(s); err != nil { // one write(2), O_APPEND
		j.reset() // a short write may have left a torn line: checked at the next open
		return fmt.Errorf("ship: append to journal: %w", err)
	}
	if j.sync {
		if err := j.f.Sync(); err != nil {
			j.reset()
			return fmt.Errorf("ship: sync journal: %w", err)
		}
	}
	return nil
}

// reset closes the journal file after a failed append, so that the next
// append opens it again and ends a torn last line first.
func (j *journal) reset() {
	j.f.Close()
	j.f = nil
}

// close closes the journal file.
func (j *journal) close() error {
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// syncDir fsyncs a folder, so that a rename or a new file in it lasts.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("ship: sync folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("ship: sync folder %s: %w", dir, err)
	}
	return nil
}
