package ingest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
)

// logstashEvent returns the i-th event of a Logstash-style access log as one
// compact JSON object of about 240 bytes, with a few escaped characters and
// some variety in lengths.
func logstashEvent(i int) []byte {
	methods := []string{"GET", "POST", "GET", "HEAD"}
	paths := []string{"/index.html?q=1", "/api/v1/items/" + strconv.Itoa(i%977), "/static/app.js", "/search?q=caf%C3%A9&page=2"}
	b := make([]byte, 0, 256)
	b = fmt.Appendf(b, `{"@timestamp":"2026-11-21T06:%02d:%02d.%03dZ","host":"web%02d","method":%q,"path":%q,`,
		i/60%60, i%60, i%1000, i%16, methods[i%4], paths[i%4])
	b = fmt.Appendf(b, `"status":%d,"bytes":%d,`, []int{200, 200, 304, 404}[i%4], 512+i*37%9000)
	b = append(b, `"agent":"Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/120.0",`...)
	b = fmt.Appendf(b, `"message":"request %d served \"ok\" in %d\u00b5s\\n"}`, i, i%500)
	return b
}

// logstashArray returns a json_batch body of n events.
func logstashArray(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(logstashEvent(i))
	}
	b.WriteByte(']')
	return b.Bytes()
}

// logstashNDJSON returns an NDJSON body of n events.
func logstashNDJSON(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		b.Write(logstashEvent(i))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// accessLines returns a text body of n access-log lines of about 150 bytes.
func accessLines(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, "10.0.%d.%d - - [21/Nov/2026:06:00:%02d +0000] \"GET /index.html?q=%d HTTP/1.1\" 200 %d \"-\" \"Mozilla/5.0 (X11; Linux x86_64)\"\n",
			i%256, i*7%256, i%60, i, 512+i*37%9000)
	}
	return b.Bytes()
}

// benchEvent is the struct the encoding/json baseline decodes into.
type benchEvent struct {
	Timestamp string `json:"@timestamp"`
	Host      string `json:"host"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Status    int    `json:"status"`
	Bytes     int    `json:"bytes"`
	Agent     string `json:"agent"`
	Message   string `json:"message"`
}

func reportRecords(b *testing.B, n int) {
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n*b.N), "ns/record")
}

// BenchmarkDecodeJSONArray compares Decode of a Logstash json_batch body with
// the encoding/json baseline (Unmarshal into structs) on the same input.
func BenchmarkDecodeJSONArray(b *testing.B) {
	for _, n := range []int{125, 1000} {
		body := logstashArray(n)
		b.Run(strconv.Itoa(n)+"/scanner", func(b *testing.B) {
			var recs Records
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Decode(JSON, body, &recs); err != nil {
					b.Fatal(err)
				}
				if recs.Len() != n {
					b.Fatalf("got %d records, want %d", recs.Len(), n)
				}
			}
			reportRecords(b, n)
		})
		b.Run(strconv.Itoa(n)+"/encoding_json", func(b *testing.B) {
			var evs []benchEvent
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				evs = evs[:0]
				if err := json.Unmarshal(body, &evs); err != nil {
					b.Fatal(err)
				}
				if len(evs) != n {
					b.Fatalf("got %d events, want %d", len(evs), n)
				}
			}
			reportRecords(b, n)
		})
	}
}

// BenchmarkDecodeNDJSON decodes 1000 events, one per line.
func BenchmarkDecodeNDJSON(b *testing.B) {
	const n = 1000
	body := logstashNDJSON(n)
	var recs Records
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(NDJSON, body, &recs); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, n)
}

// BenchmarkDecodeNDJSONSpaced decodes 1000 events with whitespace to remove.
func BenchmarkDecodeNDJSONSpaced(b *testing.B) {
	const n = 1000
	body := bytes.ReplaceAll(logstashNDJSON(n), []byte(`","`), []byte(`", "`))
	body = bytes.ReplaceAll(body, []byte(`":`), []byte(`": `))
	var recs Records
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(NDJSON, body, &recs); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, n)
}

// BenchmarkDecodeText decodes 1000 access-log lines.
func BenchmarkDecodeText(b *testing.B) {
	const n = 1000
	body := accessLines(n)
	var recs Records
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(Text, body, &recs); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, n)
}

// BenchmarkDecodeTextCRLF decodes 1000 access-log lines ending in "\r\n":
// every line is copied into the block without its '\r'.
func BenchmarkDecodeTextCRLF(b *testing.B) {
	const n = 1000
	body := bytes.ReplaceAll(accessLines(n), []byte("\n"), []byte("\r\n"))
	var recs Records
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := Decode(Text, body, &recs); err != nil {
			b.Fatal(err)
		}
	}
	reportRecords(b, n)
}

// tinyBody is a body of records of one or two bytes, in one of the shapes
// whose cost is all per record, and whether Decode copies its records into
// a block of its own (the body is not its own block).
type tinyBody struct {
	name   string
	f      Format
	body   []byte
	copied bool
}

// tinyBodies returns the tiny-record bodies, n records each.
func tinyBodies(n int) []tinyBody {
	array := append([]byte{'['}, bytes.Repeat([]byte("{},"), n)...)
	array[len(array)-1] = ']'
	return []tinyBody{
		{"ndjson", NDJSON, bytes.Repeat([]byte("{}\n"), n), false},
		{"ndjson_crlf", NDJSON, bytes.Repeat([]byte("{}\r\n"), n), true},
		{"ndjson_spaced", NDJSON, bytes.Repeat([]byte("{ }\n"), n), true},
		{"json_array", JSON, array, true},
		{"text_lf", Text, bytes.Repeat([]byte("a\n"), n), false},
		{"text_crlf", Text, bytes.Repeat([]byte("a\r\n"), n), true},
		{"text_blank_lines", Text, bytes.Repeat([]byte("a\n\n"), n), true},
	}
}

// BenchmarkDecodeTiny decodes 1 MiB bodies of records of one or two bytes,
// the shapes whose cost is all per record.
func BenchmarkDecodeTiny(b *testing.B) {
	const n = 1 << 20 / 3
	for _, tc := range tinyBodies(n) {
		b.Run(tc.name, func(b *testing.B) {
			var recs Records
			b.SetBytes(int64(len(tc.body)))
			b.ReportAllocs()
			for b.Loop() {
				if err := Decode(tc.f, tc.body, &recs); err != nil || recs.Len() != n {
					b.Fatalf("Decode = %v, %d records, want %d", err, recs.Len(), n)
				}
			}
			reportRecords(b, n)
		})
	}
}
