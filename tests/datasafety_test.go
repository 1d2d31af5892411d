package tests

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Data safety (issue 17): defects found by black-box testing, each
// reproduced through the real binaries. The daylight-saving cases are in
// datasafety_dst_test.go, the small-partition ones (root) in
// datasafety_space_test.go.

// timeConf is a records.toml rolling access.log on time every interval
// seconds, with autodelete and extra records.
func timeConf(interval int, extra string) string {
	return conf{
		RollingEnabled: "1",
		Extra:          fmt.Sprintf("rolling_interval_sec = %d\nauto_delete_rolled_files = 1\n%s", interval, extra),
	}.toml()
}

// TestStartCatchUpMaxCount starts logrolld ten times, each on a fresh copy
// of a folder holding two rolled access.log files and an active file whose
// .meta START is 48 h old, with hourly rolls, rolling_max_count = 1 and
// autodelete: the catch-up roll at start and the max-count deletion that
// follows it must not crash the daemon (issue 17 #1: a nil space manager
// called by the collator's deleter), and soon after start only the newest
// rolled file, the catch-up roll's (holding the active file's records), is
// left; each deletion is logged with rule=max_count.
func TestStartCatchUpMaxCount(t *testing.T) {
	const records = "rec one\nrec two\n"
	for run := range 10 {
		t.Run(fmt.Sprintf("start %d", run+1), func(t *testing.T) {
			dir := tempDir(t)
			path := writeConfig(t, dir, timeConf(3600, "rolling_max_count = 1\n"))
			logs := filepath.Join(dir, "logs")
			if err := os.Mkdir(logs, 0o755); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			name := func(start, end time.Time) string {
				return "access.log.e2ehost." + start.Format(rolledTimeLayout) + "-" + end.Format(rolledTimeLayout) + ".old"
			}
			old := []string{
				name(now.Add(-72*time.Hour), now.Add(-71*time.Hour)),
				name(now.Add(-60*time.Hour), now.Add(-59*time.Hour)),
			}
			for i, n := range old {
				if err := os.WriteFile(filepath.Join(logs, n), []byte(fmt.Sprintf("old %d\n", i)), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.WriteFile(filepath.Join(logs, "access.log"), []byte(records), 0o644); err != nil {
				t.Fatal(err)
			}
			meta := fmt.Sprintf("creation_time = %d\n", now.Add(-48*time.Hour).Unix())
			if err := os.WriteFile(filepath.Join(logs, ".access.log.meta"), []byte(meta), 0o644); err != nil {
				t.Fatal(err)
			}

			begin := time.Now().Truncate(time.Second)
			d := startDaemon(t, path)
			var kept string
			eventually(t, func() string {
				if d.hasExited() {
					t.Fatalf("logrolld exited (%d) after start; stderr:\n%s", d.exitCode(), d.stderr.String())
				}
				// The catch-up roll, made before the daemon listens, waits
				// under its hidden pending name for its fsync
				// (logging/publish.go): until it is published, one of the
				// old files may be the only rolled file. Checked first: a
				// publication is one rename.
				if p, _ := filepath.Glob(filepath.Join(logs, ".access.log.*.old.raw")); len(p) > 0 {
					return fmt.Sprintf("pending %q", p)
				}
				_, rolled := logNames(t, logs, "access.log")
				if len(rolled) != 1 {
					return fmt.Sprintf("rolled files %q, want one", rolled)
				}
				kept = rolled[0]
				return ""
			})
			start, end := parseRolled(t, filepath.Join(logs, kept), logs, "access.log")
			if !start.Equal(now.Add(-48*time.Hour).Truncate(time.Second)) || end.Before(begin) || end.After(time.Now()) {
				t.Errorf("rolled file kept %s, want the catch-up roll's: START %v (the .meta's), END at start (after %v)",
					kept, now.Add(-48*time.Hour).Truncate(time.Second), begin)
			}
			if got := readFile(t, filepath.Join(logs, kept)); got != records {
				t.Errorf("rolled file kept %s holds %q, want the active file's %q", kept, got, records)
			}
			// Its records were written by another process: not "records=0".
			eventually(t, func() string { // the line follows the publication
				if d.logCount(`msg=rolled log=access.log path=`+filepath.Join(logs, kept)+` cause=time bytes=16 records="unknown (written before the start)"`) != 1 {
					return "the catch-up roll's line does not say its records are unknown"
				}
				return ""
			})
			// The line follows the unlink: wait for it.
			for _, n := range old {
				eventually(t, func() string {
					if lines := d.deletionLines(filepath.Join(logs, n), "max_count"); len(lines) != 1 {
						return fmt.Sprintf("deletion of %s: %d log lines with its path and rule=max_count, want 1", n, len(lines))
					}
					return ""
				})
			}
			// Still serving (the deleter runs just after start).
			d.postText(t, "access", "after start")
			if strings.Contains(d.stderr.String(), "panic") {
				t.Errorf("logrolld's stderr holds a panic")
			}
			d.stop(t)
		})
	}
}

// TestRefusedReloadChangesNothing runs a 100 MiB budget holding three
// 1 MB rolled files, then reloads a file that lowers the budget to 1 MiB
// and declares a new log and one whose active path is a folder (issue 17
// #3): `config reload` exits 1 keeping the running configuration, and the
// refused file changes nothing: no rolled file deleted, no file created
// (the new log's active file and .meta), the 100 MiB limit in status, the
// new log still unknown (404).
func TestRefusedReloadChangesNothing(t *testing.T) {
	dir := tempDir(t)
	space := func(limitMB, headroomMB int) string {
		return fmt.Sprintf("max_space_mb_for_logs = %d\nmax_space_mb_headroom = %d\nauto_delete_rolled_files = 1\nspace_scan_interval_sec = 1\n", limitMB, headroomMB)
	}
	path := writeConfig(t, dir, conf{MaxBodyMB: 2, Extra: space(100, 10)}.toml())
	d := startDaemon(t, path)
	const perFile = 8192 // records of 128 bytes: 1 MiB
	for i := range 3 {
		d.ship(t, "access", numberedBody("a", i*perFile, perFile), perFile)
		d.roll(t, "access")
	}
	if err := os.Mkdir(filepath.Join(d.logs, "folder.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, d.logs)
	scans := d.metric(t, "proxy.process.log.space_scans")

	writeConfig(t, dir, conf{MaxBodyMB: 2, Extra: space(1, 0), Logs: []string{"access", "fresh", "folder"}}.toml())
	r := d.tryCtl(t, "config", "reload")
	if r.code != 1 || !strings.Contains(r.stderr, "running configuration is kept") {
		t.Errorf("config reload: want exit 1 and \"running configuration is kept\": %v", r)
	}
	// Deletions by a wrongly applied limit would follow at once: at the
	// check after the next scan (one every second). A scan is counted once
	// that check is done.
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.space_scans"); n < scans+2 {
			return fmt.Sprintf("%d space scans since the reload, want 2", n-scans)
		}
		return ""
	})
	if diff := snapshotDiff(before, snapshot(t, d.logs)); diff != "" {
		t.Errorf("the refused reload changed the log folder: %s", diff)
	}
	st := d.status(t)
	if sp := st.Space; sp == nil || sp.Limit != 100*mib || sp.Headroom != 10*mib || sp.DeletedFiles != 0 {
		t.Errorf("status space %+v, want the running 100 MiB limit, 10 MiB headroom, nothing deleted", sp)
	}
	if len(st.Logs) != 1 || st.Logs[0].Name != "access.log" || st.Logs[0].Rolled != 3 {
		t.Errorf("status logs %+v, want access.log alone with its 3 rolled files", st.Logs)
	}
	if a, err := d.do(req{log: "fresh", ctype: "text/plain", body: []byte("x\n")}); err != nil || a.status != http.StatusNotFound {
		t.Errorf("POST to the refused file's new log: %v %d %s, want 404", err, a.status, a.body)
	}
	d.postText(t, "access", "after the refused reload")
}

// budgetBelowHeadroom is a records.toml whose budget (500 MiB) is below
// the default headroom (1000 MiB): deleting would start before anything is
// written.
func budgetBelowHeadroom() string {
	return conf{Extra: "max_space_mb_for_logs = 500\n"}.toml()
}

// checkBudgetProblem checks that out names the budget or the headroom at
// path's line of max_space_mb_for_logs (the only one of the two written
// in text), as FILE:LINE:COL.
func checkBudgetProblem(t *testing.T, what, out, path, text string) {
	t.Helper()
	line, _ := position(t, text, "max_space_mb_for_logs")
	re := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%s:%d:", path, line)) + `\d+: [^\n]*max_space_mb_(headroom|for_logs)`)
	if !re.MatchString(out) {
		t.Errorf("%s: output does not match %s:\n%s", what, re, out)
	}
}

// TestBudgetBelowHeadroomRefused: max_space_mb_for_logs = 500 with the
// default headroom of 1000 would delete every rolled file the moment it
// rolls (issue 17 #4). `config check` exits 1 and logrolld exits 2, both
// naming the record at FILE:LINE:COL, and a reload to such a file is
// refused, the running configuration kept.
func TestBudgetBelowHeadroomRefused(t *testing.T) {
	dir := tempDir(t)
	bad := budgetBelowHeadroom()
	badPath := filepath.Join(dir, "bad.toml")
	if err := os.WriteFile(badPath, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runCtl(t, "config", "check", badPath)
	if r.code != 1 {
		t.Errorf("config check: want exit 1: %v", r)
	}
	checkBudgetProblem(t, "config check", r.stdout+r.stderr, badPath, bad)

	d := launch(t, badPath)
	eventually(t, func() string {
		if d.hasExited() || socketLine.MatchString(d.stderr.String()) {
			return ""
		}
		return "logrolld neither exited nor started"
	})
	if !d.hasExited() {
		t.Errorf("logrolld -config %s started, want exit 2", badPath)
		d.kill(t)
	} else if code := d.exitCode(); code != 2 {
		t.Errorf("logrolld -config %s: exit %d, want 2", badPath, code)
	}
	checkBudgetProblem(t, "logrolld", d.stderr.String(), badPath, bad)

	good := conf{Extra: "max_space_mb_for_logs = 500\nmax_space_mb_headroom = 100\n"}.toml()
	path := writeConfig(t, dir, good)
	d = startDaemon(t, path)
	writeConfig(t, dir, bad)
	r = d.tryCtl(t, "config", "reload")
	if r.code != 1 || !strings.Contains(r.stderr, "running configuration is kept") {
		t.Errorf("config reload: want exit 1 and \"running configuration is kept\": %v", r)
	}
	checkBudgetProblem(t, "config reload", r.stderr, path, bad)
	if sp := d.spaceStatus(t); sp.Limit != 500*mib || sp.Headroom != 100*mib {
		t.Errorf("status space %+v after the refused reload, want the running 500 MiB limit and 100 MiB headroom", sp)
	}
}

// TestRestartAfterZoneChangeStart runs logrolld under TZ=UTC, posts, rolls
// and stops it, then starts it again under TZ=America/New_York (issue 17
// #5): the next file's START must not be in the future. Today START is
// clamped to the previous file's END read from its name in the new zone,
// five hours ahead. Checked: status start after a post, and the next rolled
// file's START (roll --json and its name read in New York time) ≤ the time
// the record was acknowledged and ≥ the previous file's END.
func TestRestartAfterZoneChangeStart(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("time zone America/New_York not installed (Debian tzdata): %v", err)
	}
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	d := startDaemon(t, path, "TZ=UTC")
	d.postText(t, "access", "in UTC")
	first := d.rollOne(t, "access")
	d.stop(t)

	d = startDaemon(t, path, "TZ=America/New_York")
	d.postText(t, "access", "in New York")
	posted := time.Now()
	if start := d.logStart(t, "access.log"); start.After(posted) {
		t.Errorf("status start %v after the restart is after the first record (acknowledged at %v): in the future", start.UTC(), posted.UTC())
	}
	second := d.rollOne(t, "access")
	checkStart := func(what string, start time.Time) {
		t.Helper()
		if start.After(posted) || start.Before(first.End) {
			t.Errorf("%s: START %v, want between the previous file's END %v and the record's acknowledgement %v",
				what, start.UTC(), first.End.UTC(), posted.UTC())
		}
	}
	checkStart("roll --json", second.Start)
	m := rolledName.FindStringSubmatch(filepath.Base(second.Path))
	if m == nil {
		t.Fatalf("rolled name %s does not have the documented shape", second.Path)
	}
	nameStart, err := time.ParseInLocation(rolledTimeLayout, m[2], ny)
	if err != nil {
		t.Fatal(err)
	}
	checkStart("name "+filepath.Base(second.Path)+" in New York time", nameStart)
}

// TestFolderMovedRecreatedMeta rolls once (so that the writer holds the
// .meta open, as in any daemon that has rolled), posts in a later second,
// moves the log folder away and creates an empty one (mv logs logs.moved
// && mkdir logs), rolls and posts (issue 17 #6): the new folder must get
// the new active file's .meta, with a creation_time from the roll instant
// to now (today the new START is written into the moved folder's .meta,
// still open), and after a restart status START must be from the roll
// instant up to the first record's acknowledgement, not the last write's
// time (the fallback to the file's mtime when the .meta is missing). A
// record posted between the move and the roll hides the defect today (the
// write path notices the new folder first), so the roll comes first.
func TestFolderMovedRecreatedMeta(t *testing.T) {
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{}.toml())
	d := startDaemon(t, path)
	// A roll, and a record in a later second: the writer holds the .meta
	// open, as a daemon that has run for a while does.
	d.postText(t, "access", "rolled before the move")
	d.roll(t, "access")
	sleepToNextSecond(time.Now())
	d.postText(t, "access", "before the move")
	if err := os.Rename(d.logs, d.logs+".moved"); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	sleepToNextSecond(time.Now())
	rolling := time.Now().Truncate(time.Second)
	// The active file is gone from the folder: the roll says so (exit 1)
	// and starts a new active file there.
	r := d.tryCtl(t, "roll", "access")
	t.Logf("roll after the move: %v", r)
	meta := filepath.Join(d.logs, ".access.log.meta")
	data, err := os.ReadFile(meta)
	if err != nil {
		t.Errorf("the new folder has no .meta after the roll: %v (moved folder's: %q)", err, readFile(t, d.logs+".moved/.access.log.meta"))
	} else {
		first, _, _ := strings.Cut(string(data), "\n")
		v, ok := strings.CutPrefix(first, "creation_time = ")
		secs, err := strconv.ParseInt(v, 10, 64)
		if !ok || err != nil || secs < rolling.Unix() || secs > time.Now().Unix() {
			t.Errorf("new folder's .meta %q, want creation_time = the roll instant (%d..now)", data, rolling.Unix())
		}
	}
	sleepToNextSecond(time.Now())
	d.postText(t, "access", "first after the roll")
	firstAcked := time.Now()
	time.Sleep(1500 * time.Millisecond) // the last write's time must differ from the first's
	d.postText(t, "access", "second after the roll")
	d.stop(t)

	d = startDaemon(t, path)
	if start := d.logStart(t, "access.log"); start.Before(rolling) || start.After(firstAcked) {
		t.Errorf("status start %v after the restart, want the roll instant: between %v and the first record's acknowledgement %v",
			start, rolling, firstAcked)
	}
}

// TestRolledNamesNeverReused: a host must never produce the same rolled
// name twice for a log (issue 17 #9), even when the file is deleted before
// the next roll in the same second, and across a restart. Each case is
// tried until its steps fell within one second (at most 5 times); every
// name printed must differ from every other.
func TestRolledNamesNeverReused(t *testing.T) {
	// within runs steps, retrying until a try ran within one second, and
	// returns the names printed by all tries.
	within := func(t *testing.T, steps func(try int) []string) []string {
		t.Helper()
		var all []string
		for try := range 5 {
			// Begin just after a second starts.
			sleepToNextSecond(time.Now())
			begin := time.Now()
			names := steps(try)
			all = append(all, names...)
			if time.Now().Truncate(time.Second).Equal(begin.Truncate(time.Second)) {
				return all
			}
			t.Logf("try %d took %v, across a second: again", try+1, time.Since(begin))
		}
		t.Fatalf("no try ran within one second: the machine is too slow for this test")
		return nil
	}
	unique := func(t *testing.T, names []string) {
		t.Helper()
		seen := map[string]int{}
		for i, n := range names {
			if j, ok := seen[n]; ok {
				t.Errorf("roll %d printed %s, as roll %d did: a rolled name was reused", i+1, n, j+1)
			}
			seen[n] = i
		}
	}
	// postRollDelete posts a record, rolls and deletes the rolled file, as a
	// shipper that uploads each file and removes it would.
	postRollDelete := func(t *testing.T, d *daemon, rec string) string {
		t.Helper()
		d.postText(t, "access", rec)
		paths := d.roll(t, "access")
		if len(paths) != 1 {
			t.Fatalf("roll printed %q, want one path", paths)
		}
		if err := os.Remove(paths[0]); err != nil {
			t.Fatal(err)
		}
		return filepath.Base(paths[0])
	}

	t.Run("within one second", func(t *testing.T) {
		d := startDaemon(t, writeConfig(t, tempDir(t), conf{}.toml()))
		unique(t, within(t, func(try int) []string {
			var names []string
			for i := range 3 {
				names = append(names, postRollDelete(t, d, fmt.Sprintf("try %d record %d", try, i)))
			}
			return names
		}))
	})
	t.Run("across a restart", func(t *testing.T) {
		path := writeConfig(t, tempDir(t), conf{}.toml())
		d := startDaemon(t, path)
		unique(t, within(t, func(try int) []string {
			a := postRollDelete(t, d, fmt.Sprintf("try %d before the restart", try))
			d.stop(t)
			d = startDaemon(t, path)
			return []string{a, postRollDelete(t, d, fmt.Sprintf("try %d after the restart", try))}
		}))
	})
}
