package logging

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// One compression: the raw file into a hidden temporary, then renamed to
// its final name (the sequence is in compress.go).

// errRawGone is wrapped when a job's hidden raw file is no longer there
// (someone removed it): there is nothing to compress.
var errRawGone = errors.New("hidden raw file gone")

// Suffixes of the hidden names of compression: .<final name>.raw is a
// rolled file waiting for its compression, .<final name>.tmp<random> a
// compression in progress.
const (
	rawSuffix = ".raw"
	tmpInfix  = ".tmp"
)

// rawName returns the hidden in-progress name of the final name final.
func rawName(final string) string { return "." + final + rawSuffix }

// compressFile makes one attempt at j: compress its raw file into a
// temporary, sync it, give it the raw file's times, rename it to the final
// name, sync the folder and remove the raw file. It returns the final
// Rolled. On error nothing is left but the raw file (the temporary is
// removed), and errAborted when abort was closed.
//
// Every step after the raw file's opening names files relative to the
// folder opened first, not by path: a folder moved during the compression
// (mv logs logs.old && mkdir logs, an archive folder moved by hand) gets
// its compression finished where it now is, the temporary removed or
// renamed there, and never leaves a job half done in a folder the daemon
// no longer looks at. The Rolled then says where the file is, and moved
// says so.
func (c *Collator) compressFile(j *job, abort <-chan struct{}) (Rolled, error) {
	dir := filepath.Dir(j.raw)
	finalBase := filepath.Base(j.final())
	d, err := j.folder()
	if err != nil {
		return Rolled{}, err
	}
	dfd := int(d.Fd())
	in, err := openAt(dfd, j.raw, unix.O_RDONLY|unix.O_NOFOLLOW, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Rolled{}, fmt.Errorf("%s: %w", j.raw, errRawGone)
		}
		return Rolled{}, err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return Rolled{}, err
	}
	var src io.Reader = in
	var lines *lineCounter
	if j.recovered {
		lines = &lineCounter{r: in}
		src = lines
	}
	tmp, err := createTempAt(dfd, dir, "."+finalBase+tmpInfix)
	if err != nil {
		return Rolled{}, fmt.Errorf("create the temporary of %s: %w", j.final(), err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = unix.Unlinkat(dfd, filepath.Base(tmp.Name()), 0)
		}
	}()
	perm := c.set.Load().Perm
	if err := tmp.Chmod(perm.Perm()); err != nil {
		return Rolled{}, err
	}
	var out io.Writer = tmp
	if c.fs.compressed != nil {
		out = c.fs.compressed(out)
	}
	bw := bufio.NewWriterSize(out, 256<<10)
	n, err := c.comp.chunks.encodeFile(bw, src, j.storage, j.base, fi.ModTime(), func() { c.comp.yield(abort) }, abort)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return Rolled{}, err
	}
	if j.durable {
		if err := c.fs.syncFile(tmp); err != nil {
			return Rolled{}, fmt.Errorf("sync %s: %w", tmp.Name(), err)
		}
	}
	// The rolled file's times are its END (space.OrderKey): the raw
	// file's, which the roll set.
	if err := futimes(tmp, fi.ModTime()); err != nil {
		c.log.Warn("cannot set the compressed file's modification time to its END", "path", tmp.Name(), "err", err)
	}
	if st, err := tmp.Stat(); err != nil || st.Size() != n {
		return Rolled{}, fmt.Errorf("temporary %s holds %v bytes, %d were written: not renamed into place (%v)", tmp.Name(), sizeOf(st), n, err)
	}
	if err := tmp.Close(); err != nil {
		return Rolled{}, fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := renameNoReplaceAt(dfd, filepath.Base(tmp.Name()), finalBase); err != nil {
		return Rolled{}, &os.LinkError{Op: "rename", Old: tmp.Name(), New: j.final(), Err: err}
	}
	ok = true
	if j.durable {
		c.syncJobDir(j)
	}
	// The final file is complete (and durable): the raw file can go. A
	// crash before this removal leaves both, and the next start removes
	// the raw file.
	if err := unix.Unlinkat(dfd, filepath.Base(j.raw), 0); err != nil && !errors.Is(err, unix.ENOENT) {
		c.log.Warn("cannot remove the raw file of a compressed rolled file; the next start removes it", "path", j.raw, "err", err)
	}
	r := j.rolled
	r.Bytes, r.RawBytes = n, fi.Size()
	if lines != nil {
		r.Records = lines.n
	}
	r.Path = j.where(finalBase)
	return r, nil
}

// sizeOf returns fi's size, or -1 for a nil fi.
func sizeOf(fi fs.FileInfo) int64 {
	if fi == nil {
		return -1
	}
	return fi.Size()
}

// futimes sets f's access and modification times to t (futimes(2),
// microseconds).
func futimes(f *os.File, t time.Time) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	tv := unix.NsecToTimeval(t.UnixNano())
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = unix.Futimes(int(fd), []unix.Timeval{tv, tv}) }); err != nil {
		return err
	}
	return serr
}

// joinPath is filepath.Join(dir, name).
func joinPath(dir, name string) string { return filepath.Join(dir, name) }
