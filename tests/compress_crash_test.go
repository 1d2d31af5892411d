package tests

import (
	"fmt"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// compressKillPoints are the moments of a compression at which
// TestKill9DuringCompression kills the daemon, each on the first event of
// the rolled folder fire accepts (fsnotify; the kill lands within about
// 0.1 ms).
var compressKillPoints = []struct {
	name string
	fire func(ev fsnotify.Event) bool
}{
	{"when the raw file appears (the roll's rename)", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Create) && compressRawName.MatchString(filepath.Base(ev.Name))
	}},
	{"when the temporary is created", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Create) && compressTmpName.MatchString(filepath.Base(ev.Name))
	}},
	{"while the temporary is written", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Write) && compressTmpName.MatchString(filepath.Base(ev.Name))
	}},
	{"when the final file appears (before the raw file's removal)", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Create) && compressFinalName.MatchString(filepath.Base(ev.Name))
	}},
	{"when the raw file is removed", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Remove) && compressRawName.MatchString(filepath.Base(ev.Name))
	}},
}

// TestKill9DuringCompression kills the daemon with SIGKILL while four
// clients post batches of unique records and the log rolls on size (1 MiB)
// into a rolled folder, compressed, at each step of a compression (see
// compressKillPoints), and restarts it on the same folders each time:
//
//   - after each restart the compressions left unfinished are finished:
//     no raw file and no temporary is left, and nothing waits;
//   - at the end every acknowledged record is in exactly one visible file
//     (compressed files read whole: a torn temporary renamed into place
//     would fail to decompress), an unanswered request left a prefix of its
//     records at most once, each client's records are in order, rolled files
//     never overlap, and the compressed files decompress with the stock
//     command to what the decoder read.
//
// It runs with gzip and with zstd. The clients pause 10 ms between
// requests (about 4.6 MB/s in all): at full speed the logs would roll
// faster than a busy machine compresses at the lowest priority, and the
// oldest waiting files would be published uncompressed (a rolled file may
// still be, when the daemon says so; its records are checked all the same).
func TestKill9DuringCompression(t *testing.T) {
	needCompressTools(t)
	for _, comp := range []string{"zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) { kill9Compressing(t, comp) })
	}
}

func kill9Compressing(t *testing.T, comp string) {
	dir := tempDir(t)
	c := conf{RollingEnabled: `"size"`, SizeMB: 1,
		Extra: fmt.Sprintf("rolled_compression = %q\nrolled_dir = \"archive\"\n", comp)}
	cfg := writeConfig(t, dir, c.toml())
	d := startDaemon(t, cfg)
	arch := filepath.Join(d.logs, "archive")
	var (
		loads      []*load
		tags       []string
		saidBehind bool // a daemon said compression fell behind the rolls
	)
	behind := func(d *daemon) bool {
		return d.logCount("compression falls behind the rolls") > 0
	}
	for k, p := range compressKillPoints {
		tag := fmt.Sprintf("k%d", k)
		l := startLoad(t, d, "access", tag, loadOpts{pause: 10 * time.Millisecond})
		what := d.killOn(t, arch, 3*waitLimit, p.fire)
		d.wait(t, waitLimit)
		l.stop()
		if f := l.failed(); f != "" {
			t.Errorf("kill %q: %s", p.name, f)
		}
		loads, tags = append(loads, l), append(tags, tag)
		left := compressingFiles(t, d.logs, arch)
		t.Logf("kill %d %s (%s): %d records acknowledged; left %q", k, p.name, what, l.acked.Load(), baseNames(left))

		saidBehind = saidBehind || behind(d)
		d = startDaemon(t, cfg)
		d.waitCompressed(t, d.logs, arch)
		if n := strings.Count(strings.Join(left, " "), ".raw"); n > 0 && d.logCount("compressing a rolled file a stop or a crash left uncompressed")+d.logCount("removed what compressions interrupted") == 0 {
			t.Errorf("kill %q left %d raw files; the restart did not say it recovered them", p.name, n)
		}
	}
	l := startLoad(t, d, "access", "end", loadOpts{pause: 10 * time.Millisecond})
	l.waitAcked(t, 2000, 2*waitLimit)
	l.stop()
	loads, tags = append(loads, l), append(tags, "end")
	d.roll(t, "access")
	d.waitCompressed(t, d.logs, arch)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	if h := compressingFiles(t, d.logs, arch); len(h) > 0 {
		t.Errorf("hidden files left after the last stop: %q", h)
	}

	disk := readLoadsIn(t, []string{d.logs, arch}, "access.log")
	acked := 0
	for _, l := range loads {
		acked += checkLoad(t, l, disk)
	}
	checkNothingElse(t, disk)
	checkClientOrder(t, disk, tags...)
	compressed, plain := 0, false
	for _, f := range disk.files {
		if !strings.HasSuffix(f, ".old."+map[string]string{"zstd": "zst", "gzip": "gz"}[comp]) {
			plain = plain || filepath.Base(f) != "access.log"
			continue
		}
		compressed++
		want, err := readRolled(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := stockDecompress(t, f); string(got) != string(want) {
			t.Errorf("%s: the stock command reads %d bytes, the decoder %d", f, len(got), len(want))
		}
	}
	if compressed < len(compressKillPoints) {
		t.Errorf("%d compressed files, want at least one per kill", compressed)
	}
	if plain && !(saidBehind || behind(d)) {
		t.Errorf("a rolled file is not stored as %s, and no daemon said compression fell behind", comp)
	}
	t.Logf("%d kills; %d acknowledged records on disk in %d files (%d compressed, %d bytes decompressed)",
		len(compressKillPoints), acked, len(disk.files), compressed, disk.bytes)
}

// baseNames returns the base names of paths.
func baseNames(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
