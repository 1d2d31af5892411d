package space

import (
	"slices"
	"strings"
	"time"
)

// Status is a snapshot of the space manager (DESIGN §6, §7), as
// Manager.Status returns it. It is a plain value: the caller owns it. Sizes
// are in bytes.
type Status struct {
	// State is the state after the last check.
	State State
	// Reason says why the state is not Normal; "" when it is.
	Reason string
	// Used is U now: the last scan, moved by the events and writes since
	// (see docs/space.md for what is approximate between scans).
	Used int64
	// Limit (M), Headroom (H) and MinFree are the configured thresholds.
	Limit, Headroom, MinFree int64
	// Free is P at the last check (the last sample less the bytes written
	// since); -1 when Options.Free failed.
	Free int64
	// AutoDelete is the configured auto_delete_rolled_files.
	AutoDelete bool
	// DeletedFiles and DeletedBytes count the rolled files autodelete removed
	// since New (a file found already gone is not counted).
	DeletedFiles, DeletedBytes int64
	// DeleteErrors counts deletions that failed (other than a file already gone).
	DeleteErrors int64
	// Scans counts full scans since New (the first included); LastScan is
	// when the last successful one began and ScanDuration how long it took.
	Scans        int64
	LastScan     time.Time
	ScanDuration time.Duration
	// Watching is true while the fsnotify adapter reports events.
	Watching bool
	// Logs are the rolled files per log: the configured logs first, in
	// configuration order (also those without files), then logs that are
	// not configured but have rolled files in the folder, by name.
	Logs []LogUsage
}

// LogUsage is one log's rolled files.
type LogUsage struct {
	// Name is the log's active name, e.g. "access.log".
	Name string
	// Configured is false for the rolled files of a log no longer configured.
	Configured bool
	// MinCount is the configured rolling_min_count (0 when not configured).
	MinCount int
	// Rolled is the number of its rolled files, RolledBytes their size.
	Rolled      int
	RolledBytes int64
}

// snapshot is what run publishes for Status.
type snapshot struct {
	st   Status
	base int64 // acct.base and mark, so that Status computes U live
	mark int64
}

// Status returns a snapshot. Used is computed at the call (the writes since
// the last check included); everything else is as of the last check. It
// takes one short lock and is safe from any goroutine, also after Close.
func (m *Manager) Status() Status {
	m.mu.Lock()
	s := m.snap.st
	s.Logs = slices.Clone(s.Logs)
	base, mark := m.snap.base, m.snap.mark
	m.mu.Unlock()
	s.Used = max(base+(m.written.Load()-mark), 0)
	return s
}

// publish stores the snapshot for Status. The per-log list is rebuilt only
// when the rolled files changed.
func (m *Manager) publish(f figures) {
	var logs []LogUsage
	rebuild := m.acct.dirty
	if rebuild {
		logs = m.usage()
		m.acct.dirty = false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	st := &m.snap.st
	if rebuild {
		st.Logs = logs
	}
	st.State, st.Reason = m.state, m.reason
	st.Used, st.Limit, st.Headroom, st.MinFree, st.Free = f.used, f.limit, f.headroom, f.minFree, f.free
	st.AutoDelete = m.cfg.AutoDelete
	st.DeletedFiles, st.DeletedBytes, st.DeleteErrors = m.deletedFiles, m.deletedBytes, m.deleteErrors
	st.Scans, st.LastScan, st.ScanDuration = m.scans, m.lastScan, m.scanDur
	st.Watching = m.watch != nil && !m.watchLost
	m.snap.base, m.snap.mark = m.acct.base, m.mark
}

// usage lists the rolled files per log, for Status.
func (m *Manager) usage() []LogUsage {
	out := make([]LogUsage, 0, len(m.cfg.Logs)+len(m.acct.perLog))
	seen := make(map[string]bool, len(m.cfg.Logs))
	for _, l := range m.cfg.Logs {
		u := LogUsage{Name: l.Name, Configured: true, MinCount: l.MinCount}
		if pl := m.acct.perLog[l.Name]; pl != nil {
			u.Rolled, u.RolledBytes = pl.files, pl.bytes
		}
		out = append(out, u)
		seen[l.Name] = true
	}
	n := len(out)
	for name, pl := range m.acct.perLog {
		if !seen[name] {
			out = append(out, LogUsage{Name: name, Rolled: pl.files, RolledBytes: pl.bytes})
		}
	}
	slices.SortFunc(out[n:], func(a, b LogUsage) int { return strings.Compare(a.Name, b.Name) })
	return out
}
