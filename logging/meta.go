package logging

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The meta file keeps an active file's START across restarts, as Traffic
// Server's .<name>.meta does (DESIGN §5). It sits next to the log, is hidden
// (so never taken for a log or a rolled file) and reads:
//
//	creation_time = 1795240800
//
// one "key = value" a line, newline-terminated, the value in Unix seconds. On
// read, blank lines and lines starting with '#' are skipped and unknown keys
// (such as Traffic Server's object_signature) are ignored.

// metaMaxSize bounds what ReadMeta reads: a real meta file is a few dozen bytes.
const metaMaxSize = 64 << 10

// metaKeyCreation is the key holding Meta.CreationTime.
const metaKeyCreation = "creation_time"

// Meta is the content of an active file's meta file.
type Meta struct {
	// CreationTime is the active file's START: the creation time of its first
	// buffer, in whole seconds (fractions are dropped on write).
	CreationTime time.Time
}

// MetaError says what is wrong with a meta file's content.
type MetaError struct {
	// Path is the meta file; empty from ParseMeta.
	Path string
	// Line is the 1-based line number, or 0 for the file as a whole.
	Line int
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *MetaError) Error() string {
	var b strings.Builder
	b.WriteString("meta file")
	if e.Path != "" {
		b.WriteString(" ")
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	return b.String()
}

// MetaPath returns the meta file path for the active file path: the same
// folder, "." + base name + ".meta" (logs/access.log → logs/.access.log.meta).
func MetaPath(activePath string) string {
	dir, base := filepath.Split(activePath)
	return dir + "." + base + ".meta"
}

// ParseMeta parses a meta file's content. A malformed content, or one without
// creation_time, returns a *[MetaError] with the line and what is wrong. A key
// given twice is an error. CreationTime is returned in time.Local.
func ParseMeta(data []byte) (Meta, error) {
	var m Meta
	found := false
	for n, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return Meta{}, &MetaError{Line: n + 1, Reason: fmt.Sprintf("%q is not key = value", text)}
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "" {
			return Meta{}, &MetaError{Line: n + 1, Reason: "empty key"}
		}
		if key != metaKeyCreation {
			continue
		}
		if found {
			return Meta{}, &MetaError{Line: n + 1, Reason: metaKeyCreation + " given twice"}
		}
		sec, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return Meta{}, &MetaError{Line: n + 1, Reason: fmt.Sprintf("%s %q is not a number of Unix seconds", metaKeyCreation, value)}
		}
		m.CreationTime, found = time.Unix(sec, 0), true
	}
	if !found {
		return Meta{}, &MetaError{Reason: "no " + metaKeyCreation}
	}
	return m, nil
}

// ReadMeta reads and parses the meta file at path. A missing file returns an
// error matching errors.Is(err, fs.ErrNotExist); a malformed one a *[MetaError]
// naming path and line.
func ReadMeta(path string) (Meta, error) {
	f, err := os.Open(path)
	if err != nil {
		return Meta{}, fmt.Errorf("read meta: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, metaMaxSize+1))
	if err != nil {
		return Meta{}, fmt.Errorf("read meta: %w", err)
	}
	if len(data) > metaMaxSize {
		return Meta{}, &MetaError{Path: path, Reason: fmt.Sprintf("larger than %d bytes", metaMaxSize)}
	}
	m, err := ParseMeta(data)
	var me *MetaError
	if errors.As(err, &me) {
		me.Path = path
	}
	return m, err
}

// WriteMeta writes m to path atomically: a temporary file in the same folder
// (hidden, named after path), renamed over path. The file gets mode perm exactly
// (the umask does not apply). With sync, the temporary file is fsynced before
// the rename and the folder after it, so the new content survives power loss.
// Errors name path; one before the rename leaves path as it was, and the
// temporary file is always removed.
func WriteMeta(path string, m Meta, perm os.FileMode, sync bool) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, metaTempPrefix(base)+"*")
	if err != nil {
		return fmt.Errorf("write meta %s: %w", path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close() // a second Close is harmless here
			os.Remove(tmp)
			err = fmt.Errorf("write meta %s: %w", path, err)
		}
	}()
	content := fmt.Sprintf("%s = %d\n", metaKeyCreation, m.CreationTime.Unix())
	if _, err = f.WriteString(content); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if sync {
		if err = f.Sync(); err != nil {
			return err
		}
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	if sync {
		if err = metaSyncDir(dir); err != nil {
			return err
		}
	}
	return nil
}

// metaTempPrefix returns the name prefix of WriteMeta's temporary files for
// the meta file at path (".access.log.meta" → ".access.log.meta.tmp").
func metaTempPrefix(path string) string {
	return "." + strings.TrimPrefix(filepath.Base(path), ".") + ".tmp"
}

// RemoveMetaTemps removes the temporary files that WriteMeta calls for the
// meta file at path left behind: only a crash (or a failed removal) between
// its creating one and renaming it leaves one, which nothing else would
// ever delete, and which a later crash would add to. It must not run
// while a WriteMeta for path may be under way. It returns the names it
// removed, and the errors of those it could not.
func RemoveMetaTemps(path string) ([]string, error) {
	names, err := listNames(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("remove meta temporary files of %s: %w", path, err)
	}
	return removeMetaTemps(path, names)
}

// removeMetaTemps is RemoveMetaTemps given a listing of the folder.
func removeMetaTemps(path string, names []string) ([]string, error) {
	dir := filepath.Dir(path)
	prefix := metaTempPrefix(path)
	var removed []string
	var errs []error
	for _, n := range names {
		rest, ok := strings.CutPrefix(n, prefix)
		if !ok || !nameAllDigits(rest) { // the random part os.CreateTemp puts in a name
			continue
		}
		if fi, err := os.Lstat(filepath.Join(dir, n)); err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove meta temporary file: %w", err))
			continue
		}
		removed = append(removed, n)
	}
	return removed, errors.Join(errs...)
}

// metaSyncDir fsyncs a folder so that a rename in it is durable.
func metaSyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		d.Close()
		return fmt.Errorf("sync folder %s: %w", dir, err)
	}
	return d.Close()
}
