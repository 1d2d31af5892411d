package records

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// LoadFile reads the file at path and loads it with [Load].
func LoadFile(path string) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("records: read config: %w", err)
	}
	return Load(data, path)
}

// Load decodes and validates the content of a records.toml. name is the file's
// name, used in messages and as the base of relative paths.
//
// Decoding is strict: unknown keys (with a "did you mean" for near misses),
// wrong types, values out of range, bad enum names and bad [[logs]] tables are
// all reported at once in a *LoadError, each as FILE:LINE:COL: key: message.
// Values that Traffic Server adjusts silently are adjusted and reported as
// warnings. Records the file does not set keep their defaults.
func Load(data []byte, name string) (*Config, []Warning, error) {
	d := &decoder{file: name, src: string(data), prims: map[string]toml.Primitive{}}
	var top map[string]toml.Primitive
	md, err := toml.Decode(d.src, &top)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, nil, &LoadError{Problems: []Problem{{
				File: name, Line: pe.Position.Line, Col: pe.Position.Col, Msg: "syntax: " + pe.Message,
			}}}
		}
		return nil, nil, &LoadError{Problems: []Problem{{File: name, Msg: err.Error()}}}
	}
	d.md = &md
	c := &Config{Source: name, vals: map[string]any{}, where: map[string]string{}}
	for i := range table {
		c.vals[table[i].Name] = table[i].Default
	}
	d.cfg = c

	d.walk(nil, top)
	d.unknownKeys()
	d.logs(top["logs"], md.IsDefined("logs"))

	if len(d.errs) > 0 {
		sortProblems(d.errs)
		return nil, nil, &LoadError{Problems: d.errs}
	}
	c.resolvePaths(name)
	sortProblems(d.warns)
	return c, d.warns, nil
}

// decoder holds the state of one Load.
type decoder struct {
	file  string
	src   string
	md    *toml.MetaData
	cfg   *Config
	prims map[string]toml.Primitive // every key seen in a known table, by dotted name
	errs  []Problem
	warns []Problem
}

// tables are the TOML tables that hold records (and their parents).
func isRecordTable(path string) bool {
	for i := range table {
		t := table[i].Table()
		if t == path || strings.HasPrefix(t, path+".") {
			return true
		}
	}
	return false
}

// walk decodes the records of a table and recurses into known sub-tables.
// Keys it does not know are reported by unknownKeys.
func (d *decoder) walk(path []string, tbl map[string]toml.Primitive) {
	for _, key := range sortedKeys(tbl) {
		prim := tbl[key]
		full := append(append([]string{}, path...), key)
		dotted := strings.Join(full, ".")
		d.prims[dotted] = prim
		if len(path) == 0 && key == "logs" {
			continue // decoded by logs
		}
		if rec := Lookup(dotted); rec != nil {
			d.record(rec, prim, dotted, func(v any, where string) {
				d.cfg.vals[rec.Name] = v
				d.cfg.where[rec.Name] = where
			})
			continue
		}
		if !isRecordTable(dotted) {
			continue // unknown: reported by unknownKeys
		}
		var sub map[string]toml.Primitive
		if t := d.md.Type(full...); t != "" && t != "Hash" { // "" is an implicit table
			d.errorAt(prim, dotted, fmt.Sprintf("must be a table, not %s", d.typeOf(full)))
			continue
		}
		if err := d.md.PrimitiveDecode(prim, &sub); err != nil {
			d.errorAt(prim, dotted, fmt.Sprintf("must be a table, not %s", d.typeOf(full)))
			continue
		}
		d.walk(full, sub)
	}
}

// unknownKeys reports every key of the file that is neither a record, nor a
// table of records, nor [[logs]] (which reports its own), once per unknown
// table rather than once per key. It reads the key list the way
// MetaData.Undecoded does; Undecoded itself cannot be used because decoding a
// table into a map of primitives marks every key of it as decoded.
func (d *decoder) unknownKeys() {
	reported := map[string]bool{}
	for _, k := range d.md.Keys() {
		dotted := k.String()
		if k[0] == "logs" || Lookup(dotted) != nil || isRecordTable(dotted) {
			continue
		}
		if len(k) > 1 && Lookup(strings.Join(k[:len(k)-1], ".")) != nil {
			continue // inside a record given as a table: its type error says it
		}
		parent := strings.Join(k[:len(k)-1], ".")
		if reported[parent] {
			reported[dotted] = true
			continue
		}
		reported[dotted] = true
		msg := "unknown key" + didYouMean(dotted, d.candidates())
		prim, ok := d.prims[dotted]
		if !ok {
			d.errs = append(d.errs, Problem{File: d.file, Key: dotted, Msg: msg})
			continue
		}
		d.errorAtKey(prim, dotted, k[len(k)-1], msg)
	}
}

// errorAtKey records an error about a key itself (not its value): at the key
// on the value's line when it is written there, else at the value.
func (d *decoder) errorAtKey(prim toml.Primitive, dotted, key, msg string) {
	p := keyPos(d.src, d.pos(prim), key)
	d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col, Key: dotted, Msg: msg})
}

// keyPos moves a value's position to its key, when the key is written on the
// same line before the value (key = value); otherwise it returns p.
func keyPos(src string, p toml.Position, key string) toml.Position {
	if p.Line == 0 || p.Start > len(src) {
		return p
	}
	lineStart := strings.LastIndexByte(src[:p.Start], '\n') + 1
	if i := strings.Index(src[lineStart:p.Start], key); i >= 0 {
		p.Col = i + 1
	}
	return p
}

// candidates lists the names a key in the table parent could have meant: the
// full names of records and record tables.
func (d *decoder) candidates() []string {
	var out []string
	seen := map[string]bool{}
	for i := range table {
		n := table[i].Name
		out = append(out, n)
		for t := table[i].Table(); t != ""; t = t[:max(strings.LastIndexByte(t, '.'), 0)] {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
			if !strings.Contains(t, ".") {
				break
			}
		}
	}
	return append(out, "logs")
}

// record decodes one record's value, checks it and passes it to set.
func (d *decoder) record(rec *Record, prim toml.Primitive, key string, set func(v any, where string)) {
	pos := d.pos(prim)
	where := fmt.Sprintf("%s:%d:%d", d.file, pos.Line, pos.Col)
	var raw any
	if err := d.md.PrimitiveDecode(prim, &raw); err != nil {
		d.errorAt(prim, key, err.Error())
		return
	}
	v, warn, msg := convert(rec, raw)
	if msg != "" {
		d.errorAt(prim, key, msg)
		return
	}
	if warn != "" {
		d.warns = append(d.warns, Problem{File: d.file, Line: pos.Line, Col: pos.Col, Key: key, Msg: warn})
	}
	set(v, where)
}

// errorAt records an error at the position of prim's value.
func (d *decoder) errorAt(prim toml.Primitive, key, msg string) {
	p := d.pos(prim)
	d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col, Key: key, Msg: msg})
}

// posProbe is decoded into to learn a value's position: the library reports
// the position of the key it was decoding when an Unmarshaler fails.
type posProbe struct{}

var errProbe = errors.New("position probe")

func (posProbe) UnmarshalTOML(any) error { return errProbe }

// pos returns the position of a primitive's value, as the library knows it.
func (d *decoder) pos(prim toml.Primitive) toml.Position {
	return probePos(d.md, prim)
}

func probePos(md *toml.MetaData, prim toml.Primitive) toml.Position {
	var probe posProbe
	err := md.PrimitiveDecode(prim, &probe)
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return pe.Position
	}
	return toml.Position{}
}

func (d *decoder) typeOf(key []string) string {
	t := d.md.Type(key...)
	switch t {
	case "":
		return "a value"
	case "Hash":
		return "a table"
	case "ArrayHash":
		return "an array of tables"
	}
	t = strings.ToLower(t)
	if strings.ContainsRune("aeiou", rune(t[0])) {
		return "an " + t
	}
	return "a " + t
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
