//go:build !unix

package space

import "io/fs"

// idOf returns false: without inode numbers, a file renamed inside the folder
// is counted as one file leaving and another appearing (see docs/space.md).
func idOf(fs.FileInfo) (fileID, bool) { return fileID{}, false }
