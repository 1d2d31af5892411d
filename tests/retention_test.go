package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Retention (issue 19, docs/space.md "Retention and autodelete"):
// rolling_max_age_sec deletes a log's rolled files once their END is that
// old, on time, without any other event; rolling_max_total_mb keeps a log's
// newest rolled files within a total. The daylight-saving cases are in
// retention_dst_test.go, the calendar in calendar_test.go.

// rolledNameUTC is access.log's rolled name for [start, end) in UTC.
func rolledNameUTC(start, end time.Time) string {
	return "access.log.e2ehost." + start.UTC().Format(rolledTimeLayout) + "-" + end.UTC().Format(rolledTimeLayout) + ".old"
}

// expiryWatch samples which of a set of files exist in a folder, every
// pollStep, and keeps for each the last time it was seen and the first time
// it was found gone.
type expiryWatch struct {
	dir       string
	lastSeen  map[string]time.Time
	firstGone map[string]time.Time
}

func newExpiryWatch(dir string, names ...string) *expiryWatch {
	w := &expiryWatch{dir: dir, lastSeen: map[string]time.Time{}, firstGone: map[string]time.Time{}}
	for _, n := range names {
		w.lastSeen[n] = time.Time{}
	}
	return w
}

// add watches name too.
func (w *expiryWatch) add(name string) { w.lastSeen[name] = time.Time{} }

// sample looks once.
func (w *expiryWatch) sample() {
	for n := range w.lastSeen {
		if _, gone := w.firstGone[n]; gone {
			continue
		}
		// Both stamps after the look: the file was there at lastSeen, and
		// gone by firstGone, whatever the scheduler did before the look
		// (a stamp taken before it, on a loaded machine, made a deletion
		// on time look early).
		_, err := os.Lstat(filepath.Join(w.dir, n))
		if err == nil {
			w.lastSeen[n] = time.Now()
		} else {
			w.firstGone[n] = time.Now()
		}
	}
}

// until samples until deadline.
func (w *expiryWatch) until(deadline time.Time) {
	for time.Now().Before(deadline) {
		w.sample()
		time.Sleep(pollStep)
	}
	w.sample()
}

// checkExpiry checks that name was deleted at expiry: seen after it at no
// time, found gone within limit after it (on time, not at a scan).
func (w *expiryWatch) checkExpiry(t *testing.T, name string, expiry time.Time, limit time.Duration) {
	t.Helper()
	gone, ok := w.firstGone[name]
	switch {
	case !ok:
		t.Errorf("%s still there %v after its expiry %v", name, time.Since(expiry).Round(time.Millisecond), expiry.UTC())
	case gone.Before(expiry):
		t.Errorf("%s deleted before its expiry: gone at %v, expiry %v", name, gone.UTC(), expiry.UTC())
	case w.lastSeen[name].After(expiry.Add(limit)):
		t.Errorf("%s still there at %v, %v after its expiry %v", name, w.lastSeen[name].UTC(), w.lastSeen[name].Sub(expiry), expiry.UTC())
	}
}

// TestRetentionMaxAgeOnTime runs logrolld (TZ=UTC) with
// rolling_max_age_sec = 6, full rescans only every hour and no writes
// once the files rolled, on a folder holding access.log files left from
// before: one named to end an hour ago but modified at start (touched
// since; an hour and 7 s apart), one named to end at start but modified two days ago (copied
// without its times), and a rolled file of a log no longer configured.
// Two files rolled by `logrollctl roll` 2 s apart follow. Each access.log
// file is deleted when its END — the END in its name for the two old ones,
// whose modification time is not their END; the exact END for the rolled
// ones — is 6 s old: never before, and within a second and a half after (a
// timer, not the hourly scan). The other log's file stays (the budget's).
// Each deletion is logged with rule=max_age and its why, and counted in
// status (deleted_by_rule) and the autodeleted_files{rule="max_age"} metric.
func TestRetentionMaxAgeOnTime(t *testing.T) {
	t.Parallel()
	const maxAge = 6 * time.Second
	const onTime = 1500 * time.Millisecond
	dir := tempDir(t)
	path := writeConfig(t, dir, conf{Extra: "auto_delete_rolled_files = 1\nrolling_max_age_sec = 6\nspace_scan_interval_sec = 3600\n"}.toml())
	logs := filepath.Join(dir, "logs")
	if err := os.Mkdir(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	// An END an hour and 7 s before the modification time: not the END read
	// in another zone (a whole number of quarter hours apart, see
	// docs/space.md "Order"), so the name is the END.
	touched := rolledNameUTC(now.Add(-2*time.Hour), now.Add(-time.Hour-7*time.Second))
	copied := rolledNameUTC(now.Add(-time.Hour), now)
	other := "errors.log.e2ehost." + now.Add(-2*time.Hour).Format(rolledTimeLayout) + "-" + now.Add(-time.Hour).Format(rolledTimeLayout) + ".old"
	for _, n := range []string{touched, copied, other} {
		if err := os.WriteFile(filepath.Join(logs, n), []byte("left from before\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chtimes(filepath.Join(logs, copied), now.Add(-48*time.Hour), now.Add(-48*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(logs, touched), now, now); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	d := startDaemon(t, path, "TZ=UTC")
	w := newExpiryWatch(logs, touched, copied, other)
	w.sample()

	d.postText(t, "access", "first")
	a := d.rollOne(t, "access")
	w.add(filepath.Base(a.Path))
	w.until(time.Now().Add(2 * time.Second))
	d.postText(t, "access", "second")
	b := d.rollOne(t, "access")
	w.add(filepath.Base(b.Path))
	w.until(b.End.Add(maxAge + 2*time.Second))

	// The start-up scan runs beside the first requests (docs/space.md
	// "Full scans"): the file may still be seen just after the daemon is
	// ready, never past onTime.
	if g, ok := w.firstGone[touched]; !ok || w.lastSeen[touched].After(started.Add(onTime)) {
		t.Errorf("%s (END an hour ago in its name, modified at start) not deleted at start: seen at %v, gone at %v (started %v)", touched, w.lastSeen[touched], g, started)
	}
	w.checkExpiry(t, copied, now.Add(maxAge), onTime)
	w.checkExpiry(t, filepath.Base(a.Path), a.End.Add(maxAge), onTime)
	w.checkExpiry(t, filepath.Base(b.Path), b.End.Add(maxAge), onTime)
	if _, gone := w.firstGone[other]; gone {
		t.Errorf("%s (a log no longer configured) was deleted", other)
	}
	if got := readFile(t, filepath.Join(logs, "access.log")); got != "" {
		t.Errorf("active file holds %q, want it empty", got)
	}
	for _, p := range []string{filepath.Join(logs, touched), filepath.Join(logs, copied), a.Path, b.Path} {
		ls := d.deletionLines(p, "max_age")
		if len(ls) != 1 || !strings.Contains(ls[0], "rolling_max_age_sec = 6: END ") {
			t.Errorf("deletion of %s: log lines %q, want one with rule=max_age and its why", filepath.Base(p), ls)
		}
	}
	if sp := d.spaceStatus(t); sp.DeletedByRule["max_age"] != 4 {
		t.Errorf("status deleted_by_rule %v, want max_age 4", sp.DeletedByRule)
	}
	if n := d.metric(t, "proxy.process.log.autodeleted_files", "rule", "max_age"); n != 4 {
		t.Errorf("autodeleted_files{rule=\"max_age\"} = %d, want 4", n)
	}
	r := d.ctl(t, "config", "describe", "rolling_max_age_sec")
	for _, l := range []string{"name:        proxy.config.log.rolling_max_age_sec\n", "value:       6\n", "default:     0\n",
		"unit:        s\n", "reloadable:  yes\n", "per-log:     yes\n", "logs[access.log]: 6 (global "} {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("config describe rolling_max_age_sec lacks %q:\n%s", l, r.stdout)
		}
	}
}

// firstRecords returns the first record of each rolled file of access.log in
// dir (records of tag), and their total size, sorted by first record. A
// file deleted while it is read is an error: look again.
func firstRecords(t *testing.T, dir, tag string) (firsts []int, total int64, err error) {
	t.Helper()
	_, rolled := logNames(t, dir, "access.log")
	for _, n := range rolled {
		f, err := readNumberedFile(filepath.Join(dir, n), tag, false)
		if err != nil {
			return nil, 0, err
		}
		firsts = append(firsts, f.lo)
		total += int64(len(f.ids)) * numberedLineLen
	}
	slices.Sort(firsts)
	return firsts, total, nil
}

// TestRetentionMaxTotal rolls access.log files of 1, 1, 1, 1, 1.5 and 0.5
// MiB with rolling_max_total_mb = 3: after each roll the newest files whose
// sizes add up to at most 3 MiB are kept and the older ones deleted, oldest
// first (the records on disk run without a gap to the last one posted).
// A reload to 1 MiB deletes down to the newest file at once. A reload that
// would make every file rolled on size too big for the total (size rolls of
// 1 MiB, a total of 1 MiB) is refused at its FILE:LINE:COL and deletes
// nothing. Every deletion is logged with rule=max_total and counted.
func TestRetentionMaxTotal(t *testing.T) {
	t.Parallel()
	const mibRecords = 8192 // records of 128 bytes
	dir := tempDir(t)
	base := conf{MaxBodyMB: 2, Extra: "space_scan_interval_sec = 3600\nrolling_max_total_mb = %d\n"}
	write := func(totalMB int, extra string) string {
		c := base
		c.Extra = fmt.Sprintf(c.Extra, totalMB) + extra
		return writeConfig(t, dir, c.toml())
	}
	path := write(3, "")
	d := startDaemon(t, path)
	sizes := []int{mibRecords, mibRecords, mibRecords, mibRecords, mibRecords * 3 / 2, mibRecords / 2}
	// The first record of the files kept after each roll.
	want := [][]int{{0}, {0, mibRecords}, {0, mibRecords, 2 * mibRecords}, {mibRecords, 2 * mibRecords, 3 * mibRecords}, {3 * mibRecords, 4 * mibRecords}, {3 * mibRecords, 4 * mibRecords, 4*mibRecords + mibRecords*3/2}}
	next := 0
	var rolled []string
	for i, n := range sizes {
		d.ship(t, "access", numberedBody("t", next, n), n)
		next += n
		rolled = append(rolled, d.roll(t, "access")...)
		eventually(t, func() string {
			firsts, total, err := firstRecords(t, d.logs, "t")
			if err != nil || !slices.Equal(firsts, want[i]) || total > 3<<20 {
				return fmt.Sprintf("after roll %d: files starting at records %v (%d bytes; %v), want %v", i+1, firsts, total, err, want[i])
			}
			return ""
		})
		checkNewest(t, fmt.Sprintf("after roll %d", i+1), readLog(t, d.logs, "access.log", "t"), next-1)
	}
	write(1, "")
	d.ctl(t, "config", "reload")
	eventually(t, func() string {
		if firsts, _, err := firstRecords(t, d.logs, "t"); err != nil || !slices.Equal(firsts, []int{4*mibRecords + mibRecords*3/2}) {
			return fmt.Sprintf("after the reload to 1 MiB: files starting at records %v (%v), want the newest only", firsts, err)
		}
		return ""
	})
	before := snapshot(t, d.logs)
	text := strings.Replace(base.toml(), `rolling_enabled = "none"`, "rolling_enabled = \"size\"\nrolling_size_mb = 1", 1)
	text = fmt.Sprintf(text, 1)
	writeConfig(t, dir, text)
	r := d.tryCtl(t, "config", "reload")
	line, col := position(t, text, "rolling_max_total_mb = 1")
	wantMsg := fmt.Sprintf("%s:%d:%d: proxy.config.log.rolling_max_total_mb: rolling_max_total_mb (1 MiB) must be more than rolling_size_mb (1 MiB) for a log that rolls on size (access.log)",
		path, line, col+len("rolling_max_total_mb = "))
	if r.code != 1 || !strings.Contains(r.stderr, wantMsg) {
		t.Errorf("reload with a total a size roll fills: %v, want exit 1 and %q", r, wantMsg)
	}
	time.Sleep(500 * time.Millisecond)
	if diff := snapshotDiff(before, snapshot(t, d.logs)); diff != "" {
		t.Errorf("the refused reload changed the log folder: %s", diff)
	}
	for i, p := range rolled[:5] {
		if ls := d.deletionLines(p, "max_total"); len(ls) != 1 || !strings.Contains(ls[0], "rolling_max_total_mb = ") {
			t.Errorf("deletion of file %d: log lines %q, want one with rule=max_total", i+1, ls)
		}
	}
	if sp := d.spaceStatus(t); sp.DeletedByRule["max_total"] != 5 || sp.DeletedByRule["budget"] != 0 {
		t.Errorf("status deleted_by_rule %v, want max_total 5", sp.DeletedByRule)
	}
}

// TestForeignZoneNamesNotNewest: rolled files whose names were written in
// a zone east of the daemon's (a host in Tokyo: their names read 9 hours
// in the future under TZ=UTC) and whose modification time is their last
// write, not their END, are not taken for the newest files: with
// rolling_max_count = 3, the files the daemon rolls after them are kept
// and they go, oldest first (docs/space.md "Order": the name's reading is
// capped by the file's status-change time).
func TestForeignZoneNamesNotNewest(t *testing.T) {
	dir := tempDir(t)
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	tokyo := time.FixedZone("JST", 9*3600)
	now := time.Now()
	var foreign []string
	for h := 3; h >= 1; h-- { // END 3, 2 and 1 hours ago
		end := now.Add(-time.Duration(h) * time.Hour).Truncate(time.Second)
		name := "access.log.e2ehost." + end.Add(-time.Hour).In(tokyo).Format(rolledTimeLayout) + "-" + end.In(tokyo).Format(rolledTimeLayout) + ".old"
		p := filepath.Join(logs, name)
		if err := os.WriteFile(p, []byte("from Tokyo\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		last := end.Add(-2500 * time.Millisecond) // the last write, not the END
		if err := os.Chtimes(p, last, last); err != nil {
			t.Fatal(err)
		}
		foreign = append(foreign, name)
		time.Sleep(20 * time.Millisecond) // distinct ctimes, in the order of their ENDs
	}
	d := startDaemon(t, writeConfig(t, dir, conf{Extra: "rolling_max_count = 3\n"}.toml()), "TZ=UTC")
	var ours []string
	for i := range 3 {
		d.postText(t, "access", fmt.Sprintf("record %d", i))
		ours = append(ours, filepath.Base(d.roll(t, "access")[0]))
	}
	eventually(t, func() string {
		var left []string
		for _, f := range d.rolled(t, "access") {
			left = append(left, filepath.Base(f.Path))
		}
		slices.Sort(left)
		want := slices.Clone(ours)
		slices.Sort(want)
		if !slices.Equal(left, want) {
			return fmt.Sprintf("rolled files %q, want only the daemon's own %q (the Tokyo files %q older)", left, want, foreign)
		}
		return ""
	})
	if n := d.logCount("deleted rolled file"); n != 3 {
		t.Errorf("%d deletions logged, want the 3 Tokyo files", n)
	}
}
