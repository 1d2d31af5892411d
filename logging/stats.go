package logging

import (
	"sync/atomic"
	"time"
)

// LogStats are the counters of one log, or their sum over all logs (docs/design.md §7).
// All counts are since Open; a log removed by Apply keeps contributing to the
// totals.
type LogStats struct {
	// Records and Bytes count what write(2) and writev(2) accepted (Bytes
	// includes the newline the collator adds to each record).
	Records, Bytes int64
	// WriteCalls counts write(2) and writev(2) calls (a writev(2) writing
	// several buffers counts once): with group commit it is far smaller
	// than the number of Write calls under load.
	WriteCalls int64
	// Syncs counts fsync calls on log files (rolls, DurabilitySync, Close).
	Syncs int64
	// WriteErrors counts failed buffer writes (each failed all its callers).
	WriteErrors int64
	// Rolls by cause.
	RollsTime, RollsSize, RollsForced, RollsReload int64
	// RollFailures counts roll attempts whose rename failed (the active file
	// was kept), the automatic retries of a failed time or size roll
	// included: a rename that keeps failing adds one per retry (at most one
	// a minute once backed off), while it is logged once per failure streak.
	RollFailures int64
	// Recreated counts active files recreated after someone else deleted them.
	Recreated int64
	// RollPauses counts rolls that held the log's writer token (every
	// roll attempt, also one finding nothing to roll); RollPauseTotal is
	// the time they held it, and RollPauseMax the longest single hold (in
	// Stats.Total: the longest of any log). While a roll holds the token,
	// Write calls to the log wait: this is how long a roll stalled writers
	// — the fsync of the file (Durability ≥ Roll), the rename, the folder
	// fsync and the creation of the new active file.
	RollPauses                   int64
	RollPauseTotal, RollPauseMax time.Duration

	// Compressed counts rolled files compressed (rolled_compression);
	// CompressedIn the bytes they held and CompressedOut their compressed
	// size (the ratio is In ÷ Out), CompressTime the time the compressions
	// took (wall time, failed attempts excluded). CompressFailures counts
	// failed attempts (each retried, see compress.go), and
	// CompressUncompressed the files published uncompressed after the
	// last attempt failed.
	Compressed, CompressedIn, CompressedOut int64
	CompressTime                            time.Duration
	CompressFailures, CompressUncompressed  int64

	// Size is the current size in bytes of the log's active file, including
	// what an earlier run left in it (at Open); 0 when it is empty or could
	// not be (re)created. It is a gauge, not a count: in Stats.Total it is
	// the sum over the currently declared logs.
	Size int64
	// Start is the START of the active file (the lower bound of its first
	// record, which becomes the START in its rolled name), in
	// Options.Location; the zero time while the file is empty, as then no
	// record determines it yet. For a file continued after a restart it is
	// the START found at Open. It is always zero in Stats.Total.
	Start time.Time
}

// Stats is a snapshot of the collator's counters, returned by Collator.Stats.
// It is a plain value: the caller owns it.
type Stats struct {
	// Logs holds the counters of each currently declared log, by name.
	Logs map[string]LogStats
	// Total sums every log, including logs removed since Open.
	Total LogStats
	// Removed holds the counters of the logs removed since Open and not
	// declared again, by name (their final roll, cause reload, included;
	// Size and Start are zero). A log declared again goes on from them:
	// a log's counters never go back while the daemon runs.
	Removed map[string]LogStats
	// OpenFiles is the number of log files currently open.
	OpenFiles int64
	// RefusedWrites and RefusedRecords count Write calls (and their records)
	// refused with ErrSpaceExhausted.
	RefusedWrites, RefusedRecords int64
	// CompressPending is the number of rolled files waiting for their
	// compression or being compressed (retries included).
	CompressPending int64
	// PublishPending is the number of rolled files waiting for their fsync
	// and their rolled name (DurabilityRoll, uncompressed: publish.go).
	PublishPending int64
}

// counter names one live counter.
type counter int

// The live counters; the rolls by cause are consecutive, in RollCause order.
const (
	cRecords counter = iota
	cBytes
	cWriteCalls
	cSyncs
	cWriteErrors
	cRollsTime // + RollCause
	cRollsSize
	cRollsForced
	cRollsReload
	cRollFailures
	cRecreated
	cRollPauses
	cRollPauseNanos
	cRollPauseMaxNanos // a maximum, not a sum: see pause
	cCompressed
	cCompressIn
	cCompressOut
	cCompressNanos
	cCompressFailures
	cCompressFallbacks
	numCounters
)

// counters is the live, lock-free form of LogStats. The holder of a log's
// writer token updates them once per write(2) or writev(2), fsync or roll
// (the compressor once per file), never per record, so they cost nothing
// measurable on the write path.
type counters [numCounters]atomic.Int64

// snapshot returns the counters as a plain LogStats.
func (k *counters) snapshot() LogStats {
	return LogStats{
		Records:      k[cRecords].Load(),
		Bytes:        k[cBytes].Load(),
		WriteCalls:   k[cWriteCalls].Load(),
		Syncs:        k[cSyncs].Load(),
		WriteErrors:  k[cWriteErrors].Load(),
		RollsTime:    k[cRollsTime].Load(),
		RollsSize:    k[cRollsSize].Load(),
		RollsForced:  k[cRollsForced].Load(),
		RollsReload:  k[cRollsReload].Load(),
		RollFailures: k[cRollFailures].Load(),
		Recreated:    k[cRecreated].Load(),

		RollPauses:     k[cRollPauses].Load(),
		RollPauseTotal: time.Duration(k[cRollPauseNanos].Load()),
		RollPauseMax:   time.Duration(k[cRollPauseMaxNanos].Load()),

		Compressed:           k[cCompressed].Load(),
		CompressedIn:         k[cCompressIn].Load(),
		CompressedOut:        k[cCompressOut].Load(),
		CompressTime:         time.Duration(k[cCompressNanos].Load()),
		CompressFailures:     k[cCompressFailures].Load(),
		CompressUncompressed: k[cCompressFallbacks].Load(),
	}
}

// active is the lock-free view of a log's active file for Stats, published
// by the holder of its writer token whenever the size or START changes.
type active struct {
	size  atomic.Int64
	start atomic.Int64 // START in Unix nanoseconds; 0 while the file is empty
}

// publish makes the writer's current size and START visible to Stats.
func (w *writer) publish() {
	w.l.active.size.Store(w.size)
	var start int64
	if w.size > 0 && !w.start.IsZero() {
		start = w.start.UnixNano()
	}
	w.l.active.start.Store(start)
}

// snapshot adds the active file's size and START to s.
func (a *active) snapshot(s *LogStats, loc *time.Location) {
	s.Size = a.size.Load()
	if ns := a.start.Load(); ns != 0 {
		s.Start = time.Unix(0, ns).In(loc)
	}
}

// count adds n to one of the log's counters and to the collator's total.
func (l *logFile) count(k counter, n int64) {
	l.stats[k].Add(n)
	l.c.total[k].Add(n)
}

// pause records that a roll held the writer token for d.
func (l *logFile) pause(d time.Duration) {
	l.count(cRollPauses, 1)
	l.count(cRollPauseNanos, int64(d))
	for _, m := range []*atomic.Int64{&l.stats[cRollPauseMaxNanos], &l.c.total[cRollPauseMaxNanos]} {
		for {
			old := m.Load()
			if int64(d) <= old || m.CompareAndSwap(old, int64(d)) {
				break
			}
		}
	}
}

// Stats returns a snapshot of the counters. It takes no lock on the write path
// and is safe to call from any goroutine, also after Close.
func (c *Collator) Stats() Stats {
	st := Stats{
		Logs:            map[string]LogStats{},
		Total:           c.total.snapshot(),
		OpenFiles:       c.openFiles.Load(),
		RefusedWrites:   c.refusedWrites.Load(),
		RefusedRecords:  c.refusedRecords.Load(),
		CompressPending: c.comp.pending.Load(),
		PublishPending:  c.pub.pending.Load(),
	}
	for name, l := range *c.logs.Load() {
		ls := l.stats.snapshot()
		l.active.snapshot(&ls, c.loc)
		st.Logs[name] = ls
		st.Total.Size += ls.Size
	}
	c.retiredMu.Lock()
	for name, k := range c.retired {
		if st.Removed == nil {
			st.Removed = map[string]LogStats{}
		}
		st.Removed[name] = k.snapshot()
	}
	c.retiredMu.Unlock()
	return st
}

// retire keeps the counters of l, a log Apply removed (its writer done),
// for Stats and for the log if it is declared again. They are l's own:
// a compression of its last file still counts there.
func (c *Collator) retire(l *logFile) {
	c.retiredMu.Lock()
	defer c.retiredMu.Unlock()
	if c.retired == nil {
		c.retired = map[string]*counters{}
	}
	c.retired[l.name] = &l.stats
}

// revive starts l, a log declared by Apply, from the counters it had when
// an earlier Apply removed it, if one did: sums add up, the longest pause
// is the longer.
func (c *Collator) revive(l *logFile) {
	c.retiredMu.Lock()
	old := c.retired[l.name]
	delete(c.retired, l.name)
	c.retiredMu.Unlock()
	if old == nil {
		return
	}
	for k := range numCounters {
		v := old[k].Load()
		if k == cRollPauseMaxNanos {
			if v > l.stats[k].Load() {
				l.stats[k].Store(v)
			}
			continue
		}
		l.stats[k].Add(v)
	}
}
