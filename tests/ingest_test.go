package tests

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// gz compresses data.
func gz(t *testing.T, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestEveryBodyKindRolled posts every body kind a shipper sends, rolls, and
// checks the rolled file holds exactly the records, in order, JSON compacted
// with its key order and string bytes kept (docs/design.md §3, §5).
func TestEveryBodyKindRolled(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	begin := time.Now().Truncate(time.Second)

	posts := []struct {
		name string
		req  req
		want []string // the lines written
	}{
		{
			name: "text",
			req:  req{log: "access", ctype: "text/plain; charset=utf-8", body: []byte("plain one\nplain  two \t with tab\n")},
			want: []string{"plain one", "plain  two \t with tab"},
		},
		{
			name: "text without type or final newline",
			req:  req{log: "access.log", body: []byte("untyped one\nuntyped two")},
			want: []string{"untyped one", "untyped two"},
		},
		{
			name: "ndjson",
			req: req{log: "access", ctype: "application/x-ndjson", body: []byte(
				`{"z": 1, "a": [1, 2, {"y": null}], "m": "x  y"}` + "\n" +
					` {"s": "caf\u00e9 <&> \"q\" ` + "\u00e9" + `", "n": -1.5e3 }` + "\n")},
			want: []string{
				`{"z":1,"a":[1,2,{"y":null}],"m":"x  y"}`,
				`{"s":"caf\u00e9 <&> \"q\" ` + "\u00e9" + `","n":-1.5e3}`,
			},
		},
		{
			name: "json object",
			req: req{log: "access", ctype: "application/json", body: []byte(
				"{\n  \"msg\": \"hello  world\",\n  \"level\": \"info\",\n  \"nested\": {\"b\": true, \"a\": false}\n}\n")},
			want: []string{`{"msg":"hello  world","level":"info","nested":{"b":true,"a":false}}`},
		},
		{
			name: "json array",
			req: req{log: "access", ctype: "application/json", body: []byte(
				`[ {"id": 1, "tags": ["b", "a"]}, {"id": 2, "path": "/x?y=1&z=2"} ]`)},
			want: []string{`{"id":1,"tags":["b","a"]}`, `{"id":2,"path":"/x?y=1&z=2"}`},
		},
		{
			name: "gzip text",
			req:  req{log: "access", ctype: "text/plain", encoding: "gzip", body: gz(t, []byte("gz one\ngz two\n"))},
			want: []string{"gz one", "gz two"},
		},
		{
			name: "gzip json array",
			req:  req{log: "access", ctype: "application/json", encoding: "gzip", body: gz(t, []byte(`[{"k": "v1"}, {"k": "v2"}]`))},
			want: []string{`{"k":"v1"}`, `{"k":"v2"}`},
		},
	}
	var want strings.Builder
	for _, p := range posts {
		t.Run(p.name, func(t *testing.T) {
			d.post(t, p.req, len(p.want))
		})
		for _, l := range p.want {
			want.WriteString(l + "\n")
		}
	}
	if t.Failed() {
		t.FailNow()
	}

	paths := d.roll(t)
	if len(paths) != 1 {
		t.Fatalf("roll printed %d paths, want 1: %q", len(paths), paths)
	}
	start, end := parseRolled(t, paths[0], d.logs, "access.log")
	now := time.Now()
	if start.Before(begin) || end.After(now) {
		t.Errorf("rolled %s covers %v-%v, outside the test's %v-%v", filepath.Base(paths[0]), start, end, begin, now)
	}
	if got := readFile(t, paths[0]); got != want.String() {
		t.Errorf("rolled file content:\n%s\nwant:\n%s", got, want.String())
	}
	if fi, err := os.Stat(filepath.Join(d.logs, "access.log")); err == nil && fi.Size() != 0 {
		t.Errorf("active access.log holds %d bytes after the roll, want 0", fi.Size())
	}

	// rolled lists it with the fields parsed from its name.
	r := d.ctl(t, "rolled")
	fields := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\t")
	if len(lines(r.stdout)) != 1 || len(fields) != 6 {
		t.Fatalf("rolled: want one line PATH LOG HOST START END BYTES: %v", r)
	}
	if fields[0] != paths[0] || fields[1] != "access.log" || fields[2] != "e2ehost" || fields[5] != itoa(len(want.String())) {
		t.Errorf("rolled line %q, want %s access.log e2ehost … %d", fields, paths[0], len(want.String()))
	}
	for i, f := range fields[3:5] {
		ts, err := time.Parse(time.RFC3339, f)
		if err != nil {
			t.Errorf("rolled field %d %q: %v", 4+i, f, err)
		} else if want := []time.Time{start, end}[i]; !ts.Equal(want) {
			t.Errorf("rolled field %d %v, want %v from the name", 4+i, ts, want)
		}
	}

	// Nothing new: nothing to roll, nothing printed, exit 0.
	for _, args := range [][]string{{"roll"}, {"roll", "access"}, {"roll", "access.log"}} {
		if r := d.tryCtl(t, args...); r.code != 0 || r.stdout != "" {
			t.Errorf("second roll: want exit 0 and no output: %v", r)
		}
	}
	if got := d.ctl(t, "rolled").stdout; len(lines(got)) != 1 {
		t.Errorf("after the empty rolls, rolled lists:\n%s\nwant the one file", got)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// errorPos matches the position an ingest error names.
var errorPos = regexp.MustCompile(`line (\d+), byte (\d+)`)

// TestIngestErrorsWriteNothing sends each kind of refused request and checks
// its status and JSON error, and that nothing of it reached the file: after
// each, a marker line is posted and rolled, and the rolled file holds the
// marker only (docs/design.md §3: any error answer means none of the records were
// written).
func TestIngestErrorsWriteNothing(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{MaxBodyMB: 1}.toml()))
	const limit = 1 << 20

	bigText := bytes.Repeat([]byte("0123456789abcde\n"), limit/16+1) // limit + 16 bytes
	bomb := gz(t, make([]byte, 8*limit))                             // 8 MiB of zeros, ~8 KiB compressed
	tests := []struct {
		name   string
		req    req
		status int
		want   []string // in the error message
		line   string   // the line the message must name ("line N, byte M")
	}{
		{"json syntax", req{log: "access", ctype: "application/json", body: []byte("[{\"a\": 1},\n {\"b\": tru}]")}, 400, nil, "2"},
		{"json not object", req{log: "access", ctype: "application/json", body: []byte(`[{"a": 1}, 2]`)}, 400, nil, "1"},
		{"ndjson second line bad", req{log: "access", ctype: "application/x-ndjson", body: []byte("{\"ok\": 1}\n{\"bad\": }\n{\"ok\": 2}\n")}, 400, nil, "2"},
		{"text with NUL", req{log: "access", ctype: "text/plain", body: []byte("good line\nbad\x00line\n")}, 400, nil, "2"},
		{"text bad utf-8", req{log: "access", ctype: "text/plain", body: []byte("good\nfine\nbad \xff\xfe\n")}, 400, nil, "3"},
		{"corrupt gzip", req{log: "access", ctype: "text/plain", encoding: "gzip", body: []byte("\x1f\x8b\x08\x00garbage, not deflate")}, 400, nil, ""},
		{"unknown log", req{log: "nosuch", ctype: "text/plain", body: []byte("x\n")}, 404, []string{"nosuch"}, ""},
		{"dot dot", req{log: "..", ctype: "text/plain", body: []byte("x\n")}, 404, nil, ""},
		{"dot dot escaped", req{log: "%2e%2e", ctype: "text/plain", body: []byte("x\n")}, 404, nil, ""},
		{"dot dot slash", req{log: "..%2Faccess", ctype: "text/plain", body: []byte("x\n")}, 404, nil, ""},
		{"escaped slash", req{log: "a%2Faccess.log", ctype: "text/plain", body: []byte("x\n")}, 404, nil, ""},
		{"hidden", req{log: ".hidden", ctype: "text/plain", body: []byte("x\n")}, 404, nil, ""},
		{"hidden meta", req{log: ".access.log.meta", ctype: "text/plain", body: []byte("x\n")}, 404, nil, ""},
		{"too large", req{log: "access", ctype: "text/plain", body: bigText}, 413, nil, ""},
		{"too large chunked", req{log: "access", ctype: "text/plain", body: bigText, chunked: true}, 413, nil, ""},
		{"gzip bomb", req{log: "access", ctype: "text/plain", encoding: "gzip", body: bomb}, 413, nil, ""},
		{"gzip bomb chunked", req{log: "access", ctype: "application/x-ndjson", encoding: "gzip", body: bomb, chunked: true}, 413, nil, ""},
		{"bad content type", req{log: "access", ctype: "image/png", body: []byte("x\n")}, 415, []string{"image/png"}, ""},
		{"bad charset", req{log: "access", ctype: "text/plain; charset=iso-8859-1", body: []byte("x\n")}, 415, nil, ""},
		{"bad encoding", req{log: "access", ctype: "text/plain", encoding: "br", body: []byte("x\n")}, 415, []string{"br"}, ""},
		{"GET a log", req{log: "access", method: http.MethodGet}, 405, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := d.do(tt.req)
			if err != nil {
				t.Fatalf("request: %v", err)
			}
			if a.status != tt.status {
				t.Errorf("status %d, want %d; body %s", a.status, tt.status, a.body)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var e struct {
				Error string `json:"error"`
			}
			if err := json.Unmarshal(a.body, &e); err != nil || e.Error == "" {
				t.Errorf("body %q is not {\"error\":\"...\"}: %v", a.body, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(e.Error, w) {
					t.Errorf("error %q does not mention %q", e.Error, w)
				}
			}
			if tt.line != "" {
				if m := errorPos.FindStringSubmatch(e.Error); m == nil || m[1] != tt.line {
					t.Errorf("error %q does not name line %s (\"line N, byte M\")", e.Error, tt.line)
				}
			}
			if tt.status == http.StatusMethodNotAllowed && a.header.Get("Allow") != "POST" {
				t.Errorf("405 with Allow %q, want POST", a.header.Get("Allow"))
			}

			marker := "marker after " + tt.name
			d.postText(t, "access", marker)
			paths := d.roll(t, "access")
			if len(paths) != 1 {
				t.Fatalf("roll printed %q, want one path", paths)
			}
			if got := readFile(t, paths[0]); got != marker+"\n" {
				t.Errorf("rolled file holds %q, want only the marker %q", got, marker+"\n")
			}
		})
	}

	if status, body := d.get(t, "/healthz"); status != http.StatusOK {
		t.Errorf("GET /healthz: %d %q, want 200", status, body)
	}
	// Nothing is written outside the declared log: no file was created by a
	// refused name, and a graceful stop leaves no temporary file behind.
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	entries, err := os.ReadDir(d.logs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if n != "access.log" && n != ".access.log.meta" && n != ".logrolld.lock" && !strings.HasPrefix(n, "access.log.e2ehost.") {
			t.Errorf("unexpected file %s in the log folder", n)
		}
	}
}

// TestFilenameFinalDot: Traffic Server's rule for a filename ending in a
// dot (docs/traffic-server.md): "debug." names the file debug, with no
// extension, and "trace.." the file "trace.". Records posted to the
// declared name land there, the file rolls into debug.<host>.…old, and
// roll, rolled and status know the log by either name.
func TestFilenameFinalDot(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{Logs: []string{"debug.", "trace.."}}.toml()))
	d.postText(t, "debug.", "one", "two")
	d.postText(t, "trace..", "three")
	if got := readFile(t, filepath.Join(d.logs, "debug")); got != "one\ntwo\n" {
		t.Errorf("file debug holds %q", got)
	}
	if got := readFile(t, filepath.Join(d.logs, "trace.")); got != "three\n" {
		t.Errorf("file trace. holds %q", got)
	}
	for _, n := range []string{"debug.", "debug.log", "trace.."} {
		if _, err := os.Lstat(filepath.Join(d.logs, n)); err == nil && n != "trace.." {
			t.Errorf("a file %s was created", n)
		}
	}
	if a, err := d.do(req{log: "debug", ctype: "text/plain", body: []byte("x\n")}); err != nil || a.status != http.StatusNotFound {
		t.Errorf("POST /v1/logs/debug (that is debug.log, not declared): %v %d %s, want 404", err, a.status, a.body)
	}
	st := d.ctl(t, "status").stdout
	if !strings.Contains(st, "\n  debug ") || !strings.Contains(st, "\n  trace. ") {
		t.Errorf("status does not list the logs debug and trace.:\n%s", st)
	}
	paths := d.roll(t, "debug.")
	if len(paths) != 1 || !strings.HasPrefix(filepath.Base(paths[0]), "debug.e2ehost.") {
		t.Fatalf("roll debug. printed %q, want one debug.e2ehost.… file", paths)
	}
	if got := readFile(t, paths[0]); got != "one\ntwo\n" {
		t.Errorf("%s holds %q", paths[0], got)
	}
	for _, name := range []string{"debug.", "debug"} {
		r := d.ctl(t, "rolled", name)
		if ls := lines(r.stdout); len(ls) != 1 || !strings.HasPrefix(ls[0], paths[0]+"\tdebug\te2ehost\t") {
			t.Errorf("rolled %s: %q, want the one file of log debug", name, ls)
		}
	}
}
