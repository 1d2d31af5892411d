package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// Helpers of the data-safety tests (issue 17: datasafety_test.go,
// datasafety_dst_test.go, datasafety_space_test.go). Every name starts with
// ds. Records are spaceLine(tag, id) lines, numbered in the order they were
// posted, so that a file's records say how old it is whatever its name says.

// dsLaunch starts logrolld -config path with env (KEY=VALUE, e.g. a TZ)
// added to the test's environment, and returns at once (launch, with an
// environment).
func dsLaunch(t *testing.T, path string, env ...string) *daemon {
	t.Helper()
	d := &daemon{
		t:      t,
		config: path,
		dir:    filepath.Dir(path),
		logs:   filepath.Join(filepath.Dir(path), "logs"),
		stderr: &syncBuffer{},
		exited: make(chan struct{}),
	}
	cmd := exec.Command(daemonBin, "-config", path)
	cmd.Env = append(os.Environ(), env...)
	d.run(cmd)
	return d
}

// dsStart is dsLaunch, then waits until the daemon is ready.
func dsStart(t *testing.T, path string, env ...string) *daemon {
	t.Helper()
	d := dsLaunch(t, path, env...)
	d.waitReady()
	return d
}

// dsStop stops the daemon with SIGTERM and fails the test unless it exits
// 0 within 5 s (docs/daemon.md).
func (d *daemon) dsStop() {
	d.t.Helper()
	d.signal(syscall.SIGTERM)
	if code := d.wait(5 * time.Second); code != 0 {
		d.t.Fatalf("logrolld exited %d after SIGTERM, want 0; stderr:\n%s", code, d.stderr.String())
	}
}

// dsSpace is what issue 17 adds to `status --json`'s space section. The
// pointers are nil when the daemon does not send the field.
type dsSpace struct {
	Reason              *string          `json:"reason"`
	PartitionFreeInodes *int64           `json:"partition_free_inodes"`
	DeletedByRule       map[string]int64 `json:"deleted_by_rule"`
}

// dsStatus runs `status --json` and returns it as ctl.Status and with the
// fields issue 17 adds (a test fails on a missing field, not at compile
// time, so that the rest of the package builds on today's ctl).
func (d *daemon) dsStatus() (ctl.Status, dsSpace) {
	d.t.Helper()
	r := d.mustCtl("status", "--json")
	var st ctl.Status
	var extra struct {
		Space *dsSpace `json:"space"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		d.t.Fatalf("status --json: %v\n%v", err, r)
	}
	if err := json.Unmarshal([]byte(r.stdout), &extra); err != nil {
		d.t.Fatalf("status --json: %v\n%v", err, r)
	}
	if st.Space == nil || extra.Space == nil {
		d.t.Fatalf("status --json has no space section: %v", r)
	}
	return st, *extra.Space
}

// dsLogStart returns the START status gives the log with active name log.
func (d *daemon) dsLogStart(log string) time.Time {
	d.t.Helper()
	st, _ := d.dsStatus()
	for _, l := range st.Logs {
		if l.Name == log {
			return l.Start
		}
	}
	d.t.Fatalf("status has no log %s: %+v", log, st.Logs)
	return time.Time{}
}

// dsRollOne runs `roll --json LOG`, which must exit 0 and roll exactly one
// file, and returns it.
func (d *daemon) dsRollOne(log string) ctl.RolledFile {
	d.t.Helper()
	var resp ctl.RollResponse
	r := d.mustCtl("roll", "--json", log)
	if err := json.Unmarshal([]byte(r.stdout), &resp); err != nil {
		d.t.Fatalf("roll --json: %v\n%v", err, r)
	}
	if len(resp.Rolled) != 1 || len(resp.Errors) != 0 {
		d.t.Fatalf("roll --json %s: %+v, want one file and no error", log, resp)
	}
	return resp.Rolled[0]
}

// dsDeletionLines returns the daemon's log lines that name path and hold
// rule=RULE (rule "" matches any rule=).
func (d *daemon) dsDeletionLines(path, rule string) []string {
	var out []string
	for _, l := range d.relLines("path=" + path) {
		if (rule == "" && strings.Contains(l, " rule=")) || (rule != "" && strings.Contains(l, " rule="+rule)) {
			out = append(out, l)
		}
	}
	return out
}

// dsPost posts records first..first+n-1 of tag to log once and returns the
// answer.
func (d *daemon) dsPost(log, tag string, first, n int) answer {
	d.t.Helper()
	a, err := d.do(req{log: log, ctype: "text/plain", body: spaceBody(tag, first, n)})
	if err != nil {
		d.t.Fatalf("POST /v1/logs/%s: %v", log, err)
	}
	return a
}

// dsRetryAfterOK reports whether a 503's Retry-After is whole seconds ≥ 1.
func dsRetryAfterOK(a answer) bool {
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	return err == nil && secs >= 1
}

// dsFile is one file of a log and the records of one tag it holds.
type dsFile struct {
	name   string
	ino    uint64
	lo, hi int // lowest and highest record id; lo > hi when empty
	ids    []int
}

// dsReadFile reads path's whole records of tag. With partial, a last line
// without its newline is ignored (the active file may be read in the middle
// of a write); otherwise it is an error, as is any line that is not a
// record of tag.
func dsReadFile(path, tag string, partial bool) (dsFile, error) {
	f := dsFile{name: filepath.Base(path), lo: 1 << 62, hi: -1}
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if i := strings.LastIndexByte(string(data), '\n'); i+1 < len(data) {
		if !partial {
			return f, fmt.Errorf("%s: last line torn (no newline)", f.name)
		}
		data = data[:i+1]
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		m := spaceLineRE.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != tag || len(sc.Text()) != spaceLineLen-1 {
			return f, fmt.Errorf("%s line %d is not a record of %q: %.60q", f.name, n, tag, sc.Text())
		}
		id, _ := strconv.Atoi(m[2])
		f.ids = append(f.ids, id)
		f.lo, f.hi = min(f.lo, id), max(f.hi, id)
	}
	return f, nil
}

// dsFolder is one consistent look at a log's files: its rolled files (in
// no particular order) and its active file.
type dsFolder struct {
	rolled []dsFile
	active dsFile
}

// dsLook reads the files of log (active name) in dir, all records of tag,
// until the folder's rolled files and the active file's inode were the same
// before and after the reading (a roll or a deletion may happen in
// between). cache keeps rolled files already read (they never change) by
// name, inode, size and modification time; it may be nil.
func dsLook(t *testing.T, dir, log, tag string, cache map[string]dsFile) dsFolder {
	t.Helper()
	// listing identifies each file: the active file by its inode (it grows
	// while it is read), a rolled file by its inode, size and modification
	// time (an inode number can be reused at once for a new file).
	type id struct {
		ino        uint64
		size, time int64
	}
	listing := func() (map[string]id, error) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		m := map[string]id{}
		for _, e := range ents {
			n := e.Name()
			if rm := rolledName.FindStringSubmatch(n); n != log && (rm == nil || rm[1] != log) {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return nil, err // gone since the listing
			}
			m[n] = id{ino: fi.Sys().(*syscall.Stat_t).Ino}
			if n != log {
				m[n] = id{m[n].ino, fi.Size(), fi.ModTime().UnixNano()}
			}
		}
		return m, nil
	}
	deadline := time.Now().Add(waitLimit)
	for {
		before, err := listing()
		var f dsFolder
		for n, fid := range before {
			if err != nil {
				break
			}
			if n == log {
				f.active, err = dsReadFile(filepath.Join(dir, n), tag, true)
				f.active.ino = fid.ino
				continue
			}
			key := fmt.Sprint(n, fid)
			r, ok := cache[key]
			if !ok {
				if r, err = dsReadFile(filepath.Join(dir, n), tag, false); err != nil {
					break
				}
				r.ino = fid.ino
				if cache != nil {
					cache[key] = r
				}
			}
			f.rolled = append(f.rolled, r)
		}
		if err == nil {
			after, err2 := listing()
			if err2 == nil && fmt.Sprint(after) == fmt.Sprint(before) {
				return f
			}
			err = err2
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log folder kept changing while it was read for %v (%v)", waitLimit, err)
		}
		time.Sleep(pollStep)
	}
}

// dsCheckContiguous checks that the records in f are each there once and
// are lo..hi with no gap, and returns lo and hi: whatever was deleted was
// older (lower ids) than everything kept. It returns a description of what
// is wrong, "" when nothing.
func dsCheckContiguous(f dsFolder) (lo, hi int, problem string) {
	seen := map[int]string{}
	lo, hi = 1<<62, -1
	var dup []string
	for _, file := range append([]dsFile{f.active}, f.rolled...) {
		for _, id := range file.ids {
			if prev, ok := seen[id]; ok && len(dup) < 5 {
				dup = append(dup, fmt.Sprintf("record %d in %s and %s", id, prev, file.name))
			}
			seen[id] = file.name
			lo, hi = min(lo, id), max(hi, id)
		}
	}
	if len(dup) > 0 {
		return lo, hi, "records on disk twice: " + strings.Join(dup, "; ")
	}
	if len(seen) == 0 || len(seen) == hi-lo+1 {
		return lo, hi, ""
	}
	// Describe the files around the first gap.
	files := append([]dsFile{}, f.rolled...)
	sort.Slice(files, func(i, j int) bool { return files[i].lo < files[j].lo })
	var b strings.Builder
	for _, file := range append(files, f.active) {
		fmt.Fprintf(&b, "\n  %s: records %d..%d", file.name, file.lo, file.hi)
	}
	for id := lo; id <= hi; id++ {
		if _, ok := seen[id]; !ok {
			return lo, hi, fmt.Sprintf("records %d..%d on disk with a gap at %d: a newer file was deleted while an older one was kept; files:%s", lo, hi, id, b.String())
		}
	}
	return lo, hi, ""
}

// dsPoster posts numbered records of one tag to one log, one request at a
// time, every pause, until stopped. Any answer but 200 is a failure.
type dsPoster struct {
	d      *daemon
	log    string
	tag    string
	batch  int
	pause  time.Duration
	stopCh chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	next    int    // id of the next record to post
	failure string // first failure, "" when none
}

// dsStartPoster starts posting batch records of tag to log every pause.
// The poster is stopped when the test ends.
func dsStartPoster(t *testing.T, d *daemon, log, tag string, batch int, pause time.Duration) *dsPoster {
	p := &dsPoster{d: d, log: log, tag: tag, batch: batch, pause: pause,
		stopCh: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	t.Cleanup(p.stop)
	return p
}

func (p *dsPoster) run() {
	defer close(p.done)
	client := &http.Client{Timeout: waitLimit}
	url := "http://" + p.d.addr + "/v1/logs/" + p.log
	for {
		select {
		case <-p.stopCh:
			return
		case <-time.After(p.pause):
		}
		p.mu.Lock()
		first := p.next
		p.mu.Unlock()
		resp, err := client.Post(url, "text/plain", strings.NewReader(string(spaceBody(p.tag, first, p.batch))))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		p.mu.Lock()
		if err != nil {
			p.failure = fmt.Sprintf("POST records %d..%d: %v", first, first+p.batch-1, err)
			p.mu.Unlock()
			return
		}
		p.next += p.batch
		p.mu.Unlock()
	}
}

// stop stops the poster and waits for its last request.
func (p *dsPoster) stop() {
	select {
	case <-p.stopCh:
	default:
		close(p.stopCh)
	}
	<-p.done
}

// acked returns the number of records acknowledged (ids 0..acked-1) and the
// first failure.
func (p *dsPoster) acked() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next, p.failure
}

// dsZone compiles, with zic, a private time zone whose clocks go back by
// back (whole seconds) at the instant at (whole seconds): offset +1:00
// plus back until at, +1:00 after (calZone). It returns the
// compiled file's absolute path, for TZ=. The test is skipped when zic is
// missing (Debian's libc-bin has it).
func dsZone(t *testing.T, at time.Time, back time.Duration) string {
	t.Helper()
	// The clocks go back from a day before: the zone is on +1:00 plus back now.
	at = at.UTC().Truncate(time.Second)
	return calZone(t, calSeg{off: time.Hour, until: at.Add(-24 * time.Hour)}, calSeg{off: time.Hour + back, until: at}, calSeg{off: time.Hour})
}

// dsLoc loads a compiled zone file as a *time.Location.
func dsLoc(t *testing.T, path string) *time.Location {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocationFromTZData(filepath.Base(path), data)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}
