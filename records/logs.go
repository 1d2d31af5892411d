package records

import (
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/BurntSushi/toml"
)

// logs decodes the [[logs]] tables: each needs a filename (Traffic Server's
// rule, one path component, unique after the rule) and may override any
// per-log record; the rest is inherited from the global values.
func (d *decoder) logs(prim toml.Primitive, defined bool) {
	if !defined {
		return
	}
	typ := d.md.Type("logs")
	var elems []toml.Primitive
	if (typ != "ArrayHash" && typ != "Array") || d.md.PrimitiveDecode(prim, &elems) != nil {
		d.errorAt(prim, "logs", "must be an array of tables ([[logs]]), not "+d.typeOf([]string{"logs"}))
		return
	}
	lp := &logPositions{src: d.src, n: len(elems), inline: typ == "Array", arrayPos: d.pos(prim)}
	d.cfg.logPos = lp
	seen := map[string]int{} // active name → index of the declaring table
	for i, elem := range elems {
		var el map[string]toml.Primitive
		var raw any
		_ = d.md.PrimitiveDecode(elem, &raw)
		if _, ok := raw.(map[string]any); !ok {
			p := lp.at(i, "")
			d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col,
				Key: fmt.Sprintf("logs[%d]", i+1), Msg: "must be a table, got " + describe(raw)})
			continue
		}
		_ = d.md.PrimitiveDecode(elem, &el)
		fail := func(key, msg string, keyCol bool) {
			p := lp.at(i, key)
			if keyCol {
				p = keyPos(d.src, p, key)
			}
			k := fmt.Sprintf("logs[%d]", i+1)
			if key != "" {
				k += "." + key
			}
			d.errs = append(d.errs, Problem{File: d.file, Line: p.Line, Col: p.Col, Key: k, Msg: msg})
		}
		var filename string
		if fp, ok := el["filename"]; !ok {
			fail("", "missing filename", false)
		} else {
			var raw any
			_ = d.md.PrimitiveDecode(fp, &raw)
			s, isStr := raw.(string)
			switch {
			case !isStr:
				fail("filename", "expected a string, got "+describe(raw), false)
			case checkFilename(s) != "":
				fail("filename", fmt.Sprintf("%q %s", s, checkFilename(s)), false)
			default:
				filename = s
			}
		}
		log := Log{Declared: filename, Filename: ActiveName(filename), index: i, pos: lp, file: d.file}
		over := map[string]any{}
		for _, key := range sortedKeys(el) {
			if key == "filename" {
				continue
			}
			if key == keySyslogAppName || key == keySyslogFacility {
				check, example := checkAppName, `["nginx"]`
				if key == keySyslogFacility {
					check, example = checkFacility, `["auth", "authpriv"]`
				}
				vals, msgs := d.syslogList(el[key], check, example)
				for _, msg := range msgs {
					fail(key, msg, false)
				}
				if key == keySyslogAppName {
					log.SyslogAppNames = vals
				} else {
					log.SyslogFacilities = vals
				}
				continue
			}
			rec := perLog(key)
			if rec == nil {
				msg := "unknown key" + didYouMean(key, perLogKeys())
				if g := lookup("proxy.config.log." + key); g != nil {
					msg = fmt.Sprintf("not a per-log record; set %s in [proxy.config.log]", g.Name)
				}
				fail(key, msg, true)
				continue
			}
			var raw any
			_ = d.md.PrimitiveDecode(el[key], &raw)
			v, warn, msg := convert(rec, raw)
			if msg != "" {
				fail(key, msg, false)
				continue
			}
			if warn != "" {
				p := lp.at(i, key)
				d.warns = append(d.warns, Problem{File: d.file, Line: p.Line, Col: p.Col,
					Key: fmt.Sprintf("logs[%d].%s", i+1, key), Msg: warn})
			}
			over[rec.Name] = v
		}
		if filename == "" {
			continue
		}
		if prev, dup := seen[log.Filename]; dup {
			p := lp.at(prev, "filename")
			fail("filename", fmt.Sprintf("%q is already declared by logs[%d] at %s:%d:%d (as %s)",
				filename, prev+1, d.file, p.Line, p.Col, log.Filename), false)
			continue
		}
		if other, prev, ok := namePrefixOf(log.Filename, seen); ok {
			p := lp.at(prev, "filename")
			long, short := log.Filename, other
			if len(other) > len(long) {
				long, short = other, log.Filename
			}
			fail("filename", fmt.Sprintf("%q (%s) and logs[%d] at %s:%d:%d (%s) make names that cannot be told apart: %s begins with %s and a %q, so its rolled files read as %s's of another host, whose rolling_max_count or budget would delete them (name it %q, say)",
				filename, log.Filename, prev+1, d.file, p.Line, p.Col, other, long, short, long[len(short)], short, suggestApart(long, short)), false)
			continue
		}
		seen[log.Filename] = i
		log.vals = map[string]any{}
		log.over = map[string]bool{}
		for i := range table {
			if table[i].PerLog {
				if v, ok := over[table[i].Name]; ok {
					log.vals[table[i].Name] = v
					log.over[table[i].Name] = true
				} else {
					log.vals[table[i].Name] = d.cfg.vals[table[i].Name]
				}
			}
		}
		d.cfg.Logs = append(d.cfg.Logs, log)
	}
}

// perLogKeys lists the keys a [[logs]] table may hold.
func perLogKeys() []string {
	keys := []string{"filename", keySyslogAppName, keySyslogFacility}
	for i := range table {
		if table[i].PerLog {
			keys = append(keys, table[i].Short())
		}
	}
	return keys
}

// logPositions finds the positions of the keys of [[logs]] tables, lazily:
// only when a problem is reported or a source is asked for, because it costs
// one parse per table. It is safe for concurrent use.
type logPositions struct {
	src      string
	n        int
	inline   bool          // logs = [{...}, {...}]: positions are per array only
	arrayPos toml.Position // the position of the logs value

	once sync.Once
	pos  []map[string]toml.Position
}

// at returns the position of key in the i-th table ("" or a missing key: the
// table's first key), or the array's position when nothing better is known.
func (lp *logPositions) at(i int, key string) toml.Position {
	if lp.inline && lp.n > 1 {
		// The library keeps one position per dotted key: inside one inline
		// array, the tables' keys cannot be told apart. Point at the array.
		return lp.arrayPos
	}
	lp.once.Do(func() { lp.pos = elementPositions(lp.src, lp.n) })
	if i < len(lp.pos) && lp.pos[i] != nil {
		if p, ok := lp.pos[i][key]; ok {
			return p
		}
		var first toml.Position
		for _, p := range lp.pos[i] {
			if first.Line == 0 || p.Start < first.Start {
				first = p
			}
		}
		if first.Line > 0 {
			first.Col = 1
			return first
		}
	}
	return lp.arrayPos
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
			pos := probePos(&md, p, doc)
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

// checkFilename validates a [[logs]] filename: one plain path component made of
// letters, digits, '.', '_' and '-', not starting with a dot, not naming a
// file ending in ".old" (the space manager deletes rolled files), at most
// 100 bytes (the active name) so that
// rolled names (active name, host and two times) stay within 255 bytes. It
// returns "" when the name is valid. The character set keeps names usable in
// ingest URLs as they are.
// rolledSuffixes end rolled files' names, plain and compressed: an active
// file named so would be listed, processed and deleted as a rolled file.
var rolledSuffixes = []string{".old", ".old.gz", ".old.zst"}

// CheckFilename returns what is wrong with s as a [[logs]] filename, and so
// as the name of a log: "" when nothing is. logrollctl pipe uses it to
// refuse at once a log no configuration can declare.
func CheckFilename(s string) string { return checkFilename(s) }

func checkFilename(s string) string {
	if s == "" {
		return "must not be empty"
	}
	if strings.ContainsAny(s, "/\\") {
		return "must be one path component (no '/')"
	}
	if s[0] == '.' {
		return "must not start with a dot"
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
		case r == utf8.RuneError:
			return "is not valid UTF-8"
		default:
			return fmt.Sprintf("character %q is not allowed (letters, digits, '.', '_' and '-' only)", r)
		}
	}
	if s == "stdout" || s == "stderr" {
		return "is Traffic Server's name for its standard stream, which logroll does not write: logroll writes files only (name the log otherwise, or " +
			strconv.Quote(s+".log") + " for a file)"
	}
	for _, suf := range rolledSuffixes {
		if strings.HasSuffix(s, suf) {
			return fmt.Sprintf("must not end in %q, the suffix of rolled files", suf)
		}
		if a := ActiveName(s); strings.HasSuffix(a, suf) {
			return fmt.Sprintf("names the file %q, which must not end in %q, the suffix of rolled files", a, suf)
		}
	}
	if len(ActiveName(s)) > maxActiveName {
		return fmt.Sprintf("is longer than %d bytes", maxActiveName)
	}
	return ""
}

// maxActiveName and maxHostname keep rolled names
// (<active>.<host>.<START>-<END>.NNN.old, 45 bytes besides the two names)
// within the 255-byte limit of file names.
const (
	maxActiveName = 100
	maxHostname   = 100
)

// namePrefixOf finds a declared active name (in seen, by the index of its
// table) that name begins with, followed by '.' or '_': a rolled name of
// name ("access.log.eu.web01.<times>") then reads as well as one of that
// log's, of a host "eu.web01". Either of the two names may come first in
// the file; the second is the one refused.
func namePrefixOf(name string, seen map[string]int) (string, int, bool) {
	found, at := "", -1
	for other, i := range seen {
		if (startsWithSep(name, other) || startsWithSep(other, name)) && (at < 0 || i < at) {
			found, at = other, i
		}
	}
	return found, at, at >= 0
}

// startsWithSep reports whether long is short, '.' or '_', and more.
func startsWithSep(long, short string) bool {
	return len(long) > len(short)+1 && strings.HasPrefix(long, short) && (long[len(short)] == '.' || long[len(short)] == '_')
}

// suggestApart proposes a filename to declare for long (an active name)
// that no longer begins with short and a separator, in short's style: its
// extension kept at the end ("access.log.eu" beside "access.log" →
// "access-eu.log"; "err.txt.x" beside "err.txt" → "err-x.txt"), or, for a
// short without one (declared "err."), the trailing dot that keeps ".log"
// off ("err.x" → "err-x.").
func suggestApart(long, short string) string {
	ext := path.Ext(short)
	rest := strings.ReplaceAll(long[len(short)+1:], ".", "-")
	if ext == "" {
		return short + "-" + rest + "."
	}
	return strings.TrimSuffix(short, ext) + "-" + rest + ext
}
