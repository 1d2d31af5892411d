package space

import (
	"io/fs"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// statAt returns the Lstat of the entry de of the open folder d, with
// fstatat(2) relative to the folder's descriptor, which spares the kernel
// the walk of the full path that Lstat would make: that matters for a
// folder of 100,000 files (BenchmarkScan; docs/performance.md).
func statAt(d *os.File, de fs.DirEntry) (fileStat, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(int(d.Fd()), de.Name(), &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fileStat{}, &fs.PathError{Op: "fstatat", Path: de.Name(), Err: err}
	}
	return fileStat{
		size:    st.Size,
		mtime:   time.Unix(st.Mtim.Unix()),
		ctime:   time.Unix(st.Ctim.Unix()),
		id:      fileID{dev: uint64(st.Dev), ino: st.Ino}, //nolint:unconvert // widths differ by platform
		hasID:   true,
		regular: st.Mode&unix.S_IFMT == unix.S_IFREG,
	}, nil
}
