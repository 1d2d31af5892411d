package records

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// logs decodes the [[logs]] tables: each needs a filename (Traffic Server's
// rule, one path component, unique after the rule) and may override any
// per-log record; the rest is inherited from the global values.
func (d *decoder) logs(prim toml.Primitive, defined bool) {
	if !defined {
		return
	}
	var elems []map[string]toml.Primitive
	if err := d.md.PrimitiveDecode(prim, &elems); err != nil {
		d.errorAt(prim, "logs", "must be an array of tables ([[logs]]), not "+d.typeOf([]string{"logs"}))
		return
	}
	positions := elementPositions(d.src, len(elems))
	seen := map[string]string{} // active name → where declared
	perLogKeys := []string{"filename"}
	for i := range table {
		if table[i].PerLog {
			perLogKeys = append(perLogKeys, table[i].Short())
		}
	}
	for i, el := range elems {
		at := func(key string) toml.Position {
			if p, ok := positions[i][key]; ok {
				return p
			}
			if prim, ok := el[key]; ok {
				return d.pos(prim)
			}
			// No such key (a missing filename): the table's first key.
			var first toml.Position
			for _, p := range positions[i] {
				if first.Line == 0 || p.Start < first.Start {
					first = p
				}
			}
			first.Col = 1
			return first
		}
		fail := func(key, msg string) {
			p := at(key)
			k := fmt.Sprintf("logs[%d]", i+1)
			if key != "" {
				k += "." + key
			}
			d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col, Key: k, Msg: msg})
		}
		var filename string
		if fp, ok := el["filename"]; !ok {
			fail("", "missing filename")
		} else {
			var raw any
			_ = d.md.PrimitiveDecode(fp, &raw)
			s, isStr := raw.(string)
			switch {
			case !isStr:
				fail("filename", "expected a string, got "+describe(raw))
			case checkFilename(s) != "":
				fail("filename", fmt.Sprintf("%q %s", s, checkFilename(s)))
			default:
				filename = s
			}
		}
		// The log inherits the global values; overrides are applied below,
		// once the globals are final.
		log := Log{Declared: filename, Filename: ActiveName(filename), where: map[string]string{}}
		over := map[string]int64{}
		for _, key := range sortedKeys(el) {
			if key == "filename" {
				continue
			}
			rec := perLog(key)
			if rec == nil {
				p := keyPos(d.src, at(key), key)
				d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col,
					Key: fmt.Sprintf("logs[%d].%s", i+1, key), Msg: "unknown key" + didYouMean(key, perLogKeys)})
				continue
			}
			p := at(key)
			var raw any
			_ = d.md.PrimitiveDecode(el[key], &raw)
			v, warn, msg := convert(rec, raw)
			name := fmt.Sprintf("logs[%d].%s", i+1, key)
			if msg != "" {
				fail(key, msg)
				continue
			}
			if warn != "" {
				d.warns = append(d.warns, Problem{File: d.file, Line: p.Line, Col: p.Col, Key: name, Msg: warn})
			}
			over[rec.Name] = v.(int64)
			log.where[rec.Name] = fmt.Sprintf("%s:%d:%d", d.file, p.Line, p.Col)
		}
		if filename == "" {
			continue
		}
		p := at("filename")
		if prev, dup := seen[log.Filename]; dup {
			fail("filename", fmt.Sprintf("%q is already declared at %s (as %s)", filename, prev, log.Filename))
			continue
		}
		seen[log.Filename] = fmt.Sprintf("%s:%d:%d", d.file, p.Line, p.Col)
		log.vals = map[string]int64{}
		for i := range table {
			if table[i].PerLog {
				if v, ok := over[table[i].Name]; ok {
					log.vals[table[i].Name] = v
				} else {
					log.vals[table[i].Name] = d.cfg.vals[table[i].Name].(int64)
				}
			}
		}
		d.cfg.Logs = append(d.cfg.Logs, log)
	}
}

// elementPositions returns, for each of the n [[logs]] tables of src, the
// position of each key's value. The TOML library keeps one position per dotted
// key, so for an array of tables it remembers the last table's only. To get
// every table's, this parses shorter and shorter prefixes of the document: the
// last table of each prefix has its true positions, and cutting just before
// the line of its first key leaves the previous table last.
func elementPositions(src string, n int) []map[string]toml.Position {
	out := make([]map[string]toml.Position, n)
	doc := src
	for i := n - 1; i >= 0; i-- {
		var s struct {
			Logs []map[string]toml.Primitive `toml:"logs"`
		}
		md, err := toml.Decode(doc, &s)
		if err != nil || len(s.Logs) < i+1 {
			break
		}
		out[i] = map[string]toml.Position{}
		first := len(doc)
		for k, p := range s.Logs[i] {
			pos := probePos(&md, p)
			out[i][k] = pos
			if pos.Line > 0 && pos.Start < first {
				first = pos.Start
			}
		}
		if first == len(doc) {
			continue // an empty table: the previous one is already last
		}
		cut := strings.LastIndexByte(doc[:first], '\n') + 1
		if cut >= len(doc) || cut <= 0 {
			break
		}
		doc = doc[:cut]
	}
	return out
}
