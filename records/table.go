package records

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kind is the type of a record's value.
type Kind int

// The record kinds. Every value is stored as an int64 (Int, Bool, Enum,
// Perm), a string (String) or a []string (Argv).
const (
	// KindInt is a TOML integer within [Record.Min, Record.Max].
	KindInt Kind = iota
	// KindBool is 0 or 1; TOML true/false are accepted too.
	KindBool
	// KindEnum is an integer or one of the names in Record.Enum.
	KindEnum
	// KindString is a TOML string.
	KindString
	// KindPerm is a file mode: "rw-r--r--" (Traffic Server's form), "0644" or a
	// TOML integer such as 0o644.
	KindPerm
	// KindArgv is a TOML array of strings: a program and its arguments,
	// run without a shell. Its values are []string.
	KindArgv
)

// String names the kind for messages and docs.
func (k Kind) String() string {
	switch k {
	case KindInt:
		return "int"
	case KindBool:
		return "bool (0 or 1)"
	case KindEnum:
		return "enum"
	case KindString:
		return "string"
	case KindPerm:
		return "file mode"
	case KindArgv:
		return "argv (array of strings)"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// EnumName is one accepted name of an enum record and the value it stands for.
// The first name listed for a value is its canonical name.
type EnumName struct {
	Name  string
	Value int64
}

// Record describes one configuration record. The table of records is the one
// source that validation, defaults, the documentation and `logrollctl config
// describe` read.
type Record struct {
	// Name is the full dotted name, e.g. "proxy.config.log.rolling_size_mb".
	Name string
	// Kind is the value's type.
	Kind Kind
	// Default is the embedded default: an int64 for every kind but KindString,
	// whose default is a string, and KindArgv, a []string.
	Default any
	// Min and Max bound integer values (inclusive) for KindInt and KindEnum.
	// Values outside are errors, unless Adjust accepts them with a warning.
	Min, Max int64
	// Enum lists the names an enum record accepts.
	Enum []EnumName
	// Unit is the unit of the value ("s", "MiB", "bytes", "h", ...), or "".
	Unit string
	// Reloadable says the record takes effect on reload; otherwise a change
	// needs a restart and is reported as such.
	Reloadable bool
	// PerLog says the record may be overridden in a [[logs]] table.
	PerLog bool
	// Description is one line saying what the record does.
	Description string

	// adjust, when set, mimics an adjustment Traffic Server makes silently. It
	// runs before the range check and returns the adjusted value and a warning
	// ("" when the value is kept).
	adjust func(v int64) (int64, string)
	// check, when set, validates a string value; it returns "" when valid.
	check func(s string) string
	// checkArgv, when set, validates an argv value; "" when valid.
	checkArgv func(argv []string) string
}

// Short returns the name without the "proxy.config." prefix and the table
// part, i.e. the key as written inside its TOML table.
func (r *Record) Short() string {
	return r.Name[strings.LastIndexByte(r.Name, '.')+1:]
}

// Table returns the TOML table the record lives in, e.g. "proxy.config.log".
func (r *Record) Table() string {
	return r.Name[:strings.LastIndexByte(r.Name, '.')]
}

// Range describes the valid values in words, for messages and docs.
func (r *Record) Range() string {
	switch r.Kind {
	case KindBool:
		return "0 or 1"
	case KindEnum:
		var names []string
		for _, e := range r.Enum {
			names = append(names, fmt.Sprintf("%s (%d)", e.Name, e.Value))
		}
		return strings.Join(names, ", ")
	case KindInt:
		return fmt.Sprintf("%d to %d", r.Min, r.Max)
	case KindPerm:
		return "a file mode such as \"rw-r--r--\" or \"0644\""
	case KindArgv:
		return "[] or [\"/absolute/program\", \"arg\", ...]"
	}
	if r.check != nil {
		return "see description"
	}
	return "any string"
}

// FormatValue renders a value of this record the way records.toml writes it.
func (r *Record) FormatValue(v any) string {
	switch r.Kind {
	case KindString:
		return fmt.Sprintf("%q", v)
	case KindPerm:
		return fmt.Sprintf("%q", formatPerm(v.(int64)))
	case KindArgv:
		return formatArgv(v.([]string))
	case KindEnum:
		if n := r.enumName(v.(int64)); n != "" && r.Name != RollingEnabled {
			return fmt.Sprintf("%q", n)
		}
	}
	return fmt.Sprint(v)
}

func (r *Record) enumName(v int64) string {
	for _, e := range r.Enum {
		if e.Value == v {
			return e.Name
		}
	}
	return ""
}

// Lookup returns a copy of the record with the given full name.
func Lookup(name string) (Record, bool) {
	if r := lookup(name); r != nil {
		return *r, true
	}
	return Record{}, false
}

// All returns a copy of every record, in table order.
func All() []Record { return slices.Clone(table) }

// lookup returns the table's record with the given full name, or nil.
func lookup(name string) *Record {
	for i := range table {
		if table[i].Name == name {
			return &table[i]
		}
	}
	return nil
}

// perLog returns the record that a [[logs]] key names, or nil.
func perLog(key string) *Record {
	for i := range table {
		if table[i].PerLog && table[i].Short() == key {
			return &table[i]
		}
	}
	return nil
}

// formatArgv writes an argv the way records.toml does: ["a", "b"].
func formatArgv(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = strconv.Quote(a)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
