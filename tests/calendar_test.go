package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Calendar rolling (issue 19, docs/rolling.md "Calendar rolling"): a
// weekly log rolls on Mondays, a monthly one on the 1st, at
// rolling_offset_hr. A test cannot wait for a Monday, so each case runs
// logrolld with TZ= a zone compiled with zic whose offset from UTC (days,
// if need be: Go reads any offset from a compiled zone) puts a Monday or a
// 1st at rolling_offset_hr:00 a few seconds after the test starts, or makes
// the clock jump over it or go back across it.

// nearestWall returns the wall time (fields in UTC) of the day matching day
// at a whole hour h, nearest to the instant at read in UTC: the zone
// offset that makes at read as that wall time is wall − at.
func nearestWall(at time.Time, day func(time.Time) bool) (wall time.Time, h int) {
	at = at.UTC()
	base := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
	best := time.Duration(1 << 62)
	for d := -20; d <= 20; d++ {
		date := base.AddDate(0, 0, d)
		if !day(date) {
			continue
		}
		for hour := range 24 {
			w := date.Add(time.Duration(hour) * time.Hour)
			if dist := w.Sub(at).Abs(); dist < best {
				best, wall, h = dist, w, hour
			}
		}
	}
	return wall, h
}

// fixedZone compiles a zone of one fixed offset in which the wall clock
// reaches a day matching day, at a whole hour h, at the instant cross,
// whole seconds in from now; wall is that wall time (fields in UTC).
func fixedZone(t *testing.T, in time.Duration, day func(time.Time) bool) (cross, wall time.Time, h int, zone string) {
	t.Helper()
	cross = time.Now().Add(in).Truncate(time.Second)
	wall, h = nearestWall(cross, day)
	return cross, wall, h, compileZone(t, zoneSeg{off: wall.Sub(cross)})
}

func isMonday(d time.Time) bool  { return d.Weekday() == time.Monday }
func isTuesday(d time.Time) bool { return d.Weekday() == time.Tuesday }
func isFirst(d time.Time) bool   { return d.Day() == 1 }

// calendarConf is a records.toml rolling access.log on time with a calendar at
// offset hour h, and extra records.
func calendarConf(calendar string, h int, extra string) string {
	return conf{RollingEnabled: `"time"`, Extra: fmt.Sprintf("rolling_calendar = %q\nrolling_offset_hr = %d\n%s", calendar, h, extra)}.toml()
}

// calendarFiles returns access.log's rolled files in dir with their START and
// END as written in the names, and the active file's content.
func calendarFiles(t *testing.T, dir string) (rolled []string, ends []string, active string) {
	t.Helper()
	_, names := logNames(t, dir, "access.log")
	for _, n := range names {
		m := rolledName.FindStringSubmatch(n)
		rolled = append(rolled, n)
		ends = append(ends, m[3])
	}
	data, err := os.ReadFile(filepath.Join(dir, "access.log"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return rolled, ends, string(data)
}

// checkCalendarRoll checks that access.log has exactly one rolled file, whose END
// in its name is end and which holds want, and an active file holding
// active.
func checkCalendarRoll(t *testing.T, d *daemon, end, want, active string) {
	t.Helper()
	rolled, ends, got := calendarFiles(t, d.logs)
	if len(rolled) != 1 || ends[0] != end {
		t.Fatalf("rolled files %q, want one whose END is %s", rolled, end)
	}
	if content := readFile(t, filepath.Join(d.logs, rolled[0])); content != want {
		t.Errorf("%s holds %q, want %q", rolled[0], content, want)
	}
	if got != active {
		t.Errorf("active file holds %q, want %q", got, active)
	}
	if n := d.metric(t, "proxy.process.log.rolls", "cause", "time"); n != 1 {
		t.Errorf("rolls{cause=\"time\"} = %d, want 1", n)
	}
}

// TestCalendarRolling runs logrolld in zic-compiled zones:
//
//   - weekly: the zone reads Monday at rolling_offset_hr:00 20 s after the
//     start; with rolling_interval_sec = 5 (reported as not used at start),
//     access.log rolls once, at Monday H:00:00 (the END in its name), the
//     records posted before in the rolled file, those after in the active
//     file, and not every 5 s;
//   - weekly on a Tuesday: crossing Tuesday H:00 rolls nothing;
//   - monthly over a jump: the clock jumps from the last day 30 minutes
//     before H:00 to the 1st 30 minutes after it; the log rolls at the jump
//     (END the 1st H:30:00);
//   - monthly back across the 1st: the clock reaches the 1st H:00, goes
//     back 20 s ten seconds later, and reaches H:00 again: one roll, at the
//     first;
//   - weekly catch-up: a daemon stopped before Monday H:00 and started
//     again after it makes one catch-up roll at start with the records of
//     before (one started and stopped again before it makes none).
//
// Each case takes 30 to 40 s; they run in parallel.
func TestCalendarRolling(t *testing.T) {
	t.Run("weekly", func(t *testing.T) {
		t.Parallel()
		cross, wall, h, zone := fixedZone(t, 20*time.Second, isMonday)
		d := startDaemon(t, writeConfig(t, tempDir(t), calendarConf("weekly", h, "rolling_interval_sec = 5\n")), "TZ="+zone)
		if w := d.logLines("rolling_interval_sec is not used for access.log"); len(w) != 1 {
			t.Errorf("start-up warnings %q, want one saying rolling_interval_sec is not used", w)
		}
		r := d.ctl(t, "config", "describe", "rolling_calendar")
		for _, l := range []string{"value:       \"weekly\"\n", "default:     \"none\"\n", "kind:        enum\n",
			"range:       none (0), weekly (1), monthly (2)\n", "logs[access.log]: \"weekly\" (global "} {
			if !strings.Contains(r.stdout, l) {
				t.Errorf("config describe rolling_calendar lacks %q:\n%s", l, r.stdout)
			}
		}
		d.postText(t, "access", "before 1")
		time.Sleep(6 * time.Second)
		d.postText(t, "access", "before 2")
		sleepUntil(cross.Add(2 * time.Second))
		d.postText(t, "access", "after")
		sleepUntil(cross.Add(8 * time.Second))
		checkCalendarRoll(t, d, wall.Format(rolledTimeLayout), "before 1\nbefore 2\n", "after\n")
	})
	t.Run("weekly on a Tuesday", func(t *testing.T) {
		t.Parallel()
		cross, _, h, zone := fixedZone(t, 10*time.Second, isTuesday)
		d := startDaemon(t, writeConfig(t, tempDir(t), calendarConf("weekly", h, "")), "TZ="+zone)
		d.postText(t, "access", "before")
		sleepUntil(cross.Add(2 * time.Second))
		d.postText(t, "access", "after")
		sleepUntil(cross.Add(5 * time.Second))
		if rolled, _, active := calendarFiles(t, d.logs); len(rolled) != 0 || active != "before\nafter\n" {
			t.Errorf("rolled %q (active %q) crossing Tuesday %02d:00, want nothing", rolled, active, h)
		}
	})
	t.Run("monthly over a jump", func(t *testing.T) {
		t.Parallel()
		jump := time.Now().Add(20 * time.Second).Truncate(time.Second)
		wall, h := nearestWall(jump, isFirst)
		before := wall.Add(-30 * time.Minute).Sub(jump)
		zone := compileZone(t, zoneSeg{off: before, until: jump}, zoneSeg{off: before + time.Hour})
		d := startDaemon(t, writeConfig(t, tempDir(t), calendarConf("monthly", h, "")), "TZ="+zone)
		d.postText(t, "access", "last day")
		sleepUntil(jump.Add(2 * time.Second))
		d.postText(t, "access", "the 1st")
		sleepUntil(jump.Add(4 * time.Second))
		checkCalendarRoll(t, d, wall.Add(30*time.Minute).Format(rolledTimeLayout), "last day\n", "the 1st\n")
	})
	t.Run("monthly back across the 1st", func(t *testing.T) {
		t.Parallel()
		reach := time.Now().Add(15 * time.Second).Truncate(time.Second)
		back := reach.Add(10 * time.Second)
		wall, h := nearestWall(reach, isFirst)
		off := wall.Sub(reach)
		zone := compileZone(t, zoneSeg{off: off, until: back}, zoneSeg{off: off - 20*time.Second})
		d := startDaemon(t, writeConfig(t, tempDir(t), calendarConf("monthly", h, "")), "TZ="+zone)
		d.postText(t, "access", "before")
		sleepUntil(reach.Add(2 * time.Second))
		d.postText(t, "access", "the 1st")
		sleepUntil(back.Add(3 * time.Second)) // the last day again
		d.postText(t, "access", "the last day again")
		sleepUntil(back.Add(13 * time.Second)) // the 1st again, 3 s ago
		d.postText(t, "access", "the 1st again")
		sleepUntil(back.Add(15 * time.Second))
		checkCalendarRoll(t, d, wall.Format(rolledTimeLayout), "before\n", "the 1st\nthe last day again\nthe 1st again\n")
	})
	t.Run("weekly catch-up after a restart", func(t *testing.T) {
		t.Parallel()
		cross, wall, h, zone := fixedZone(t, 15*time.Second, isMonday)
		path := writeConfig(t, tempDir(t), calendarConf("weekly", h, ""))
		d := startDaemon(t, path, "TZ="+zone)
		d.postText(t, "access", "first run")
		d.stop(t)
		d = startDaemon(t, path, "TZ="+zone)
		d.postText(t, "access", "second run")
		d.stop(t)
		if rolled, _, _ := calendarFiles(t, d.logs); len(rolled) != 0 {
			t.Fatalf("rolled %q on a restart before Monday %02d:00", rolled, h)
		}
		sleepUntil(cross.Add(3 * time.Second))
		d = startDaemon(t, path, "TZ="+zone)
		time.Sleep(2 * time.Second)
		rolled, ends, active := calendarFiles(t, d.logs)
		if len(rolled) != 1 || ends[0] < wall.Format(rolledTimeLayout) {
			t.Fatalf("rolled %q after the restart, want one catch-up roll ending after %s", rolled, wall.Format(rolledTimeLayout))
		}
		if got := readFile(t, filepath.Join(d.logs, rolled[0])); got != "first run\nsecond run\n" || active != "" {
			t.Errorf("catch-up roll %s holds %q (active %q), want both runs' records", rolled[0], got, active)
		}
	})
}
