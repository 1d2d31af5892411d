//go:build !linux

package space

import (
	"io/fs"
	"os"
)

// statAt returns the Lstat of the entry de of the open folder d.
func statAt(_ *os.File, de fs.DirEntry) (fileStat, error) {
	fi, err := de.Info()
	if err != nil {
		return fileStat{}, err
	}
	return statOf(fi), nil
}
