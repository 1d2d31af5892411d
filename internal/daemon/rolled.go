package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/records"
)

// scanRolled lists the rolled files in the log folder: regular files whose
// names parse as rolled names (logging.ParseRolledName), of configured logs
// or not, sorted by log, then oldest first.
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
	type file struct {
		ctl.RolledFile
		name logging.RolledName
	}
	var files []file
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		rn, err := logging.ParseRolledName(e.Name(), actives, time.Local)
		if err != nil {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue // removed since the listing (a script got there first)
		}
		files = append(files, file{name: rn, RolledFile: ctl.RolledFile{
			Log: rn.Active, Host: rn.Host, Path: filepath.Join(dir, e.Name()),
			Start: rn.Start, End: rn.End, Seq: rn.Seq, Bytes: info.Size(),
			Configured: configured[rn.Active],
		}})
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].Log != files[j].Log {
			return files[i].Log < files[j].Log
		}
		return files[i].name.Less(files[j].name)
	})
	out := make([]ctl.RolledFile, len(files))
	for i := range files {
		out[i] = files[i].RolledFile
	}
	return out, nil
}
