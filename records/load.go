package records

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// LoadFile reads the file at path and loads it with [Load].
func LoadFile(path string) (*Config, []Warning, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
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
	d := &decoder{file: name, src: string(data)}
	var top map[string]toml.Primitive
	md, err := toml.Decode(d.src, &top)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			line, col := syntaxPosition(d.src, pe.Position)
			return nil, nil, &LoadError{Problems: []Problem{{
				File: name, Line: line, Col: col, Msg: "syntax: " + pe.Message,
			}}}
		}
		return nil, nil, &LoadError{Problems: []Problem{{File: name, Msg: err.Error()}}}
	}
	if len(md.Keys()) == 0 {
		// An empty file is far more often one caught while being written
		// (a save that truncated it first) than a wish to remove every
		// log and set every record back to its default.
		return nil, nil, &LoadError{Problems: []Problem{{File: name, Line: 1, Col: 1,
			Msg: "the file sets nothing (it is empty or holds only comments): refused, as it would declare no log and set every record back to its default (a file caught while being written?)"}}}
	}
	d.md = &md
	c := &Config{Source: name, vals: map[string]any{}, where: map[string]string{}}
	for i := range table {
		c.vals[table[i].Name] = table[i].Default
	}
	d.cfg = c

	d.walk(nil, top)
	d.logs(top["logs"], md.IsDefined("logs"))
	d.crossCheck()
	d.checkLevels()
	d.checkLogs()
	d.errs = append(d.errs, c.checkRouteConflicts()...)

	if len(d.errs) == 0 {
		errs, warns := crossRules(c)
		d.errs = append(d.errs, errs...)
		d.warns = append(d.warns, warns...)
	}
	if len(d.errs) > 0 {
		sortProblems(d.errs)
		sortProblems(d.warns)
		return nil, nil, &LoadError{Problems: d.errs, Warnings: d.warns}
	}
	c.resolvePaths(name)
	sortProblems(d.warns)
	return c, d.warns, nil
}

// crossCheck reports what no single record's range can say: a headroom that
// is not below the limit. The headroom is kept free of the budget, so the
// space would be low from the start and autodelete would delete every
// rolled file the moment it rolled. The problem is placed at the headroom
// if the file sets it, else at the limit.
func (d *decoder) crossCheck() {
	m, h := d.cfg.Int(MaxSpaceMB), d.cfg.Int(HeadroomMB)
	if h < m {
		return
	}
	key := HeadroomMB
	where, ok := d.cfg.where[HeadroomMB]
	if !ok {
		key, where = MaxSpaceMB, d.cfg.where[MaxSpaceMB]
	}
	p := Problem{File: d.file, Key: key, Msg: fmt.Sprintf(
		"max_space_mb_headroom (%d MiB) must be less than max_space_mb_for_logs (%d MiB): the headroom is kept free of the budget, and autodelete would delete every rolled file the moment it rolled",
		h, m)}
	p.Line, p.Col = wherePosition(where)
	d.errs = append(d.errs, p)
}

// checkLevels reports a rolled_compression_level beyond the compression's
// range (gzip has 1-9; zstd's 1-22 are the record's range), globally and
// for each log's effective values: at the level where it is set (the log's
// table, or the global record), else at the compression.
func (d *decoder) checkLevels() {
	type eff struct {
		key         string // "proxy.config.log.rolled_compression_level" or "logs[N].rolled_compression_level"
		comp, level int64
		where       string
	}
	var all []eff
	if lvl := d.cfg.Int(RolledCompLevel); d.cfg.Int(RolledCompression) == CompressionGzip && lvl > MaxGzipLevel {
		key, where := RolledCompLevel, d.cfg.where[RolledCompLevel]
		if where == "" {
			key, where = RolledCompression, d.cfg.where[RolledCompression]
		}
		all = append(all, eff{key, CompressionGzip, lvl, where})
	}
	for i := range d.cfg.Logs {
		l := &d.cfg.Logs[i]
		comp, lvl := l.Int(RolledCompression), l.Int(RolledCompLevel)
		if comp != CompressionGzip || lvl <= MaxGzipLevel || !l.over[RolledCompression] && !l.over[RolledCompLevel] {
			continue // within range, or the global problem above
		}
		name := RolledCompLevel
		if !l.over[name] {
			name = RolledCompression
		}
		where, _ := l.Overrides(name)
		all = append(all, eff{fmt.Sprintf("logs[%d].%s", l.index+1, (&Record{Name: name}).Short()), comp, lvl, where})
	}
	for _, e := range all {
		p := Problem{File: d.file, Key: e.key, Msg: fmt.Sprintf(
			"rolled_compression_level %d is beyond gzip's levels (1-%d; 0 is gzip's default, 6)", e.level, MaxGzipLevel)}
		p.Line, p.Col = wherePosition(e.where)
		d.errs = append(d.errs, p)
	}
}

// wherePosition returns the line and column of a "FILE:LINE:COL" position,
// or zeros.
func wherePosition(where string) (line, col int) {
	rest, c, ok := cutLast(where, ":")
	if !ok {
		return 0, 0
	}
	_, l, ok := cutLast(rest, ":")
	if !ok {
		return 0, 0
	}
	line, err1 := strconv.Atoi(l)
	col, err2 := strconv.Atoi(c)
	if err1 != nil || err2 != nil {
		return 0, 0
	}
	return line, col
}

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

// decoder holds the state of one Load.
type decoder struct {
	file  string
	src   string
	md    *toml.MetaData
	cfg   *Config
	errs  []Problem
	warns []Problem
}

// isRecordTable reports whether path is a TOML table that holds records, or
// a parent of one.
func isRecordTable(path string) bool {
	for i := range table {
		t := table[i].Table()
		if t == path || strings.HasPrefix(t, path+".") {
			return true
		}
	}
	return false
}

// walk decodes the records of a table and recurses into the tables that hold
// records. Every other key is reported as unknown, once per unknown table
// (its contents are not reported again).
//
// MetaData.Undecoded cannot find the unknown keys here: decoding a table into
// a map of primitives, which is how positions are obtained, marks every key of
// it as decoded. The walk is therefore the strict check.
func (d *decoder) walk(path []string, tbl map[string]toml.Primitive) {
	for _, key := range sortedKeys(tbl) {
		prim := tbl[key]
		full := append(append([]string{}, path...), key)
		dotted := strings.Join(full, ".")
		if len(path) == 0 && key == "logs" {
			continue // decoded by logs
		}
		if strings.Contains(key, ".") {
			d.errorAtKey(prim, full, fmt.Sprintf("a quoted key with dots is one key named %q; write it unquoted", key))
			continue
		}
		if rec := lookup(dotted); rec != nil {
			d.record(rec, prim, dotted, func(v any, where string) {
				d.cfg.vals[rec.Name] = v
				d.cfg.where[rec.Name] = where
			})
			continue
		}
		t := d.md.Type(full...)
		if !isRecordTable(dotted) {
			d.errorAtKey(prim, full, "unknown key"+suggest(path, key, t == "" || t == "Hash"))
			continue
		}
		if t != "" && t != "Hash" { // "" is an implicit table
			d.errorAt(prim, dotted, fmt.Sprintf("must be a table, not %s", d.typeOf(full)))
			continue
		}
		var sub map[string]toml.Primitive
		if err := d.md.PrimitiveDecode(prim, &sub); err != nil {
			d.errorAt(prim, dotted, fmt.Sprintf("must be a table, not %s", d.typeOf(full)))
			continue
		}
		d.walk(full, sub)
	}
}

// firstPos returns the position of a value or, for a table without one of its
// own (an implicit table such as "a" in [a.b]), the earliest position inside it.
func (d *decoder) firstPos(prim toml.Primitive, full []string) toml.Position {
	if p := d.pos(prim); p.Line > 0 {
		return p
	}
	if t := d.md.Type(full...); t != "" && t != "Hash" {
		return toml.Position{}
	}
	var sub map[string]toml.Primitive
	if err := d.md.PrimitiveDecode(prim, &sub); err != nil {
		return toml.Position{}
	}
	var best toml.Position
	for k, p := range sub {
		q := d.firstPos(p, append(append([]string{}, full...), k))
		if q.Line > 0 && (best.Line == 0 || q.Start < best.Start) {
			best = q
		}
	}
	return best
}

// errorAtKey records an error about a key itself (not its value): at the key
// when it is written on the value's line, else at the value or table.
func (d *decoder) errorAtKey(prim toml.Primitive, full []string, msg string) {
	p := keyPos(d.src, d.firstPos(prim, full), full[len(full)-1])
	d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col, Key: toml.Key(full).String(), Msg: msg})
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

// record decodes one record's value, checks it and passes it to set.
func (d *decoder) record(rec *Record, prim toml.Primitive, key string, set func(v any, where string)) {
	pos := d.pos(prim)
	where := fmt.Sprintf("%s:%d:%d", d.file, pos.Line, pos.Col)
	var raw any
	if err := d.md.PrimitiveDecode(prim, &raw); err != nil {
		d.errorAt(prim, key, err.Error())
		return
	}
	if n, isInt := raw.(int64); isInt && rec.Kind == KindPerm && !strings.HasPrefix(d.src[min(pos.Start, len(d.src)):], "0o") {
		d.errorAt(prim, key, fmt.Sprintf("%d is a decimal number; write the mode as \"0%d\", 0o%d or \"rw-r--r--\"", n, n, n))
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

// pos returns the position of a primitive's value.
func (d *decoder) pos(prim toml.Primitive) toml.Position {
	return probePos(d.md, prim, d.src)
}

// The TOML library computes a position's column from its byte offset
// (Position.Start) with a loop that maps the first byte of a line to one
// past the end of the line before, past its newline (a key defined twice
// at the start of line 3 is reported at 2:22 on a 20-byte line 2), and it
// counts the line of a syntax error found at a newline after that newline
// (an unclosed table header on line 6 is reported on line 7). The offset
// itself is right, so positions are recomputed from it.

// syntaxPosition returns the line and column of a syntax error the library
// reported at p in src: from the offset, unless there is none.
func syntaxPosition(src string, p toml.Position) (line, col int) {
	if p.Start < 0 || p.Start > len(src) || p.Start == 0 && p.Line > 1 {
		return p.Line, p.Col
	}
	return offsetPosition(src, p.Start)
}

// valuePosition returns the line and column of a value's position p in
// src. The library's line is right for values, and its column is kept
// unless it is past the end of the line (then it is recomputed from the
// offset): the positions it gives tables are not offsets of their text.
func valuePosition(src string, p toml.Position) (line, col int) {
	if p.Line < 1 || p.Start < 0 || p.Start > len(src) {
		return p.Line, p.Col // no position
	}
	lines := strings.SplitN(src, "\n", p.Line+1)
	if p.Line <= len(lines) && p.Col >= 1 && p.Col <= len(strings.TrimSuffix(lines[p.Line-1], "\n"))+1 {
		return p.Line, p.Col
	}
	return offsetPosition(src, p.Start)
}

// offsetPosition returns the 1-based line and column of byte offset off of
// src.
func offsetPosition(src string, off int) (line, col int) {
	return strings.Count(src[:off], "\n") + 1, off - strings.LastIndexByte(src[:off], '\n')
}

// probePos returns the position of prim's value in src, the document md was
// decoded from. The library points a string at its first character, inside
// the quotes; probePos moves it back to the opening quote (one, or three for
// a multi-line string), where the value is written.
func probePos(md *toml.MetaData, prim toml.Primitive, src string) toml.Position {
	var probe posProbe
	err := md.PrimitiveDecode(prim, &probe)
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return toml.Position{}
	}
	p := pe.Position
	p.Line, p.Col = valuePosition(src, p)
	for i := 0; i < 3 && p.Col > 1 && p.Start > 0 && p.Start <= len(src); i++ {
		if c := src[p.Start-1]; c != '"' && c != '\'' {
			break
		}
		p.Start--
		p.Col--
	}
	return p
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
