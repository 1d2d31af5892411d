package tests

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Faults and reloads around compression and rolled folders (docs/design.md §10,
// issue 19 "Bad input and faults").

// hexRecords returns n records of random hex: they compress to about
// half, so that a compressed file needs room of its own.
func hexRecords(tag string, n int) []string {
	rnd := rand.New(rand.NewPCG(uint64(n), 7))
	out := make([]string, n)
	b := make([]byte, 100)
	for i := range out {
		for k := range b {
			b[k] = byte(rnd.IntN(256))
		}
		out[i] = fmt.Sprintf("%s %d %s", tag, i, hex.EncodeToString(b))
	}
	return out
}

// fillLeaving fills the filesystem of dir with a file at path, leaving about
// keep bytes free.
func fillLeaving(t *testing.T, dir, path string, keep int64) {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	free := int64(st.Bavail) * st.Bsize
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fallocate(int(f.Fd()), 0, 0, free-keep); err != nil {
		t.Fatalf("fallocate %d bytes: %v", free-keep, err)
	}
}

// postParts posts recs to log in parts, and returns the bytes they make in
// the file.
func (d *daemon) postParts(t *testing.T, log string, recs []string) []byte {
	t.Helper()
	for i := 0; i < len(recs); i += 1000 {
		d.postText(t, log, recs[i:min(i+1000, len(recs))]...)
	}
	return []byte(strings.Join(recs, "\n") + "\n")
}

// TestCompressionFullDisk fills the log folder's tmpfs while a forced roll
// compresses (root only): the compression fails with ENOSPC, the raw file
// stays hidden and whole, no temporary is left, the failure is counted,
// and `logrollctl roll` waits; once the space is back, a retry compresses
// the file and roll prints its final path, which decompresses with the
// stock command to what was posted. When the space never comes back, after
// the last attempt the file is published uncompressed under its plain
// .old name, complete, and roll prints that.
func TestCompressionFullDisk(t *testing.T) {
	needCompressTools(t)
	dir := tempDir(t)
	logs := filepath.Join(dir, "logs")
	mountTmpfs(t, logs, "size=24m")
	c := conf{Extra: "rolled_compression = \"zstd\"\nrolled_dir = \"archive\"\nauto_delete_rolled_files = 0\n"}
	d := startDaemon(t, writeConfig(t, dir, c.toml()))
	arch := filepath.Join(logs, "archive")
	filler := filepath.Join(logs, "filler")

	t.Run("space comes back", func(t *testing.T) {
		body := d.postParts(t, "access", hexRecords("a", 10000)) // about 2.2 MiB, 1.1 compressed
		fillLeaving(t, logs, filler, 128<<10)
		done := d.ctlAsync("roll")
		eventually(t, func() string {
			if v := d.metric(t, "proxy.process.log.compress_failures"); v == 0 {
				return "no failed compression yet"
			}
			return ""
		})
		var raw []string
		for _, h := range compressingFiles(t, arch) {
			switch {
			case compressRawName.MatchString(filepath.Base(h)):
				raw = append(raw, h)
			case compressTmpName.MatchString(filepath.Base(h)):
				// The next attempt may be under way; its temporary goes
				// with it if it fails.
			default:
				t.Errorf("unexpected hidden file %s", h)
			}
		}
		if len(raw) != 1 {
			t.Fatalf("raw files after the failure: %q, want one", raw)
		}
		if got := readFile(t, raw[0]); got != string(body) {
			t.Errorf("the raw file holds %d bytes, not the %d posted", len(got), len(body))
		}
		select {
		case r := <-done:
			t.Fatalf("roll returned before the file was in its final form: %v", r)
		default:
		}
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
		rolledZst(t, done, arch, body)
		d.waitCompressed(t, logs, arch)
		if v := d.metric(t, "proxy.process.log.compress_uncompressed_files"); v != 0 {
			t.Errorf("compress_uncompressed_files = %d, want 0", v)
		}
		if d.logCount("cannot compress rolled file; the raw file is kept and compression retried") == 0 {
			t.Errorf("the failure was not logged")
		}
	})

	t.Run("space never comes back", func(t *testing.T) {
		body := d.postParts(t, "access", hexRecords("b", 10000))
		fillLeaving(t, logs, filler, 128<<10)
		defer os.Remove(filler)
		begin := time.Now()
		r := d.tryCtl(t, "roll")
		paths := lines(r.stdout)
		if r.code != 0 || len(paths) != 1 || !strings.HasSuffix(paths[0], ".old") || filepath.Dir(paths[0]) != arch {
			t.Fatalf("roll: %v, want the plain .old path in %s", r, arch)
		}
		t.Logf("roll returned %s after %v", filepath.Base(paths[0]), time.Since(begin).Round(time.Millisecond))
		if got := readFile(t, paths[0]); got != string(body) {
			t.Errorf("%s holds %d bytes, not the %d posted", paths[0], len(got), len(body))
		}
		if v := d.metric(t, "proxy.process.log.compress_uncompressed_files"); v != 1 {
			t.Errorf("compress_uncompressed_files = %d, want 1", v)
		}
		if h := compressingFiles(t, logs, arch); len(h) > 0 {
			t.Errorf("hidden files left: %q", h)
		}
		files := d.rolled(t)
		if len(files) != 2 || files[1].Path != paths[0] || files[1].Compression != "none" {
			t.Errorf("rolled --json: %+v, want the .zst file and then %s, compression none", files, paths[0])
		}
	})
}

// TestReloadStorageInFlight changes rolled_compression and rolled_dir by
// reload five times while four clients post and the log rolls on size
// (1 MiB), so that files are being compressed at each reload: a forced
// roll after each reload follows the new records, the files rolled before
// it finish where and how they began, and at the end every acknowledged
// record is in exactly one file, over all the folders and forms; a reload
// that leaves rolled files in a folder no longer configured says so.
func TestReloadStorageInFlight(t *testing.T) {
	needCompressTools(t)
	dir := tempDir(t)
	mk := func(comp, rd string) string {
		return conf{RollingEnabled: `"size"`, SizeMB: 1,
			Extra: fmt.Sprintf("rolled_compression = %q\nrolled_dir = %q\n", comp, rd)}.toml()
	}
	path := writeConfig(t, dir, mk("none", ""))
	d := startDaemon(t, path)
	dirs := []string{d.logs, filepath.Join(d.logs, "archive"), filepath.Join(d.logs, "b", "other")}
	steps := []struct{ comp, rd, dir, ext string }{
		{"gzip", "", d.logs, ".old.gz"},
		{"zstd", "archive", dirs[1], ".old.zst"},
		{"none", "archive", dirs[1], ".old"},
		{"gzip", "b/other", dirs[2], ".old.gz"},
		{"zstd", "", d.logs, ".old.zst"},
	}
	// Paced (about 4.6 MB/s): at full speed the logs roll faster than a
	// busy machine compresses at the lowest priority, and the oldest
	// waiting files are published uncompressed (accepted below when the
	// daemon says so).
	l := startLoad(t, d, "access", "r", loadOpts{pause: 10 * time.Millisecond})
	for i, s := range steps {
		l.waitAcked(t, int64(4000*(i+1)), 3*waitLimit)
		writeConfig(t, dir, mk(s.comp, s.rd))
		r := d.ctl(t, "config", "reload")
		if !strings.Contains(r.stdout, "rolled_") {
			t.Errorf("reload %d: %q does not list the changed records", i, r.stdout)
		}
		// A size roll just before may leave nothing to roll: the load
		// goes on, so the next try has records.
		var rolled []string
		for try := 0; try < 5 && len(rolled) == 0; try++ {
			rolled = d.roll(t, "access")
		}
		behind := d.logCount("compression falls behind the rolls") > 0
		if len(rolled) != 1 || filepath.Dir(rolled[0]) != s.dir || !strings.HasSuffix(rolled[0], s.ext) && !(behind && strings.HasSuffix(rolled[0], ".old")) {
			t.Errorf("forced roll after reload %d (%s into %q): %q, want a %s file in %s", i, s.comp, s.rd, rolled, s.ext, s.dir)
		}
	}
	l.waitAcked(t, int64(4000*(len(steps)+1)), 3*waitLimit)
	l.stop()
	if f := l.failed(); f != "" {
		t.Error(f)
	}
	d.roll(t, "access")
	d.waitCompressed(t, dirs...)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM", code)
	}
	disk := readLoadsIn(t, dirs, "access.log")
	acked := checkLoad(t, l, disk)
	checkNothingElse(t, disk)
	checkClientOrder(t, disk, "r")
	forms := map[string]int{}
	for _, f := range disk.files {
		dirName, _ := filepath.Rel(d.logs, filepath.Dir(f))
		ext := filepath.Ext(f)
		forms[dirName+" "+ext]++
		if ext == ".gz" || ext == ".zst" {
			want, err := readRolled(f)
			if err != nil {
				t.Fatal(err)
			}
			if got := stockDecompress(t, f); !bytes.Equal(got, want) {
				t.Errorf("%s: the stock command and the decoder disagree", f)
			}
		}
	}
	t.Logf("%d acknowledged records in %d files: %v", acked, len(disk.files), forms)
	// The reloads to b/other and back to the log folder each left rolled
	// files in a folder no longer configured: said once each, with it.
	if n := d.logCount("rolled folder no longer configured"); n != 2 {
		t.Errorf("%d warnings of a rolled folder no longer configured, want 2", n)
	}
	for _, left := range []string{dirs[1], dirs[2]} {
		if len(d.logLines("dir="+left+" ")) == 0 {
			t.Errorf("no warning names %s, left with rolled files in it:\n%s", left, strings.Join(d.logLines("no longer configured"), "\n"))
		}
	}
	for _, want := range []string{". .gz", "archive .zst", "archive .old", "b/other .gz", ". .zst"} {
		if forms[want] == 0 {
			t.Errorf("no file %q (folder and form) among %v", want, forms)
		}
	}
}

// compressRefusal is one configuration a rolled folder or a compression makes
// invalid: where the problem must be reported (a unique substring of the
// text, at whose first byte the position points) and what it must say.
type compressRefusal struct {
	name string
	text string
	at   string
	says string
}

// TestRolledDirRefused refuses, at start (exit 2, nothing served) and on
// reload (exit 1; the running rolled folder and compression stay), every
// rolled folder that cannot work — a file, below a file, escaping
// logfile_dir with "..", not writable (root: a read-only bind mount), on
// another filesystem (root: a tmpfs) — and an unknown compression, each
// with its FILE:LINE:COL, globally or in a [[logs]] table.
func TestRolledDirRefused(t *testing.T) {
	dir := tempDir(t)
	afile := filepath.Join(dir, "afile")
	if err := os.WriteFile(afile, []byte("a file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	global := func(extra string) string { return conf{Extra: extra}.toml() }
	perLog := func(extra string) string {
		return conf{Logs: []string{}}.toml() + "\n[[logs]]\nfilename = \"access\"\n" + extra
	}
	cases := []compressRefusal{
		{"a file", global(fmt.Sprintf("rolled_dir = %q\n", afile)), fmt.Sprintf("%q", afile),
			"proxy.config.log.rolled_dir: unusable rolled folder " + afile + ": is a file, not a folder"},
		{"below a file, in a log", perLog(fmt.Sprintf("rolled_dir = %q\n", afile+"/x")), fmt.Sprintf("%q", afile+"/x"),
			"logs[1].rolled_dir: unusable rolled folder " + afile + "/x: cannot be created: " + afile + " is a file"},
		{"escaping with ..", global("rolled_dir = \"../elsewhere\"\n"), `"../elsewhere"`,
			`proxy.config.log.rolled_dir: "../elsewhere" must not contain a ".." element`},
		{"unknown compression", perLog("rolled_compression = \"lz4\"\n"), `"lz4"`,
			`logs[1].rolled_compression: unknown value "lz4": expected none (0), gzip (1), zstd (2)`},
		{"gzip level 12", global("rolled_compression = \"gzip\"\nrolled_compression_level = 12\n"), "12\n",
			"proxy.config.log.rolled_compression_level: rolled_compression_level 12 is beyond gzip's levels"},
	}
	if os.Geteuid() == 0 {
		ro := filepath.Join(dir, "ro")
		if err := os.Mkdir(ro, 0o755); err != nil {
			t.Fatal(err)
		}
		bindReadOnly(t, ro)
		cases = append(cases, compressRefusal{"not writable", global(fmt.Sprintf("rolled_dir = %q\n", ro)), fmt.Sprintf("%q", ro),
			"proxy.config.log.rolled_dir: unusable rolled folder " + ro + ": not writable by this process"})
		other := filepath.Join(dir, "other")
		mountTmpfs(t, other, "size=1m")
		cases = append(cases, compressRefusal{"another filesystem", perLog(fmt.Sprintf("rolled_dir = %q\n", other+"/old")), fmt.Sprintf("%q", other+"/old"),
			"logs[1].rolled_dir: unusable rolled folder " + other + "/old: on another filesystem than the log folder"})
	} else {
		t.Log("not root: the read-only and other-filesystem cases are skipped (root bypasses mode bits; mounts need root)")
	}
	check := func(t *testing.T, out, path string, c compressRefusal) {
		t.Helper()
		line, col := position(t, c.text, c.at)
		if want := fmt.Sprintf("%s:%d:%d: %s", path, line, col, c.says); !strings.Contains(out, want) {
			t.Errorf("output does not hold %q:\n%s", want, out)
		}
	}
	t.Run("at start", func(t *testing.T) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				sub := filepath.Join(dir, "start-"+strings.ReplaceAll(c.name, " ", "-"))
				if err := os.Mkdir(sub, 0o755); err != nil {
					t.Fatal(err)
				}
				path := writeConfig(t, sub, c.text)
				d := launch(t, path)
				if code := d.wait(t, waitLimit); code != 2 {
					t.Errorf("exit %d, want 2", code)
				}
				check(t, d.stderr.String(), path, c)
				if _, err := os.Stat(filepath.Join(sub, "logs")); err == nil {
					t.Errorf("the refused configuration created the log folder")
				}
			})
		}
	})
	t.Run("on reload", func(t *testing.T) {
		sub := filepath.Join(dir, "reload")
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		good := conf{Extra: "rolled_compression = \"gzip\"\nrolled_dir = \"archive\"\n"}.toml()
		path := writeConfig(t, sub, good)
		d := startDaemon(t, path)
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				writeConfig(t, sub, c.text)
				r := d.tryCtl(t, "config", "reload")
				if r.code != 1 {
					t.Errorf("config reload: exit %d, want 1: %v", r.code, r)
				}
				check(t, r.stderr, path, c)
				writeConfig(t, sub, good)
				d.postText(t, "access", fmt.Sprintf("after refusal %d", i))
				rolled := d.roll(t, "access")
				if len(rolled) != 1 || filepath.Dir(rolled[0]) != filepath.Join(d.logs, "archive") || !strings.HasSuffix(rolled[0], ".old.gz") {
					t.Errorf("roll after the refused reload: %q, want a .old.gz file in archive", rolled)
				} else if got := string(stockDecompress(t, rolled[0])); got != fmt.Sprintf("after refusal %d\n", i) {
					t.Errorf("%s holds %q", rolled[0], got)
				}
			})
		}
	})
}

// slowZstdConf is a log compressed with zstd at level 19 (seconds for a
// few tens of MiB: a compression a test can act during) into rolled_dir rd.
func slowZstdConf(rd string) string {
	return conf{Extra: fmt.Sprintf("rolled_compression = \"zstd\"\nrolled_compression_level = 19\nrolled_dir = %q\nauto_delete_rolled_files = 0\n", rd)}.toml()
}

// rawIn returns the path of a raw file waiting in dir for its
// compression, "" for none.
func rawIn(t *testing.T, dir string) string {
	t.Helper()
	for _, h := range compressingFiles(t, dir) {
		if compressRawName.MatchString(filepath.Base(h)) {
			return h
		}
	}
	return ""
}

// rolledZst waits for the answer of a `logrollctl roll` started by
// ctlAsync, and fails the test unless it exited 0 printing one .old.zst
// file in dir that the stock zstd decompresses to body.
func rolledZst(t *testing.T, done <-chan runResult, dir string, body []byte) {
	t.Helper()
	var r runResult
	select {
	case r = <-done:
	case <-time.After(3 * waitLimit):
		t.Fatal("roll did not return")
	}
	paths := lines(r.stdout)
	if r.code != 0 || len(paths) != 1 || filepath.Dir(paths[0]) != dir || !strings.HasSuffix(paths[0], ".old.zst") {
		t.Fatalf("roll: %v, want one .old.zst in %s", r, dir)
	}
	if got := stockDecompress(t, paths[0]); !bytes.Equal(got, body) {
		t.Errorf("%s decompresses to %d bytes, not the %d posted", paths[0], len(got), len(body))
	}
}

// waitRaw waits until a raw file waits in dir for its compression.
func waitRaw(t *testing.T, dir string) {
	t.Helper()
	eventually(t, func() string {
		if rawIn(t, dir) == "" {
			return "no raw file in " + dir + " yet"
		}
		return ""
	})
}

// compressionReloaded is what reloadDuringCompression leaves.
type compressionReloaded struct {
	d         *daemon
	dir, path string // the test's folder and records.toml
	arch      string // the rolled folder the reload dropped
	body      []byte // the records posted, in the file being compressed
	done      <-chan runResult
}

// reloadDuringCompression starts a daemon whose log rolls into "archive"
// at zstd level 19 (slowZstdConf), posts n records tagged tag, starts a
// forced roll, and once its raw file waits in archive, reloads with
// rolled_dir "b/other".
func reloadDuringCompression(t *testing.T, tag string, n int) compressionReloaded {
	t.Helper()
	needCompressTools(t)
	s := compressionReloaded{dir: tempDir(t)}
	s.path = writeConfig(t, s.dir, slowZstdConf("archive"))
	s.d = startDaemon(t, s.path)
	s.arch = filepath.Join(s.d.logs, "archive")
	s.body = s.d.postParts(t, "access", hexRecords(tag, n))
	s.done = s.d.ctlAsync("roll")
	waitRaw(t, s.arch)
	writeConfig(t, s.dir, slowZstdConf("b/other"))
	s.d.ctl(t, "config", "reload")
	return s
}

// TestReloadLeavesPendingFile drops, by reload, the rolled folder in which a
// forced roll's file is still being compressed (zstd at level 19, slow):
// the reload warns that the folder holds a rolled file still being
// finished, the compression finishes there all the same, roll prints that
// path, and the file decompresses to every record posted; the folder's
// rolled file is then left behind, which the next reload that changes
// rolled_dir says too.
func TestReloadLeavesPendingFile(t *testing.T) {
	mk := slowZstdConf
	s := reloadDuringCompression(t, "p", 60000) // about 13 MiB: seconds at level 19
	d, dir, arch, body := s.d, s.dir, s.arch, s.body
	eventually(t, func() string {
		if d.logCount("still being compressed or published") == 0 {
			return "no warning of the pending file"
		}
		return ""
	})
	if l := d.logLines("still being compressed or published"); len(l) != 1 || !strings.Contains(l[0], "dir="+arch+" ") || !strings.Contains(l[0], "pending=1") {
		t.Errorf("warnings %q, want one naming %s with pending=1", l, arch)
	}
	rolledZst(t, s.done, arch, body) // where it began
	if left := compressingFiles(t, arch); len(left) != 0 {
		t.Errorf("hidden files left in %s: %q", arch, left)
	}
	// Back to archive, then to the log folder: b/other holds nothing, and
	// archive now a rolled file, left behind.
	for _, rd := range []string{"archive", ""} {
		writeConfig(t, dir, mk(rd))
		d.ctl(t, "config", "reload")
	}
	eventually(t, func() string {
		if len(d.logLines("dir="+arch+" files=1 ")) == 0 {
			return "no warning of the rolled file left in " + arch
		}
		return ""
	})
}

// TestKill9AfterReloadDropsFolder kills the daemon while a forced roll's
// file is still being compressed in the rolled folder a reload has just
// dropped, and starts it with the new configuration: the start finds the
// raw file there all the same (the log folder's list of dropped folders,
// logging/formerdirs.go), compresses it in place, says so, and the file
// decompresses to every record posted; the folder stays listed while it
// holds the rolled file, and a start after the file is moved out forgets it.
func TestKill9AfterReloadDropsFolder(t *testing.T) {
	s := reloadDuringCompression(t, "k", 200000) // about 44 MiB: several seconds at level 19
	d, path, arch, body := s.d, s.path, s.arch, s.body
	if rawIn(t, arch) == "" {
		t.Fatal("the compression finished before the kill: the test needs a slower one")
	}
	d.sigkill()
	d.wait(t, 5*time.Second)

	d2 := startDaemon(t, path)
	var final string
	eventuallyWithin(t, 3*waitLimit, func() string {
		if h := compressingFiles(t, arch); len(h) > 0 {
			return fmt.Sprintf("hidden files in %s: %q", arch, h)
		}
		ents, err := os.ReadDir(arch)
		if err != nil {
			return err.Error()
		}
		for _, e := range ents {
			if compressFinalName.MatchString(e.Name()) {
				final = filepath.Join(arch, e.Name())
				return ""
			}
		}
		return "no compressed file in " + arch
	})
	if got := stockDecompress(t, final); !bytes.Equal(got, body) {
		t.Errorf("%s decompresses to %d bytes, not the %d posted", final, len(got), len(body))
	}
	if l := d2.logLines("a rolled folder no longer configured"); len(l) != 1 || !strings.Contains(l[0], "dir="+arch+" ") {
		t.Errorf("start-up said %q, want one line naming %s", l, arch)
	}
	list := filepath.Join(d.logs, ".logrolld.former-dirs")
	if _, err := os.Stat(list); err != nil {
		t.Errorf("the list of dropped folders is gone while its file was being finished: %v", err)
	}
	d2.stop(t)
	// The finished file stays there, listed: still handed on after a
	// start. Moved out, the next start forgets the folder.
	d3 := startDaemon(t, path)
	if _, err := os.Stat(list); err != nil {
		t.Errorf("the list of dropped folders is gone while the folder holds a rolled file: %v", err)
	}
	d3.stop(t)
	if err := os.Rename(final, filepath.Join(d.logs, filepath.Base(final))); err != nil {
		t.Fatal(err)
	}
	d4 := startDaemon(t, path)
	if _, err := os.Stat(list); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the list of dropped folders stays after a start found nothing in them: %v", err)
	}
	d4.stop(t)
}

// TestSIGTERMFinishesCompression stops the daemon gracefully while a
// size roll's file is being compressed (zstd at level 19: a second or
// more), with no request in flight: the stop finishes the compression
// before it exits 0 and says so; the file is in the log folder in its
// final form and, with the active file, holds every record posted once,
// read with the stock zstd; nothing is left hidden for a later start.
func TestSIGTERMFinishesCompression(t *testing.T) {
	needCompressTools(t)
	dir := tempDir(t)
	c := conf{RollingEnabled: `"size"`, SizeMB: 10,
		Extra: "rolled_compression = \"zstd\"\nrolled_compression_level = 19\nauto_delete_rolled_files = 0\n"}
	d := startDaemon(t, writeConfig(t, dir, c.toml()))
	body := d.postParts(t, "access", hexRecords("s", 60000)) // about 12 MiB: one roll at 10 MiB
	waitRaw(t, d.logs)
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 40*time.Second); code != 0 {
		t.Fatalf("logrolld exited %d after SIGTERM, want 0; stderr:\n%s", code, d.stderr.String())
	}
	if d.logCount("stopping: finishing the compression of rolled files") != 1 {
		t.Errorf("the stop did not say it finishes the compression:\n%s", d.stderr.String())
	}
	if left := compressingFiles(t, d.logs); len(left) != 0 {
		t.Fatalf("hidden files left after the stop: %q", left)
	}
	files := logFiles(t, d.logs, "access.log")
	if len(files) != 2 || !compressFinalName.MatchString(filepath.Base(files[0])) {
		t.Fatalf("files after the stop: %q, want one compressed rolled file and the active file", files)
	}
	got := append(stockDecompress(t, files[0]), readFile(t, files[1])...)
	if !bytes.Equal(got, body) {
		t.Errorf("%s and the active file hold %d bytes, not the %d posted", files[0], len(got), len(body))
	}
}

// TestFolderMovedDuringCompression moves the folder a forced roll's file
// is being compressed in (zstd at level 19, seconds) while it is: the
// rolled folder by hand (mv logs/archive archive.moved), and the log
// folder with its rolled files (mv logs logs.old && mkdir logs). The
// compression is finished in the moved folder: roll prints the path there,
// the file decompresses with the stock zstd to every record posted, no raw
// file or temporary is left in either folder, and the daemon says that the
// folder was moved (adversarial finding: the job was abandoned, the
// records left in a hidden raw file next to a stray temporary).
func TestFolderMovedDuringCompression(t *testing.T) {
	needCompressTools(t)
	for _, tc := range []struct{ name, rolledDir string }{
		{"rolled folder", "archive"},
		{"log folder", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			d := startDaemon(t, writeConfig(t, dir, slowZstdConf(tc.rolledDir)))
			from := filepath.Join(d.logs, tc.rolledDir)
			body := d.postParts(t, "access", hexRecords("m", 60000)) // about 13 MiB: seconds at level 19
			done := d.ctlAsync("roll")
			waitRaw(t, from)
			moved := from + ".moved"
			if err := os.Rename(from, moved); err != nil {
				t.Fatal(err)
			}
			if tc.rolledDir == "" {
				if err := os.Mkdir(from, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			rolledZst(t, done, moved, body)
			dirs := []string{moved}
			if tc.rolledDir == "" {
				dirs = append(dirs, from) // made again
			}
			if left := compressingFiles(t, dirs...); len(left) != 0 {
				t.Errorf("hidden compression files left: %q", left)
			}
			if d.logCount("the rolled folder was moved before its rolled file was in its final form") != 1 {
				t.Errorf("the daemon did not say the folder was moved:\n%s", d.stderr.String())
			}
		})
	}
}
