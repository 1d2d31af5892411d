package tests

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Hidden names of a compression in progress (logging/compress.go):
// .<final>.raw and .<final>.tmp<random>, final being a compressed rolled
// name.
var (
	czRawName   = regexp.MustCompile(`^\..+\.old\.(gz|zst)\.raw$`)
	czTmpName   = regexp.MustCompile(`^\..+\.old\.(gz|zst)\.tmp\d+$`)
	czFinalName = regexp.MustCompile(`^[^.].*\.old\.(gz|zst)$`)
)

// czKillPoints are the moments of a compression at which
// TestKill9DuringCompression kills the daemon, each on the first event of
// the rolled folder fire accepts (fsnotify; the kill lands within about
// 0.1 ms).
var czKillPoints = []struct {
	name string
	fire func(ev fsnotify.Event) bool
}{
	{"when the raw file appears (the roll's rename)", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Create) && czRawName.MatchString(filepath.Base(ev.Name))
	}},
	{"when the temporary is created", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Create) && czTmpName.MatchString(filepath.Base(ev.Name))
	}},
	{"while the temporary is written", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Write) && czTmpName.MatchString(filepath.Base(ev.Name))
	}},
	{"when the final file appears (before the raw file's removal)", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Create) && czFinalName.MatchString(filepath.Base(ev.Name))
	}},
	{"when the raw file is removed", func(ev fsnotify.Event) bool {
		return ev.Has(fsnotify.Remove) && czRawName.MatchString(filepath.Base(ev.Name))
	}},
}

// TestKill9DuringCompression kills the daemon with SIGKILL while four
// clients post batches of unique records and the log rolls on size (1 MiB)
// into a rolled folder, compressed, at each step of a compression (see
// czKillPoints), and restarts it on the same folders each time:
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
	czNeedTools(t)
	for _, comp := range []string{"zstd", "gzip"} {
		t.Run(comp, func(t *testing.T) { czKill9(t, comp) })
	}
}

func czKill9(t *testing.T, comp string) {
	dir := tempDir(t)
	c := conf{RollingEnabled: `"size"`, SizeMB: 1,
		Extra: fmt.Sprintf("rolled_compression = %q\nrolled_dir = \"archive\"\n", comp)}
	cfg := writeConfig(t, dir, c.toml())
	d := startDaemon(t, cfg)
	arch := filepath.Join(d.logs, "archive")
	var (
		loads      []*relLoad
		tags       []string
		saidBehind bool // a daemon said compression fell behind the rolls
	)
	behind := func(d *daemon) bool {
		return d.relCount("compression falls behind the rolls") > 0
	}
	for k, p := range czKillPoints {
		tag := fmt.Sprintf("k%d", k)
		l := relStartLoad(t, d, "access", tag, relLoadOpts{pause: 10 * time.Millisecond})
		what := czKillOn(t, d, arch, p.fire)
		d.wait(waitLimit)
		l.stop()
		if f := l.failed(); f != "" {
			t.Errorf("kill %q: %s", p.name, f)
		}
		loads, tags = append(loads, l), append(tags, tag)
		left := czHidden(t, d.logs, arch)
		t.Logf("kill %d %s (%s): %d records acknowledged; left %q", k, p.name, what, l.acked.Load(), czBase(left))

		saidBehind = saidBehind || behind(d)
		d = startDaemon(t, cfg)
		d.czWaitCompressed(d.logs, arch)
		if n := strings.Count(strings.Join(left, " "), ".raw"); n > 0 && d.relCount("compressing a rolled file a crash left uncompressed")+d.relCount("removed what compressions interrupted") == 0 {
			t.Errorf("kill %q left %d raw files; the restart did not say it recovered them", p.name, n)
		}
	}
	l := relStartLoad(t, d, "access", "end", relLoadOpts{pause: 10 * time.Millisecond})
	l.waitAcked(t, 2000, 2*waitLimit)
	l.stop()
	loads, tags = append(loads, l), append(tags, "end")
	d.roll("access")
	d.czWaitCompressed(d.logs, arch)
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	if h := czHidden(t, d.logs, arch); len(h) > 0 {
		t.Errorf("hidden files left after the last stop: %q", h)
	}

	disk := czReadLog(t, []string{d.logs, arch}, "access.log")
	acked := 0
	for _, l := range loads {
		acked += relCheckLoad(t, l, disk)
	}
	relCheckNothingElse(t, disk)
	relCheckOrder(t, disk, tags...)
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
		if got := czStock(t, f); string(got) != string(want) {
			t.Errorf("%s: the stock command reads %d bytes, the decoder %d", f, len(got), len(want))
		}
	}
	if compressed < len(czKillPoints) {
		t.Errorf("%d compressed files, want at least one per kill", compressed)
	}
	if plain && !(saidBehind || behind(d)) {
		t.Errorf("a rolled file is not stored as %s, and no daemon said compression fell behind", comp)
	}
	t.Logf("%d kills; %d acknowledged records on disk in %d files (%d compressed, %d bytes decompressed)",
		len(czKillPoints), acked, len(disk.files), compressed, disk.bytes)
}

// czKillOn watches dir and SIGKILLs d at the first event fire accepts. It
// returns the event.
func czKillOn(t *testing.T, d *daemon, dir string, fire func(ev fsnotify.Event) bool) string {
	t.Helper()
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(dir); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(3 * waitLimit)
	for {
		select {
		case ev := <-w.Events:
			if fire(ev) {
				d.relSIGKILL()
				return ev.String()
			}
		case err := <-w.Errors:
			t.Fatalf("watching %s: %v", dir, err)
		case <-d.exited:
			t.Fatalf("logrolld exited before the kill point")
		case <-deadline:
			t.Fatalf("no kill point after %v", 3*waitLimit)
		}
	}
}

// czBase returns the base names of paths.
func czBase(paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		out[i] = filepath.Base(p)
	}
	return out
}
