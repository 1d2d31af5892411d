package logging

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Restart recovery of pending rolled files: compression (compress.go) and
// durable rolls waiting for their fsync (publish.go). A kill at any point
// leaves, in a rolled folder, some of:
//
//   - .<final>.raw without <final>: the rolled file, not yet compressed or
//     published (the kill came before the rename into place): its torn
//     tail, if a power loss left one, is cut (repairTail), then it is
//     compressed again, after its temporaries are removed, or published;
//   - .<final>.raw and <final>, <final> compressed: the kill came after the
//     rename, which was synced (Durability ≥ Roll) before the raw file's
//     removal: the raw file is removed; <final> plain: a publication is one
//     rename, so someone else made one of them: both are kept, and a
//     warning says so;
//   - .<final>.tmp<random> without its raw file, or with it: a compression
//     in progress, incomplete (a temporary is never renamed into place by
//     anything but the process that wrote all of it): removed.
//
// So after a restart every record is in exactly one visible file, and no
// temporary is left. Only names of this exact shape are touched, where
// <final> is a rolled name (ParseRolledName): with a compression's
// extension for temporaries, with or without one for raw files.

// pendingName classifies a hidden name of a rolled folder: the final name
// of a raw file (kind "raw") or of a temporary (kind "tmp"); "" for any
// other name.
func pendingName(name string) (final, kind string) {
	if !strings.HasPrefix(name, ".") {
		return "", ""
	}
	rest := name[1:]
	if f, ok := strings.CutSuffix(rest, rawSuffix); ok && isRolledName(f) {
		return f, "raw"
	}
	if i := strings.LastIndex(rest, tmpInfix); i > 0 && nameAllDigits(rest[i+len(tmpInfix):]) && isCompressedName(rest[:i]) {
		return rest[:i], "tmp"
	}
	return "", ""
}

// IsPending reports whether name, in a rolled folder, is a rolled file
// waiting, hidden, for its compression or its publication (.<final>.raw):
// its records are in no visible file yet; after a crash, the next start
// finishes it in a configured folder or in one a reload dropped
// (formerdirs.go).
func IsPending(name string) bool {
	_, kind := pendingName(name)
	return kind == "raw"
}

// IsCompressTemp reports whether name, in a rolled folder, is the temporary
// of a compression in progress (.<final>.tmp<digits>, <final> compressed):
// transient bytes, gone when the compression ends either way.
func IsCompressTemp(name string) bool {
	_, kind := pendingName(name)
	return kind == "tmp"
}

// rolledNames returns names (a folder's listing) with the hidden raw files
// waiting for their compression or publication under their final names:
// the names the log produced, for its rolled-name state.
func rolledNames(names []string) []string {
	out := names
	for i, n := range names {
		if final, kind := pendingName(n); kind == "raw" {
			if &out[0] == &names[0] {
				out = slices.Clone(names)
			}
			out[i] = final
		}
	}
	return out
}

// isCompressedName reports whether name is a rolled name stored compressed.
func isCompressedName(name string) bool {
	r, err := ParseRolledName(name, nil, "", time.UTC)
	return err == nil && r.Compression != CompressionNone
}

// isRolledName reports whether name is a rolled name, stored compressed or
// not.
func isRolledName(name string) bool {
	_, err := ParseRolledName(name, nil, "", time.UTC)
	return err == nil
}

// recoverPending finishes what a crash left in the rolled folders dirs
// (the log folder among them): it removes temporaries and raw files whose
// final file exists, and returns a job for every raw file to compress
// again, with the current storage of its log when the log is configured
// (its compression comes from the name in any case). It runs in New,
// before any goroutine.
func (c *Collator) recoverPending(dirs []string) []*job {
	set := c.set.Load()
	var jobs []*job
	for _, dir := range dirs {
		names, err := listNames(dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.log.Warn("cannot list a rolled folder for unfinished compressions", "dir", dir, "err", err)
			}
			continue
		}
		have := make(map[string]bool, len(names))
		for _, n := range names {
			have[n] = true
		}
		var removed []string
		for _, n := range names {
			final, kind := pendingName(n)
			switch {
			case kind == "tmp":
				if err := os.Remove(filepath.Join(dir, n)); err == nil {
					removed = append(removed, n)
				}
			case kind == "raw" && have[final] && isCompressedName(final):
				if err := os.Remove(filepath.Join(dir, n)); err == nil {
					removed = append(removed, n)
				}
			case kind == "raw" && have[final]:
				// A publication is one rename: the pending file and its
				// rolled name never both exist, unless someone else made
				// one of them. Both are kept.
				c.log.Warn("a rolled file left hidden by a crash has a namesake someone else made; both kept, neither published",
					"path", filepath.Join(dir, n))
			case kind == "raw":
				if j := c.recoveredJob(dir, n, final, set); j != nil {
					jobs = append(jobs, j)
				}
			}
		}
		if len(removed) > 0 {
			c.log.Warn("removed what compressions interrupted by a crash left", "dir", dir, "files", removed)
		}
	}
	return jobs
}

// recoveredJob returns the job that compresses or publishes the raw file
// name (final name final) of dir, after cutting its torn tail, or nil if it
// cannot be read.
func (c *Collator) recoveredJob(dir, name, final string, set *Config) *job {
	raw := filepath.Join(dir, name)
	fi, err := os.Lstat(raw)
	if err != nil || !fi.Mode().IsRegular() {
		return nil
	}
	size, err := c.repairPending(raw, fi.Size())
	if err != nil {
		c.log.Warn("cannot check the tail of a rolled file a crash left hidden; kept as it is", "path", raw, "err", err)
		size = fi.Size()
	}
	actives := c.Logs()
	rn, err := ParseRolledName(final, actives, c.set.Load().Hostname, c.loc)
	if err != nil {
		// A wall time c.loc skips (a name written under another zone):
		// the times are only shown, the file is compressed all the same.
		if rn, err = ParseRolledName(final, actives, c.set.Load().Hostname, time.UTC); err != nil {
			return nil
		}
	}
	st := Storage{Dir: dir, Compression: rn.Compression}
	var l *logFile
	for _, lc := range set.Logs {
		if lc.Name == rn.Active {
			l = (*c.logs.Load())[lc.Name]
			if lc.Storage.Compression == rn.Compression {
				st.Level = lc.Storage.Level
			}
		}
	}
	base := strings.TrimSuffix(final, rn.Compression.Ext())
	if rn.Compression == CompressionNone {
		c.log.Info("publishing a rolled file a crash left hidden", "path", raw)
	} else {
		c.log.Info("compressing a rolled file a stop or a crash left uncompressed", "path", raw)
	}
	return &job{
		l: l, log: rn.Active, raw: raw, base: base, storage: st, dir: openJobDirOrNil(dir),
		// A pending file is fsynced before it is published whatever the
		// durability now: it may come from a run at durability roll.
		durable:   true,
		recovered: true,
		rolled: Rolled{
			Log: rn.Active, Path: filepath.Join(dir, final), Dir: dir,
			Start: rn.Start, End: rn.End, Bytes: size, RawBytes: size,
			// The roll's cause is not kept across a crash: CauseTime,
			// said as "unknown" (finished); the records are counted as
			// the job reads the file (off the start path).
			Cause: CauseTime, Compression: rn.Compression,
		},
	}
}

// repairPending cuts the torn tail a power loss may leave on the pending
// file at path (repairTail; the modification time, its END, is kept) and
// returns its size.
func (c *Collator) repairPending(path string, size int64) (int64, error) {
	if size == 0 {
		return 0, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return size, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return size, err
	}
	n, err := repairTail(f, size)
	if err != nil || n == size {
		return n, err
	}
	// Its END again at once, through the open file: the modification
	// time orders rolled files (space.OrderKey).
	if err := futimes(f, fi.ModTime()); err != nil {
		return n, err
	}
	c.log.Warn("cut the torn tail of a rolled file a crash left hidden", "path", path, "bytes_cut", size-n)
	return n, nil
}
