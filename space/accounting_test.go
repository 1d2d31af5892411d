package space

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// newTestAcct scans dir with the logs a.log and b.log configured.
func newTestAcct(t *testing.T, dir string) *acct {
	t.Helper()
	a := newAcct(dir, nil, time.UTC, []string{"a.log", "b.log"}, "web01")
	if err := a.scan(); err != nil {
		t.Fatal(err)
	}
	return a
}

// rec is reconcile for a name in the log folder.
func (a *acct) rec(name string, moved bool, now time.Time) {
	a.reconcile(filepath.Join(a.dir, name), moved, now)
}

// file is the entry of a name in the log folder.
func (a *acct) file(name string) *entry {
	return a.files[filepath.Join(a.dir, name)]
}

// sum returns the sizes of a's entries.
func sum(a *acct) int64 {
	var n int64
	for _, e := range a.files {
		n += e.size
	}
	return n
}

func TestScanCountsEveryRegularFile(t *testing.T) {
	dir := t.TempDir()
	mkfile(t, dir, "a.log", 100)
	mkfile(t, dir, ".a.log.meta", 30)
	mkfile(t, dir, ".logrolld.lock", 0)
	mkfile(t, dir, rolled("a.log", 0), 1000)
	mkfile(t, dir, rolled("a.log", 1), 1001)
	mkfile(t, dir, rolled("gone.log", 0), 500)
	mkfile(t, dir, "notes.txt", 7)
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mkfile(t, filepath.Join(dir, "sub"), "inside", 10_000)
	if err := os.Symlink(filepath.Join(dir, "sub", "inside"), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	a := newTestAcct(t, dir)
	if want := int64(100 + 30 + 1000 + 1001 + 500 + 7); a.base != want || sum(a) != want {
		t.Errorf("base = %d, entries sum to %d; want %d (regular files only, not the subfolder or the link)", a.base, sum(a), want)
	}
	if len(a.files) != 7 {
		t.Errorf("%d entries, want 7", len(a.files))
	}
	if a.candidates != 3 {
		t.Errorf("candidates = %d, want 3 (the rolled files, configured or not)", a.candidates)
	}
	if u := a.perLog["a.log"]; u == nil || u.files != 2 || u.bytes != 2001 {
		t.Errorf("a.log usage = %+v, want 2 files, 2001 bytes", u)
	}
	if u := a.perLog["gone.log"]; u == nil || u.files != 1 || u.bytes != 500 {
		t.Errorf("gone.log usage = %+v, want 1 file, 500 bytes", u)
	}
	if !a.file("a.log").active || a.file("notes.txt").active {
		t.Errorf("active flags wrong")
	}
}

func TestReconcile(t *testing.T) {
	now := t0
	t.Run("roll: rename active to rolled keeps U", func(t *testing.T) {
		dir := t.TempDir()
		mkfile(t, dir, "a.log", 100)
		mkfile(t, dir, "other", 10)
		a := newTestAcct(t, dir)
		// The collator writes 50 bytes (counted by Wrote, not here), then rolls.
		appendTo(t, dir, "a.log", 50)
		r := rolled("a.log", 0)
		if err := os.Rename(filepath.Join(dir, "a.log"), filepath.Join(dir, r)); err != nil {
			t.Fatal(err)
		}
		mkfile(t, dir, "a.log", 0)
		appendTo(t, dir, "a.log", 7) // written before the events are handled: counted by Wrote
		a.rec("a.log", true, now)    // fsnotify Rename
		a.rec(r, false, now)         // Create (moved to)
		a.rec("a.log", false, now)
		if a.base != 110 {
			t.Errorf("base = %d, want 110 (the 57 bytes written are Wrote's)", a.base)
		}
		if e := a.file(r); e == nil || e.size != 150 || e.rolled.Log != "a.log" {
			t.Errorf("rolled entry = %+v, want 150 bytes of a.log", e)
		}
		if e := a.file("a.log"); e == nil || e.size != 0 {
			t.Errorf("new active entry = %+v, want size 0", e)
		}
		if u := a.perLog["a.log"]; u == nil || u.files != 1 || u.bytes != 150 {
			t.Errorf("usage = %+v", u)
		}
		// Deleting the rolled file takes its whole size: with Wrote's 57 the
		// total is then exactly the 10 + 7 bytes left.
		if err := os.Remove(filepath.Join(dir, r)); err != nil {
			t.Fatal(err)
		}
		a.rec(r, false, now)
		if got := a.base + 57; got != 17 {
			t.Errorf("U after deleting the rolled file = %d, want 17", got)
		}
	})
	t.Run("roll onto a rolled name just deleted, events late", func(t *testing.T) {
		// Autodelete removes r; the next roll in the same second reuses its
		// name before the manager has handled the events: r's Remove is
		// handled when r already holds the renamed active file.
		dir := t.TempDir()
		r := rolled("a.log", 0)
		mkfile(t, dir, "a.log", 100)
		mkfile(t, dir, r, 1000)
		a := newTestAcct(t, dir)
		appendTo(t, dir, "a.log", 50) // Wrote's
		if err := os.Remove(filepath.Join(dir, r)); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, "a.log"), filepath.Join(dir, r)); err != nil {
			t.Fatal(err)
		}
		mkfile(t, dir, "a.log", 0)
		a.rec(r, false, now)       // Remove of the old r
		a.rec("a.log", true, now)  // Rename away
		a.rec(r, false, now)       // Create (moved to)
		a.rec("a.log", false, now) // Create
		if got := a.base + 50; got != 150 {
			t.Errorf("U = %d, want the 150 bytes on disk", got)
		}
		if e := a.file(r); e == nil || e.size != 150 {
			t.Errorf("rolled entry = %+v, want 150 bytes", e)
		}
	})
	t.Run("events handled after a scan that saw the roll", func(t *testing.T) {
		dir := t.TempDir()
		mkfile(t, dir, "a.log", 100)
		r := rolled("a.log", 0)
		if err := os.Rename(filepath.Join(dir, "a.log"), filepath.Join(dir, r)); err != nil {
			t.Fatal(err)
		}
		mkfile(t, dir, "a.log", 0)
		a := newTestAcct(t, dir) // scans the result
		a.rec("a.log", true, now)
		a.rec(r, false, now)
		a.rec("a.log", false, now)
		if a.base != 100 || len(a.files) != 2 {
			t.Errorf("late events changed the accounting: base %d, %d entries", a.base, len(a.files))
		}
	})
	t.Run("rename out of the folder subtracts", func(t *testing.T) {
		dir, away := t.TempDir(), t.TempDir()
		r := rolled("a.log", 0)
		mkfile(t, dir, r, 1000)
		mkfile(t, dir, "other", 10)
		a := newTestAcct(t, dir)
		if err := os.Rename(filepath.Join(dir, r), filepath.Join(away, r)); err != nil {
			t.Fatal(err)
		}
		a.rec(r, true, now)
		if a.base != 10 || a.candidates != 0 || a.perLog["a.log"] != nil {
			t.Errorf("base %d, candidates %d, usage %v; want 10, 0, none", a.base, a.candidates, a.perLog["a.log"])
		}
		a.prune(now.Add(departedTTL + time.Second))
		if len(a.departed) != 0 {
			t.Errorf("departed entries not pruned")
		}
	})
	t.Run("rename over an existing file frees it", func(t *testing.T) {
		dir := t.TempDir()
		mkfile(t, dir, "x.tmp", 40)
		mkfile(t, dir, ".a.log.meta", 30)
		a := newTestAcct(t, dir)
		if err := os.Rename(filepath.Join(dir, "x.tmp"), filepath.Join(dir, ".a.log.meta")); err != nil {
			t.Fatal(err)
		}
		a.rec("x.tmp", true, now)
		a.rec(".a.log.meta", false, now)
		if a.base != 40 || len(a.files) != 1 {
			t.Errorf("base %d with %d entries, want 40 with 1", a.base, len(a.files))
		}
	})
	t.Run("removal reports", func(t *testing.T) {
		dir := t.TempDir()
		mkfile(t, dir, "keep", 10)
		p := mkfile(t, dir, "gone", 20)
		a := newTestAcct(t, dir)
		a.rec("keep", false, now) // still there: nothing changes
		a.rec("never", false, now)
		if a.base != 30 {
			t.Fatalf("base = %d, want 30", a.base)
		}
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		a.rec("gone", false, now)
		a.rec("gone", false, now) // twice
		if a.base != 10 {
			t.Errorf("base = %d, want 10", a.base)
		}
	})
	t.Run("a file that appears is added; growth of others is seen", func(t *testing.T) {
		dir := t.TempDir()
		a := newTestAcct(t, dir)
		mkfile(t, dir, "new.txt", 25)
		a.rec("new.txt", false, now)
		appendTo(t, dir, "new.txt", 5)
		a.rec("new.txt", false, now)
		r := rolled("b.log", 3)
		mkfile(t, dir, r, 100)
		a.rec(r, false, now)
		if a.base != 130 || a.candidates != 1 {
			t.Errorf("base %d, candidates %d; want 130, 1", a.base, a.candidates)
		}
	})
	t.Run("another file under a known name", func(t *testing.T) {
		dir := t.TempDir()
		p := mkfile(t, dir, "x", 100)
		a := newTestAcct(t, dir)
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
		mkfile(t, dir, "x", 3)
		a.rec("x", false, now)
		if a.base != 3 {
			t.Errorf("base = %d, want 3", a.base)
		}
	})
}

func TestNormalize(t *testing.T) {
	good := Config{Dir: "/tmp/x", Limit: 10, Logs: []Log{{Name: "a.log"}}}
	c, err := good.normalize()
	if err != nil {
		t.Fatal(err)
	}
	if c.ScanInterval != DefaultScanInterval || c.MinFree != DefaultMinFree {
		t.Errorf("defaults not applied: %+v", c)
	}
	bad := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no dir", Config{Limit: 1}, "dir is empty"},
		{"zero limit", Config{Dir: "/x"}, "limit must be positive"},
		{"negative headroom", Config{Dir: "/x", Limit: 1, Headroom: -1}, "headroom must not be negative"},
		{"negative min free", Config{Dir: "/x", Limit: 1, MinFree: -1}, "min free must not be negative"},
		{"log twice", Config{Dir: "/x", Limit: 1, Logs: []Log{{Name: "a"}, {Name: "a"}}}, `"a" given twice`},
		{"log path", Config{Dir: "/x", Limit: 1, Logs: []Log{{Name: "a/b"}}}, "not a file name"},
		{"negative min count", Config{Dir: "/x", Limit: 1, Logs: []Log{{Name: "a", MinCount: -1}}}, "min and max count must not be negative"},
		{"negative max count", Config{Dir: "/x", Limit: 1, Logs: []Log{{Name: "a", MaxCount: -1}}}, "min and max count must not be negative"},
		{"negative max age", Config{Dir: "/x", Limit: 1, Logs: []Log{{Name: "a", MaxAge: -time.Second}}}, "max age and max total must not be negative, got -1s"},
		{"negative max total", Config{Dir: "/x", Limit: 1, Logs: []Log{{Name: "a", MaxTotal: -1}}}, "max age and max total must not be negative, got 0s and -1 bytes"},
		{"headroom at the limit", Config{Dir: "/x", Limit: 100 << 20, Headroom: 100 << 20}, "headroom 100.0 MiB must be less than the limit 100.0 MiB"},
		{"negative inodes", Config{Dir: "/x", Limit: 1, MinFreeInodes: -1}, "inode thresholds must not be negative"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.cfg.normalize()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("normalize() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestLeftBehind: the rolled folders a new configuration drops, with the
// rolled files and the pending (hidden raw) ones still in each; the log
// folder, the folders kept, folders with neither and other files (a
// compression's temporary among them) are left out.
func TestLeftBehind(t *testing.T) {
	a := newAcct("/logs", []string{"/logs/a", "/logs/b", "/logs/c"}, time.UTC, []string{"access.log"}, "web01")
	rolled := func(size int64) *entry { return &entry{size: size, rolled: File{Log: "access.log"}} }
	a.files = map[string]*entry{
		"/logs/access.log.h.20261121.06h00m00s-20261121.07h00m00s.old":       rolled(1),
		"/logs/a/access.log.h.20261121.07h00m00s-20261121.08h00m00s.old":     rolled(10),
		"/logs/a/access.log.h.20261121.08h00m00s-20261121.09h00m00s.old.zst": rolled(20),
		"/logs/a/notes.txt": {size: 1000},
		"/logs/b/access.log.h.20261121.09h00m00s-20261121.10h00m00s.old": rolled(5),
		"/logs/c/notes.txt": {size: 7},
		"/logs/c/.access.log.h.20261121.10h00m00s-20261121.11h00m00s.old.zst.raw":          {size: 9},
		"/logs/c/.access.log.h.20261121.10h00m00s-20261121.11h00m00s.old.zst.tmp123456789": {size: 3},
	}
	for _, tc := range []struct {
		name string
		next []string
		want []leftBehind
	}{
		{"all kept", []string{"/logs/a", "/logs/b", "/logs/c"}, nil},
		{"a dropped", []string{"/logs/b", "/logs/c", "/logs/d"}, []leftBehind{{"/logs/a", 2, 30, 0}}},
		{"all dropped: c has a pending file only", nil, []leftBehind{{"/logs/a", 2, 30, 0}, {"/logs/b", 1, 5, 0}, {"/logs/c", 0, 0, 1}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.leftBehind(tc.next); !slices.Equal(got, tc.want) {
				t.Errorf("leftBehind(%q) = %+v, want %+v", tc.next, got, tc.want)
			}
		})
	}
}

// TestSplitNames: the .meta files of logs whose names extend a
// configured one (a removed "access.log.json" beside "access.log") join
// the names rolled files are split by; no other hidden file does, however
// many there are.
func TestSplitNames(t *testing.T) {
	files := fstest.MapFS{}
	for _, n := range []string{".access.log.json.meta", ".access.log.meta", ".other.log.meta", ".logrolld.lock", ".access.log_x.meta", "access.log.json.web02.x.old"} {
		files[n] = &fstest.MapFile{}
	}
	for i := range 20000 {
		files[fmt.Sprintf(".h%05d.meta", i)] = &fstest.MapFile{}
	}
	ents, err := fs.ReadDir(files, ".")
	if err != nil {
		t.Fatal(err)
	}
	got := SplitNames([]string{"access.log", "error.log"}, ents)
	slices.Sort(got)
	if want := []string{"access.log", "access.log.json", "access.log_x", "error.log"}; !slices.Equal(got, want) {
		t.Errorf("SplitNames = %q, want %q", got, want)
	}
}

// TestScanFolderThroughALink: a counted folder replaced, while the daemon
// runs, by a link to another counted one (the log folder, or another
// rolled folder) is listed once: every file counts once, in U and as a
// candidate, and an event naming a file through the link reconciles the
// entry of the folder listed first.
func TestScanFolderThroughALink(t *testing.T) {
	for _, target := range []string{"", "arch-a"} { // "" is the log folder
		dir := t.TempDir()
		archA, archB := filepath.Join(dir, "arch-a"), filepath.Join(dir, "arch-b")
		for _, d := range []string{archA, archB} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		mkfile(t, dir, rolled("a.log", 0), 1000)
		mkfile(t, archA, rolled("a.log", 1), 1001)
		mkfile(t, archB, rolled("b.log", 2), 1002)
		a := newAcct(dir, []string{archA, archB}, time.UTC, []string{"a.log", "b.log"}, "web01")
		if err := a.scan(); err != nil {
			t.Fatal(err)
		}
		if a.base != 3003 || len(a.rolled()) != 3 {
			t.Fatalf("before the link: base %d, %d candidates", a.base, len(a.rolled()))
		}
		// The operator merges arch-b into the target and links arch-b to it.
		to := filepath.Join(dir, target)
		if err := os.Rename(filepath.Join(archB, rolled("b.log", 2)), filepath.Join(to, rolled("b.log", 2))); err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(archB); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(to, archB); err != nil {
			t.Fatal(err)
		}
		if err := a.scan(); err != nil {
			t.Fatal(err)
		}
		if a.base != 3003 || len(a.rolled()) != 3 || len(a.files) != 3 {
			t.Errorf("link to %q: base %d, %d candidates, %d entries; want 3003 bytes and 3 files, each once", target, a.base, len(a.rolled()), len(a.files))
		}
		if got := a.aliases(); len(got) != 1 || !strings.HasPrefix(got[0], archB+" is ") {
			t.Errorf("aliases %q, want arch-b's", got)
		}
		// A new file, named through the link by a watch event.
		mkfile(t, archB, rolled("b.log", 3), 500)
		a.reconcile(filepath.Join(archB, rolled("b.log", 3)), false, time.Now())
		a.reconcile(filepath.Join(to, rolled("b.log", 3)), false, time.Now())
		if a.base != 3503 || len(a.files) != 4 {
			t.Errorf("link to %q: after an event through it, base %d, %d entries; want 3503 and 4", target, a.base, len(a.files))
		}
	}
}
