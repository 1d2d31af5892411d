package tests

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// Tiny records (issue 17, defect 7; docs/reliability.md "Memory"): a body
// of the largest size made of records of one or two bytes once cost the
// daemon 24 bytes of record slice per record, grown by doubling, and a copy
// per record: +410 to +770 MiB of RSS for one 16 MiB request. A request now
// costs its body and at most one block of whole lines (the records, each
// followed by a newline) no larger than the body, whatever the number of
// records.

// tinyShape is one tiny-record body of TestIngestTinyRecordsMemory.
type tinyShape struct {
	name     string
	ctype    string
	encoding string
	body     []byte
	size     int    // the body's length, decompressed
	record   string // every record as written to the file
	records  int
}

// tinyShapes returns the bodies, each of at most max bytes (decompressed).
func tinyShapes(t *testing.T, max int) []tinyShape {
	n := max / 3 // records of three bytes each: "{}\n", "a\r\n", "a\n\n", "{},"
	ndjson := bytes.Repeat([]byte("{}\n"), n)
	array := make([]byte, 0, 3*n+1)
	array = append(array, '[')
	array = append(array, bytes.Repeat([]byte("{},"), n)...)
	array[len(array)-1] = ']'
	shapes := []tinyShape{
		{name: "ndjson {}", ctype: "application/x-ndjson", body: ndjson, record: "{}", records: n},
		{name: "text a CRLF", ctype: "text/plain", body: bytes.Repeat([]byte("a\r\n"), n), record: "a", records: n},
		{name: "json array of {}", ctype: "application/json", body: array, record: "{}", records: n},
		{name: "text blank-line separated", ctype: "text/plain", body: bytes.Repeat([]byte("a\n\n"), n), record: "a", records: n},
		{name: "gzip ndjson {}", ctype: "application/x-ndjson", encoding: "gzip", body: gz(t, ndjson), record: "{}", records: n},
		// The two other decoder paths: a text body written as it is (no
		// copy), and NDJSON whose values lose their spaces (compaction).
		{name: "text a LF", ctype: "text/plain", body: bytes.Repeat([]byte("a\n"), max/2), record: "a", records: max / 2},
		{name: "ndjson { } compacted", ctype: "application/x-ndjson", body: bytes.Repeat([]byte("{ }\n"), max/4), record: "{}", records: max / 4},
	}
	for i := range shapes {
		shapes[i].size = len(shapes[i].body)
	}
	shapes[4].size = len(ndjson)
	return shapes
}

// TestIngestTinyRecordsMemory posts, to a fresh daemon each (max_body_mb
// 16), a 16 MiB body of records of one or two bytes in every shape: "{}"
// NDJSON lines, "a\r\n" text lines, a JSON array of "{}", blank-line
// separated text, the gzip of the NDJSON one (16 KiB on the wire), and the
// two other decoder paths (plain "a\n" lines, "{ }" lines compacted). Each
// must be answered 200 with its record count, land in the file exactly once
// (the file is compared byte for byte), and raise the daemon's peak RSS
// (VmHWM) by at most
//
//	3 × max_body + 24 MiB
//
// over its value after a first small request. 3 × max_body is the request's
// own memory: the body buffer grows by doubling up to the body's size (its
// successive allocations add up to 2 × max_body, which the collector need
// not free before the next), and the block of lines handed to the collator
// is at most the body's size (none at all when the body is already its
// lines: "a\n" text, "{}\n" NDJSON). 24 MiB is the runtime's slack (heap
// metadata, spans not yet returned, goroutine stacks), and more than the
// gzip path's decompressor. Before the fix these bodies cost +410 to +770
// MiB; a per-record cost of even 8 bytes (5.6 million records) would pass
// the bound. Under -race RSS is not measured against it (shadow memory).
func TestIngestTinyRecordsMemory(t *testing.T) {
	const maxBodyMB = 16
	const bound = 3*maxBodyMB*mib + 24*mib
	for _, s := range tinyShapes(t, maxBodyMB*mib) {
		t.Run(s.name, func(t *testing.T) {
			dir := tempDir(t)
			d := startDaemon(t, writeConfig(t, dir, conf{MaxBodyMB: maxBodyMB}.toml()))
			d.postText(t, "access", "warm up")
			base := d.hwm(t)
			cpu := d.cpuTicks(t)
			d.post(t, req{log: "access", ctype: s.ctype, encoding: s.encoding, body: s.body}, s.records)
			hwm := d.hwm(t)
			ticks := d.cpuTicks(t) - cpu
			t.Logf("%s: %d records in %d bytes (%d on the wire): VmHWM %.1f → %.1f MiB (+%.1f MiB), CPU %d ticks",
				s.name, s.records, s.size, len(s.body), float64(base)/mib, float64(hwm)/mib, float64(hwm-base)/mib, ticks)
			if hwm-base > bound && !raceBuild() {
				t.Errorf("VmHWM grew by %.1f MiB for one %d MiB request, over the bound of %.1f MiB (3 × max_body + 24 MiB)",
					float64(hwm-base)/mib, maxBodyMB, float64(bound)/mib)
			}
			want := "warm up\n" + strings.Repeat(s.record+"\n", s.records)
			got := readFile(t, filepath.Join(d.logs, "access.log"))
			if got != want {
				t.Errorf("access.log is %d bytes with %d lines, want %d bytes: the warm-up line and %d lines %q",
					len(got), strings.Count(got, "\n"), len(want), s.records, s.record)
			}
			if v := d.metric(t, "proxy.process.log.ingest.memory_in_flight_bytes"); v != 0 {
				t.Errorf("memory_in_flight_bytes = %d after the request, want 0", v)
			}
		})
	}
}
