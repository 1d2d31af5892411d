package logging

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestRestartPublishesPendingFiles: a rolled file a crash left under its
// hidden pending name (a kill between the roll and the publisher's rename)
// is published by the next start, its torn tail cut and its modification
// time (its END) kept, and reported to OnRoll; a pending file whose rolled
// name someone else took is left alone, and so is the namesake.
func TestRestartPublishesPendingFiles(t *testing.T) {
	dir := t.TempDir()
	const (
		a = "access.log.web01.20000101.00h00m00s-20000101.01h00m00s.old"
		b = "access.log.web01.20000101.01h00m00s-20000101.02h00m00s.old"
		o = "other.log.web01.20000101.01h00m00s-20000101.02h00m00s.old"
	)
	end := time.Date(2000, 1, 1, 1, 0, 0, 0, time.UTC)
	put := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, end, end); err != nil {
			t.Fatal(err)
		}
	}
	put("."+a+".raw", "a1\na2\na3 to")    // a power loss tore its tail
	put("."+b+".raw", "b1\n")             // someone else made b: both kept
	put(b, "not ours")                    //
	put("."+o+".raw", "o1\n")             // a log not configured
	put(".notarolledname.old.raw", "x\n") // not a rolled name: left alone

	var seen onRolls
	opts := testOpts()
	opts.OnRoll = seen.add
	cfg := testCfg(dir, Policy{})
	cfg.Durability = DurabilityRoll
	c, err := Open(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil { // Close publishes what is queued
		t.Fatal(err)
	}
	got := seen.paths()
	slices.Sort(got)
	if want := []string{filepath.Join(dir, a), filepath.Join(dir, o)}; !slices.Equal(got, want) {
		t.Errorf("OnRoll reported %q, want %q", got, want)
	}
	if s := readString(t, filepath.Join(dir, a)); s != "a1\na2\n" {
		t.Errorf("%s holds %q, want its whole lines", a, s)
	}
	if s := readString(t, filepath.Join(dir, o)); s != "o1\n" {
		t.Errorf("%s holds %q", o, s)
	}
	if s := readString(t, filepath.Join(dir, b)); s != "not ours" {
		t.Errorf("the namesake of b was changed: %q", s)
	}
	if fi, err := os.Stat(filepath.Join(dir, a)); err != nil || !fi.ModTime().Equal(end) {
		t.Errorf("published file's modification time: %v, %v; want %v", fi, err, end)
	}
	if h := hiddenLeft(t, dir); !slices.Equal(h, []string{"." + b + ".raw", ".notarolledname.old.raw"}) {
		t.Errorf("hidden files: %q", h)
	}
}

// TestPublisherFinishesOnClose: rolls whose publication waits behind a
// slow fsync are all published, in order, before Close returns; while
// they wait they are hidden (no rolled name shows an incomplete file), and
// writes go on.
func TestPublisherFinishesOnClose(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 10})
	cfg.Durability = DurabilityRoll
	fsys, release := holdPendingSyncs() // every publication waits until the writes are done
	var seen onRolls
	opts := testOpts()
	opts.OnRoll = seen.add
	c, err := open(cfg, opts, fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	for i := range 5 {
		write(t, c, testLog, strings.Repeat(string(rune('a'+i)), 20)) // each write rolls
	}
	deadline := time.Now().Add(10 * time.Second)
	for (len(pendingFiles(t, dir)) < 4 || c.Stats().PublishPending < 4) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // submitted after the writer goroutine's folder fsync
	}
	if n := len(pendingFiles(t, dir)); n < 4 {
		t.Fatalf("%d pending files while the publisher waits, want at least 4", n)
	}
	if r := rolledFiles(t, dir, testLog); len(r) != 0 {
		t.Fatalf("rolled files %v visible before their fsync", r)
	}
	if n := c.Stats().PublishPending; n < 4 {
		t.Errorf("Stats().PublishPending = %d while 4 or more wait", n)
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	time.Sleep(10 * time.Millisecond) // Close waits for the publisher
	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if p := pendingFiles(t, dir); len(p) != 0 {
		t.Errorf("pending files left by Close: %q", p)
	}
	if n := c.Stats().PublishPending; n != 0 {
		t.Errorf("Stats().PublishPending = %d after Close", n)
	}
	files := rolledFiles(t, dir, testLog)
	var contents []string
	for _, f := range files {
		contents = append(contents, readString(t, f.path))
	}
	reported := seen.paths()
	if len(files) < 4 || len(reported) != len(files) {
		t.Fatalf("%d rolled files, %d reported: %q", len(files), len(reported), reported)
	}
	all := strings.Join(contents, "") + readString(t, filepath.Join(dir, testLog))
	for i := range 5 {
		if n := strings.Count(all, strings.Repeat(string(rune('a'+i)), 20)+"\n"); n != 1 {
			t.Errorf("record %d found %d times", i, n)
		}
	}
}

// TestPublishRefusesToReplace: when the rolled name was taken by someone
// else between the roll and its publication, the pending file stays
// hidden, the forced Roll gets the error, and nothing is replaced.
func TestPublishRefusesToReplace(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{})
	cfg.Durability = DurabilityRoll
	fsys := fsOps{syncFile: func(f *os.File) error {
		if name, ok := strings.CutSuffix(filepath.Base(f.Name()), rawSuffix); ok {
			// The namesake appears just before the rename.
			if err := os.WriteFile(filepath.Join(dir, name[1:]), []byte("someone else's\n"), 0o644); err != nil {
				return err
			}
		}
		return f.Sync()
	}}
	c, err := open(cfg, testOpts(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, testLog, "ours")
	_, err = c.Roll(testLog)
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Roll = %v, want an error wrapping fs.ErrExist", err)
	}
	p := pendingFiles(t, dir)
	if len(p) != 1 || readString(t, filepath.Join(dir, p[0])) != "ours\n" {
		t.Fatalf("pending files %q, want the roll's, holding its record", p)
	}
	r := rolledFiles(t, dir, testLog)
	if len(r) != 1 || readString(t, r[0].path) != "someone else's\n" {
		t.Errorf("rolled files %v, want the namesake, untouched", r)
	}
}

// holdPendingSyncs returns file-system calls whose fsyncs of pending files
// wait until release is called (idempotent): a disk far behind the writes.
func holdPendingSyncs() (fsOps, func()) {
	ch := make(chan struct{})
	var once sync.Once
	return fsOps{syncFile: func(f *os.File) error {
		if strings.HasSuffix(f.Name(), rawSuffix) {
			<-ch
		}
		return f.Sync()
	}}, func() { once.Do(func() { close(ch) }) }
}

// pendingFiles lists the hidden pending files of dir.
func pendingFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, n := range hiddenLeft(t, dir) {
		if _, kind := pendingName(n); kind == "raw" {
			out = append(out, n)
		}
	}
	return out
}

// TestRollsGoOnWhileFsyncsWait: at DurabilityRoll no fsync of a roll keeps
// writers or the writer goroutine waiting: with every fsync held up (a disk
// far behind the writes), writes go on, size rolls keep rolling into
// pending files, and none of them appears under its rolled name until its
// fsync is done.
func TestRollsGoOnWhileFsyncsWait(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 10})
	cfg.Durability = DurabilityRoll
	release := make(chan struct{})
	var once sync.Once
	var holding atomic.Bool // from after Open on
	unblock := func() { once.Do(func() { close(release) }) }
	hold := func() {
		if holding.Load() {
			<-release
		}
	}
	fsys := fsOps{
		syncFile: func(f *os.File) error { hold(); return f.Sync() },
		syncDir:  func(d string) error { hold(); return syncPath(d) },
	}
	c, err := open(cfg, testOpts(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		unblock()
		c.Close()
	}()
	holding.Store(true)
	wrote := make(chan error, 1)
	go func() {
		for i := range 6 {
			if err := c.Write(testLog, [][]byte{[]byte(strings.Repeat(string(rune('a'+i)), 20))}); err != nil {
				wrote <- err
				return
			}
		}
		wrote <- nil
	}()
	select {
	case err := <-wrote:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writes wait for the fsyncs of earlier rolls")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(pendingFiles(t, dir)) < 5 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond) // size rolls by the writer goroutine
	}
	if n := len(pendingFiles(t, dir)); n < 5 {
		t.Fatalf("%d pending files while the fsyncs wait, want 5: the writer goroutine waits for them", n)
	}
	if r := rolledFiles(t, dir, testLog); len(r) != 0 {
		t.Fatalf("rolled files %v published before their fsync", r)
	}
	unblock()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := len(rolledFiles(t, dir, testLog)); n < 5 {
		t.Errorf("%d rolled files after the fsyncs, want 5 or more", n)
	}
}

// TestRollNothingWaitsForEarlierPublication: a forced Roll that finds
// nothing to roll answers only once the records accepted before it are in
// a visible rolled file, even when an earlier roll's publication waits for
// its fsync.
func TestRollNothingWaitsForEarlierPublication(t *testing.T) {
	dir := t.TempDir()
	cfg := testCfg(dir, Policy{Mode: ModeSize, SizeBytes: 10})
	cfg.Durability = DurabilityRoll
	fsys, unblock := holdPendingSyncs()
	c, err := open(cfg, testOpts(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { unblock(); c.Close() }()
	write(t, c, testLog, strings.Repeat("a", 20)) // rolls by size
	deadline := time.Now().Add(10 * time.Second)
	for len(pendingFiles(t, dir)) < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.Roll(testLog)
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Roll returned (%v) while the record before it is in no visible rolled file (pending: %q)", err, pendingFiles(t, dir))
	case <-time.After(300 * time.Millisecond):
	}
	unblock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if r := rolledFiles(t, dir, testLog); len(r) != 1 || readString(t, r[0].path) != strings.Repeat("a", 20)+"\n" {
		t.Errorf("rolled files %v after Roll, want the size roll's", r)
	}
}

// TestRecoveryFsyncsBeforePublishing: a pending file left by a run at
// durability roll is fsynced before a restart publishes it, whatever the
// durability of the restart.
func TestRecoveryFsyncsBeforePublishing(t *testing.T) {
	dir := t.TempDir()
	const a = "access.log.web01.20000101.00h00m00s-20000101.01h00m00s.old"
	if err := os.WriteFile(filepath.Join(dir, "."+a+".raw"), []byte("a1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var synced []string
	fsys := fsOps{syncFile: func(f *os.File) error {
		mu.Lock()
		synced = append(synced, filepath.Base(f.Name()))
		mu.Unlock()
		return f.Sync()
	}}
	cfg := testCfg(dir, Policy{})
	cfg.Durability = DurabilityWrite
	c, err := open(cfg, testOpts(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if s := readString(t, filepath.Join(dir, a)); s != "a1\n" {
		t.Fatalf("published file holds %q", s)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Contains(synced, "."+a+".raw") {
		t.Errorf("%s published without an fsync of its data (fsyncs: %q)", a, synced)
	}
}

// durableArchiveCfg returns a configuration at DurabilityRoll whose log
// rolls into the folder td, "archive" in a new log folder.
func durableArchiveCfg(t *testing.T) (Config, string) {
	dir := t.TempDir()
	td := filepath.Join(dir, "archive")
	cfg := testCfg(dir, Policy{})
	cfg.Durability = DurabilityRoll
	cfg.Logs[0].Storage.Dir = td
	return cfg, td
}

// TestPublishFollowsMovedFolder moves the rolled folder away while a
// durable roll's pending file waits for its fsync: the file is published
// in the moved folder (the job names its files relative to the folder it
// opened at the roll), the Roll answers that path, OnRoll is not called
// (the folder is no longer the log's), and no pending file is left.
func TestPublishFollowsMovedFolder(t *testing.T) {
	cfg, td := durableArchiveCfg(t)
	fsys, unblock := holdPendingSyncs()
	var mu sync.Mutex
	var synced []os.FileInfo // the folders fsynced, as they were then
	fsys.syncDir = func(p string) error {
		if fi, err := os.Stat(p); err == nil {
			mu.Lock()
			synced = append(synced, fi)
			mu.Unlock()
		}
		return syncPath(p)
	}
	var seen onRolls
	opts := testOpts()
	opts.OnRoll = seen.add
	c, err := open(cfg, opts, fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { unblock(); c.Close() }()
	write(t, c, testLog, "the record")
	type rollRes struct {
		r   []Rolled
		err error
	}
	done := make(chan rollRes, 1)
	go func() {
		r, err := c.Roll(testLog)
		done <- rollRes{r, err}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for len(pendingFiles(t, td)) < 1 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	moved := td + ".moved"
	if err := os.Rename(td, moved); err != nil {
		t.Fatal(err)
	}
	unblock()
	res := <-done
	if res.err != nil || len(res.r) != 1 {
		t.Fatalf("Roll: %v, %v", res.r, res.err)
	}
	if p := res.r[0].Path; filepath.Dir(p) != moved || readString(t, p) != "the record\n" {
		t.Errorf("Roll answered %s, want the published file in %s", p, moved)
	}
	if h := hiddenLeft(t, moved); len(h) > 0 {
		t.Errorf("hidden files left in the moved folder: %q", h)
	}
	if p := seen.paths(); len(p) != 0 {
		t.Errorf("OnRoll called with %q for a file in a folder moved away", p)
	}
	// The publication's folder fsync is the moved folder's, which holds
	// the new name, not whatever is at the old path.
	mfi, err := os.Stat(moved)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(synced) == 0 || !os.SameFile(synced[len(synced)-1], mfi) {
		t.Errorf("the last folder fsynced is not the moved folder (%d fsyncs)", len(synced))
	}
}

// TestPublishFolderRemoved removes the rolled folder right after a durable
// roll's publication renamed the file into place (at the folder's fsync):
// the Roll is answered with an error saying the folder and the file went,
// never with a path that no longer names anything.
func TestPublishFolderRemoved(t *testing.T) {
	cfg, td := durableArchiveCfg(t)
	var removed atomic.Bool
	fsys := fsOps{syncDir: func(p string) error {
		if strings.HasPrefix(p, "/proc/self/fd/") && removed.CompareAndSwap(false, true) {
			if err := os.RemoveAll(td); err != nil {
				t.Error(err)
			}
		}
		return syncPath(p)
	}}
	c, err := open(cfg, testOpts(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	write(t, c, testLog, "the record")
	r, err := c.Roll(testLog)
	if err == nil || !strings.Contains(err.Error(), "was removed") {
		t.Errorf("Roll after the folder's removal: %v, %v; want an error saying it was removed", r, err)
	}
}
