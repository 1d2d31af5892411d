package logging

import "slices"

// The fsyncs a roll owes at DurabilityRoll, none of them under the writer
// token.
//
// A durable roll fsyncs the rolled file, its folder, the next active
// file's .meta and the folder again, and any of them waits for the disk:
// an fsync ends with a flush of the disk's cache, which waits for every
// write queued before it, seconds on a disk behind the writes. None of
// them may keep writers waiting, nor the writer goroutine, which the next
// size roll needs. The roll renames the active file to a hidden pending
// name; the writer goroutine writes the new .meta without fsync while it
// holds the token, and, once it has passed the token on, hands what the
// turn owes — the .meta and folder fsyncs, the pending files, the answers
// held back — to the publisher (publish.go) as one batch. The publisher
// fsyncs the .meta and the folder once (covering the rename, the new file
// and the .meta), then fsyncs and publishes each pending file, then
// answers, so that a roll's caller gets the rolled file once it is durable
// under its name. DurabilitySync keeps every fsync under the token: its
// acknowledgements promise the new file's entry too. The .meta is
// rewritten in place (metafile.go), not by a temporary file and a rename.
//
// What a power loss inside the deferred window can cost is the new .meta's
// content (START then falls back to the file's modification time, see
// Open), the rename itself (the old file is then the active file again,
// with its .meta), or the tail of the pending file (cut at the next start,
// which publishes it); never a part of a visible rolled file.

// deferred is the durability work and the answers held back by the writer
// goroutine during one turn with the token, then handed to the publisher
// as one batch (runDeferred). The writer's own is owned by the writer
// goroutine: leaders never add to it (see writer.deferring).
type deferred struct {
	metas     []string // paths of .meta files written without fsync
	dir       bool     // the log folder needs an fsync
	rolledDir string   // a rolled folder (not the log folder) that needs an fsync
	jobs      []*job   // rolled files to publish or compress, after the fsyncs
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

// reply answers an op, after the fsyncs held back before it if any. At
// DurabilityRoll every answer goes through the publisher, behind the
// batches of earlier turns: a forced roll that finds nothing to roll must
// not answer while the records before it are still in a pending file.
func (w *writer) reply(ch chan<- opResult, res opResult) {
	if w.def.pending() || w.deferring() {
		w.def.replies = append(w.def.replies, deferredReply{ch: ch, res: res})
		return
	}
	ch <- res
}

// runDeferred hands the held-back fsyncs and answers to the publisher
// (publish.go), which does them in order, and empties d. The writer
// goroutine calls it after passing the token on (or, when it stops, while
// holding it): it never waits for the disk.
func (c *Collator) runDeferred(d *deferred) {
	c.pub.submit(&deferred{
		metas:     slices.Clone(d.metas),
		dir:       d.dir,
		rolledDir: d.rolledDir,
		jobs:      slices.Clone(d.jobs),
		replies:   slices.Clone(d.replies),
	})
	clear(d.jobs)
	clear(d.replies)
	d.metas, d.dir, d.rolledDir, d.jobs, d.replies = d.metas[:0], false, "", d.jobs[:0], d.replies[:0]
}
