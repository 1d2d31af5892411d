package main

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"time"
)

// Record generation: realistic access-log records, deterministic for a seed.
//
// A record is one HTTP request as Apache's (and Traffic Server's) combined
// log format writes it, about 240 bytes on average:
//
//	203.0.113.7 - - [21/Nov/2026:06:00:00 +0000] "GET /api/v2/items/48213?page=3 HTTP/1.1" 200 5123 "https://www.example.com/search?q=…" "Mozilla/5.0 …"
//
// The same record as a Logstash event is the object Logstash's grok
// COMBINEDAPACHELOG pattern makes of that line, with the fields Logstash
// adds (@timestamp, @version, host), compact, keys in a fixed order, about
// 420 bytes:
//
//	{"@timestamp":"2026-11-21T06:00:00.000Z","@version":"1","host":{"name":"web01"},"clientip":"203.0.113.7",…}

// record is one generated request.
type record struct {
	t        time.Time
	ip       string
	user     string // "-" for none
	method   string
	path     string
	status   int
	bytes    int    // -1 for "-"
	referrer string // "-" for none
	agent    string
	host     string
}

// genBase is the time of the first record.
var genBase = time.Date(2026, time.November, 21, 6, 0, 0, 0, time.UTC)

var (
	genUsers   = []string{"frank", "alice", "bob", "svc-deploy", "m.jones"}
	genHosts   = []string{"web01", "web02", "web03", "edge-fra-1", "edge-iad-2"}
	genMethods = []weighted[string]{{"GET", 82}, {"POST", 12}, {"HEAD", 3}, {"PUT", 2}, {"DELETE", 1}}
	genStatus  = []weighted[int]{{200, 78}, {304, 8}, {404, 5}, {301, 3}, {302, 3}, {500, 1}, {503, 1}, {206, 1}}
	genPaths   = []string{
		"/", "/index.html", "/favicon.ico", "/robots.txt",
		"/static/css/main.%h.css", "/static/js/app.%h.js", "/images/products/%d/large.jpg?v=%h",
		"/api/v2/items/%d", "/api/v2/items/%d?page=%s&sort=price&fields=id,name,price,stock",
		"/api/v2/search?q=%w+%w&limit=50&offset=%s0&session=%h%h",
		"/cart/add?sku=%d&qty=%s&ref=%w", "/account/orders/%d/invoice.pdf", "/blog/%w-%w-%w?utm_source=newsletter&utm_medium=email",
		"/checkout/payment?step=%s", "/category/%w/%w?page=%s&sort=popular", "/wp-login.php", "/.env",
	}
	genWords = []string{
		"shoes", "running", "winter", "jacket", "blue", "sale", "cable", "usb", "coffee", "grinder",
		"laptop", "stand", "garden", "chair", "lamp", "desk", "kettle", "review", "guide", "news",
	}
	genReferrers = []string{
		"https://www.example.com/", "https://www.example.com/search?q=%w+%w&src=typeahead",
		"https://www.google.com/", "https://duckduckgo.com/?q=%w+%w&ia=web",
		"https://news.example.org/%w/%d-%w-%w-%w.html", "https://www.example.com/category/%w?page=%s&sort=popular",
		"https://www.example.com/products/%d/%w-%w", "https://m.facebook.com/",
	}
	genAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.51",
		"Mozilla/5.0 (iPad; CPU OS 17_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 13; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
		"curl/8.11.0",
		"Prometheus/2.55.1",
	}
)

// generator makes records from a seeded PCG: the same seed gives the same
// records on every machine and Go version (math/rand/v2's PCG is specified).
type generator struct {
	r *rand.Rand
	n int // records made so far
}

func newGenerator(seed uint64) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed, 0x6c6f67726f6c6c))} // "logroll"
}

// next returns the next record. Records are 1–5 ms apart.
func (g *generator) next() record {
	r := g.r
	g.n++
	rec := record{
		t:        genBase.Add(time.Duration(g.n)*3*time.Millisecond + time.Duration(r.IntN(2000))*time.Microsecond),
		ip:       g.ip(),
		user:     "-",
		method:   pickWeighted(r, genMethods),
		path:     g.fill(genPaths[r.IntN(len(genPaths))]),
		status:   pickWeighted(r, genStatus),
		referrer: "-",
		agent:    genAgents[r.IntN(len(genAgents))],
		host:     genHosts[r.IntN(len(genHosts))],
	}
	if r.IntN(10) == 0 {
		rec.user = genUsers[r.IntN(len(genUsers))]
	}
	if r.IntN(10) < 8 {
		rec.referrer = g.fill(genReferrers[r.IntN(len(genReferrers))])
	}
	switch {
	case rec.status == 304 || rec.method == "HEAD":
		rec.bytes = -1
	case rec.status >= 400:
		rec.bytes = 150 + r.IntN(400)
	default:
		rec.bytes = 200 + r.IntN(60000)
	}
	return rec
}

// ip returns a client address: private, documentation or public-looking.
func (g *generator) ip() string {
	r := g.r
	var b []byte
	switch r.IntN(3) {
	case 0:
		b = append(b, "10."...)
		b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
	case 1:
		b = append(b, "192.168."...)
		b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(1+r.IntN(254)), 10)
		return string(b)
	default:
		b = strconv.AppendInt(b, int64(1+r.IntN(223)), 10)
		b = append(b, '.')
		b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
	}
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(r.IntN(256)), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(1+r.IntN(254)), 10)
	return string(b)
}

// fill expands %d (an id), %s (a small number), %h (a hex hash) and %w (a word).
func (g *generator) fill(tmpl string) string {
	r := g.r
	var b []byte
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '%' || i+1 == len(tmpl) {
			b = append(b, tmpl[i])
			continue
		}
		i++
		switch tmpl[i] {
		case 'd':
			b = strconv.AppendInt(b, int64(1000+r.IntN(900000)), 10)
		case 's':
			b = strconv.AppendInt(b, int64(1+r.IntN(20)), 10)
		case 'h':
			b = strconv.AppendUint(b, r.Uint64()&0xffffffff, 16)
		case 'w':
			b = append(b, genWords[r.IntN(len(genWords))]...)
		default:
			b = append(b, '%', tmpl[i])
		}
	}
	return string(b)
}

// weighted is a value and its weight for pickWeighted.
type weighted[T any] struct {
	v T
	w int
}

// pickWeighted returns the value of an element of xs chosen with their weights.
func pickWeighted[T any](r *rand.Rand, xs []weighted[T]) T {
	total := 0
	for _, x := range xs {
		total += x.w
	}
	n := r.IntN(total)
	for _, x := range xs {
		if n -= x.w; n < 0 {
			return x.v
		}
	}
	return xs[len(xs)-1].v
}

// appendText appends rec in combined log format, without a newline.
func (rec record) appendText(b []byte) []byte {
	b = append(b, rec.ip...)
	b = append(b, " - "...)
	b = append(b, rec.user...)
	b = append(b, " ["...)
	b = rec.t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, "] \""...)
	b = append(b, rec.method...)
	b = append(b, ' ')
	b = append(b, rec.path...)
	b = append(b, " HTTP/1.1\" "...)
	b = strconv.AppendInt(b, int64(rec.status), 10)
	b = append(b, ' ')
	if rec.bytes < 0 {
		b = append(b, '-')
	} else {
		b = strconv.AppendInt(b, int64(rec.bytes), 10)
	}
	b = append(b, " \""...)
	b = append(b, rec.referrer...)
	b = append(b, "\" \""...)
	b = append(b, rec.agent...)
	b = append(b, '"')
	return b
}

// appendJSON appends rec as Logstash sends it after grok
// %{COMBINEDAPACHELOG}: compact, keys in a fixed order. As grok does,
// referrer and agent keep their quotes, and bytes is absent for "-".
func (rec record) appendJSON(b []byte) []byte {
	b = append(b, `{"@timestamp":"`...)
	b = rec.t.AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	b = append(b, `","@version":"1","host":{"name":`...)
	b = appendJSONString(b, rec.host)
	b = append(b, `},"clientip":`...)
	b = appendJSONString(b, rec.ip)
	b = append(b, `,"ident":"-","auth":`...)
	b = appendJSONString(b, rec.user)
	b = append(b, `,"timestamp":"`...)
	b = rec.t.AppendFormat(b, "02/Jan/2006:15:04:05 -0700")
	b = append(b, `","verb":`...)
	b = appendJSONString(b, rec.method)
	b = append(b, `,"request":`...)
	b = appendJSONString(b, rec.path)
	b = append(b, `,"httpversion":"1.1","response":`...)
	b = strconv.AppendInt(b, int64(rec.status), 10)
	if rec.bytes >= 0 {
		b = append(b, `,"bytes":`...)
		b = strconv.AppendInt(b, int64(rec.bytes), 10)
	}
	b = append(b, `,"referrer":`...)
	b = appendJSONString(b, `"`+rec.referrer+`"`)
	b = append(b, `,"agent":`...)
	b = appendJSONString(b, `"`+rec.agent+`"`)
	b = append(b, `,"tags":["access"]}`...)
	return b
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// Format is a body format the bench sends.
type Format string

// The formats: text/plain lines, and Logstash json_batch arrays.
const (
	FormatText Format = "text"
	FormatJSON Format = "json"
)

// contentType returns the Content-Type a shipper sends for f.
func (f Format) contentType() string {
	if f == FormatJSON {
		return "application/json"
	}
	return "text/plain"
}

// batch is one request body of records.
type batch struct {
	body []byte
	// records is the number of records in body.
	records int
	// lineBytes is what the records take in a log file: each record
	// (compact) and its newline.
	lineBytes int64
}

// makeBatches returns n bodies of per records each in format f, records
// drawn in order from one generator seeded with seed. Text bodies are lines,
// each ending in a newline; JSON bodies are arrays of objects, as Logstash's
// json_batch sends them.
func makeBatches(f Format, seed uint64, n, per int) []batch {
	g := newGenerator(seed)
	out := make([]batch, n)
	for i := range out {
		var b bytes.Buffer
		b.Grow(per * 450)
		buf := b.AvailableBuffer()
		var lineBytes int64
		if f == FormatJSON {
			buf = append(buf, '[')
		}
		for j := 0; j < per; j++ {
			rec := g.next()
			start := len(buf)
			if f == FormatJSON {
				if j > 0 {
					buf = append(buf, ',')
					start++
				}
				buf = rec.appendJSON(buf)
			} else {
				buf = rec.appendText(buf)
			}
			lineBytes += int64(len(buf)-start) + 1
			if f != FormatJSON {
				buf = append(buf, '\n')
			}
		}
		if f == FormatJSON {
			buf = append(buf, ']')
		}
		out[i] = batch{body: buf, records: per, lineBytes: lineBytes}
	}
	return out
}

// avgRecordBytes returns the mean size of a record in bs as written to a log
// file (without its newline).
func avgRecordBytes(bs []batch) float64 {
	var bytes, n int64
	for _, b := range bs {
		bytes += b.lineBytes - int64(b.records)
		n += int64(b.records)
	}
	if n == 0 {
		return 0
	}
	return float64(bytes) / float64(n)
}
