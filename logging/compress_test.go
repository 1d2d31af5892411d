package logging

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/logroll/logroll/internal/logtest"
	"golang.org/x/sys/unix"
)

// decompress returns the content of the rolled file at path, decompressed
// as its name says.
func decompress(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.HasSuffix(path, ".gz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return out
	case strings.HasSuffix(path, ".zst"):
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		defer zr.Close()
		out, err := io.ReadAll(zr)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		return out
	}
	return data
}

// hiddenLeft returns the hidden names in dir other than .meta files.
func hiddenLeft(t *testing.T, dir string) []string {
	t.Helper()
	names, err := listNames(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, ".") && !strings.HasSuffix(n, ".meta") {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out
}

// onRolls collects what OnRoll reports.
type onRolls struct {
	mu sync.Mutex
	r  []Rolled
}

func (o *onRolls) add(r Rolled) {
	o.mu.Lock()
	o.r = append(o.r, r)
	o.mu.Unlock()
}

func (o *onRolls) paths() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []string
	for _, r := range o.r {
		out = append(out, r.Path)
	}
	return out
}

// TestRollCompressed rolls into each storage — compression none, gzip
// and zstd, in the log folder and in a rolled folder — and checks that
// Roll returns the final path only once the final file exists, that it
// decompresses to what was written, has the END as its modification time,
// that OnRoll reported it, and that nothing hidden is left.
func TestRollCompressed(t *testing.T) {
	for _, comp := range []Compression{CompressionNone, CompressionGzip, CompressionZstd} {
		for _, sub := range []string{"", "archive/old"} {
			for _, dur := range []Durability{DurabilityWrite, DurabilityRoll, DurabilitySync} {
				t.Run(fmt.Sprintf("%v/%q/%v", comp, sub, dur), func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) { testRollCompressed(t, comp, sub, dur) })
				})
			}
		}
	}
}

func testRollCompressed(t *testing.T, comp Compression, sub string, dur Durability) {
	dir := t.TempDir()
	td := dir
	cfg := testCfg(dir, Policy{})
	cfg.Durability = dur
	if sub != "" {
		td = filepath.Join(dir, sub)
		cfg.Logs[0].Storage.Dir = td
	}
	cfg.Logs[0].Storage.Compression = comp
	var seen onRolls
	opts := testOpts()
	opts.OnRoll = seen.add
	c, err := Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var want bytes.Buffer
	for i := range 3 {
		var recs []string
		for k := range 2000 {
			recs = append(recs, fmt.Sprintf("GET /page/%d/%d HTTP/1.1 200 %d", i, k, k*7))
		}
		write(t, c, testLog, recs...)
		want.WriteString(strings.Join(recs, "\n") + "\n")
		time.Sleep(time.Second)
	}
	rolled, err := c.Roll()
	if err != nil || len(rolled) != 1 {
		t.Fatalf("Roll() = %+v, %v", rolled, err)
	}
	r := rolled[0]
	if filepath.Dir(r.Path) != td || r.Dir != td {
		t.Errorf("rolled into %s (Dir %s), want %s", r.Path, r.Dir, td)
	}
	if !strings.HasSuffix(r.Path, ".old"+comp.Ext()) || r.Compression != comp {
		t.Errorf("rolled %s, compression %v: want the .old%s form", r.Path, r.Compression, comp.Ext())
	}
	got := decompress(t, r.Path)
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("%s holds %d bytes, not the %d written", r.Path, len(got), want.Len())
	}
	fi, err := os.Stat(r.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != r.Bytes || r.RawBytes != int64(want.Len()) {
		t.Errorf("Bytes %d, RawBytes %d; want %d and %d", r.Bytes, r.RawBytes, fi.Size(), want.Len())
	}
	if comp != CompressionNone && r.Bytes*3 > r.RawBytes {
		t.Errorf("compressed %d bytes into %d: not compressed", r.RawBytes, r.Bytes)
	}
	if !fi.ModTime().Equal(r.End) {
		t.Errorf("modification time %v, want END %v", fi.ModTime(), r.End)
	}
	if got := seen.paths(); !slices.Equal(got, []string{r.Path}) {
		t.Errorf("OnRoll reported %q, want %q", got, r.Path)
	}
	for _, d := range []string{dir, td} {
		if h := hiddenLeft(t, d); len(h) > 0 {
			t.Errorf("hidden files left in %s: %q", d, h)
		}
	}
	st := c.Stats().Logs[testLog]
	if comp == CompressionNone {
		if st.Compressed != 0 {
			t.Errorf("Compressed = %d without compression", st.Compressed)
		}
		return
	}
	if st.Compressed != 1 || st.CompressedIn != r.RawBytes || st.CompressedOut != r.Bytes || st.CompressFailures != 0 {
		t.Errorf("stats: %d compressed, %d → %d bytes, %d failures; want 1, %d → %d, 0",
			st.Compressed, st.CompressedIn, st.CompressedOut, st.CompressFailures, r.RawBytes, r.Bytes)
	}
	if p := c.Stats().CompressPending; p != 0 {
		t.Errorf("CompressPending = %d after Roll returned", p)
	}
}

// fullDisk is a writer that fails with ENOSPC after limit bytes, for the
// first fails attempts.
type fullDisk struct {
	mu    sync.Mutex
	fails int // attempts still to fail; -1: every one
	seen  int
}

func (f *fullDisk) wrap(w io.Writer) io.Writer {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.seen++
	if f.fails == 0 {
		return w
	}
	if f.fails > 0 {
		f.fails--
	}
	return &enospcWriter{w: w, left: 16}
}

type enospcWriter struct {
	w    io.Writer
	left int
}

func (e *enospcWriter) Write(p []byte) (int, error) {
	if len(p) > e.left {
		n, _ := e.w.Write(p[:e.left])
		e.left = 0
		return n, &fs.PathError{Op: "write", Path: "tmp", Err: syscall.ENOSPC}
	}
	e.left -= len(p)
	return e.w.Write(p)
}

// TestCompressRetried fails the first attempts of a compression with
// ENOSPC: the raw file stays, the temporary is removed, and a later
// attempt compresses it; Roll waits for it and returns the final path.
func TestCompressRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{})
		cfg.Durability = DurabilityRoll
		cfg.Logs[0].Storage.Compression = CompressionGzip
		disk := &fullDisk{fails: 2}
		rec := &logtest.Recorder{}
		opts := testOpts()
		opts.Logger = slog.New(rec)
		c, err := open(cfg, opts, fsOps{compressed: disk.wrap})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var want []string
		for i := range 3000 {
			want = append(want, fmt.Sprintf("record %d %s", i, strings.Repeat("x", i%50)))
		}
		write(t, c, testLog, want...)
		t0 := time.Now()
		rolled, err := c.Roll()
		if err != nil || len(rolled) != 1 {
			t.Fatalf("Roll() = %+v, %v", rolled, err)
		}
		if took := time.Since(t0); took < firstCompressRetry*3 {
			t.Errorf("Roll returned after %v: before the retries (1 s, then 2 s)", took)
		}
		if got := string(decompress(t, rolled[0].Path)); got != strings.Join(want, "\n")+"\n" {
			t.Errorf("%s does not hold the records", rolled[0].Path)
		}
		if h := hiddenLeft(t, dir); len(h) > 0 {
			t.Errorf("hidden files left: %q", h)
		}
		st := c.Stats().Logs[testLog]
		if st.CompressFailures != 2 || st.Compressed != 1 || st.CompressUncompressed != 0 {
			t.Errorf("failures %d, compressed %d, uncompressed %d; want 2, 1, 0", st.CompressFailures, st.Compressed, st.CompressUncompressed)
		}
		if n := rec.Count("cannot compress rolled file; the raw file is kept"); n != 2 {
			t.Errorf("logged %d failed attempts, want 2", n)
		}
	})
}

// TestCompressGivesUp fails every attempt: after the last one the raw file
// is published under its plain rolled name, complete, and Roll returns
// that.
func TestCompressGivesUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		td := filepath.Join(dir, "archive")
		cfg := testCfg(dir, Policy{})
		cfg.Logs[0].Storage = Storage{Dir: td, Compression: CompressionZstd}
		disk := &fullDisk{fails: -1}
		var seen onRolls
		opts := testOpts()
		opts.OnRoll = seen.add
		c, err := open(cfg, opts, fsOps{compressed: disk.wrap})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		var want []string
		for i := range 5000 {
			want = append(want, fmt.Sprintf("record %d", i))
		}
		write(t, c, testLog, want...)
		rolled, err := c.Roll()
		if err != nil || len(rolled) != 1 {
			t.Fatalf("Roll() = %+v, %v", rolled, err)
		}
		r := rolled[0]
		if !strings.HasSuffix(r.Path, ".old") || r.Compression != CompressionNone || filepath.Dir(r.Path) != td {
			t.Errorf("Roll returned %s (%v), want the plain .old name in %s", r.Path, r.Compression, td)
		}
		if lines := lines(t, r.Path); !slices.Equal(lines, want) {
			t.Errorf("%s holds %d lines, want the %d written", r.Path, len(lines), len(want))
		}
		if disk.seen != maxCompressAttempts {
			t.Errorf("%d attempts, want %d", disk.seen, maxCompressAttempts)
		}
		st := c.Stats().Logs[testLog]
		if st.CompressFailures != maxCompressAttempts || st.CompressUncompressed != 1 || st.Compressed != 0 {
			t.Errorf("failures %d, uncompressed %d, compressed %d", st.CompressFailures, st.CompressUncompressed, st.Compressed)
		}
		if got := seen.paths(); !slices.Equal(got, []string{r.Path}) {
			t.Errorf("OnRoll reported %q, want %q", got, r.Path)
		}
		if h := hiddenLeft(t, td); len(h) > 0 {
			t.Errorf("hidden files left: %q", h)
		}
	})
}

// TestRestartFinishesCompressions starts on folders left by crashes at
// every point of a compression: a raw file alone is compressed, a raw file
// with its final file is removed, temporaries are removed (a truncated one
// is never renamed into place), and names that only look alike are left
// alone.
func TestRestartFinishesCompressions(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "archive")
	if err := os.MkdirAll(td, 0o755); err != nil {
		t.Fatal(err)
	}
	const (
		a = "access.log.web01.20000101.00h00m00s-20000101.01h00m00s.old"
		b = "access.log.web01.20000101.01h00m00s-20000101.02h00m00s.old"
		o = "other.log.web01.20000101.01h00m00s-20000101.02h00m00s.old"
	)
	end := time.Date(2000, 1, 1, 1, 0, 0, 0, time.UTC)
	put := func(d, name, content string) {
		t.Helper()
		p := filepath.Join(d, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, end, end); err != nil {
			t.Fatal(err)
		}
	}
	put(td, "."+a+".gz.raw", "a1\na2\n")               // killed before the rename: compress
	put(td, "."+a+".gz.tmp4242", "\x1f\x8b truncated") // its torn temporary
	put(td, "."+b+".zst.raw", "b1\n")                  // killed after the rename: remove
	put(td, b+".zst", "final, complete")
	put(dir, "."+o+".zst.raw", "o1\n")     // a log not configured, in the log folder
	put(dir, "."+o+".gz.tmp17", "torn")    // a temporary without its raw file
	put(td, ".notours.tmp5", "keep")       // not a compression's name
	put(td, "."+a+".gz.tmpx", "keep")      // not a temporary's shape
	put(dir, "."+a+".bz2.raw", "keep")     // not a compression logroll makes
	put(dir, a+".gz.raw", "keep, visible") // not hidden

	cfg := testCfg(dir, Policy{})
	cfg.Logs[0].Storage = Storage{Dir: td, Compression: CompressionZstd} // the names say gzip: they win
	var seen onRolls
	done := make(chan struct{}, 4)
	opts := testOpts()
	opts.OnRoll = func(r Rolled) { seen.add(r); done <- struct{}{} }
	c, err := Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("recovered compressions not reported: %q", seen.paths())
		}
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := seen.paths()
	slices.Sort(got)
	if want := []string{filepath.Join(td, a+".gz"), filepath.Join(dir, o+".zst")}; !slices.Equal(got, want) {
		t.Errorf("OnRoll reported %q, want %q", got, want)
	}
	seen.mu.Lock()
	for _, r := range seen.r {
		if want := map[string]int64{a + ".gz": 2, o + ".zst": 1}[filepath.Base(r.Path)]; r.Records != want {
			t.Errorf("%s reported with %d records, want %d", r.Path, r.Records, want)
		}
	}
	seen.mu.Unlock()
	if s := string(decompress(t, filepath.Join(td, a+".gz"))); s != "a1\na2\n" {
		t.Errorf("%s holds %q", a+".gz", s)
	}
	if s := string(decompress(t, filepath.Join(dir, o+".zst"))); s != "o1\n" {
		t.Errorf("%s holds %q", o+".zst", s)
	}
	if s := readString(t, filepath.Join(td, b+".zst")); s != "final, complete" {
		t.Errorf("the final file of b was changed: %q", s)
	}
	if fi, err := os.Stat(filepath.Join(td, a+".gz")); err != nil || !fi.ModTime().Equal(end) {
		t.Errorf("recovered file's modification time: %v, %v; want %v", fi, err, end)
	}
	if h := hiddenLeft(t, td); !slices.Equal(h, []string{"." + a + ".gz.tmpx", ".notours.tmp5"}) {
		t.Errorf("hidden files in %s: %q", td, h)
	}
	if h := hiddenLeft(t, dir); !slices.Equal(h, []string{"." + a + ".bz2.raw"}) {
		t.Errorf("hidden files in %s: %q", dir, h)
	}
	if !exists(filepath.Join(dir, a+".gz.raw")) {
		t.Errorf("a visible file was removed")
	}
}

func readString(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// blockingDisk blocks the first write of each compression until release is
// closed, and says when one is blocked.
type blockingDisk struct {
	blocked chan struct{}
	release chan struct{}
}

func (b *blockingDisk) wrap(w io.Writer) io.Writer { return &blockingWriter{b: b, w: w} }

type blockingWriter struct {
	b    *blockingDisk
	w    io.Writer
	once sync.Once
}

func (bw *blockingWriter) Write(p []byte) (int, error) {
	bw.once.Do(func() {
		bw.b.blocked <- struct{}{}
		<-bw.b.release
	})
	return bw.w.Write(p)
}

// incompressible writes 3 MiB of records that do not compress to log and
// returns them: more than one chunk, and the output flows to the file
// while the input is read, so that Close is seen between two chunks.
func incompressible(t *testing.T, c *Collator) []byte {
	t.Helper()
	var want bytes.Buffer
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 3 << 10 {
		rec := make([]byte, 500)
		for i := range rec {
			rec[i] = byte(rnd.IntN(256))
		}
		line := hex.EncodeToString(rec)[:999]
		write(t, c, testLog, line)
		want.WriteString(line + "\n")
	}
	return want.Bytes()
}

// closeDuringCompression rolls c's log (stored gzip, its compressions
// blocked by bd) and calls Close once the compression has begun; it
// releases the compression after the time wait has passed in the
// synctest bubble, and returns what Roll and Close returned.
func closeDuringCompression(t *testing.T, c *Collator, bd *blockingDisk, wait time.Duration) (*Rolled, error) {
	t.Helper()
	type rollRes struct {
		r   []Rolled
		err error
	}
	rolled := make(chan rollRes, 1)
	go func() {
		r, err := c.Roll()
		rolled <- rollRes{r, err}
	}()
	<-bd.blocked
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	synctest.Wait() // Close waits for the compression
	select {
	case err := <-closed:
		t.Fatalf("Close returned during a compression: %v", err)
	default:
	}
	time.Sleep(wait)
	close(bd.release)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	res := <-rolled
	if res.err != nil || len(res.r) != 1 {
		return nil, res.err
	}
	return &res.r[0], nil
}

// TestCloseFinishesCompression closes the collator while a compression
// runs: Close waits for it, the waiting Roll gets the compressed file,
// whole, and nothing is left hidden.
func TestCloseFinishesCompression(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{})
		cfg.Logs[0].Storage.Compression = CompressionGzip
		bd := &blockingDisk{blocked: make(chan struct{}, 1), release: make(chan struct{})}
		c, err := open(cfg, testOpts(), fsOps{compressed: bd.wrap})
		if err != nil {
			t.Fatal(err)
		}
		want := incompressible(t, c)
		r, err := closeDuringCompression(t, c, bd, drainWait-time.Second)
		if err != nil || r == nil {
			t.Fatalf("Roll during Close: %v, want the compressed file", err)
		}
		if !strings.HasSuffix(r.Path, ".old.gz") {
			t.Errorf("Roll during Close: %s, want a .gz file", r.Path)
		}
		if got := decompress(t, r.Path); !bytes.Equal(got, want) {
			t.Errorf("%s: %d bytes, want %d", r.Path, len(got), len(want))
		}
		if h := hiddenLeft(t, dir); len(h) > 0 {
			t.Errorf("hidden files after Close: %q", h)
		}
	})
}

// TestCloseLeavesRawForRestart closes the collator while a compression
// runs and does not end within drainWait: Close then stops it, the waiting
// Roll gets ErrClosed, the raw file stays hidden without a temporary, and
// the next start compresses it.
func TestCloseLeavesRawForRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Logs[0].Storage.Compression = CompressionGzip
	var want []byte
	synctest.Test(t, func(t *testing.T) {
		bd := &blockingDisk{blocked: make(chan struct{}, 1), release: make(chan struct{})}
		var logs bytes.Buffer
		opts := testOpts()
		opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		c, err := open(cfg, opts, fsOps{compressed: bd.wrap})
		if err != nil {
			t.Fatal(err)
		}
		want = incompressible(t, c)
		if _, err := closeDuringCompression(t, c, bd, drainWait+time.Second); !errors.Is(err, ErrClosed) {
			t.Errorf("Roll during Close: %v, want ErrClosed", err)
		}
		if !strings.Contains(logs.String(), "rolled files left hidden") {
			t.Errorf("Close did not say it left a file hidden:\n%s", logs.String())
		}
	})
	h := hiddenLeft(t, dir)
	if len(h) != 1 || !strings.HasSuffix(h[0], ".old.gz.raw") {
		t.Fatalf("hidden files after Close: %q, want one raw file", h)
	}
	done := make(chan Rolled, 1)
	opts := testOpts()
	opts.OnRoll = func(r Rolled) { done <- r }
	c2, err := Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	r := <-done
	if got := decompress(t, r.Path); !bytes.Equal(got, want) {
		t.Errorf("%s after restart: %d bytes, want %d", r.Path, len(got), len(want))
	}
	if h := hiddenLeft(t, dir); len(h) > 0 {
		t.Errorf("hidden files left: %q", h)
	}
}

// TestApplyChangesStorage changes the compression and the rolled folder
// by Apply: the next roll follows it; a rolled folder that is a file is
// refused and changes nothing.
func TestApplyChangesStorage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{})
		c := mustOpen(t, cfg)
		write(t, c, testLog, "one")
		r1, err := c.Roll()
		if err != nil || len(r1) != 1 || filepath.Dir(r1[0].Path) != dir || !strings.HasSuffix(r1[0].Path, ".old") {
			t.Fatalf("Roll() = %+v, %v", r1, err)
		}
		file := filepath.Join(dir, "afile")
		if err := os.WriteFile(file, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		bad := cfg
		bad.Logs = []LogConfig{{Name: testLog, Storage: Storage{Dir: filepath.Join(file, "sub"), Compression: CompressionGzip}}}
		if err := c.Apply(bad); err == nil || !errors.Is(err, errRolledDir) {
			t.Errorf("Apply with a rolled folder under a file: %v, want errRolledDir", err)
		}
		write(t, c, testLog, "two")
		r2, err := c.Roll()
		if err != nil || len(r2) != 1 || filepath.Dir(r2[0].Path) != dir || !strings.HasSuffix(r2[0].Path, ".old") {
			t.Fatalf("after a refused Apply: Roll() = %+v, %v", r2, err)
		}
		td := filepath.Join(dir, "a", "b")
		good := cfg
		good.Logs = []LogConfig{{Name: testLog, Storage: Storage{Dir: td, Compression: CompressionZstd, Level: 19}}}
		if err := c.Apply(good); err != nil {
			t.Fatal(err)
		}
		write(t, c, testLog, "three")
		r3, err := c.Roll()
		if err != nil || len(r3) != 1 || filepath.Dir(r3[0].Path) != td || !strings.HasSuffix(r3[0].Path, ".old.zst") {
			t.Fatalf("after Apply: Roll() = %+v, %v", r3, err)
		}
		if got := string(decompress(t, r3[0].Path)); got != "three\n" {
			t.Errorf("%s holds %q", r3[0].Path, got)
		}
	})
}

// TestStorageValidated checks the storage's validation.
func TestStorageValidated(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		s    Storage
		want string // part of the error; "" for none
	}{
		{"none", Storage{}, ""},
		{"gzip 9", Storage{Compression: CompressionGzip, Level: 9}, ""},
		{"gzip 10", Storage{Compression: CompressionGzip, Level: 10}, "gzip level 10 out of range"},
		{"zstd 22", Storage{Compression: CompressionZstd, Level: 22}, ""},
		{"zstd 23", Storage{Compression: CompressionZstd, Level: 23}, "zstd level 23"},
		{"negative", Storage{Compression: CompressionZstd, Level: -1}, "zstd level -1"},
		{"unknown", Storage{Compression: 7}, "compression 7 unknown"},
		{"relative", Storage{Dir: "archive"}, "must be an absolute path"},
		{"dot dot", Storage{Dir: dir + "/../x"}, "must not contain '..'"},
		{"absolute", Storage{Dir: filepath.Join(dir, "archive")}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testCfg(dir, Policy{})
			cfg.Logs[0].Storage = tt.s
			_, err := normalize(cfg)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
				t.Errorf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestCheckRolledDir checks the filesystem checks of a rolled folder.
func TestCheckRolledDir(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, rolled, want string
	}{
		{"existing", dir, ""},
		{"missing, created later", filepath.Join(dir, "a", "b"), ""},
		{"a file", file, "is a file, not a folder"},
		{"below a file", filepath.Join(file, "x"), "cannot be created: " + file + " is a file"},
		{"dot dot", dir + "/x/../y", "must not contain '..'"},
		{"relative", "x", "not an absolute path"},
	}
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() && devOf(fi) != devOfPath(t, dir) {
		tests = append(tests, struct{ name, rolled, want string }{"another filesystem", "/dev/shm", "on another filesystem"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckRolledDir(dir, tt.rolled)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("refused: %v", err)
			case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, errRolledDir)):
				t.Errorf("error %v, want errRolledDir containing %q", err, tt.want)
			}
		})
	}
}

func devOfPath(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return devOf(fi)
}

// TestCompressBacklogBounded rolls twelve files while the compression of
// the first is held up: beyond maxCompressBacklog files waiting, and past
// the backlog's bytes, the oldest waiting ones are published as they are,
// under their plain rolled names, so that hidden raw files never pile up;
// the others are compressed once the first is done. Twelve small files
// fit in the default bytes: all compressed. Every record is in exactly one
// visible file.
func TestCompressBacklogBounded(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bytes int64
		plain int
	}{
		{"count bound", 0, 12 - 1 - maxCompressBacklog},
		{"within the bytes", maxCompressBacklogBytes, 0},
	} {
		t.Run(tc.name, func(t *testing.T) { testCompressBacklog(t, tc.bytes, tc.plain) })
	}
}

func testCompressBacklog(t *testing.T, backlogBytes int64, wantPlain int) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 100})
		cfg.Logs[0].Storage.Compression = CompressionGzip
		bd := &blockingDisk{blocked: make(chan struct{}, 1), release: make(chan struct{})}
		var first sync.Once
		wrap := func(w io.Writer) io.Writer { // only the first compression is held up
			held := w
			first.Do(func() { held = bd.wrap(w) })
			return held
		}
		c, err := open(cfg, testOpts(), fsOps{compressed: wrap})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.comp.backlogBytes = backlogBytes
		var want []string
		for i := range 12 {
			rec := fmt.Sprintf("record %02d %s", i, strings.Repeat("z", 100))
			write(t, c, testLog, rec) // reaches the size: a roll, compressed off the writer
			want = append(want, rec)
			if i == 0 {
				<-bd.blocked // the first compression is held up from here on
			}
			synctest.Wait()
		}
		if got := c.Stats().Logs[testLog].CompressUncompressed; got != int64(wantPlain) {
			t.Errorf("%d files published uncompressed while the backlog was full, want %d", got, wantPlain)
		}
		close(bd.release)
		synctest.Wait()
		var got []string
		plain := 0
		for _, f := range rolledFiles(t, dir, testLog) {
			if f.Compression == CompressionNone {
				plain++
			}
			got = append(got, strings.Split(strings.TrimSuffix(string(decompress(t, f.path)), "\n"), "\n")...)
		}
		if !slices.Equal(got, want) {
			t.Errorf("records in the rolled files, in order: %q, want %q", got, want)
		}
		if plain != wantPlain {
			t.Errorf("%d plain files, want %d", plain, wantPlain)
		}
		if h := hiddenLeft(t, dir); len(h) > 0 {
			t.Errorf("hidden files left: %q", h)
		}
	})
}

// TestCloseLeavesMovedFolderVisible: a compression that outlasts Close's
// drain, in a rolled folder moved away meanwhile, is published uncompressed
// there, under its plain rolled name: the next start looks in the
// configured folders only, and would never find it hidden in the moved one.
func TestCloseLeavesMovedFolderVisible(t *testing.T) {
	dir := t.TempDir()
	td := filepath.Join(dir, "archive")
	cfg := testCfg(dir, Policy{})
	cfg.Logs[0].Storage = Storage{Dir: td, Compression: CompressionGzip}
	moved := td + ".moved"
	synctest.Test(t, func(t *testing.T) {
		bd := &blockingDisk{blocked: make(chan struct{}, 1), release: make(chan struct{})}
		c, err := open(cfg, testOpts(), fsOps{compressed: bd.wrap})
		if err != nil {
			t.Fatal(err)
		}
		want := incompressible(t, c)
		rolled := make(chan []Rolled, 1)
		go func() {
			r, _ := c.Roll()
			rolled <- r
		}()
		<-bd.blocked
		if err := os.Rename(td, moved); err != nil {
			t.Fatal(err)
		}
		closed := make(chan error, 1)
		go func() { closed <- c.Close() }()
		time.Sleep(drainWait + time.Second)
		close(bd.release)
		if err := <-closed; err != nil {
			t.Fatal(err)
		}
		r := <-rolled
		if len(r) != 1 || filepath.Dir(r[0].Path) != moved || !strings.HasSuffix(r[0].Path, ".old") {
			t.Fatalf("Roll during Close: %v, want the plain rolled file in %s", r, moved)
		}
		if got := readString(t, r[0].Path); got != string(want) {
			t.Errorf("%s: %d bytes, want %d", r[0].Path, len(got), len(want))
		}
	})
	if h := hiddenLeft(t, moved); len(h) > 0 {
		t.Errorf("hidden files left in the moved folder: %q", h)
	}
}

// TestCheckRolledDirBindMount: a folder of the log folder's filesystem
// bind-mounted as the rolled folder has the same device, but a rename
// into it fails with EXDEV: refused as another mount. Needs root.
func TestCheckRolledDirBindMount(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to bind-mount a folder")
	}
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "logs", "arch")
	for _, d := range []string{src, dst} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mount(src, dst, "", unix.MS_BIND, ""); err != nil {
		t.Skipf("bind mount: %v", err)
	}
	defer unix.Unmount(dst, unix.MNT_DETACH)
	if err := os.WriteFile(filepath.Join(dir, "logs", "probe"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "logs", "probe"), filepath.Join(dst, "probe")); !errors.Is(err, unix.EXDEV) {
		t.Fatalf("a rename into the bind mount: %v, want EXDEV (the case this guards)", err)
	}
	err := CheckRolledDir(filepath.Join(dir, "logs"), dst)
	if err == nil || !strings.Contains(err.Error(), "on another mount than the log folder") {
		t.Errorf("CheckRolledDir of a bind mount: %v", err)
	}
	if err := CheckRolledDir(filepath.Join(dir, "logs"), filepath.Join(dir, "logs", "other")); err != nil {
		t.Errorf("a plain folder beside it: %v", err)
	}
}
