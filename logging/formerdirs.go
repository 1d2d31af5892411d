package logging

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
)

// Rolled folders a reload dropped.
//
// A roll of a log stored compressed, or at DurabilityRoll, leaves a hidden
// pending file (.<final name>.raw) in the log's rolled folder until it is
// compressed or published, and a start finishes what a crash interrupted
// in the folders it is configured with (recover.go). A reload that changes
// rolled_dir lets the files in flight finish in the old folder; were the
// daemon killed before they do, a start with the new configuration would
// not look there, and their records would stay hidden. So before a reload
// applies new rolled folders, the folders it drops are added to the log
// folder's formerDirsName, one absolute path a line; a start looks for
// pending files there too (finishing them where they are, as visible
// rolled files of a folder no longer configured), then keeps in the list
// only the folders that are not configured again and still hold pending
// files it is finishing. The list is replaced whole (a temporary of a
// fixed name, fsynced, renamed, the folder fsynced) and removed once empty.

// formerDirsName is the list of rolled folders a reload dropped, in the
// log folder.
const formerDirsName = ".logrolld.former-dirs"

// readFormerDirs returns the folders listed in dir's formerDirsName; none
// when it does not exist. Lines that are not absolute paths are skipped.
func readFormerDirs(dir string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(dir, formerDirsName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for line := range bytes.Lines(data) {
		p := strings.TrimSpace(string(line))
		if !filepath.IsAbs(p) {
			continue
		}
		if p = filepath.Clean(p); !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// writeFormerDirs replaces dir's formerDirsName with dirs, or removes it
// when dirs is empty, durably.
func (c *Collator) writeFormerDirs(dirs []string) error {
	path := filepath.Join(c.dir, formerDirsName)
	if len(dirs) == 0 {
		err := os.Remove(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return c.fs.syncDir(c.dir)
	}
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, err = f.WriteString(strings.Join(dirs, "\n") + "\n")
	if err == nil {
		err = c.fs.syncFile(f)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return err
	}
	return c.fs.syncDir(c.dir)
}

// droppedDirs returns the rolled folders of before that after no longer
// has, the log folder never among them.
func droppedDirs(dir string, before, after []LogConfig) []string {
	keep := rolledDirs(dir, after)
	var out []string
	for _, d := range rolledDirs(dir, before)[1:] {
		if !slices.Contains(keep, d) {
			out = append(out, d)
		}
	}
	return out
}

// rememberDropped adds the folders a reload drops to the list before the
// reload applies them; a failure is logged: the reload goes on, and only a
// crash before the files in flight finish would leave them to a start with
// the folder configured again.
func (c *Collator) rememberDropped(dropped []string) {
	if len(dropped) == 0 {
		return
	}
	have, err := readFormerDirs(c.dir)
	if err == nil {
		for _, d := range dropped {
			if !slices.Contains(have, d) {
				have = append(have, d)
			}
		}
		err = c.writeFormerDirs(have)
	}
	if err != nil {
		c.log.Warn("cannot remember the rolled folders a reload drops; after a crash, files still being finished there wait for a start with them configured",
			"dirs", dropped, "err", err)
	}
}

// formerDirsAtStart returns the listed folders that are not configured
// (configured: rolledDirs of the configuration), for recoverPending to look
// into too. A list that cannot be read (a folder under its name, no
// permission) is an error: the caller says so, and the list stays as it is
// for a later start.
func formerDirsAtStart(dir string, configured []string) ([]string, error) {
	listed, err := readFormerDirs(dir)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range listed {
		if !slices.Contains(configured, d) {
			out = append(out, d)
		}
	}
	return out, nil
}

// pruneFormerDirs keeps in the list the folders of former in which start-up
// recovery found pending files (jobs), says so for each, and writes the
// list; the folders configured again, or with nothing pending, go.
func (c *Collator) pruneFormerDirs(former []string, jobs []*job) {
	listed, err := readFormerDirs(c.dir)
	if err != nil || len(listed) == 0 {
		return
	}
	var keep []string
	for _, d := range former {
		n := 0
		for _, j := range jobs {
			if j.storage.Dir == d {
				n++
			}
		}
		if n > 0 {
			keep = append(keep, d)
			c.log.Warn("finishing rolled files a crash left in a rolled folder no longer configured; they stay there, visible, no longer counted or deleted",
				"dir", d, "files", n)
			continue
		}
		if n := rolledIn(d); n < 0 {
			keep = append(keep, d)
			c.log.Warn("a rolled folder a reload dropped cannot be read: kept in the list, its rolled files handed on once it can be", "dir", d)
		} else if n > 0 {
			// Their hand-on (shipping, hooks) goes on across restarts: the
			// daemon's start-up scan reads the listed folders too.
			keep = append(keep, d)
			c.log.Warn("rolled files in a rolled folder a reload dropped: still handed on (shipped, hooks), no longer counted or deleted; move them into a configured folder",
				"dir", d, "files", n)
		}
	}
	if err := c.writeFormerDirs(keep); err != nil {
		c.log.Warn("cannot rewrite the list of rolled folders a reload dropped", "path", filepath.Join(c.dir, formerDirsName), "err", err)
	}
}

// rolledIn counts the regular files in dir whose names end as rolled
// files' do (.old, .old.gz, .old.zst), hidden ones aside; -1 when dir
// exists but cannot be read (it stays listed: its files may be readable at
// the next start), 0 when it is gone or not a folder.
func rolledIn(dir string) int {
	ents, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return 0
		}
		return -1
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if e.Type().IsRegular() && !strings.HasPrefix(name, ".") &&
			(strings.HasSuffix(name, ".old") || strings.HasSuffix(name, ".old.gz") || strings.HasSuffix(name, ".old.zst")) {
			n++
		}
	}
	return n
}

// FormerDirs returns the rolled folders that a reload dropped and that
// still held rolled files or files in flight at the last start or reload
// (listed in the log folder dir). The daemon's start-up scan hands their
// files on too; nothing counts or deletes them.
func FormerDirs(dir string) []string {
	dirs, _ := readFormerDirs(dir)
	return dirs
}
