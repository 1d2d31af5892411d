package tests

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/logroll/logroll/ctl"
)

// The finished file's lifecycle, first half (docs/design.md §10, issue 19):
// rolled_compression, rolled_compression_level and rolled_dir, through
// the real binaries.

// accessRecords returns n records of a load tagged tag, like access log lines:
// compressible, but not trivially (varied paths, sizes and agents).
func accessRecords(tag string, n int) []string {
	rnd := rand.New(rand.NewPCG(uint64(len(tag)), uint64(n)))
	agents := []string{"curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "Go-http-client/1.1", "Vector/0.43"}
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`%s %d 10.%d.%d.%d - - "GET /shop/item/%d?ref=%x HTTP/1.1" %d %d "%s" é`,
			tag, i, rnd.IntN(256), rnd.IntN(256), rnd.IntN(256), rnd.IntN(100000), rnd.Uint32(),
			[]int{200, 200, 200, 304, 404, 500}[rnd.IntN(6)], rnd.IntN(50000), agents[rnd.IntN(len(agents))])
	}
	return out
}

// compressConf is the configuration of TestCompressedRolls: the global
// records say zstd into archive/, and four logs override them.
func compressConf(abs string) string {
	c := conf{Logs: []string{}, Extra: "rolled_compression = \"zstd\"\nrolled_dir = \"archive\"\n"}
	return c.toml() + fmt.Sprintf(`
[[logs]]
filename = "zs"

[[logs]]
filename = "gz9"
rolled_compression = "gzip"
rolled_compression_level = 9
rolled_dir = ""

[[logs]]
filename = "gz1"
rolled_compression = "gzip"
rolled_compression_level = 1
rolled_dir = %q

[[logs]]
filename = "plain"
rolled_compression = "none"
`, abs)
}

// TestCompressedRolls drives each storage record through logrolld and
// logrollctl: zstd into a relative rolled folder (the global records),
// gzip at level 9 in the log folder, gzip at level 1 into an absolute
// rolled folder, and plain files into the rolled folder. `logrollctl roll`
// prints the final paths; each file decompresses with the stock gzip or
// zstd command to exactly the bytes posted, carries its END as its
// modification time, and the level shows in the sizes; `rolled` and
// `rolled --json` (with dir and compression), `status --json`, `config
// describe` and the metrics say the same; nothing hidden is left. A
// restart keeps every file and lists it again.
func TestCompressedRolls(t *testing.T) {
	needCompressTools(t)
	dir := tempDir(t)
	abs := filepath.Join(dir, "elsewhere", "old")
	path := writeConfig(t, dir, compressConf(abs))
	d := startDaemon(t, path)
	arch := filepath.Join(d.logs, "archive")
	want := map[string]struct {
		dir, comp string
		body      []byte
	}{
		"zs.log":    {arch, "zstd", nil},
		"gz9.log":   {d.logs, "gzip", nil},
		"gz1.log":   {abs, "gzip", nil},
		"plain.log": {arch, "none", nil},
	}
	same := accessRecords("a", 3000) // gz1 and gz9 hold the same records: the level shows in the sizes
	for _, log := range []string{"zs", "gz9", "gz1", "plain"} {
		recs := same
		if log == "zs" || log == "plain" {
			recs = accessRecords(log, 3000)
		}
		var body []byte
		for i := 0; i < len(recs); i += 500 {
			part := recs[i:min(i+500, len(recs))]
			d.postText(t, log, part...)
		}
		body = []byte(strings.Join(recs, "\n") + "\n")
		w := want[log+".log"]
		w.body = body
		want[log+".log"] = w
	}
	var rolled ctl.RollResponse
	d.ctlJSON(t, &rolled, "roll", "--json")
	if len(rolled.Rolled) != 4 || len(rolled.Errors) != 0 {
		t.Fatalf("roll --json: %+v, want four files", rolled)
	}
	sizes := map[string]int64{}
	for _, f := range rolled.Rolled {
		w := want[f.Log]
		ext := map[string]string{"zstd": ".old.zst", "gzip": ".old.gz", "none": ".old"}[w.comp]
		if filepath.Dir(f.Path) != w.dir || f.Dir != w.dir || f.Compression != w.comp || !strings.HasSuffix(f.Path, ext) {
			t.Errorf("%s rolled to %s (dir %s, compression %s), want a %s file in %s", f.Log, f.Path, f.Dir, f.Compression, ext, w.dir)
			continue
		}
		_, end := parseRolled(t, f.Path, w.dir, f.Log)
		fi, err := os.Stat(f.Path)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.ModTime().Truncate(1e9).Equal(end) {
			t.Errorf("%s: modification time %v, want its END %v", f.Path, fi.ModTime(), end)
		}
		var got []byte
		if w.comp == "none" {
			got = []byte(readFile(t, f.Path))
		} else {
			got = stockDecompress(t, f.Path)
		}
		if !bytes.Equal(got, w.body) {
			t.Errorf("%s holds %d bytes (decompressed with the stock command), not the %d posted", f.Path, len(got), len(w.body))
		}
		if f.Bytes != fi.Size() || f.RawBytes != int64(len(w.body)) {
			t.Errorf("%s: bytes %d raw_bytes %d, want %d and %d", f.Log, f.Bytes, f.RawBytes, fi.Size(), len(w.body))
		}
		sizes[f.Log] = fi.Size()
	}
	if sizes["gz1.log"] <= sizes["gz9.log"] {
		t.Errorf("the same records are %d bytes at gzip level 1 and %d at level 9: the level made no difference", sizes["gz1.log"], sizes["gz9.log"])
	}
	if sizes["zs.log"]*4 > int64(len(want["zs.log"].body)) {
		t.Errorf("zstd: %d bytes for %d: not compressed", sizes["zs.log"], len(want["zs.log"].body))
	}

	check := func(d *daemon, when string) {
		t.Helper()
		files := d.rolled(t)
		if len(files) != 4 {
			t.Fatalf("%s: rolled --json lists %d files, want 4: %+v", when, len(files), files)
		}
		plain := lines(d.ctl(t, "rolled").stdout)
		for i, f := range files {
			w := want[f.Log]
			if f.Dir != w.dir || f.Compression != w.comp || filepath.Dir(f.Path) != w.dir {
				t.Errorf("%s: rolled --json %s: dir %s compression %s, want %s %s", when, f.Log, f.Dir, f.Compression, w.dir, w.comp)
			}
			if i >= len(plain) || !strings.HasPrefix(plain[i], f.Path+"\t"+f.Log+"\t") {
				t.Errorf("%s: rolled line %d %q, want %s first", when, i, plain, f.Path)
			}
		}
		st := d.status(t)
		for _, l := range st.Logs {
			if w := want[l.Name]; l.RolledDir != w.dir || l.Compression != w.comp || l.Rolled != 1 {
				t.Errorf("%s: status %s: rolled_dir %s compression %s, %d rolled; want %s %s 1", when, l.Name, l.RolledDir, l.Compression, l.Rolled, w.dir, w.comp)
			}
		}
		if h := compressingFiles(t, d.logs, arch, abs); len(h) > 0 {
			t.Errorf("%s: hidden files left: %q", when, h)
		}
	}
	check(d, "after the roll")
	if v := d.metric(t, "proxy.process.log.compressed_files", "log", "zs.log"); v != 1 {
		t.Errorf("compressed_files{zs.log} = %d, want 1", v)
	}
	if v := d.metric(t, "proxy.process.log.compressed_files"); v != 3 {
		t.Errorf("compressed_files = %d, want 3", v)
	}
	ratio := d.metricFloat(t, "proxy.process.log.compression_ratio", "log", "zs.log")
	if want := float64(len(want["zs.log"].body)) / float64(sizes["zs.log"]); ratio < want*0.999 || ratio > want*1.001 {
		t.Errorf("compression_ratio{zs.log} = %v, want %v", ratio, want)
	}
	desc := d.ctl(t, "config", "describe", "rolled_compression").stdout
	for _, s := range []string{"none (0), gzip (1), zstd (2)", `logs[gz9.log]: "gzip"`, `logs[zs.log]: "zstd" (global`} {
		if !strings.Contains(desc, s) {
			t.Errorf("config describe rolled_compression does not say %q:\n%s", s, desc)
		}
	}

	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, waitLimit); code != 0 {
		t.Fatalf("exit %d after SIGTERM", code)
	}
	d = startDaemon(t, path)
	check(d, "after a restart")
}
