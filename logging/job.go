package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// A job is one rolled file on its way to its final form, and what becomes
// of it: compressed (compressOK), given up and published uncompressed
// (publishRaw), or failed for good; each ends in finished or answer, which
// report it and answer a waiting Roll. The compressor (compress.go) makes
// the attempts; the publisher (publish.go) finishes the jobs of logs
// stored uncompressed.

// job is one rolled file to put in its final form.
type job struct {
	l       *logFile // its log, for counters; nil for a recovered file of a log not configured
	log     string   // active name
	raw     string   // path of the hidden raw file
	base    string   // the plain rolled name (the .old name)
	storage Storage  // the folder (Dir, absolute) and the compression
	rolled  Rolled   // the roll's result; Path is the final path once done
	durable bool     // Durability ≥ Roll when it rolled
	// reply is a forced Roll waiting for the final form; nil for none.
	reply    chan<- opResult
	attempts int
	due      time.Time // when a failed job is tried again

	// dir is the folder of raw, opened at the roll (or at the first step
	// that needs it): every step names the job's files relative to it, not
	// by path, so that a folder moved meanwhile (mv logs logs.old && mkdir
	// logs, an archive folder moved by hand) is followed and the job
	// finished there. Closed when the job ends (answer, abandon). One
	// descriptor per job in flight: the compressor holds at most
	// maxCompressBacklog waiting, and the publisher's queue is bounded by
	// the fsyncs the kernel's dirty-page throttling lets pile up; Go
	// raises the soft RLIMIT_NOFILE to the hard one.
	dir *os.File
	// moved is set once the job's files were found in a folder moved away
	// from its path: the final file is no longer the daemon's.
	moved bool
	// recovered is a job a start found (recover.go): the roll's cause was
	// not kept across the crash.
	recovered bool
	// removed is set with moved when the folder was removed: the file went
	// with it.
	removed bool
}

// openJobDirOrNil opens the folder dir for a job's dir, or returns nil:
// the job's first step then opens it by path (folder), and says why if it
// cannot.
func openJobDirOrNil(dir string) *os.File {
	d, err := openDir(dir)
	if err != nil {
		return nil
	}
	return d
}

// folder returns j.dir, opening the raw file's folder by path if the roll
// could not.
func (j *job) folder() (*os.File, error) {
	if j.dir == nil {
		d, err := openDir(filepath.Dir(j.raw))
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, fmt.Errorf("%s: %w", j.raw, errRawGone)
			}
			return nil, err
		}
		j.dir = d
	}
	return j.dir, nil
}

// closeDir closes j.dir once the job has ended.
func (j *job) closeDir() {
	if j.dir != nil {
		j.dir.Close()
		j.dir = nil
	}
}

// where returns the path r should report for a file named base in the
// job's folder: where the folder is now, and sets j.moved when that is no
// longer its path (the old path when where it went cannot be read).
func (j *job) where(base string) string {
	dir := filepath.Dir(j.raw)
	if j.dir == nil {
		return filepath.Join(dir, base)
	}
	if now, moved := movedDir(j.dir, dir); moved {
		j.moved = true
		j.removed = removedDir(j.dir)
		if now != "" {
			return filepath.Join(now, base)
		}
	}
	return filepath.Join(dir, base)
}

// syncRaw fsyncs j's raw file, named in its folder.
func (c *Collator) syncRaw(j *job) error {
	d, err := j.folder()
	if err != nil {
		return err
	}
	f, err := openAt(int(d.Fd()), j.raw, unix.O_RDONLY, 0)
	if err != nil {
		return err
	}
	return c.syncClose(f)
}

// renameRaw renames j's raw file to base in its folder, unless a file has
// that name, and fsyncs the folder if durable.
func (c *Collator) renameRaw(j *job, base string, durable bool) error {
	d, err := j.folder()
	if err != nil {
		return err
	}
	if err := renameNoReplaceAt(int(d.Fd()), filepath.Base(j.raw), base); err != nil {
		return &os.LinkError{Op: "rename", Old: j.raw, New: filepath.Join(filepath.Dir(j.raw), base), Err: err}
	}
	if durable {
		c.syncJobDir(j)
	}
	return nil
}

// syncJobDir fsyncs j's folder, the one it holds open wherever it is now,
// and warns if that fails.
func (c *Collator) syncJobDir(j *job) {
	dir := filepath.Dir(j.raw)
	if d, err := j.folder(); err == nil {
		dir = procPath(d)
	}
	if err := c.fs.syncDir(dir); err != nil {
		c.log.Warn("rolled folder sync failed", "dir", filepath.Dir(j.raw), "err", err)
	}
}

// final returns the job's final path.
func (j *job) final() string { return j.rolled.Path }

// finishJob makes one attempt at j (compress.go's sequence); on failure it
// sets j.due for a retry, or publishes the raw file uncompressed after
// maxCompressAttempts. A job aborted by Close keeps its raw file and gets
// due set too: run abandons it.
func (c *Collator) finishJob(j *job, abort <-chan struct{}) {
	t0 := c.now()
	r, err := c.compressFile(j, abort)
	if err == nil {
		c.compressOK(j, r, c.now().Sub(t0))
		return
	}
	if errors.Is(err, errAborted) {
		j.due = c.now() // abandoned by run
		return
	}
	j.attempts++
	c.countJob(j, cCompressFailures, 1)
	if errors.Is(err, errRawGone) {
		c.log.Error("cannot compress rolled file: its hidden raw file is gone", "log", j.log, "path", j.raw, "err", err)
		c.answer(j, opResult{err: fmt.Errorf("logging: roll %s: %w", j.log, err)})
		return
	}
	if j.attempts < maxCompressAttempts {
		delay := min(firstCompressRetry<<(j.attempts-1), maxCompressRetry)
		j.due = c.now().Add(delay)
		c.log.Warn("cannot compress rolled file; the raw file is kept and compression retried",
			"log", j.log, "path", j.raw, "attempt", j.attempts, "retry_in", delay, "err", err)
		return
	}
	c.publishRaw(j, err)
}

// compressOK reports a job done: counted, logged, reported to OnRoll and
// answered.
func (c *Collator) compressOK(j *job, r Rolled, took time.Duration) {
	c.countJob(j, cCompressed, 1)
	c.countJob(j, cCompressIn, r.RawBytes)
	c.countJob(j, cCompressOut, r.Bytes)
	c.countJob(j, cCompressNanos, int64(took))
	if j.attempts > 0 {
		c.log.Info("rolled file compressed after failed attempts", "log", j.log, "path", r.Path, "failed_attempts", j.attempts)
	}

	c.finished(j, r)
}

// publishRaw gives up compressing j after its last failure cause (or
// errBehind): the raw file is renamed to its plain rolled name, so that it
// is visible and deletable. If even that fails, the raw file stays hidden,
// to be tried again at the next start.
func (c *Collator) publishRaw(j *job, cause error) {
	plain := j.rolled
	plain.Path = joinPath(j.storage.Dir, j.base)
	plain.Compression = CompressionNone
	if j.durable { // the raw file was not fsynced at the roll (publish.go)
		if err := c.syncRaw(j); err != nil {
			c.log.Warn("rolled file sync failed; published all the same, it may not survive a power loss",
				"log", j.log, "path", j.raw, "err", err)
		}
	}
	err := c.renameRaw(j, j.base, j.durable)
	if err == nil {
		plain.Path = j.where(j.base)
	}
	if err != nil {
		c.log.Error("cannot compress rolled file nor publish it uncompressed; it stays hidden until the next start",
			"log", j.log, "path", j.raw, "compress_err", cause, "err", err)
		c.answer(j, opResult{err: fmt.Errorf("logging: roll %s: compress %s: %w; publish uncompressed: %w", j.log, j.raw, cause, err)})
		return
	}
	if fi, serr := os.Lstat(plain.Path); serr == nil {
		plain.Bytes, plain.RawBytes = fi.Size(), fi.Size()
	}
	c.countJob(j, cCompressFallbacks, 1)
	if errors.Is(cause, errBehind) {
		c.log.Warn("compression falls behind the rolls; published the oldest waiting rolled file uncompressed",
			"log", j.log, "path", plain.Path, "waiting", maxCompressBacklog)
	} else {
		c.log.Warn("cannot compress rolled file; published it uncompressed under its plain rolled name",
			"log", j.log, "path", plain.Path, "attempts", j.attempts, "err", cause)
	}
	c.finished(j, plain)
}

// finished logs the rolled file in its final form, reports it to OnRoll
// and answers a waiting Roll.
//
// A file finished in a folder moved away from its path since the roll
// (j.moved) is no longer the daemon's, as the files of a rolled folder a
// reload drops: it is said and answered with its path there, and not
// reported to OnRoll (neither counted in the log space nor handed on).
func (c *Collator) finished(j *job, r Rolled) {
	if j.removed {
		c.log.Error("the rolled folder was removed before its rolled file was in its final form: the file went with it",
			"log", j.log, "folder", filepath.Dir(j.raw), "records", r.Records)
		c.answer(j, opResult{err: fmt.Errorf("logging: roll %s: the rolled folder %s was removed, and the rolled file with it", j.log, filepath.Dir(j.raw))})
		return
	}
	if j.moved {
		r.Dir = filepath.Dir(r.Path)
		c.log.Warn("the rolled folder was moved before its rolled file was in its final form: the file was finished in the moved folder, which is no longer counted, listed, deleted or handed on",
			"log", j.log, "path", r.Path, "folder_was", filepath.Dir(j.raw), "records", r.Records)
		c.answer(j, opResult{rolled: &r})
		return
	}
	cause := r.Cause.String()
	if j.recovered {
		cause = "unknown (rolled before a stop or a crash, finished at start)"
	}
	attrs := []any{"log", r.Log, "path", r.Path, "cause", cause, "bytes", r.Bytes, "records", recordsAttr(r)}
	if r.Compression != CompressionNone {
		attrs = append(attrs, "compression", r.Compression.String(), "raw_bytes", r.RawBytes)
	}
	c.log.Info("rolled", attrs...)
	c.reportRoll(r)
	c.answer(j, opResult{rolled: &r})
}

// answer ends j: it is no longer pending, and res goes to its waiting
// Roll, if any.
func (c *Collator) answer(j *job, res opResult) {
	if j.storage.Compression == CompressionNone {
		c.pub.pending.Add(-1)
	} else {
		c.comp.pending.Add(-1)
	}
	j.closeDir()
	if j.reply != nil {
		j.reply <- res
		j.reply = nil
	}
}

// countJob adds n to counter k of j's log (or the totals only).
func (c *Collator) countJob(j *job, k counter, n int64) {
	if j.l != nil {
		j.l.count(k, n)
		return
	}
	c.total[k].Add(n)
}
