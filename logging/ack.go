package logging

import "fmt"

// Acknowledgement of written buffers, and the fsyncs it may need.

// ack acknowledges every written buffer: with DurabilitySync after one fsync
// covering all of them, then one send per waiting Write call.
//
// A failed fsync cuts everything written since the last acknowledgement back
// off the file before the callers get the error, so that the error means
// "not written" and a client that retries duplicates nothing (see
// cutUnacked).
func (w *writer) ack() {
	if len(w.acks) == 0 {
		return
	}
	var syncErr error
	if w.c.set.Load().Durability >= DurabilitySync && w.dirty {
		if err := w.sync(); err != nil {
			syncErr = fmt.Errorf("logging: sync %s: %w", w.l.path, err)
			w.cutUnacked()
			var failed int64
			for _, b := range w.acks {
				if b.err == nil {
					failed++
				}
			}
			w.l.count(cWriteErrors, failed)
			w.syncErr.fail(w.c.log, "log sync failed; the records written since the last acknowledgement were cut", err, "log", w.l.name)
			w.c.writeFailed(err)
		} else {
			w.syncErr.ok(w.c.log, "log syncs work again", "log", w.l.name)
		}
	}
	w.ackedSize, w.ackedRecords = w.size, w.records
	for i, b := range w.acks {
		err := b.err
		if err == nil {
			err = syncErr
		}
		for _, ch := range b.waiters {
			ch <- err
		}
		w.c.putBuffer(b)
		w.acks[i] = nil
	}
	w.acks = w.acks[:0]
}

// cutUnacked truncates the active file back to its size at the last
// acknowledgement, after a failed fsync of the records written since, and
// fsyncs the cut, so that after a power loss the file does not grow back.
//
// That fsync may fail too (the device that failed the first one often
// does). The cut has still happened for every reader, and the file stays
// dirty, so the next fsync (the next acknowledgement, roll or Close) makes
// it durable. Until then, a power loss may bring some of the cut records
// back: the restart repair keeps their whole lines and cuts a torn one, so a
// client that retried may find some records twice — the at-least-once of any
// unacknowledged request after a crash. Acknowledged records are not
// affected: they were fsynced before their acknowledgement. The failure is
// part of the sync failure streak, which is logged already.
//
// When the truncate itself fails, the records stay in the file although
// their callers get an error; that is logged.
func (w *writer) cutUnacked() {
	if w.f == nil || w.size <= w.ackedSize {
		return
	}
	if err := w.f.Truncate(w.ackedSize); err != nil {
		w.c.log.Warn("cannot cut unsynced records off the log file", "path", w.l.path, "err", err)
		return
	}
	if w.c.onWrite != nil {
		w.c.onWrite(w.ackedSize - w.size) // negative: bytes cut back
	}
	w.size, w.records = w.ackedSize, w.ackedRecords
	w.publish()
	_ = w.sync() // on failure w stays dirty: see above
}

// sync fsyncs the active file if anything was written since the last fsync.
func (w *writer) sync() error {
	if w.f == nil || !w.dirty {
		return nil
	}
	w.l.count(cSyncs, 1)
	if err := w.c.fs.syncFile(w.f); err != nil {
		return err
	}
	w.dirty = false
	return nil
}
