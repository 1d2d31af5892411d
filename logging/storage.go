package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Compression is how a log's rolled files are stored (rolled_compression,
// docs/design.md §10).
type Compression int

// The compressions.
const (
	// CompressionNone stores the plain .old file, renamed from the active file.
	CompressionNone Compression = 0
	// CompressionGzip stores <rolled name>.gz (RFC 1952, klauspost/compress).
	CompressionGzip Compression = 1
	// CompressionZstd stores <rolled name>.zst (RFC 8878, klauspost/compress).
	CompressionZstd Compression = 2
)

// String returns the record's spelling: "none", "gzip" or "zstd".
func (c Compression) String() string {
	switch c {
	case CompressionNone:
		return "none"
	case CompressionGzip:
		return "gzip"
	case CompressionZstd:
		return "zstd"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Ext returns the extension a compressed rolled name ends with (".gz",
// ".zst"), "" for CompressionNone.
func (c Compression) Ext() string {
	switch c {
	case CompressionGzip:
		return ".gz"
	case CompressionZstd:
		return ".zst"
	}
	return ""
}

// Levels of the compressions: a Storage.Level of 0 selects the format's
// default, the one its stock command uses (gzip -6, zstd -3).
const (
	DefaultGzipLevel = 6
	DefaultZstdLevel = 3
	MaxGzipLevel     = 9
	MaxZstdLevel     = 22
)

// Storage is where and in what form a log's rolled files are stored.
type Storage struct {
	// Dir is the folder rolled files are renamed into (rolled_dir), an
	// absolute path; "" (or Config.Dir itself) is the log folder. It must
	// be on the log folder's filesystem (a roll is a rename) and is
	// created if missing. See CheckRolledDir.
	Dir string
	// Compression is how rolled files are stored.
	Compression Compression
	// Level is the compression level: 1–9 for gzip, 1–22 for zstd (zstd's
	// levels, mapped onto klauspost/compress's four encoders); 0 selects
	// DefaultGzipLevel or DefaultZstdLevel.
	Level int
}

// level returns the effective level of s.
func (s Storage) level() int {
	switch {
	case s.Level > 0:
		return s.Level
	case s.Compression == CompressionZstd:
		return DefaultZstdLevel
	}
	return DefaultGzipLevel
}

// validateStorage checks one log's storage; dir is the (clean, absolute)
// log folder. It does not touch the filesystem: see CheckRolledDir.
func validateStorage(name, dir string, s Storage) (Storage, []error) {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("logging: config: log %s: "+format, append([]any{name}, args...)...))
	}
	switch s.Compression {
	case CompressionNone:
	case CompressionGzip:
		if s.Level < 0 || s.Level > MaxGzipLevel {
			bad("gzip level %d out of range 1–%d (0: default %d)", s.Level, MaxGzipLevel, DefaultGzipLevel)
		}
	case CompressionZstd:
		if s.Level < 0 || s.Level > MaxZstdLevel {
			bad("zstd level %d out of range 1–%d (0: default %d)", s.Level, MaxZstdLevel, DefaultZstdLevel)
		}
	default:
		bad("compression %d unknown (none, gzip or zstd)", int(s.Compression))
	}
	switch {
	case s.Dir == "":
	case !filepath.IsAbs(s.Dir):
		bad("rolled folder %q must be an absolute path", s.Dir)
	case hasDotDot(s.Dir):
		bad("rolled folder %q must not contain '..'", s.Dir)
	default:
		s.Dir = filepath.Clean(s.Dir)
		if s.Dir == dir {
			s.Dir = ""
		}
	}
	return s, errs
}

// hasDotDot reports whether path has a ".." element.
func hasDotDot(path string) bool {
	for _, e := range strings.Split(filepath.ToSlash(path), "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// errRolledDir is wrapped by CheckRolledDir's errors.
var errRolledDir = errors.New("unusable rolled folder")

// CheckRolledDir reports whether rolled, an absolute path, can hold the
// rolled files of the log folder dir, without creating anything: it must
// be a folder (or not exist yet, under a folder where it can be created),
// be writable by this process, and be on dir's filesystem, since a roll
// renames the active file into it (a copy between filesystems could leave
// half a file behind; a rename cannot). The errors say what is wrong and
// where.
func CheckRolledDir(dir, rolled string) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w %s: %s", errRolledDir, rolled, fmt.Sprintf(format, args...))
	}
	if !filepath.IsAbs(rolled) {
		return fail("not an absolute path")
	}
	if hasDotDot(rolled) {
		return fail("must not contain '..'")
	}
	rolled = filepath.Clean(rolled)
	at, fi, err := nearestDir(rolled)
	if err != nil {
		return fail("%v", err)
	}
	if !fi.IsDir() {
		what := "a file"
		if !fi.Mode().IsRegular() {
			what = fileKind(fi.Mode())
		}
		if at == rolled {
			return fail("is %s, not a folder", what)
		}
		return fail("cannot be created: %s is %s, not a folder", at, what)
	}
	// access(2) itself, not AT_EACCESS: x/sys emulates that flag from the
	// mode bits when the kernel lacks faccessat2, which grants root
	// everything, an immutable folder included (the daemon is not setuid:
	// its real and effective ids are one).
	if err := unix.Faccessat(unix.AT_FDCWD, at, unix.W_OK|unix.X_OK, 0); err != nil {
		if at == rolled {
			return fail("not writable by this process: %v", err)
		}
		return fail("cannot be created: %s is not writable by this process: %v", at, err)
	}
	dat, dfi, err := nearestDir(filepath.Clean(dir))
	if err != nil {
		return fail("log folder %s: %v", dir, err)
	}
	if a, b := devOf(fi), devOf(dfi); a != b {
		return fail("on another filesystem than the log folder %s (%s): rolled files are moved there by a rename, which cannot cross filesystems", dir, dat)
	}
	if a, aok := mountOf(at); aok {
		if b, bok := mountOf(dat); bok && a != b {
			return fail("on another mount than the log folder %s (%s), of the same filesystem (a bind mount?): rolled files are moved there by a rename, which cannot cross mounts", dir, dat)
		}
	}
	return nil
}

// mountOf returns the id of the mount path is on (statx STATX_MNT_ID,
// Linux 5.8), false when the kernel does not say. Two paths of one
// filesystem on two mounts (a bind mount) have one device and two mount
// ids, and a rename between them fails with EXDEV.
func mountOf(path string) (uint64, bool) {
	var stx unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, path, 0, unix.STATX_MNT_ID, &stx); err != nil || stx.Mask&unix.STATX_MNT_ID == 0 {
		return 0, false
	}
	return stx.Mnt_id, true
}

// nearestDir returns path, or the nearest path above it that exists, with
// what Stat says of it.
func nearestDir(path string) (string, fs.FileInfo, error) {
	for {
		fi, err := os.Stat(path)
		switch {
		case err == nil:
			return path, fi, nil
		case errors.Is(err, syscall.ENOTDIR):
			// A path element is a file: find which.
		case !errors.Is(err, fs.ErrNotExist):
			return "", nil, err
		}
		parent := filepath.Dir(path)
		if parent == path {
			return "", nil, err
		}
		path = parent
	}
}

// devOf returns the device fi is on, or 0 when it cannot be told.
func devOf(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Dev)
	}
	return 0
}
