package tests

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// killPoint is one moment of a daemon's life at which the crash test
// kills it.
type killPoint struct {
	name string
	// slow selects a load that sends at most 400 requests a second
	// (4.4 MB/s), and a file whose START must be told apart from every
	// other candidate: the cycle starts in a later second than the latest
	// END, and after the kill the active file's mtime is moved an hour back
	// and the restart waits for the next second, so that a START taken
	// from the latest END, the mtime or the clock would show in the name.
	slow bool
	// kill waits for the moment while load l runs, SIGKILLs d and returns
	// what it saw (the event that triggered the kill).
	kill func(t *testing.T, d *daemon, l *load) string
}

// Kill points of TestKill9UnderLoad. The event-driven ones watch the log
// folder with inotify and kill on the event: the kill lands within about
// 0.1 ms of it, inside the daemon's roll sequence (the rename is followed by
// a folder fsync, the new active file, its .meta rewritten and fsynced), not
// at an arbitrary moment. (At durability "roll" the two folder fsyncs and
// the .meta's fsync come after the writer token is passed on; see
// docs/rolling.md.)
var killPoints = []killPoint{
	{"after 1500 acknowledged records", false, func(t *testing.T, d *daemon, l *load) string {
		l.waitAcked(t, 1500, 2*waitLimit)
		d.sigkill()
		return ""
	}},
	{"after 1500 acknowledged records in a file of a later second", true, func(t *testing.T, d *daemon, l *load) string {
		l.waitAcked(t, 1500, 2*waitLimit)
		d.sigkill()
		return ""
	}},
	{"50 ms into the load", false, func(t *testing.T, d *daemon, l *load) string {
		time.Sleep(50 * time.Millisecond) // any moment will do: the point is to vary it
		d.sigkill()
		return ""
	}},
	{"at a size roll's rename", false, func(t *testing.T, d *daemon, l *load) string {
		return d.killOn(t, d.logs, 2*waitLimit, func(ev fsnotify.Event) bool {
			return ev.Has(fsnotify.Create) && rolledName.MatchString(filepath.Base(ev.Name))
		})
	}},
	{"during a forced roll", false, func(t *testing.T, d *daemon, l *load) string {
		l.waitAcked(t, 500, 2*waitLimit)
		armed := false
		return d.killOn(t, d.logs, 2*waitLimit, func(ev fsnotify.Event) bool {
			if !armed {
				armed = true
				d.ctlAsync("roll", "access") // its result does not matter: the daemon dies under it
			}
			return ev.Has(fsnotify.Create) && rolledName.MatchString(filepath.Base(ev.Name))
		})
	}},
	{"while the new active file's .meta is written", false, func(t *testing.T, d *daemon, l *load) string {
		rolled := false
		return d.killOn(t, d.logs, 2*waitLimit, func(ev fsnotify.Event) bool {
			base := filepath.Base(ev.Name)
			if ev.Has(fsnotify.Create) && rolledName.MatchString(base) {
				rolled = true
			}
			// The writer rewrites its .meta in place: a write event.
			return rolled && ev.Has(fsnotify.Write) && base == ".access.log.meta"
		})
	}},
	{"right after a forced roll", false, func(t *testing.T, d *daemon, l *load) string {
		l.waitAcked(t, 500, 2*waitLimit)
		r := <-d.ctlAsync("roll", "access")
		d.sigkill()
		if r.code != 0 {
			t.Errorf("forced roll under load: %v", r)
		}
		return strings.TrimSpace(r.stdout)
	}},
	{"at the first write after a roll", false, func(t *testing.T, d *daemon, l *load) string {
		rolled := false
		return d.killOn(t, d.logs, 2*waitLimit, func(ev fsnotify.Event) bool {
			if ev.Has(fsnotify.Create) && rolledName.MatchString(filepath.Base(ev.Name)) {
				rolled = true
			}
			return rolled && ev.Has(fsnotify.Write) && filepath.Base(ev.Name) == "access.log"
		})
	}},
}

// pendingKillPoint exists at durability roll only: a rolled file waits
// under its hidden pending name for its fsync (logging/publish.go), and
// the next start publishes it.
var pendingKillPoint = killPoint{"at a size roll's rename to its pending name", false, func(t *testing.T, d *daemon, l *load) string {
	return d.killOn(t, d.logs, 2*waitLimit, func(ev fsnotify.Event) bool {
		n := filepath.Base(ev.Name)
		return ev.Has(fsnotify.Create) && strings.HasPrefix(n, ".") && strings.HasSuffix(n, ".old.raw")
	})
}}

// crashState is what a killed daemon left in its log folder.
type crashState struct {
	meta       time.Time // START in .access.log.meta
	metaErr    error
	activeSize int64 // -1: no active file
	torn       int64 // bytes after the last newline of the active file
	lastEnd    time.Time
	tmp        []string // .meta temporary files
	pending    []string // rolled files under their hidden pending names
}

// crashStateOf reads what the daemon left in dir for log access.log.
func crashStateOf(t *testing.T, dir string) crashState {
	t.Helper()
	var s crashState
	s.meta, s.metaErr = metaStart(filepath.Join(dir, ".access.log.meta"))
	data, err := os.ReadFile(filepath.Join(dir, "access.log"))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		s.activeSize = -1
	case err != nil:
		t.Fatal(err)
	default:
		s.activeSize = int64(len(data))
		s.torn = int64(len(data) - (strings.LastIndexByte(string(data), '\n') + 1))
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".access.log.meta.tmp") {
			s.tmp = append(s.tmp, e.Name())
		}
		if strings.HasPrefix(e.Name(), ".access.log.") && strings.HasSuffix(e.Name(), ".old.raw") {
			s.pending = append(s.pending, e.Name())
		}
		if m := rolledName.FindStringSubmatch(e.Name()); m != nil && m[1] == "access.log" {
			if _, end := parseRolled(t, filepath.Join(dir, e.Name()), dir, "access.log"); end.After(s.lastEnd) {
				s.lastEnd = end
			}
		}
	}
	return s
}

// metaStart reads the START a .meta file holds: its creation_time line
// (Unix seconds), read from the file as Traffic Server would, not through
// the collator's own parser.
func metaStart(path string) (time.Time, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, err
	}
	for line := range strings.Lines(string(data)) {
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "creation_time" {
			continue
		}
		sec, err := strconv.ParseInt(strings.TrimSpace(value), 10, 64)
		if err != nil {
			return time.Time{}, fmt.Errorf("%s: creation_time %q: %w", path, strings.TrimSpace(value), err)
		}
		return time.Unix(sec, 0), nil
	}
	return time.Time{}, fmt.Errorf("%s: no creation_time line in %q", path, data)
}

func (s crashState) String() string {
	meta := s.meta.Format(rolledTimeLayout)
	if s.metaErr != nil {
		meta = s.metaErr.Error()
	}
	return fmt.Sprintf("active file %d bytes (torn tail %d), .meta START %s, latest END %s, .meta temporary files %q, pending rolled files %q",
		s.activeSize, s.torn, meta, s.lastEnd.Format(rolledTimeLayout), s.tmp, s.pending)
}

// TestKill9UnderLoad kills the daemon with SIGKILL while four clients post
// batches of unique records and the log rolls on size (1 MiB), at several
// points of its work — during group writes, at a size roll's rename,
// during a forced roll, while the new active file's .meta is written,
// right after a forced roll, at the first write into a new file — and
// restarts it on the same folder each time (docs/design.md §3, §5):
//
//   - every acknowledged record is on disk exactly once, over all the
//     files, and each client's records are in the order it sent them;
//   - a request without an answer left each of its records at most once,
//     and only a prefix of them (a torn line is cut, not completed);
//   - every line of every file is a whole record, every file ends with a
//     newline, rolled files never overlap in time;
//   - the START of the file continued after the restart is the one in
//     .access.log.meta (raised to the END of the latest rolled file, which
//     is what a kill between a rename and the new .meta leaves), as the
//     forced roll right after the restart shows in its name;
//   - no temporary .meta file is left behind.
//
// It runs at each durability level: they differ in what survives a power
// loss, not a process crash (the page cache outlives the process).
func TestKill9UnderLoad(t *testing.T) {
	for _, durability := range []string{"write", "roll", "sync"} {
		t.Run(durability, func(t *testing.T) { kill9UnderLoad(t, durability) })
	}
}

// kill9UnderLoad is TestKill9UnderLoad at one durability level.
func kill9UnderLoad(t *testing.T, durability string) {
	dir := tempDir(t)
	cfg := writeConfig(t, dir, conf{RollingEnabled: `"size"`, SizeMB: 1, Durability: durability}.toml())
	d := startDaemon(t, cfg)
	var (
		loads []*load
		tags  []string
	)
	points := killPoints
	if durability == "roll" {
		points = append(slices.Clone(points), pendingKillPoint)
	}
	for k, p := range points {
		tag := fmt.Sprintf("k%d", k)
		var o loadOpts
		if p.slow {
			o.pause = 10 * time.Millisecond
			sleepToNextSecond(crashStateOf(t, d.logs).lastEnd)
		}
		l := startLoad(t, d, "access", tag, o)
		what := p.kill(t, d, l)
		d.wait(t, waitLimit)
		l.stop()
		if f := l.failed(); f != "" {
			t.Errorf("kill %q: %s", p.name, f)
		}
		loads, tags = append(loads, l), append(tags, tag)
		st := crashStateOf(t, d.logs)
		if p.slow {
			if !st.meta.After(st.lastEnd) || st.activeSize-st.torn <= 0 {
				t.Fatalf("kill %q: want a non-empty active file whose .meta START is after the latest END; %v", p.name, st)
			}
			old := time.Now().Add(-time.Hour)
			if err := os.Chtimes(filepath.Join(d.logs, "access.log"), old, old); err != nil {
				t.Fatal(err)
			}
			sleepToNextSecond(st.meta)
		}
		n := l.counts()
		t.Logf("kill %d %s (%s): %d records acknowledged, %d requests unanswered; %v",
			k, p.name, what, l.acked.Load(), n[unknown], st)

		d = startDaemon(t, cfg)
		if st.torn > 0 {
			if c := d.logCount("cut a torn last line"); c != 1 {
				t.Errorf("kill %q left a torn line of %d bytes; the restart logged %d \"cut a torn last line\", want 1", p.name, st.torn, c)
			}
		}
		if left := crashStateOf(t, d.logs).tmp; len(left) > 0 {
			t.Errorf("kill %q: temporary .meta files left after the restart: %q", p.name, left)
		}
		if n := len(st.pending); n > 0 {
			if c := d.logCount("publishing a rolled file a crash left hidden"); c != n {
				t.Errorf("kill %q left %d pending rolled files %q; the restart logged %d \"publishing a rolled file a crash left hidden\"", p.name, n, st.pending, c)
			}
		}
		// The continued file, rolled at once, carries the START the killed
		// daemon left in .meta: nothing is written before the roll.
		paths := d.roll(t, "access")
		whole := st.activeSize - st.torn
		switch {
		case whole <= 0 && len(paths) != 0:
			t.Errorf("kill %q: active file empty after repair, but the roll printed %q", p.name, paths)
		case whole > 0 && len(paths) != 1:
			t.Errorf("kill %q: active file of %d whole bytes, but the roll printed %q, want one path", p.name, whole, paths)
		case whole > 0 && st.metaErr != nil:
			t.Errorf("kill %q: .meta unreadable after the kill (%v): a .meta is replaced atomically", p.name, st.metaErr)
		case whole > 0:
			want := st.meta
			if st.lastEnd.After(want) {
				want = st.lastEnd
			}
			if start, _ := parseRolled(t, paths[0], d.logs, "access.log"); !start.Equal(want) {
				t.Errorf("kill %q: the continued file rolled as %s: START %s, want %s (.meta %s, latest END %s)",
					p.name, filepath.Base(paths[0]), start.Format(rolledTimeLayout), want.Format(rolledTimeLayout),
					st.meta.Format(rolledTimeLayout), st.lastEnd.Format(rolledTimeLayout))
			}
		}
	}
	l := startLoad(t, d, "access", "end", loadOpts{})
	l.waitAcked(t, 500, 2*waitLimit)
	l.stop()
	loads, tags = append(loads, l), append(tags, "end")
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 5*time.Second); code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}

	disk := readLoads(t, d.logs, "access.log")
	acked := 0
	for _, l := range loads {
		acked += checkLoad(t, l, disk)
	}
	checkNothingElse(t, disk)
	checkClientOrder(t, disk, tags...)
	ents, err := os.ReadDir(d.logs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if n := e.Name(); strings.HasPrefix(n, ".") && n != ".access.log.meta" && n != ".logrolld.lock" {
			t.Errorf("unexpected hidden file %s left in the log folder", n)
		}
	}
	t.Logf("%d kills; %d acknowledged records on disk in %d files (%d bytes)", len(points), acked, len(disk.files), disk.bytes)
}
