package main

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strconv"
	"testing"
)

// combined matches one combined-log-format line and captures its fields.
var combined = regexp.MustCompile(`^(\d+\.\d+\.\d+\.\d+) - (\S+) \[(\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "([A-Z]+) (\S+) HTTP/1\.1" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"$`)

func TestMakeBatches(t *testing.T) {
	for _, tc := range []struct {
		f        Format
		min, max float64 // mean record size in the log file
	}{
		{FormatText, 220, 260},
		{FormatJSON, 400, 500},
	} {
		t.Run(string(tc.f), func(t *testing.T) {
			bs := makeBatches(tc.f, 1, 8, 500)
			if len(bs) != 8 {
				t.Fatalf("%d batches, want 8", len(bs))
			}
			if avg := avgRecordBytes(bs); avg < tc.min || avg > tc.max {
				t.Errorf("mean record %.1f bytes, want %v-%v", avg, tc.min, tc.max)
			}
			again := makeBatches(tc.f, 1, 8, 500)
			other := makeBatches(tc.f, 2, 8, 500)
			for i := range bs {
				if !bytes.Equal(bs[i].body, again[i].body) {
					t.Fatalf("batch %d differs between two generations with seed 1", i)
				}
				if bytes.Equal(bs[i].body, other[i].body) {
					t.Errorf("batch %d is the same with seeds 1 and 2", i)
				}
				if bs[i].records != 500 {
					t.Errorf("batch %d: records %d, want 500", i, bs[i].records)
				}
			}
		})
	}
}

func TestTextRecords(t *testing.T) {
	b := makeBatches(FormatText, 3, 1, 2000)[0]
	if !bytes.HasSuffix(b.body, []byte("\n")) {
		t.Fatal("text body does not end in a newline")
	}
	lines := bytes.Split(bytes.TrimSuffix(b.body, []byte("\n")), []byte("\n"))
	if len(lines) != 2000 {
		t.Fatalf("%d lines, want 2000", len(lines))
	}
	if int64(len(b.body)) != b.lineBytes {
		t.Errorf("lineBytes %d, body %d bytes: a text body is its log lines", b.lineBytes, len(b.body))
	}
	statuses := map[string]bool{}
	for i, l := range lines {
		m := combined.FindSubmatch(l)
		if m == nil {
			t.Fatalf("line %d is not combined log format: %q", i, l)
		}
		statuses[string(m[6])] = true
	}
	if len(statuses) < 4 {
		t.Errorf("only statuses %v in 2000 records", statuses)
	}
}

func TestJSONRecords(t *testing.T) {
	bs := makeBatches(FormatJSON, 3, 2, 300)
	txt := makeBatches(FormatText, 3, 2, 300)
	for i, b := range bs {
		var events []map[string]any
		if err := json.Unmarshal(b.body, &events); err != nil {
			t.Fatalf("batch %d is not a JSON array of objects: %v", i, err)
		}
		if len(events) != 300 {
			t.Fatalf("batch %d: %d events, want 300", i, len(events))
		}
		var raws []json.RawMessage
		if err := json.Unmarshal(b.body, &raws); err != nil {
			t.Fatal(err)
		}
		var lineBytes int64
		for j, r := range raws {
			var c bytes.Buffer
			if err := json.Compact(&c, r); err != nil || !bytes.Equal(c.Bytes(), r) {
				t.Fatalf("event %d is not compact: %s", j, r)
			}
			lineBytes += int64(len(r)) + 1
		}
		if lineBytes != b.lineBytes {
			t.Errorf("batch %d: lineBytes %d, want %d (each compact event and a newline)", i, b.lineBytes, lineBytes)
		}
		// The events are the text records, field for field.
		lines := bytes.Split(bytes.TrimSuffix(txt[i].body, []byte("\n")), []byte("\n"))
		for j, ev := range events {
			m := combined.FindSubmatch(lines[j])
			want := map[string]string{
				"clientip": string(m[1]), "auth": string(m[2]), "timestamp": string(m[3]), "verb": string(m[4]),
				"request": string(m[5]), "referrer": `"` + string(m[8]) + `"`, "agent": `"` + string(m[9]) + `"`,
			}
			for k, v := range want {
				if ev[k] != v {
					t.Fatalf("event %d: %s = %v, want %q (from %q)", j, k, ev[k], v, lines[j])
				}
			}
			if got, want := ev["response"], string(m[6]); strconv.FormatFloat(got.(float64), 'f', -1, 64) != want {
				t.Fatalf("event %d: response %v, want %s", j, got, want)
			}
			if bv, ok := ev["bytes"]; ok != (string(m[7]) != "-") || ok && strconv.FormatFloat(bv.(float64), 'f', -1, 64) != string(m[7]) {
				t.Fatalf("event %d: bytes %v, line has %s", j, bv, m[7])
			}
			if _, ok := ev["@timestamp"].(string); !ok {
				t.Fatalf("event %d has no @timestamp", j)
			}
		}
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", `a "quoted" \ back`, "tab\there\nnl\x01", "ünïcode"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil || back != s {
			t.Errorf("appendJSONString(%q) = %s: decodes to %q, %v", s, got, back, err)
		}
	}
}
