package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/ship"
	"github.com/logroll/logroll/space"
)

// Handing finished files on (docs/design.md §11): the wiring of the ship manager.
// A finished file comes from the collator's OnRoll (ship.Manager.Rolled)
// and, at start and after a reload, from a scan of the rolled files; both
// turn a path into a ship.Item in one place, rolledItem, with the one
// parser of rolled names (space.RolledFile). The space manager asks the
// ship manager whether a file may go (space.Options.Hold), and the ship
// manager tells it when a file is handed on (space.Manager.HandedOn), so
// that the space manager stays the one owner of every deletion.

// shipConfig maps the configuration onto the ship manager's.
func shipConfig(c *records.Config) (ship.Config, error) {
	sc := ship.Config{Host: c.Hostname(), MaxBackoff: time.Duration(c.Int(records.ShipRetryMaxSec)) * time.Second}
	for i := range c.Logs {
		l := &c.Logs[i]
		sl := ship.Log{
			Name:             l.Filename,
			Command:          l.Argv(records.OnRollCommand),
			DeleteAfter:      l.Int(records.ShipDeleteAfter) == 1,
			HoldBeforeDelete: l.Int(records.ShipBeforeDelete) == 1,
		}
		if u := l.Str(records.ShipURL); u != "" {
			bucket, prefix, err := ship.ParseURL(u)
			if err != nil {
				return ship.Config{}, fmt.Errorf("log %s: %w", l.Filename, err)
			}
			sl.Ship = &ship.Target{Bucket: bucket, Prefix: prefix, Endpoint: l.Str(records.ShipEndpoint), Region: l.Str(records.ShipRegion)}
		}
		sc.Logs = append(sc.Logs, sl)
	}
	return sc, sc.Validate()
}

// rolledDirs are the folders holding rolled files: the log folder first,
// then each configured log's rolled folder (rolled_dir), each once.
func rolledDirs(c *records.Config) []string {
	dirs := []string{c.Str(records.LogfileDir)}
	for i := range c.Logs {
		if rd := c.RolledDir(&c.Logs[i]); !slices.Contains(dirs, rd) {
			dirs = append(dirs, rd)
		}
	}
	return dirs
}

// actives returns the configured active names.
func actives(c *records.Config) []string {
	out := make([]string, len(c.Logs))
	for i := range c.Logs {
		out[i] = c.Logs[i].Filename
	}
	return out
}

// rolledItem returns the Item of the rolled file at path (Lstat and the
// name's fields), false when it is not a regular rolled file.
func rolledItem(path string, acts []string, host string) (ship.Item, bool) {
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() {
		return ship.Item{}, false
	}
	f, ok := space.RolledFile(filepath.Base(path), fi, acts, host, time.Local)
	if !ok {
		return ship.Item{}, false
	}
	f.Dir = filepath.Dir(path)
	return ship.Item{Path: path, File: f}, true
}

// rolledItems scans the folders of rolled files, and the rolled folders a
// reload dropped while they held files (logging.FormerDirs): what was
// not handed on there before a restart is handed on after it.
func rolledItems(c *records.Config) []ship.Item {
	acts := actives(c)
	dirs := rolledDirs(c)
	for _, d := range logging.FormerDirs(c.Str(records.LogfileDir)) {
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	var out []ship.Item
	for i, dir := range dirs {
		entries, err := os.ReadDir(dir)
		if err != nil {
			continue // the space manager says so
		}
		if i == 0 {
			acts = space.SplitNames(actives(c), entries) // as the space manager splits them
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if it, ok := rolledItem(filepath.Join(dir, e.Name()), acts, c.Hostname()); ok {
				out = append(out, it)
			}
		}
	}
	return out
}

// newShip makes the ship manager for cfg (Start starts it).
func (d *Daemon) newShip(cfg *records.Config) (*ship.Manager, error) {
	sc, err := shipConfig(cfg)
	if err != nil {
		return nil, err
	}
	var existing []ship.Item
	if sc.HandsOn() { // else spare the start-up a second listing of the folder
		existing = rolledItems(cfg)
	}
	return ship.New(sc, ship.Options{
		Journal: filepath.Join(cfg.Str(records.LogfileDir), ship.JournalName),
		Item: func(p string) (ship.Item, bool) {
			c := d.config()
			return rolledItem(p, actives(c), c.Hostname())
		},
		HandedOn: func(p string, del bool) { d.space.HandedOn(p, del) },
		Now:      d.opts.Now,
		Logger:   d.log,
	}, existing)
}

// shipStatus returns the hand-on section of the status; nil when no log
// hands anything on and nothing waits.
func (d *Daemon) shipStatus(sp space.Status) *ctl.ShipStatus {
	st := d.ship.Status()
	if len(st.Logs) == 0 && st.Pending == 0 && sp.UnhandedDeleted == 0 {
		return nil
	}
	now := d.opts.Now()
	out := &ctl.ShipStatus{
		PendingFiles: st.Pending, PendingBytes: st.PendingBytes, ParkedFiles: st.Parked,
		Running: st.Running, ShippedFiles: st.Shipped, ShippedBytes: st.ShippedBytes,
		AlreadyThere: st.Already, HooksSucceeded: st.Hooks, GoneFiles: st.Gone,
		Failures: map[string]int64{}, LastFailure: st.LastFailure,
		HeldFiles: sp.HeldFiles, HeldBytes: sp.HeldBytes, UnhandedDeleted: sp.UnhandedDeleted,
		Logs: []ctl.ShipLog{},
	}
	for k, n := range st.Failures {
		out.Failures[string(k)] = n
	}
	if !st.Oldest.IsZero() {
		t := st.Oldest.Local()
		out.OldestPending, out.OldestPendingAge = &t, max(now.Sub(st.Oldest).Seconds(), 0)
	}
	if !st.LastFailureAt.IsZero() {
		t := st.LastFailureAt
		out.LastFailureAt = &t
	}
	for _, l := range st.Logs {
		sl := ctl.ShipLog{Name: l.Name, Target: l.Target, Command: l.Command, PendingFiles: l.Pending,
			PendingBytes: l.PendingBytes, ShippedFiles: l.Shipped, ShippedBytes: l.ShippedBytes, Hooks: l.Hooks}
		if !l.Oldest.IsZero() {
			t := l.Oldest.Local()
			sl.OldestPending = &t
		}
		out.Logs = append(out.Logs, sl)
	}
	return out
}
