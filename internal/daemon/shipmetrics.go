package daemon

import (
	"maps"

	"github.com/logroll/logroll/ship"
	"github.com/logroll/logroll/space"
)

// Metrics of handing finished files on (docs/design.md §11), docs/daemon.md.
const (
	MetricShipPending      = "proxy.process.log.ship.pending_files"
	MetricShipPendingBytes = "proxy.process.log.ship.pending_bytes"
	MetricShipOldestAge    = "proxy.process.log.ship.oldest_pending_age_seconds"
	MetricShipParked       = "proxy.process.log.ship.parked_files"
	MetricShipRunning      = "proxy.process.log.ship.running"
	MetricShipShipped      = "proxy.process.log.ship.shipped_files"
	MetricShipShippedBytes = "proxy.process.log.ship.shipped_bytes"
	MetricShipAlready      = "proxy.process.log.ship.already_there_files"
	MetricShipFailures     = "proxy.process.log.ship.failures"
	MetricShipHooks        = "proxy.process.log.ship.hooks_succeeded"
	MetricShipGone         = "proxy.process.log.ship.gone_files"
	MetricShipHeld         = "proxy.process.log.ship.held_files"
	MetricShipUnhanded     = "proxy.process.log.ship.unhanded_deleted_files"
)

func init() {
	maps.Copy(metricHelp, map[string][2]string{
		MetricShipPending:      {"gauge", "rolled files not yet handed on (not shipped, or on_roll_command not yet exited 0)"},
		MetricShipPendingBytes: {"gauge", "bytes of the rolled files not yet handed on"},
		MetricShipOldestAge:    {"gauge", "seconds since the END of the oldest file not yet handed on; 0 when none"},
		MetricShipParked:       {"gauge", "files refused for good (4xx, conflict): not retried until a reload or restart"},
		MetricShipRunning:      {"gauge", "uploads and on-roll commands in flight"},
		MetricShipShipped:      {"counter", "files uploaded to object storage (including those found already there)"},
		MetricShipShippedBytes: {"counter", "bytes of the files uploaded to object storage"},
		MetricShipAlready:      {"counter", "uploads the store already had, same bytes (a retry after a crash or a lost answer)"},
		MetricShipFailures:     {"counter", "failed attempts to hand a file on, by kind (network, server, refused, conflict, local, exit, timeout, start)"},
		MetricShipHooks:        {"counter", "on-roll commands that exited 0"},
		MetricShipGone:         {"counter", "rolled files removed by someone else before they were handed on"},
		MetricShipHeld:         {"gauge", "rolled files autodelete kept because they are not yet handed on (ship_before_delete = 1)"},
		MetricShipUnhanded:     {"counter", "rolled files deleted before they were handed on (ship_before_delete = 0), each an error in the log"},
	})
}

// shipMetrics adds the hand-on series.
func (d *Daemon) shipMetrics(s *series, sp space.Status) {
	st := d.ship.Status()
	s.add(MetricShipPending, float64(st.Pending))
	s.add(MetricShipPendingBytes, float64(st.PendingBytes))
	age := 0.0
	if !st.Oldest.IsZero() {
		age = max(d.opts.Now().Sub(st.Oldest).Seconds(), 0)
	}
	s.add(MetricShipOldestAge, age)
	s.add(MetricShipParked, float64(st.Parked))
	s.add(MetricShipRunning, float64(st.Running))
	s.add(MetricShipShipped, float64(st.Shipped))
	s.add(MetricShipShippedBytes, float64(st.ShippedBytes))
	s.add(MetricShipAlready, float64(st.Already))
	s.add(MetricShipHooks, float64(st.Hooks))
	s.add(MetricShipGone, float64(st.Gone))
	var total int64
	for _, k := range ship.Kinds {
		total += st.Failures[k]
		s.add(MetricShipFailures, float64(st.Failures[k]), "kind", string(k))
	}
	s.add(MetricShipFailures, float64(total))
	// Per log: every configured log (zeros for those that hand nothing
	// on, like the collator's per-log series), then any other with files
	// still pending.
	byName := map[string]ship.LogStatus{}
	for _, l := range st.Logs {
		byName[l.Name] = l
	}
	cfg := d.config()
	for i := range cfg.Logs {
		name := cfg.Logs[i].Filename
		l := byName[name]
		delete(byName, name)
		s.add(MetricShipPending, float64(l.Pending), "log", name)
		s.add(MetricShipShipped, float64(l.Shipped), "log", name)
		s.add(MetricShipShippedBytes, float64(l.ShippedBytes), "log", name)
	}
	for name, l := range byName {
		s.add(MetricShipPending, float64(l.Pending), "log", name)
		s.add(MetricShipShipped, float64(l.Shipped), "log", name)
		s.add(MetricShipShippedBytes, float64(l.ShippedBytes), "log", name)
	}
	s.add(MetricShipHeld, float64(sp.HeldFiles))
	s.add(MetricShipUnhanded, float64(sp.UnhandedDeleted))
}
