package space

import (
	"slices"
	"strings"
	"time"
)

// Status is a snapshot of the space manager (docs/design.md §6, §7), as
// Manager.Status returns it. It is a plain value: the caller owns it. Sizes
// are in bytes.
type Status struct {
	// State is the state after the last check.
	State State
	// Reason says why the state is not Normal, with the current figures
	// and, when Exhausted, what it takes to resume; "" when it is Normal.
	Reason string
	// Warnings are what the figures say of the configuration whatever the
	// state: a headroom larger than the partition can keep free.
	Warnings []string
	// Used is U now: the last scan, moved by the events and writes since
	// (see docs/space.md for what is approximate between scans).
	Used int64
	// Limit (M), Headroom (H) and MinFree are the configured thresholds.
	Limit, Headroom, MinFree int64
	// Free is P at the last check (the last sample less the bytes written
	// since); -1 when Options.Free failed.
	Free int64
	// PartitionHeadroom is the headroom kept free on the partition:
	// Headroom, lowered to PartitionShare percent of a smaller partition.
	PartitionHeadroom int64
	// FreeInodes are the partition's free inodes at the last sample; -1
	// when unknown or the filesystem reports no inode limit.
	// MinFreeInodes and HeadroomInodes are the inode thresholds in effect.
	FreeInodes, MinFreeInodes, HeadroomInodes int64
	// AutoDelete is the configured auto_delete_rolled_files.
	AutoDelete bool
	// DeletedFiles and DeletedBytes count the rolled files deleted since
	// New, by every rule (a file found already gone is not counted);
	// Deleted counts them by rule.
	DeletedFiles, DeletedBytes int64
	Deleted                    map[Rule]Count
	// DeleteErrors counts deletions that failed (other than a file already gone).
	DeleteErrors int64
	// UnhandedDeleted counts rolled files deleted before they were handed on
	// (Options.Hold said Unhanded: ship_before_delete = 0), each an error.
	UnhandedDeleted int64
	// HeldFiles and HeldBytes are the rolled files the last autodelete kept
	// because they wait to be handed on (Held); 0 while the state is Normal.
	HeldFiles, HeldBytes int64
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
	// Deleted counts its rolled files deleted since New, by rule.
	Deleted map[Rule]Count
}

// Count is a number of files and their bytes.
type Count struct {
	Files, Bytes int64
}

// counts copies a map of counts; nil for none.
func counts(m map[Rule]*Count) map[Rule]Count {
	if len(m) == 0 {
		return nil
	}
	out := make(map[Rule]Count, len(m))
	for r, c := range m {
		out[r] = *c
	}
	return out
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
	s.Logs = slices.Clone(s.Logs) // the maps inside are rebuilt, never modified
	s.Warnings = slices.Clone(s.Warnings)
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
	st.State, st.Reason, st.Warnings = m.state, m.reason, m.warned
	st.Used, st.Limit, st.Headroom, st.MinFree, st.Free = f.used, f.limit, f.headroom, f.minFree, f.free
	st.PartitionHeadroom = f.partitionHeadroom()
	st.FreeInodes, st.MinFreeInodes, st.HeadroomInodes = -1, f.minFreeInodes, f.inodeHeadroom()
	if f.inodes > 0 {
		st.FreeInodes = f.freeInodes
	}
	st.AutoDelete = m.cfg.AutoDelete
	if rebuild {
		st.Deleted = counts(m.deleted)
		st.DeletedFiles, st.DeletedBytes = 0, 0
		for _, c := range m.deleted {
			st.DeletedFiles += c.Files
			st.DeletedBytes += c.Bytes
		}
	}
	st.DeleteErrors = m.deleteErrors
	st.UnhandedDeleted, st.HeldFiles, st.HeldBytes = m.unhanded, m.heldFiles, m.heldBytes
	st.Scans, st.LastScan, st.ScanDuration = m.scans, m.lastScan, m.scanDur
	st.Watching = m.watch != nil && !m.watchLost
	m.snap.base, m.snap.mark = m.acct.base, m.mark
}

// usage lists the rolled files per log, for Status.
func (m *Manager) usage() []LogUsage {
	out := make([]LogUsage, 0, len(m.cfg.Logs)+len(m.acct.perLog))
	seen := make(map[string]bool, len(m.cfg.Logs))
	for _, l := range m.cfg.Logs {
		u := LogUsage{Name: l.Name, Configured: true, MinCount: l.MinCount, Deleted: counts(m.deletedLog[l.Name])}
		if pl := m.acct.perLog[l.Name]; pl != nil {
			u.Rolled, u.RolledBytes = pl.files, pl.bytes
		}
		out = append(out, u)
		seen[l.Name] = true
	}
	n := len(out)
	for name, pl := range m.acct.perLog {
		if !seen[name] {
			out = append(out, LogUsage{Name: name, Rolled: pl.files, RolledBytes: pl.bytes, Deleted: counts(m.deletedLog[name])})
		}
	}
	slices.SortFunc(out[n:], func(a, b LogUsage) int { return strings.Compare(a.Name, b.Name) })
	return out
}
