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
// Server's .<name>.meta does (docs/design.md §5), and what the log remembers of its
// rolls. It sits next to the log, is hidden (so never taken for a log or a
// rolled file) and reads:
//
//	creation_time = 1795240800
//	rolled_end = 1795240790
//	rolled_high = 20261121.06h00m00s
//	rolled_high_seq = 00000000000
//	rolled_max_seq = 00000000003
//
// one "key = value" a line, newline-terminated. creation_time (START, Unix
// seconds) is Traffic Server's key and the only one required; rolled_end is
// the END of the log's last roll (Unix seconds, 0 for unknown), and the
// rolled_high* keys are the log's nameState (namestate.go), which keeps it
// from producing a rolled name twice. Numbers are written with fixed widths
// so that the content keeps its length from one rewrite to the next (see
// metaFile). On read, blank lines and lines starting with '#' are skipped and
// unknown keys (such as Traffic Server's object_signature) are ignored.

// metaMaxSize bounds what readMeta reads: a real meta file is a few dozen bytes.
const metaMaxSize = 64 << 10

// The meta file's keys.
const (
	metaKeyCreation = "creation_time"
	metaKeyEnd      = "rolled_end"
	metaKeyHigh     = "rolled_high"
	metaKeyHighSeq  = "rolled_high_seq"
	metaKeyMaxSeq   = "rolled_max_seq"
)

// metaContent is the content of an active file's meta file.
type metaContent struct {
	// CreationTime is the active file's START: the creation time of its first
	// buffer, in whole seconds (fractions are dropped on write).
	CreationTime time.Time
	// LastEnd is the END of the log's last roll, in whole seconds; the zero
	// time when unknown (a .meta written by Traffic Server or before the
	// key existed).
	LastEnd time.Time

	names    nameState // the rolled names produced (namestate.go)
	hasNames bool      // the rolled_high* keys were read
	hasEnd   bool      // the rolled_end key was read (0 included: no roll yet)
}

// appendMeta appends m's content, as the meta file holds it, to b.
func appendMeta(b []byte, m metaContent) []byte {
	b = append(b, metaKeyCreation+" = "...)
	b = strconv.AppendInt(b, m.CreationTime.Unix(), 10)
	b = append(b, "\n"+metaKeyEnd+" = "...)
	end := int64(0)
	if !m.LastEnd.IsZero() {
		end = m.LastEnd.Unix()
	}
	b = fmt.Appendf(b, "%010d", end)
	high, highSeq := m.names.high, m.names.highSeq
	if high == "" {
		high, highSeq = metaNoHigh, -1
	}
	b = append(b, "\n"+metaKeyHigh+" = "...)
	b = append(b, high...)
	b = fmt.Appendf(b, "\n"+metaKeyHighSeq+" = %011d\n"+metaKeyMaxSeq+" = %011d\n", highSeq, m.names.maxSeq)
	return b
}

// metaNoHigh stands for "no rolled name yet" in rolled_high: a wall time of
// the layout's width that sorts before any real one.
const metaNoHigh = "00000000.00h00m00s"

// metaError says what is wrong with a meta file's content.
type metaError struct {
	// Path is the meta file; empty from parseMeta.
	Path string
	// Line is the 1-based line number, or 0 for the file as a whole.
	Line int
	// Reason says what is wrong.
	Reason string
}

// Error implements error.
func (e *metaError) Error() string {
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

// metaPath returns the meta file path for the active file path: the same
// folder, "." + base name + ".meta" (logs/access.log → logs/.access.log.meta).
func metaPath(activePath string) string {
	dir, base := filepath.Split(activePath)
	return dir + "." + base + ".meta"
}

// parseMeta parses a meta file's content. A malformed content, or one without
// creation_time, returns a *[metaError] with the line and what is wrong. A key
// given twice is an error. CreationTime is returned in time.Local.
func parseMeta(data []byte) (metaContent, error) {
	m := metaContent{names: nameState{highSeq: -1}}
	seen := map[string]bool{}
	for n, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(string(line))
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		key, value, ok := strings.Cut(text, "=")
		if !ok {
			return metaContent{}, &metaError{Line: n + 1, Reason: fmt.Sprintf("%q is not key = value", text)}
		}
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if key == "" {
			return metaContent{}, &metaError{Line: n + 1, Reason: "empty key"}
		}
		bad := func(what string) (metaContent, error) {
			return metaContent{}, &metaError{Line: n + 1, Reason: fmt.Sprintf("%s %q is not %s", key, value, what)}
		}
		switch key {
		case metaKeyCreation, metaKeyEnd, metaKeyHigh, metaKeyHighSeq, metaKeyMaxSeq:
		default:
			continue
		}
		if seen[key] {
			return metaContent{}, &metaError{Line: n + 1, Reason: key + " given twice"}
		}
		seen[key] = true
		switch key {
		case metaKeyCreation, metaKeyEnd:
			sec, err := strconv.ParseInt(value, 10, 64)
			if err != nil || sec < 0 && key == metaKeyEnd {
				return bad("a number of Unix seconds")
			}
			if key == metaKeyCreation {
				m.CreationTime = time.Unix(sec, 0)
			} else if sec > 0 {
				m.LastEnd = time.Unix(sec, 0)
			}
		case metaKeyHigh:
			if value == metaNoHigh {
				m.names.high = ""
			} else if _, err := nameParseTime(value, time.UTC); err != nil {
				return bad("a %Y%m%d.%Hh%Mm%Ss time")
			} else {
				m.names.high = value
			}
		case metaKeyHighSeq, metaKeyMaxSeq:
			v, err := strconv.Atoi(value)
			if err != nil || v < -1 || v < 0 && key == metaKeyMaxSeq {
				return bad("a collision number")
			}
			if key == metaKeyHighSeq {
				m.names.highSeq = v
			} else {
				m.names.maxSeq = v
			}
		}
	}
	if !seen[metaKeyCreation] {
		return metaContent{}, &metaError{Reason: "no " + metaKeyCreation}
	}
	m.hasNames = seen[metaKeyHigh] && seen[metaKeyHighSeq] && seen[metaKeyMaxSeq]
	m.hasEnd = seen[metaKeyEnd]
	if !m.hasNames {
		m.names = nameState{highSeq: -1}
	}
	return m, nil
}

// readMeta reads and parses the meta file at path. A missing file returns an
// error matching errors.Is(err, fs.ErrNotExist); a malformed one a *[metaError]
// naming path and line.
func readMeta(path string) (metaContent, error) {
	f, err := os.Open(path)
	if err != nil {
		return metaContent{}, fmt.Errorf("read meta: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, metaMaxSize+1))
	if err != nil {
		return metaContent{}, fmt.Errorf("read meta: %w", err)
	}
	if len(data) > metaMaxSize {
		return metaContent{}, &metaError{Path: path, Reason: fmt.Sprintf("larger than %d bytes", metaMaxSize)}
	}
	m, err := parseMeta(data)
	var me *metaError
	if errors.As(err, &me) {
		me.Path = path
	}
	return m, err
}

// replaceMeta writes m to path atomically: a temporary file in the same folder
// (hidden, named after path), renamed over path. The file gets mode perm exactly
// (the umask does not apply). With sync, the temporary file is fsynced before
// the rename and the folder after it, so the new content survives power loss.
// Errors name path; one before the rename leaves path as it was, and the
// temporary file is always removed.
func replaceMeta(path string, m metaContent, perm os.FileMode, sync bool) (err error) {
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
	if _, err = f.Write(appendMeta(nil, m)); err != nil {
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

// metaTempPrefix returns the name prefix of replaceMeta's temporary files for
// the meta file at path (".access.log.meta" → ".access.log.meta.tmp").
func metaTempPrefix(path string) string {
	return "." + strings.TrimPrefix(filepath.Base(path), ".") + ".tmp"
}

// removeMetaTemps removes the temporary files that replaceMeta calls for
// the meta file at path left behind, given a listing of its folder: only a
// crash (or a failed removal) between its creating one and renaming it
// leaves one, which nothing else would ever delete, and which a later crash
// would add to. It must not run while a replaceMeta for path may be under
// way. It returns the names it removed, and the errors of those it could
// not.
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
