package records

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Change is one difference between two configurations.
type Change struct {
	// Name is the record's full name, "logs[access.log].<record>" for a log's
	// effective setting, or "logs[access.log]" for a log added or removed.
	Name string
	// Old and New are the values as records.toml writes them; "" for a log
	// that did not exist on that side.
	Old, New string
	// Restart says the change cannot apply to a running daemon: it keeps the
	// old value until it is restarted.
	Restart bool
}

// String formats the change as "name: old -> new", noting a needed restart.
func (c Change) String() string {
	s := fmt.Sprintf("%s: %s -> %s", c.Name, orNone(c.Old), orNone(c.New))
	if c.Restart {
		s += " (restart required)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// Diff lists what changes from old to new: every record whose value differs,
// then per log (by active file name) the logs added, removed, or whose
// effective rolling settings differ. A nil old is the embedded defaults.
func Diff(old, new *Config) []Change {
	if old == nil {
		old = Defaults()
	}
	var out []Change
	for i := range table {
		r := &table[i]
		ov, nv := old.vals[r.Name], new.vals[r.Name]
		if !sameValue(ov, nv) {
			out = append(out, Change{Name: r.Name, Old: r.FormatValue(ov), New: r.FormatValue(nv), Restart: !r.Reloadable})
		}
	}
	for _, ol := range old.Logs {
		nl, ok := new.Log(ol.Filename)
		if !ok {
			out = append(out, Change{Name: "logs[" + ol.Filename + "]", Old: "declared", New: ""})
			continue
		}
		for _, k := range []struct {
			key      string
			old, new []string
		}{{keySyslogAppName, ol.SyslogAppNames, nl.SyslogAppNames}, {keySyslogFacility, ol.SyslogFacilities, nl.SyslogFacilities}} {
			if !slices.Equal(k.old, k.new) {
				out = append(out, Change{Name: "logs[" + ol.Filename + "]." + k.key, Old: listValue(k.old), New: listValue(k.new)})
			}
		}
		for i := range table {
			r := &table[i]
			if !r.PerLog {
				continue
			}
			if ov, nv := ol.vals[r.Name], nl.vals[r.Name]; !sameValue(ov, nv) {
				out = append(out, Change{
					Name: "logs[" + ol.Filename + "]." + r.Short(),
					Old:  r.FormatValue(ov), New: r.FormatValue(nv), Restart: !r.Reloadable,
				})
			}
		}
	}
	for _, nl := range new.Logs {
		if _, ok := old.Log(nl.Filename); !ok {
			out = append(out, Change{Name: "logs[" + nl.Filename + "]", Old: "", New: "declared"})
		}
	}
	return out
}

// NeedsRestart returns the changes that a running daemon cannot apply.
func NeedsRestart(changes []Change) []Change {
	var out []Change
	for _, c := range changes {
		if c.Restart {
			out = append(out, c)
		}
	}
	return out
}

// Running returns the configuration a running daemon has after reloading
// next while it runs with the values of started for the records that need a
// restart (logfile_dir, local_state_dir, http_listen): next, with each such
// record's value and source taken from started. The result is what the
// daemon really runs, so that `config get` shows it and a later Diff against
// the file reports the restart still pending. Neither argument is modified.
func Running(next, started *Config) *Config {
	out := *next
	out.vals = make(map[string]any, len(next.vals))
	out.where = make(map[string]string, len(next.where))
	for k, v := range next.vals {
		out.vals[k] = v
	}
	for k, v := range next.where {
		out.where[k] = v
	}
	for i := range table {
		r := &table[i]
		if r.Reloadable {
			continue
		}
		out.vals[r.Name] = started.vals[r.Name]
		delete(out.where, r.Name)
		if w, ok := started.where[r.Name]; ok {
			out.where[r.Name] = w
		}
	}
	return &out
}

// listValue renders a routing list as records.toml writes it, "" when unset.
func listValue(vs []string) string {
	if vs == nil {
		return ""
	}
	q := make([]string, len(vs))
	for i, v := range vs {
		q[i] = strconv.Quote(v)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// sameValue reports whether two record values (int64, string or []string)
// are equal.
func sameValue(a, b any) bool {
	if as, ok := a.([]string); ok {
		bs, ok := b.([]string)
		return ok && slices.Equal(as, bs)
	}
	if _, ok := b.([]string); ok {
		return false
	}
	return a == b
}
