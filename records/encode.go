package records

import (
	"bytes"
	"strings"

	"github.com/BurntSushi/toml"
)

// TOML renders the configuration as a records.toml that loads back to an
// equal configuration: every record with its value (paths absolute), and each
// log with the records it overrides.
func (c *Config) TOML() []byte {
	root := map[string]any{}
	for i := range table {
		r := &table[i]
		t := root
		parts := strings.Split(r.Table(), ".")
		for _, p := range parts {
			sub, ok := t[p].(map[string]any)
			if !ok {
				sub = map[string]any{}
				t[p] = sub
			}
			t = sub
		}
		t[r.Short()] = encodeValue(r, c.vals[r.Name])
	}
	var logs []map[string]any
	for _, l := range c.Logs {
		m := map[string]any{"filename": l.Declared}
		if l.SyslogAppNames != nil {
			m[keySyslogAppName] = l.SyslogAppNames
		}
		if l.SyslogFacilities != nil {
			m[keySyslogFacility] = l.SyslogFacilities
		}
		for name := range l.over {
			r := lookup(name)
			m[r.Short()] = encodeValue(r, l.vals[name])
		}
		logs = append(logs, m)
	}
	if len(logs) > 0 {
		root["logs"] = logs
	}
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(root); err != nil {
		// Only maps of strings, int64s and slices of maps are encoded: an
		// error here is a bug in this function.
		panic("records: encode: " + err.Error())
	}
	return buf.Bytes()
}

// encodeValue gives a value the form records.toml would use: file modes as
// "rw-r--r--", enums by name (rolling_enabled stays a number, as in ATS).
func encodeValue(r *Record, v any) any {
	switch {
	case r.Kind == KindPerm:
		return formatPerm(v.(int64))
	case r.Kind == KindEnum && r.Name != RollingEnabled:
		if n := r.enumName(v.(int64)); n != "" {
			return n
		}
	}
	return v
}
