//go:build unix

package space

import (
	"io/fs"
	"syscall"
)

// idOf returns the device and inode of the file fi describes (from Lstat or
// a directory entry), and false when they are not known.
func idOf(fi fs.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{dev: uint64(st.Dev), ino: uint64(st.Ino)}, true //nolint:unconvert // widths differ by platform
}
