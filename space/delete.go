package space

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// autodelete deletes rolled files in Plan's order, one at a time, while the
// figures are not Normal (re-evaluated after each deletion, with P sampled
// afresh). It runs on the manager's goroutine and stops early on Close.
func (m *Manager) autodelete() {
	for _, f := range Plan(m.acct.rolled(), m.cfg.Logs) {
		select {
		case <-m.quit:
			return
		default:
		}
		fig := m.figures()
		st, why := classify(fig)
		if st == Normal {
			return
		}
		m.deleteFile(f, fig, why)
	}
}

// deleteFile deletes the rolled file f, which the figures fig call for
// (why). A file already gone (a script got there first) is only forgotten;
// a name that now holds another file is looked at again and left for the
// next plan; a failure is logged, counted, and takes the file out of the
// candidates until the next scan.
func (m *Manager) deleteFile(f File, fig figures, why string) {
	path := filepath.Join(m.dir, f.Name)
	now := m.opts.Now()
	e := m.acct.files[f.Name]
	if e == nil {
		return
	}
	fi, err := os.Lstat(path)
	if err == nil && (!fi.Mode().IsRegular() || !sameFile(e, statOf(fi))) {
		m.acct.reconcile(f.Name, false, now)
		return
	}
	if err == nil {
		err = m.opts.remove(path)
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.acct.forget(f.Name, false, now)
		m.log.Debug("rolled file already gone", "path", path)
	case err != nil:
		m.acct.markFailed(f.Name)
		m.deleteErrors++
		m.log.Warn("cannot delete rolled file to free log space", "path", path, "err", err)
	default:
		m.acct.forget(f.Name, false, now)
		m.deletedFiles++
		m.deletedBytes += fi.Size()
		m.log.Info("deleted rolled file to free log space", "path", path, "bytes", fi.Size(), "log", f.Log,
			"used", fig.used, "limit", fig.limit, "headroom", fig.headroom, "free", fig.free, "why", why)
		m.sampleFree(now)
	}
}
