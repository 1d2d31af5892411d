package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// scanOne validates and compacts body as one JSON value of any kind, with
// optional whitespace around it, through the same scanner as Decode.
func scanOne(body []byte) ([]byte, error) {
	var recs Records
	recs.start(body)
	sc := scanner{s: body, body: body, out: &recs, eofMsg: "unexpected end of JSON input"}
	i := skipSpace(body, 0)
	if i == len(body) {
		return nil, syntaxError(body, i, "empty body")
	}
	if i = sc.record(i, 0); i < 0 {
		return nil, sc.err(body)
	}
	if i = skipSpace(body, i); i < len(body) {
		return nil, syntaxError(body, i, "invalid "+charDesc(body[i])+" after top-level value")
	}
	return recs.Block()[:recs.Size()], nil
}

// compact is the reference: encoding/json.Compact of b.
func compact(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("json.Compact(%q): %v", b, err)
	}
	return out.Bytes()
}

// nestDepth returns the deepest nesting of arrays and objects in b, a valid
// JSON text.
func nestDepth(b []byte) int {
	depth, deepest, inStr := 0, 0, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inStr && c == '\\':
			i++
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

// wantValid is what the scanner must accept: what encoding/json accepts,
// less invalid UTF-8 (which json.Valid lets through inside strings) and
// nesting past maxDepth (json.Valid allows 10000). These are the only two
// deliberate differences.
func wantValid(b []byte) bool {
	return json.Valid(b) && utf8.Valid(b) && nestDepth(b) <= maxDepth
}

// gen writes random JSON texts with random insignificant whitespace.
type gen struct {
	r *rand.Rand
	b []byte
}

func (g *gen) ws() {
	if g.r.IntN(4) != 0 {
		return
	}
	for range g.r.IntN(3) + 1 {
		g.b = append(g.b, " \t\r\n"[g.r.IntN(4)])
	}
}

var genPieces = []string{
	"a", "host", "web01", "GET /index.html?q=1 HTTP/1.1", "Mozilla/5.0 (X11; Linux x86_64)",
	`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`, `\u00e9`, `\u00E9`, `\ud83d\ude00`, `\ud800`, `\u0000`,
	"é", "☕", "😀", "\u2028", "\u007f", "ÿ", " ", "'", "{}[],:",
}

func (g *gen) str() {
	g.b = append(g.b, '"')
	for range g.r.IntN(6) {
		g.b = append(g.b, genPieces[g.r.IntN(len(genPieces))]...)
	}
	g.b = append(g.b, '"')
}

func (g *gen) digits(min int) {
	for range min + g.r.IntN(4) {
		g.b = append(g.b, byte('0'+g.r.IntN(10)))
	}
}

func (g *gen) num() {
	if g.r.IntN(3) == 0 {
		g.b = append(g.b, '-')
	}
	if g.r.IntN(4) == 0 {
		g.b = append(g.b, '0')
	} else {
		g.b = append(g.b, byte('1'+g.r.IntN(9)))
		g.digits(0)
	}
	if g.r.IntN(3) == 0 {
		g.b = append(g.b, '.')
		g.digits(1)
	}
	if g.r.IntN(4) == 0 {
		g.b = append(g.b, "eE"[g.r.IntN(2)])
		if k := g.r.IntN(3); k > 0 {
			g.b = append(g.b, "+-"[k-1])
		}
		g.digits(1)
	}
}

// value writes one value; depth bounds the nesting left.
func (g *gen) value(depth int) {
	g.ws()
	k := g.r.IntN(8)
	if depth <= 0 {
		k = g.r.IntN(3) // scalars only
	}
	switch k {
	case 0:
		g.str()
	case 1:
		g.num()
	case 2:
		g.b = append(g.b, []string{"true", "false", "null"}[g.r.IntN(3)]...)
	case 3, 4:
		g.b = append(g.b, '[')
		for i := range g.r.IntN(5) {
			if i > 0 {
				g.b = append(g.b, ',')
			}
			g.value(depth - 1)
		}
		g.ws()
		g.b = append(g.b, ']')
	default:
		g.object(depth)
	}
	g.ws()
}

func (g *gen) object(depth int) {
	g.b = append(g.b, '{')
	for i := range g.r.IntN(6) {
		if i > 0 {
			g.b = append(g.b, ',')
		}
		g.ws()
		g.str()
		g.ws()
		g.b = append(g.b, ':')
		g.value(depth - 1)
	}
	g.ws()
	g.b = append(g.b, '}')
}

// mutate returns a copy of b with one byte flipped, inserted or deleted,
// favouring the bytes that matter to JSON.
func mutate(r *rand.Rand, b []byte) []byte {
	const interesting = "{}[]\",:\\ \t\n\r0123456789-+.eEtrufalsn/bx\x00\x1f\x7f\x80\xbf\xc0\xe2\xed\xf0\xff"
	c := interesting[r.IntN(len(interesting))]
	if r.IntN(4) == 0 {
		c = byte(r.IntN(256))
	}
	m := append([]byte(nil), b...)
	if len(m) == 0 {
		return append(m, c)
	}
	i := r.IntN(len(m))
	switch r.IntN(3) {
	case 0:
		m[i] = c
	case 1:
		m = append(m[:i], append([]byte{c}, m[i:]...)...)
	default:
		m = append(m[:i], m[i+1:]...)
	}
	return m
}

// TestScannerDifferential checks the scanner against encoding/json on many
// random valid texts (compaction byte for byte) and on random mutations of
// them (acceptance, and compaction of what is accepted).
func TestScannerDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	g := &gen{r: r}
	var valid, mutants, accepted int
	for range 5000 {
		g.b = g.b[:0]
		g.value(5)
		doc := g.b
		got, err := scanOne(doc)
		if err != nil {
			t.Fatalf("scanner rejects valid %q: %v", doc, err)
		}
		if want := compact(t, doc); !bytes.Equal(got, want) {
			t.Fatalf("compaction of %q\n got %q\nwant %q", doc, got, want)
		}
		valid++
		for range 10 {
			m := mutate(r, doc)
			mutants++
			got, err := scanOne(m)
			if want := wantValid(m); (err == nil) != want {
				t.Fatalf("scanner on %q: err %v, want valid=%v (json.Valid %v)", m, err, want, json.Valid(m))
			}
			if err != nil {
				var se *SyntaxError
				if !errors.As(err, &se) || se.Offset > int64(len(m)) || se.Line != 1+bytes.Count(m[:se.Offset], []byte("\n")) {
					t.Fatalf("scanner on %q: bad error %#v", m, err)
				}
				continue
			}
			accepted++
			if want := compact(t, m); !bytes.Equal(got, want) {
				t.Fatalf("compaction of %q\n got %q\nwant %q", m, got, want)
			}
		}
	}
	t.Logf("%d valid texts, %d mutants (%d valid)", valid, mutants, accepted)
}

// TestScannerDeliberateDifferences pins the two cases where the scanner
// departs from encoding/json.Valid, on purpose.
func TestScannerDeliberateDifferences(t *testing.T) {
	for _, b := range []string{
		"\"\xff\"",         // invalid UTF-8 in a string: a log file holds text
		"\"\xed\xa0\x80\"", // a UTF-8-encoded surrogate
		strings.Repeat("[", 1001) + strings.Repeat("]", 1001), // deeper than 1000
	} {
		if !json.Valid([]byte(b)) {
			t.Errorf("json.Valid(%q) = false: no longer a difference", short(b))
		}
		if _, err := scanOne([]byte(b)); err == nil {
			t.Errorf("scanner accepts %q", short(b))
		}
	}
}

// checkJSONBody checks Decode(JSON, body) against encoding/json: it accepts
// exactly the valid texts whose top level is an object or an array of
// objects (less the deliberate differences), and each record is the
// json.Compact of its object.
func checkJSONBody(t *testing.T, body []byte) {
	var recs Records
	err := decodeBoth(t, JSON, body, &recs)
	var want [][]byte
	ok := wantValid(body)
	if ok {
		switch trimmed := bytes.TrimLeft(body, " \t\r\n"); trimmed[0] {
		case '{':
			want = [][]byte{compact(t, body)}
		case '[':
			var elems []json.RawMessage
			if e := json.Unmarshal(body, &elems); e != nil {
				t.Fatalf("json.Unmarshal(%q): %v", body, e)
			}
			for _, e := range elems {
				if e[0] != '{' {
					ok = false
					break
				}
				want = append(want, compact(t, e))
			}
		default:
			ok = false
		}
	}
	if !ok {
		var se *SyntaxError
		if err == nil || !errors.As(err, &se) {
			t.Fatalf("Decode(JSON, %q) = %v, want a *SyntaxError", body, err)
		}
		if se.Offset < 0 || se.Offset > int64(len(body)) || se.Line != 1+bytes.Count(body[:se.Offset], []byte("\n")) {
			t.Fatalf("Decode(JSON, %q): error %#v out of place", body, se)
		}
		if recs.Len() != 0 {
			t.Fatalf("Decode(JSON, %q) failed but left %d records", body, recs.Len())
		}
		return
	}
	if err != nil {
		t.Fatalf("Decode(JSON, %q) = %v, want %d records", body, err, len(want))
	}
	if recs.Len() != len(want) {
		t.Fatalf("Decode(JSON, %q): %d records, want %d", body, recs.Len(), len(want))
	}
	for i, rec := range recordsOf(t, body, &recs) {
		if !bytes.Equal(rec, want[i]) {
			t.Fatalf("Decode(JSON, %q) record %d\n got %q\nwant %q", body, i, rec, want[i])
		}
	}
}

// TestDecodeJSONDifferential runs checkJSONBody on random bodies shaped like
// what shippers send, and mutations of them.
func TestDecodeJSONDifferential(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	g := &gen{r: r}
	for range 2000 {
		g.b = g.b[:0]
		if r.IntN(2) == 0 {
			g.object(4)
		} else {
			g.b = append(g.b, '[')
			for i := range r.IntN(5) {
				if i > 0 {
					g.b = append(g.b, ',')
				}
				g.ws()
				g.object(4)
				g.ws()
			}
			g.b = append(g.b, ']')
		}
		body := append([]byte(nil), g.b...)
		checkJSONBody(t, body)
		for range 5 {
			checkJSONBody(t, mutate(r, body))
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add([]byte(`[{"a":1},{"b":[true,null,"x\u00e9"]}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkJSONBody(t, body)
	})
}

func FuzzDecodeNDJSON(f *testing.F) {
	f.Add([]byte("{\"a\": 1}\r\n\n[1, 2]\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		var recs Records
		err := decodeBoth(t, NDJSON, body, &recs)
		var want [][]byte
		ok := true
		for line := range bytes.SplitSeq(body, []byte("\n")) {
			if len(bytes.Trim(line, " \t\r")) == 0 {
				continue
			}
			if !wantValid(line) {
				ok = false
				break
			}
			want = append(want, compact(t, line))
		}
		if !ok {
			var se *SyntaxError
			if !errors.As(err, &se) || recs.Len() != 0 {
				t.Fatalf("Decode(NDJSON, %q) = %v with %d records, want a *SyntaxError", body, err, recs.Len())
			}
			return
		}
		if err != nil || recs.Len() != len(want) {
			t.Fatalf("Decode(NDJSON, %q) = %v with %d records, want %d", body, err, recs.Len(), len(want))
		}
		for i, rec := range recordsOf(t, body, &recs) {
			if !bytes.Equal(rec, want[i]) {
				t.Fatalf("Decode(NDJSON, %q) record %d = %q, want %q", body, i, rec, want[i])
			}
		}
	})
}
