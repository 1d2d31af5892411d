package main

import (
	"fmt"
	"strings"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

// recordsPrefix is dropped by the short forms of record names.
const recordsPrefix = "proxy.config."

// getOutput is `config get --json`'s output: the records asked for, and for
// per-log records each log's effective value.
type getOutput struct {
	Records []ctl.RecordValue `json:"records"`
	Logs    []ctl.LogConfig   `json:"logs"`
}

// configGet: `config get NAME…`. Prints "NAME VALUE" a line, NAME the full
// record name and VALUE as records.toml writes it (strings quoted); for a
// per-log record also "logs[LOG].KEY VALUE" for each declared log. NAME may be
// the full name, the name without "proxy.config.", the key alone when only
// one record has it, or "logs[LOG].KEY" for one log's value. An unknown
// name is reported on stderr (with a "did you mean") and exits 1 after the
// others are printed.
func configGet(e *env, names []string) error {
	cfg, err := e.client().Config(e.ctx)
	if err != nil {
		return err
	}
	out := getOutput{Records: []ctl.RecordValue{}, Logs: []ctl.LogConfig{}}
	logAt := map[string]int{}
	addLog := func(l *ctl.LogConfig, rv ctl.RecordValue) {
		i, ok := logAt[l.Name]
		if !ok {
			i = len(out.Logs)
			logAt[l.Name] = i
			out.Logs = append(out.Logs, ctl.LogConfig{Name: l.Name, Declared: l.Declared})
		}
		out.Logs[i].Records = append(out.Logs[i].Records, rv)
	}
	failed := false
	for _, name := range names {
		rv, log, err := findRecord(cfg, name)
		if err != nil {
			fmt.Fprintf(e.stderr, "logrollctl: config get: %v\n", err)
			failed = true
			continue
		}
		if log != nil {
			addLog(log, rv)
			if !e.json {
				fmt.Fprintf(e.stdout, "logs[%s].%s %s\n", log.Name, shortName(rv.Name), rv.Value)
			}
			continue
		}
		out.Records = append(out.Records, rv)
		if !e.json {
			fmt.Fprintf(e.stdout, "%s %s\n", rv.Name, rv.Value)
		}
		if !rv.PerLog {
			continue
		}
		for i := range cfg.Logs {
			if lv, ok := logRecord(&cfg.Logs[i], rv.Name); ok {
				addLog(&cfg.Logs[i], lv)
				if !e.json {
					fmt.Fprintf(e.stdout, "logs[%s].%s %s\n", cfg.Logs[i].Name, shortName(rv.Name), lv.Value)
				}
			}
		}
	}
	if e.json {
		if err := e.printJSON(out); err != nil {
			return err
		}
	}
	if failed {
		return errReported
	}
	return nil
}

// logValue is one log's effective value in `config describe --json`.
type logValue struct {
	Log    string `json:"log"`
	Value  string `json:"value"`
	Source string `json:"source"`
}

// describeOutput is `config describe --json`'s output.
type describeOutput struct {
	ctl.RecordValue
	Logs []logValue `json:"logs,omitempty"`
}

// configDescribe: `config describe NAME`. Prints one "field: value" a line:
// name, value, default, kind, range, unit, reloadable, per-log, source,
// description; then, for a per-log record, "logs[LOG]: VALUE (SOURCE)" for
// each declared log.
func configDescribe(e *env, args []string) error {
	cfg, err := e.client().Config(e.ctx)
	if err != nil {
		return err
	}
	rv, log, err := findRecord(cfg, args[0])
	if err != nil {
		if k, ok := logKey(args[0]); ok {
			return describeLogKey(e, k)
		}
		return fmt.Errorf("config describe: %w", err)
	}
	out := describeOutput{RecordValue: rv}
	if log != nil {
		out.Name = fmt.Sprintf("logs[%s].%s", log.Name, shortName(rv.Name))
	} else if rv.PerLog {
		for i := range cfg.Logs {
			if lv, ok := logRecord(&cfg.Logs[i], rv.Name); ok {
				out.Logs = append(out.Logs, logValue{Log: cfg.Logs[i].Name, Value: lv.Value, Source: lv.Source})
			}
		}
	}
	if e.json {
		return e.printJSON(out)
	}
	w := e.stdout
	field(w, "name", out.Name)
	field(w, "value", out.Value)
	field(w, "default", out.Default)
	field(w, "kind", out.Kind)
	field(w, "range", out.Range)
	field(w, "unit", orDash(out.Unit))
	reload := "yes"
	if !out.Reloadable {
		reload = "no (restart required)"
	}
	field(w, "reloadable", reload)
	field(w, "per-log", yesNo(out.PerLog))
	field(w, "source", out.Source)
	field(w, "description", out.Description)
	for _, l := range out.Logs {
		field(w, "logs["+l.Log+"]", fmt.Sprintf("%s (%s)", l.Value, l.Source))
	}
	return nil
}

// findRecord finds a record of the running configuration by one of the names
// configGet accepts; log is set for "logs[LOG].KEY".
func findRecord(cfg ctl.ConfigResponse, name string) (ctl.RecordValue, *ctl.LogConfig, error) {
	if rest, ok := strings.CutPrefix(name, "logs["); ok {
		logName, key, ok := strings.Cut(rest, "].")
		if !ok {
			return ctl.RecordValue{}, nil, fmt.Errorf("bad name %q: write logs[LOG].KEY", name)
		}
		var log *ctl.LogConfig
		var logNames []string
		for i := range cfg.Logs {
			if cfg.Logs[i].Name == logName || cfg.Logs[i].Declared == logName {
				log = &cfg.Logs[i]
			}
			logNames = append(logNames, cfg.Logs[i].Name)
		}
		if log == nil {
			return ctl.RecordValue{}, nil, fmt.Errorf("no log %q is declared%s", logName, records.DidYouMean(logName, logNames))
		}
		rv, err := findGlobal(cfg, key)
		if err != nil {
			return ctl.RecordValue{}, nil, err
		}
		lv, ok := logRecord(log, rv.Name)
		if !ok {
			return ctl.RecordValue{}, nil, fmt.Errorf("%s is not a per-log record", rv.Name)
		}
		return lv, log, nil
	}
	rv, err := findGlobal(cfg, name)
	return rv, nil, err
}

// findGlobal finds a record by its full name, its name without
// "proxy.config.", or its key alone when only one record has that key.
func findGlobal(cfg ctl.ConfigResponse, name string) (ctl.RecordValue, error) {
	var byKey []ctl.RecordValue
	for _, rv := range cfg.Records {
		switch {
		case rv.Name == name || rv.Name == recordsPrefix+name:
			return rv, nil
		case shortName(rv.Name) == name:
			byKey = append(byKey, rv)
		}
	}
	if len(byKey) == 1 {
		return byKey[0], nil
	}
	if len(byKey) > 1 {
		return ctl.RecordValue{}, fmt.Errorf("%q is ambiguous: give the full name (%s, …)", name, byKey[0].Name)
	}
	return ctl.RecordValue{}, fmt.Errorf("unknown record %q%s", name, suggestRecord(cfg, name))
}

// suggestRecord returns a "did you mean" with the full name of the record
// whose full, prefix-less or key name is nearest to name.
func suggestRecord(cfg ctl.ConfigResponse, name string) string {
	var forms []string
	full := map[string]string{}
	for _, rv := range cfg.Records {
		for _, form := range []string{rv.Name, strings.TrimPrefix(rv.Name, recordsPrefix), shortName(rv.Name)} {
			if _, seen := full[form]; !seen {
				full[form] = rv.Name
				forms = append(forms, form)
			}
		}
	}
	if c := records.Closest(name, forms); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", full[c])
	}
	return ""
}

// logRecord returns a log's effective value of the record with full name
// (a daemon may name a log's records by key only: both are accepted).
func logRecord(l *ctl.LogConfig, name string) (ctl.RecordValue, bool) {
	for _, rv := range l.Records {
		if rv.Name == name || rv.Name == shortName(name) {
			rv.Name = name
			return rv, true
		}
	}
	return ctl.RecordValue{}, false
}

// shortName is a record's key inside its TOML table.
func shortName(full string) string {
	return full[strings.LastIndexByte(full, '.')+1:]
}

// logKey finds a key of [[logs]] tables that is not a record, by its name
// ("syslog_app_name") or as "logs[LOG].syslog_app_name".
func logKey(name string) (records.LogKey, bool) {
	if rest, ok := strings.CutPrefix(name, "logs["); ok {
		_, name, _ = strings.Cut(rest, "].")
	}
	for _, k := range records.LogKeys() {
		if k.Key == name {
			return k, true
		}
	}
	return records.LogKey{}, false
}

// describeLogKey prints what `config describe` says of a [[logs]] key that
// is not a record (no global value; each log's is in its table).
func describeLogKey(e *env, k records.LogKey) error {
	if e.json {
		return e.printJSON(map[string]any{"name": "logs[]." + k.Key, "kind": k.Kind, "default": k.Default,
			"reloadable": true, "per_log": true, "record": false, "description": k.Description})
	}
	w := e.stdout
	field(w, "name", "logs[]."+k.Key)
	field(w, "default", k.Default)
	field(w, "kind", k.Kind)
	field(w, "reloadable", "yes")
	field(w, "per-log", "only: a key of [[logs]] tables, not a record (no proxy.config value)")
	field(w, "description", k.Description)
	return nil
}
