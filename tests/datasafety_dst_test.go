package tests

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// Daylight saving (issue 17 #2 and #5): rolled names carry local wall time
// without an offset, so after the clocks go back the files rolled in the
// repeated time have names older than those rolled before. These tests
// compile private zones with zic whose clocks go back (3 minutes, or 20 s)
// a little after the test starts, and run logrolld with TZ= that file.

// dstBack is how far the clocks go back in TestDSTRestartStart and the
// rolling_max_count run of TestDSTFallBackKeepsNewest.
const dstBack = 3 * time.Minute

// dstRun is one daemon of TestDSTFallBackKeepsNewest: its poster, the
// rolled files it has seen, and the problems found.
type dstRun struct {
	name   string
	d      *daemon
	p      *numberedPoster
	maxN   int                     // rolling_max_count, 0 when the budget deletes
	back   time.Duration           // how far its zone's clocks go back
	cache  map[string]numberedFile // rolled files read (lookNumbered's cache)
	names  map[string]int          // every rolled name seen → its first record
	orders int                     // `rolled --json` listings checked
	errs   []string                // the first problem of each kind
	kinds  map[string]int          // problems seen, by kind
}

// fail records a problem of a kind ("gap", "name", …): the first of each
// kind is reported, the others counted (samples repeat the same problem).
func (r *dstRun) fail(kind, format string, args ...any) {
	if r.kinds[kind]++; r.kinds[kind] == 1 {
		r.errs = append(r.errs, fmt.Sprintf(format, args...))
	}
}

// look checks one consistent look at the folder: the records are
// contiguous (only the oldest files were deleted), no name was given to two
// different files, and, with rolling_max_count, no more than N + 1 rolled
// files (the deletion follows the roll). It returns the look and the range
// of records on disk.
func (r *dstRun) look(t *testing.T) (f numberedFolder, lo, hi int) {
	f = lookNumbered(t, r.d.logs, "access.log", "d", r.cache)
	lo, hi, problem := checkContiguous(f)
	if problem != "" {
		r.fail("gap", "%s", problem)
	}
	for _, file := range f.rolled {
		if first, ok := r.names[file.name]; ok && first != file.lo {
			r.fail("name", "rolled name %s given to two files: first with records from %d, now from %d", file.name, first, file.lo)
		}
		r.names[file.name] = file.lo
	}
	visible := 0 // a file waiting for its publication is not yet a rolled file for the rules
	for _, file := range f.rolled {
		if !strings.HasPrefix(file.name, ".") {
			visible++
		}
	}
	if r.maxN > 0 && visible > r.maxN+1 {
		r.fail("count", "%d rolled files with rolling_max_count = %d", visible, r.maxN)
	}
	return f, lo, hi
}

// checkOrder checks that `rolled --json access.log` lists the files oldest
// first by their records, not by the wall time of their names. Files rolled
// or deleted between the listing and the look that follows it are left out.
func (r *dstRun) checkOrder(t *testing.T) {
	res := r.d.ctl(t, "rolled", "--json", "access.log")
	var resp ctl.RolledResponse
	if err := json.Unmarshal([]byte(res.stdout), &resp); err != nil {
		t.Fatalf("rolled --json: %v\n%v", err, res)
	}
	f, _, _ := r.look(t)
	first := map[string]int{}
	for _, file := range f.rolled {
		first[file.name] = file.lo
	}
	prev, prevName := -1, ""
	for _, rf := range resp.Rolled {
		name := filepath.Base(rf.Path)
		lo, ok := first[name]
		if !ok {
			continue
		}
		if lo < prev {
			r.fail("order", "rolled --json lists %s (records from %d) after %s (records from %d): not oldest first",
				name, lo, prevName, prev)
		}
		prev, prevName = lo, name
	}
	r.orders++
}

// TestDSTFallBackKeepsNewest runs two daemons in zones whose clocks go
// back 30 s after the test starts, rolling every 2 s while a client posts
// numbered records to each: one deletes by rolling_max_count = 6 (its
// clocks go back 3 minutes), one by a 3 MiB budget with 1 MiB headroom
// (its clocks go back 20 s, so that the wall times after the jump give
// again the names of files rolled, and deleted, before it). Sampled four
// times a second until 20 s after the jump: the records on disk are always
// one contiguous range (a file with newer records is never deleted while
// one with older records is kept), every record at most once, no name
// given to two files, at most N + 1 rolled files; `rolled --json` lists
// the files in the order of their records; at the end every acknowledged
// record since the oldest kept one is on disk, older ones were deleted,
// and status space.deleted_by_rule counts them under the right rule. Today
// the files rolled after the jump sort as the oldest and are deleted first
// (issue 17 #2). Takes about 55 s (the two daemons run side by side, and
// the test runs in parallel with TestDSTRestartStart).
func TestDSTFallBackKeepsNewest(t *testing.T) {
	t.Parallel()
	jump := time.Now().Add(30 * time.Second).Truncate(time.Second)
	runs := []*dstRun{
		{name: "max_count", maxN: 6, back: dstBack},
		{name: "budget", back: 20 * time.Second},
	}
	for _, r := range runs {
		extra := "rolling_max_count = 6\n"
		if r.maxN == 0 {
			extra = "max_space_mb_for_logs = 3\nmax_space_mb_headroom = 1\nspace_scan_interval_sec = 1\n"
		}
		zone := zoneGoingBack(t, jump, r.back)
		r.d = startDaemon(t, writeConfig(t, tempDir(t), timeConf(2, extra)), "TZ="+zone)
		r.cache, r.names, r.kinds = map[string]numberedFile{}, map[string]int{}, map[string]int{}
	}
	// max_count: 640 B every 50 ms; budget: 10 KiB every 50 ms (200 KiB/s,
	// so that the 2 MiB below the headroom fill in about 10 s).
	runs[0].p = startNumberedPoster(t, runs[0].d, "access", "d", 5, 50*time.Millisecond)
	runs[1].p = startNumberedPoster(t, runs[1].d, "access", "d", 80, 50*time.Millisecond)

	end := jump.Add(20 * time.Second)
	lastOrder := time.Now()
	for time.Now().Before(end) {
		for _, r := range runs {
			if _, failure := r.p.acked(); failure != "" {
				t.Fatalf("%s: %s", r.name, failure)
			}
			r.look(t)
		}
		if time.Since(lastOrder) >= time.Second {
			for _, r := range runs {
				r.checkOrder(t)
			}
			lastOrder = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	for _, r := range runs {
		r.finish(t)
	}
}

// finish stops the run's poster and checks the end state: every record
// acknowledged is on disk from the oldest kept one on, older ones were
// deleted, status counts deletions under the run's rule (its name), and
// `rolled --json` lists record order; then it reports every problem the
// run found. It returns the status's space section.
func (r *dstRun) finish(t *testing.T) ctl.SpaceStatus {
	t.Helper()
	r.p.stop()
	acked, failure := r.p.acked()
	if failure != "" {
		t.Errorf("%s: %s", r.name, failure)
	}
	r.checkOrder(t)
	_, lo, hi := r.look(t)
	sp := r.d.spaceStatus(t)
	if hi != acked-1 {
		r.fail("last", "last record on disk %d, want the last acknowledged %d", hi, acked-1)
	}
	if lo == 0 {
		r.fail("deleted", "records %d..%d on disk: want the oldest deleted", lo, hi)
	}
	if sp.DeletedByRule[r.name] == 0 {
		r.fail("rule", "status space.deleted_by_rule %v, want deletions by %s", sp.DeletedByRule, r.name)
	}
	names := make([]string, 0, len(r.names))
	for n := range r.names {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("%s: %d records acknowledged, %d..%d on disk; %d rolled names seen, %d listings checked; %d files deleted",
		r.name, acked, lo, hi, len(names), r.orders, sp.DeletedFiles)
	for _, e := range r.errs {
		t.Errorf("%s: %s", r.name, e)
	}
	if len(r.errs) > 0 {
		t.Logf("%s: problems by kind (samples): %v; rolled names seen:\n%s", r.name, r.kinds, strings.Join(names, "\n"))
	}
	return sp
}

// TestDSTRestartStart posts and rolls in a zone whose clocks go back 3
// minutes 15 s after the test starts, stops logrolld, and starts it again
// 10 s after the jump, in the repeated time (issue 17 #5): the active
// file's START (status, after a post) and the next rolled file's START
// must not be in the future (≤ the record's acknowledgement) nor before the
// previous file's END. Today START is clamped to the previous END read
// from its name, which in the repeated time is the later of its two
// readings, about 165 s ahead. Takes about 30 s.
func TestDSTRestartStart(t *testing.T) {
	t.Parallel()
	jump := time.Now().Add(15 * time.Second).Truncate(time.Second)
	zone := zoneGoingBack(t, jump, dstBack)
	path := writeConfig(t, tempDir(t), conf{}.toml())
	d := startDaemon(t, path, "TZ="+zone)
	d.postText(t, "access", "before the jump")
	first := d.rollOne(t, "access")
	time.Sleep(time.Until(jump.Add(10 * time.Second)))
	d.stop(t)

	d = startDaemon(t, path, "TZ="+zone)
	d.postText(t, "access", "after the jump")
	posted := time.Now()
	if start := d.logStart(t, "access.log"); start.After(posted) || start.Before(first.End) {
		t.Errorf("status start %v after the restart, want between the previous END %v and the record's acknowledgement %v",
			start.UTC(), first.End.UTC(), posted.UTC())
	}
	second := d.rollOne(t, "access")
	if second.Start.After(posted) || second.Start.Before(first.End) {
		t.Errorf("rolled %s: START %v, want between the previous END %v and the record's acknowledgement %v",
			filepath.Base(second.Path), second.Start.UTC(), first.End.UTC(), posted.UTC())
	}
	// The name's START is the reported one in the zone's wall time (a name
	// alone cannot say which reading of a repeated wall time it means).
	m := rolledName.FindStringSubmatch(filepath.Base(second.Path))
	if m == nil {
		t.Fatalf("rolled name %s does not have the documented shape", second.Path)
	}
	if want := second.Start.In(loadZone(t, zone)).Format(rolledTimeLayout); m[2] != want {
		t.Errorf("rolled name %s: START %s, want %s (roll --json's START %v in the zone)", filepath.Base(second.Path), m[2], want, second.Start.UTC())
	}
}
