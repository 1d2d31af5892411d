package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/space"
)

// scanRolled lists the rolled files in the log folder: regular files whose
// names parse as rolled names (space.RolledFile), of configured logs or not,
// sorted by log, then oldest first in the space manager's order (which is
// right across daylight-saving and time-zone changes).
func (d *Daemon) scanRolled(cfg *records.Config) ([]ctl.RolledFile, error) {
	dir := d.initial.Str(records.LogfileDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list rolled files: %w", err)
	}
	actives := make([]string, 0, len(cfg.Logs))
	configured := map[string]bool{}
	for i := range cfg.Logs {
		actives = append(actives, cfg.Logs[i].Filename)
		configured[cfg.Logs[i].Filename] = true
	}
	var files []space.File
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since the listing (a script got there first)
		}
		if f, ok := space.RolledFile(e.Name(), info, actives, time.Local); ok {
			files = append(files, f)
		}
	}
	// By log, then the space manager's order: the one that deletes.
	slices.SortFunc(files, func(a, b space.File) int {
		if c := strings.Compare(a.Log, b.Log); c != 0 {
			return c
		}
		return space.OldestFirst(a, b)
	})
	out := make([]ctl.RolledFile, len(files))
	for i, f := range files {
		hs := d.ship.State(f)
		out[i] = ctl.RolledFile{
			Log: f.Log, Host: f.Host, Path: filepath.Join(dir, f.Name),
			Start: f.Start, End: f.End, Seq: f.Seq, Bytes: f.Size,
			Configured: configured[f.Log],
			Ship:       hs.Ship, Hook: hs.Hook, Key: hs.Key,
		}
	}
	return out, nil
}
