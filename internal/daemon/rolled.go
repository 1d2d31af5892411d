package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/space"
)

// scanRolled lists the rolled files in the log folder and in every
// configured log's rolled folder: regular files whose names parse as
// rolled names (space.RolledFile: plain, .gz or .zst), of configured logs
// or not, sorted by log, then oldest first in the space manager's order
// (which is right across daylight-saving and time-zone changes).
func (d *Daemon) scanRolled(cfg *records.Config) ([]ctl.RolledFile, error) {
	actives := make([]string, 0, len(cfg.Logs))
	configured := map[string]bool{}
	for i := range cfg.Logs {
		actives = append(actives, cfg.Logs[i].Filename)
		configured[cfg.Logs[i].Filename] = true
	}
	var files []space.File
	names := actives
	for i, dd := range rolledDirs(cfg) { // cfg runs with the log folder the daemon opened

		entries, err := os.ReadDir(dd)
		if err != nil {
			if i > 0 && errors.Is(err, fs.ErrNotExist) {
				continue // a rolled folder not made yet
			}
			return nil, fmt.Errorf("list rolled files: %w", err)
		}
		if i == 0 {
			names = space.SplitNames(actives, entries) // as the space manager splits them
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			info, err := e.Info()
			if err != nil {
				continue // removed since the listing (a script got there first)
			}
			if f, ok := space.RolledFile(e.Name(), info, names, cfg.Hostname(), time.Local); ok {
				f.Dir = dd
				files = append(files, f)
			}
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
			Log: f.Log, Host: f.Host, Path: filepath.Join(f.Dir, f.Name), Dir: f.Dir,
			Compression: f.Compression.String(),
			Start:       f.Start, End: f.End, Seq: f.Seq, Bytes: f.Size,
			Configured: configured[f.Log],
			Ship:       hs.Ship, Hook: hs.Hook, Key: hs.Key,
		}
	}
	return out, nil
}
