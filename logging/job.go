package logging

import (
	"errors"
	"fmt"
	"os"
	"time"
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
		if err := c.syncPending(j.raw); err != nil {
			c.log.Warn("rolled file sync failed; published all the same, it may not survive a power loss",
				"log", j.log, "path", j.raw, "err", err)
		}
	}
	err := renameNoReplace(j.raw, plain.Path)
	if err == nil && j.durable {
		if serr := c.fs.syncDir(j.storage.Dir); serr != nil {
			c.log.Warn("rolled folder sync failed", "dir", j.storage.Dir, "err", serr)
		}
	}
	if err != nil {
		c.log.Error("cannot compress rolled file nor publish it uncompressed; it stays hidden until the next start",
			"log", j.log, "path", j.raw, "compress_err", cause, "err", err)
		c.answer(j, opResult{err: fmt.Errorf("logging: roll %s: compress %s: %w; publish uncompressed: %w", j.log, j.raw, cause, err)})
		return
	}
	if fi, serr := os.Stat(plain.Path); serr == nil {
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
func (c *Collator) finished(j *job, r Rolled) {
	attrs := []any{"log", r.Log, "path", r.Path, "cause", r.Cause.String(), "bytes", r.Bytes, "records", r.Records}
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
