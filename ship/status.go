package ship

import (
	"maps"
	"slices"
	"time"
)

// Status is a snapshot of the manager, as Manager.Status returns it: a
// plain value the caller owns.
type Status struct {
	// Pending counts the files with a step left (shipping, or the
	// on-roll command), PendingBytes their size; Parked those of them
	// refused for good (waiting for a reload or a restart).
	Pending, Parked int
	PendingBytes    int64
	// Oldest is the END (space.File.At) of the oldest pending file; zero
	// when nothing is pending. Its age is what an alert should watch.
	Oldest time.Time
	// Running counts the steps in flight.
	Running int
	// Shipped and ShippedBytes count the files uploaded since start;
	// Already those of them the store had already (a 412 with the same
	// bytes, after a crash or a lost answer); Multipart those sent in parts.
	Shipped, ShippedBytes, Already, Multipart int64
	// Hooks counts the on-roll commands that exited 0.
	Hooks int64
	// Gone counts files removed by someone else before they were handed on.
	Gone int64
	// Failures counts failed attempts by kind (every kind present).
	Failures map[Kind]int64
	// LastFailure says the last failure and when.
	LastFailure   string
	LastFailureAt time.Time
	// Logs are the figures per log, configured logs that hand on first.
	Logs []LogStatus
}

// LogStatus is one log's figures.
type LogStatus struct {
	Name string
	// Target is the ship_url and endpoint ("" when the log ships nothing);
	// Command the on_roll_command's program.
	Target, Command string
	Pending         int
	PendingBytes    int64
	Oldest          time.Time
	Shipped         int64
	ShippedBytes    int64
	Hooks           int64
}

// counters are run's counts.
type counters struct {
	shipped, shippedBytes, already, multipart, hooks, gone int64
	failures                                               map[Kind]int64
	logs                                                   map[string]*logCounts
}

type logCounts struct{ shipped, shippedBytes, hooks int64 }

func newCounters() counters {
	c := counters{failures: map[Kind]int64{}, logs: map[string]*logCounts{}}
	for _, k := range Kinds {
		c.failures[k] = 0
	}
	return c
}

// log returns log's counts, made on first use.
func (c *counters) log(name string) *logCounts {
	if c.logs[name] == nil {
		c.logs[name] = &logCounts{}
	}
	return c.logs[name]
}

// Status returns a snapshot. It takes one short lock.
func (m *Manager) Status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.snap
	s.Failures = maps.Clone(s.Failures)
	s.Logs = slices.Clone(s.Logs)
	return s
}

// publish stores the snapshot (run, or New).
func (m *Manager) publish() {
	files := m.q.files()
	s := Status{
		Shipped: m.counts.shipped, ShippedBytes: m.counts.shippedBytes, Already: m.counts.already,
		Multipart: m.counts.multipart, Hooks: m.counts.hooks, Gone: m.counts.gone,
		Failures: maps.Clone(m.counts.failures),
	}
	for _, n := range m.running {
		s.Running += n
	}
	byLog := map[string]*LogStatus{}
	for _, l := range m.cfg.Logs {
		if l.steps() == 0 {
			continue
		}
		ls := LogStatus{Name: l.Name}
		if l.Ship != nil {
			ls.Target = l.Ship.String()
		}
		if len(l.Command) > 0 {
			ls.Command = l.Command[0]
		}
		s.Logs = append(s.Logs, ls)
	}
	for i := range s.Logs {
		byLog[s.Logs[i].Name] = &s.Logs[i]
	}
	for _, f := range files {
		s.Pending++
		s.PendingBytes += f.item.Size
		if f.parked {
			s.Parked++
		}
		if s.Oldest.IsZero() {
			s.Oldest = f.item.At
		}
		ls := byLog[f.item.Log]
		if ls == nil {
			s.Logs = append(s.Logs, LogStatus{Name: f.item.Log})
			byLog = map[string]*LogStatus{} // the slice may have moved: rebuild
			for i := range s.Logs {
				byLog[s.Logs[i].Name] = &s.Logs[i]
			}
			ls = byLog[f.item.Log]
		}
		ls.Pending++
		ls.PendingBytes += f.item.Size
		if ls.Oldest.IsZero() {
			ls.Oldest = f.item.At
		}
	}
	for i := range s.Logs {
		if c := m.counts.logs[s.Logs[i].Name]; c != nil {
			s.Logs[i].Shipped, s.Logs[i].ShippedBytes, s.Logs[i].Hooks = c.shipped, c.shippedBytes, c.hooks
		}
	}
	m.mu.Lock()
	s.LastFailure, s.LastFailureAt = m.snap.LastFailure, m.snap.LastFailureAt
	m.snap = s
	m.mu.Unlock()
}
