package ctl

import "github.com/logroll/logroll/records"

// ConfigFrom builds the answer to GET /v1/config for the running
// configuration cfg and the last reload attempt: every record of the table
// with its value, default, kind, range, unit, flags, source and description,
// and each declared log with its effective per-log records (see LogConfig:
// a value the log inherits has the source "global " + the record's source).
// The daemon's Backend.Config can return it as is.
func ConfigFrom(cfg *records.Config, last ReloadResult) ConfigResponse {
	resp := ConfigResponse{Source: cfg.Source, TOML: string(cfg.TOML()), LastReload: last, Records: []RecordValue{}, Logs: []LogConfig{}}
	all := records.All()
	for i := range all {
		v, _ := cfg.Value(all[i].Name)
		resp.Records = append(resp.Records, recordValue(&all[i], v, cfg.Where(all[i].Name)))
	}
	for _, l := range cfg.Logs {
		lc := LogConfig{Name: l.Filename, Declared: l.Declared, Records: []RecordValue{}}
		for i := range all {
			if !all[i].PerLog {
				continue
			}
			src, ok := l.Overrides(all[i].Name)
			if !ok {
				src = "global " + cfg.Where(all[i].Name)
			}
			v, _ := l.Value(all[i].Name)
			lc.Records = append(lc.Records, recordValue(&all[i], v, src))
		}
		resp.Logs = append(resp.Logs, lc)
	}
	return resp
}

func recordValue(r *records.Record, v any, source string) RecordValue {
	return RecordValue{
		Name: r.Name, Value: r.FormatValue(v), Default: r.FormatValue(r.Default),
		Kind: r.Kind.String(), Range: r.Range(), Unit: r.Unit, Reloadable: r.Reloadable,
		PerLog: r.PerLog, Source: source, Description: r.Description,
	}
}

// ChangesFrom converts records.Diff's changes to their wire form, for
// ReloadResult.Changes and RestartRequired.
func ChangesFrom(cs []records.Change) []Change {
	out := make([]Change, 0, len(cs))
	for _, c := range cs {
		out = append(out, Change{Name: c.Name, Old: c.Old, New: c.New, Restart: c.Restart})
	}
	return out
}
