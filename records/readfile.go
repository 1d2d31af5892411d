package records

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// MaxFileBytes bounds every file the configuration reads: records.toml,
// certificates, keys, the client CA file and the tokens file.
const MaxFileBytes = 16 << 20

// FileError is every failure of ReadFile: a file that is not a regular
// file of at most MaxFileBytes (Why), or one the system would not open or
// read (Err).
type FileError struct {
	Path, Why string
	Err       error
}

func (e *FileError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return e.Path + ": " + e.Why
}

// Unwrap returns the system's error, if any.
func (e *FileError) Unwrap() error { return e.Err }

// ReadFile reads a file the configuration names: a regular file of at most
// MaxFileBytes. Anything else is refused at once, never waited on nor read
// without end: a FIFO (its open would block until a writer came), a device
// such as /dev/zero (it has no end), a folder. Symbolic links are followed.
func ReadFile(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO for reading returns at once; it means
	// nothing for the regular file that is read.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, &FileError{Path: path, Err: err}
	}
	if !fi.Mode().IsRegular() {
		return nil, &FileError{Path: path, Why: "not a regular file (" + fileKind(fi.Mode()) + ")"}
	}
	if fi.Size() > MaxFileBytes {
		return nil, &FileError{Path: path, Why: fmt.Sprintf("%d bytes, more than the %d a configuration file may have", fi.Size(), MaxFileBytes)}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, &FileError{Path: path, Err: fmt.Errorf("read %s: %w", path, err)}
	}
	if len(data) > MaxFileBytes {
		return nil, &FileError{Path: path, Why: fmt.Sprintf("more than the %d bytes a configuration file may have", MaxFileBytes)}
	}
	return data, nil
}

// fileKind names a mode's type for ReadFile's refusal.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&os.ModeNamedPipe != 0:
		return "a FIFO"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return m.Type().String()
}
