package records

import (
	"strings"
	"testing"
)

// TestLifecycleWarnings: a calendar that replaces an interval written as
// specifically, a calendar on a log that does not roll on time, and
// retention while autodelete is off are warnings at the value concerned,
// once per place, naming the logs; a global interval is not reported for
// a log that sets its own calendar, nor a global calendar for a log that
// sets its own mode. The values load as written.
func TestLifecycleWarnings(t *testing.T) {
	c, warns := loadGood(t, "lifecycle.good.toml")
	want := []string{
		`testdata/lifecycle.good.toml:3:24: proxy.config.log.rolling_interval_sec: rolling_interval_sec is not used for access.log: rolling_calendar = "weekly" sets the time boundaries`,
		`testdata/lifecycle.good.toml:5:23: proxy.config.log.rolling_max_age_sec: rolling_max_age_sec has no effect on access.log, monthly.log, sized.log, never.log while auto_delete_rolled_files = 0: nothing is deleted`,
		`testdata/lifecycle.good.toml:17:24: logs[3].rolling_max_total_mb: rolling_max_total_mb has no effect on sized.log while auto_delete_rolled_files = 0: nothing is deleted`,
		`testdata/lifecycle.good.toml:22:20: logs[4].rolling_calendar: rolling_calendar = "weekly" has no effect on never.log: rolling_enabled = "none" does not roll on time`,
	}
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("warnings:\n got:\n  %s\n want:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for _, ck := range []struct {
		log, rec string
		want     int64
	}{
		{"access", RollingCalendar, CalendarWeekly}, {"monthly", RollingCalendar, CalendarMonthly},
		{"access", RollingMaxAgeSec, 86400}, {"sized", RollingMaxTotalMB, 50}, {"access", RollingMaxTotalMB, 0},
	} {
		l, _ := c.Log(ck.log)
		if got := l.Int(ck.rec); got != ck.want {
			t.Errorf("%s %s = %d, want %d", ck.log, ck.rec, got, ck.want)
		}
	}
}

// TestLifecycleNoWarnings: the same records set consistently give no
// warning (a rolling_max_total_mb above rolling_size_mb, a calendar with
// the default interval, retention with autodelete on).
func TestLifecycleNoWarnings(t *testing.T) {
	src := `[proxy.config.log]
rolling_enabled = "time_or_size"
rolling_size_mb = 100
rolling_max_total_mb = 101
rolling_max_age_sec = 604800
rolling_max_count = 10
rolling_calendar = "monthly"
rolling_offset_hr = 3

[[logs]]
filename = "access"

[[logs]]
filename = "hourly"
rolling_calendar = "none"
rolling_interval_sec = 3600
`
	c, warns, err := Load([]byte(src), "ok.toml")
	if err != nil || len(warns) != 0 {
		t.Fatalf("Load: %v, warnings %v", err, warns)
	}
	if l, _ := c.Log("hourly"); l.Int(RollingCalendar) != CalendarNone || l.Int(RollingMaxTotalMB) != 101 {
		t.Errorf("hourly: calendar %d, max total %d", l.Int(RollingCalendar), l.Int(RollingMaxTotalMB))
	}
}
