package logging

import (
	"os"

	"golang.org/x/sys/unix"
)

// writebackBytes is how much a log writes, at DurabilityRoll, before it
// asks the kernel to start writing those bytes to disk (1 MiB).
//
// The roll's fsync must otherwise flush everything written since the last
// roll at once, on the writer goroutine, while writers wait: under load,
// about a second of writes (docs/performance.md, "Early writeback").
// Started early, the writeback runs while the log goes on, and the fsync at
// the roll only waits for the last megabyte or so (the technique of
// RocksDB's bytes_per_sync).
const writebackBytes = 1 << 20

// writeback tracks the bytes written to the active file since the last
// writeback request.
type writeback struct {
	f       *os.File // the file pending belongs to
	pending int64    // bytes written to f and not yet handed to the kernel's writeback
}

// startWriteback notes that n bytes were just written at the end of the
// active file and, at DurabilityRoll, once writebackBytes are pending,
// has the flusher goroutine start their writeback with
// sync_file_range(SYNC_FILE_RANGE_WRITE), which does not wait for the disk. It is advisory: an error (a file system
// without it) is ignored, and the roll's fsync stays the guarantee.
// DurabilitySync fsyncs every group anyway, and DurabilityWrite promises
// nothing of the disk.
func (w *writer) startWriteback(n int64) {
	if w.c.set.Load().Durability != DurabilityRoll || w.f == nil {
		return
	}
	if w.wb.f != w.f {
		w.wb = writeback{f: w.f}
	}
	w.wb.pending += n
	if w.wb.pending < writebackBytes {
		return
	}
	off, length := w.size-w.wb.pending, w.wb.pending
	w.wb.pending = 0
	w.c.flush.request(w.f, off, length)
}

// startFileWriteback starts the writeback of n bytes of f from off, without
// waiting for it; errors, and a file closed since, are ignored (see
// startWriteback). It runs on the flusher goroutine.
func startFileWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
