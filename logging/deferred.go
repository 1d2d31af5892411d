package logging

import "os"

// The fsyncs a roll owes at DurabilityRoll, moved out of the writer token.
//
// A durable roll fsyncs the file, renames it, fsyncs the folder, creates
// the next active file and its .meta, fsyncs the .meta and the folder
// again: four fsyncs, during which Write calls wait for the token
// (docs/performance.md, "Deferred fsyncs"). Only the first must come
// before the rename: it is what makes a .old file complete when it
// appears. The
// others make the rename, the new file and its .meta survive a power loss;
// nothing written into the new file is promised to survive one at
// DurabilityRoll, so writers need not wait for them. The writer goroutine
// therefore writes the .meta without fsync while it holds the token, and,
// once it has passed the token on, fsyncs the .meta and then the folder
// once (covering the rename, the new file and the .meta's rename) and only
// then answers the roll's caller, who therefore still sees the rolled file
// only when it is durable. DurabilitySync keeps every fsync under the
// token: its acknowledgements promise the new file's entry too.
//
// The fsync before the rename is made short too: when a roll is queued (or
// a time boundary is due) the writer goroutine first fsyncs the active file
// without the token (presync), while Write calls go on writing into it,
// and then, with the token, fsyncs only what was written meanwhile. The
// .meta is rewritten in place (metafile.go), not by a temporary file and a
// rename.
//
// What a power loss inside the deferred window (a millisecond or two after
// a roll) can cost is the new .meta's content (START then falls back to the
// file's modification time, see Open) or the rename itself (the old file is
// then the active file again, whole, with its .meta); never a torn or
// incomplete .old file.

// deferred is the durability work and the answers held back by the writer
// goroutine during one turn with the token. It is owned by the writer
// goroutine: leaders never add to it (see writer.deferring).
type deferred struct {
	metas     []*os.File // .meta files written without fsync
	dir       bool       // the log folder needs an fsync
	rolledDir string     // a rolled folder (not the log folder) that needs an fsync
	jobs      []*job     // compressions of rolled files, submitted after the fsyncs
	replies   []deferredReply
}

// deferredReply is an op's answer held back until the fsyncs before it.
type deferredReply struct {
	ch  chan<- opResult
	res opResult
}

// pending reports whether fsyncs or answers are held back.
func (d *deferred) pending() bool {
	return d.dir || d.rolledDir != "" || len(d.metas) > 0 || len(d.jobs) > 0 || len(d.replies) > 0
}

// deferring reports whether fsyncs owed at this moment may be deferred:
// on the writer goroutine's turn (not a leader's), at DurabilityRoll.
func (w *writer) deferring() bool {
	return w.turn && w.c.set.Load().Durability == DurabilityRoll
}

// reply answers an op, after the fsyncs held back before it if any.
func (w *writer) reply(ch chan<- opResult, res opResult) {
	if w.def.pending() {
		w.def.replies = append(w.def.replies, deferredReply{ch: ch, res: res})
		return
	}
	ch <- res
}

// runDeferred does the held-back fsyncs — the .meta files, then the folder
// once — and then sends the held-back answers, in order. The writer
// goroutine calls it after passing the token on (or, when it stops, while
// holding it); it touches only the collator's immutable fields and d.
// Failures are logged as the synchronous fsyncs' are: the roll happened,
// and only its survival of a power loss is in doubt.
func (c *Collator) runDeferred(d *deferred) {
	for i, f := range d.metas {
		if err := c.fs.syncFile(f); err != nil {
			c.log.Warn("log metadata sync failed", "path", f.Name(), "err", err)
		}
		d.metas[i] = nil
	}
	if d.dir {
		if err := c.fs.syncDir(c.dir); err != nil {
			c.log.Warn("log folder sync after roll failed", "dir", c.dir, "err", err)
		}
	}
	if d.rolledDir != "" {
		if err := c.fs.syncDir(d.rolledDir); err != nil {
			c.log.Warn("rolled folder sync after roll failed", "dir", d.rolledDir, "err", err)
		}
	}
	for i, j := range d.jobs {
		c.submitJob(j)
		d.jobs[i] = nil
	}
	for i, r := range d.replies {
		r.ch <- r.res
		d.replies[i] = deferredReply{}
	}
	d.metas, d.dir, d.rolledDir, d.jobs, d.replies = d.metas[:0], false, "", d.jobs[:0], d.replies[:0]
}

// presync fsyncs the active file ahead of a roll, without the token (see
// above; the writer goroutine calls it only after a wake-up, never while
// it keeps the token for more work): at DurabilityRoll, when a roll is queued or handed over, or a
// time boundary is due. The file is the one published by the last holder
// of the token (syncTarget); if a leader closes it meanwhile, the fsync
// fails harmlessly. The roll's own fsync stays the guarantee, and is the
// one Stats counts: a presync is not.
func (l *logFile) presync() {
	if l.c.set.Load().Durability != DurabilityRoll {
		return
	}
	a := &l.acc
	a.mu.Lock()
	soon := a.rollSoon || (!a.next.IsZero() && !l.c.now().Before(a.next))
	a.rollSoon = false
	a.mu.Unlock()
	if !soon {
		return
	}
	if f := l.syncTarget.Load(); f != nil {
		_ = l.c.fs.syncFile(f)
	}
}
