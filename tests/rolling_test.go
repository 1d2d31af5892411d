package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestTimeRoll checks rolls on the clock (docs/design.md §5): with a 2 s interval a
// record is rolled at the next boundary, without logrollctl, into a file
// whose END is that boundary; the next file starts no earlier.
func TestTimeRoll(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"time"`, Extra: "rolling_interval_sec = 2\n"}.toml()))

	var prevEnd time.Time
	for i, record := range []string{"tick one", "tick two"} {
		d.postText(t, "access", record)
		var path string
		eventually(t, func() string {
			files := logFiles(t, d.logs, "access.log")
			if len(files) < i+2 { // the rolled files and the active one
				return "no time roll of " + record
			}
			path = files[i]
			return ""
		})
		start, end := parseRolled(t, path, d.logs, "access.log")
		midnight := time.Date(end.Year(), end.Month(), end.Day(), 0, 0, 0, 0, time.Local)
		if s := int(end.Sub(midnight).Seconds()); s%2 != 0 {
			t.Errorf("%s: END is not a 2 s boundary", filepath.Base(path))
		}
		if start.Before(prevEnd) {
			t.Errorf("%s starts before the previous file's END %v", filepath.Base(path), prevEnd)
		}
		prevEnd = end
		if got := readFile(t, path); got != record+"\n" {
			t.Errorf("%s holds %q, want %q", filepath.Base(path), got, record+"\n")
		}
	}
	if v := d.metric(t, "proxy.process.log.rolls", "cause", "time"); v == 0 {
		t.Errorf(`rolls{cause="time"} is 0 after two time rolls`)
	}
}

// TestSIGUSR2Reopen checks external rotation (docs/design.md §2, rolling_enabled
// 0 with logrotate): after the active file is moved away, records go on
// into the moved file until SIGUSR2, then into a new active file.
func TestSIGUSR2Reopen(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	active := filepath.Join(d.logs, "access.log")
	moved := filepath.Join(d.logs, "access.log.1")

	d.postText(t, "access", "before the move")
	if err := os.Rename(active, moved); err != nil {
		t.Fatal(err)
	}
	d.postText(t, "access", "after the move")
	d.signal(t, syscall.SIGUSR2)
	// The reopen creates the new active file on the writer's goroutine,
	// before any write queued after it: its appearing is the point from
	// which records go to it.
	eventually(t, func() string {
		if _, err := os.Stat(active); err != nil {
			return fmt.Sprintf("no new active file after SIGUSR2: %v", err)
		}
		return ""
	})
	d.postText(t, "access", "after the reopen")

	if got, want := readFile(t, moved), "before the move\nafter the move\n"; got != want {
		t.Errorf("moved file holds %q, want %q", got, want)
	}
	if got, want := readFile(t, active), "after the reopen\n"; got != want {
		t.Errorf("new active file holds %q, want %q", got, want)
	}
	eventually(t, func() string {
		if d.logCount("active files reopened") != 1 {
			return "the daemon did not say once that it reopened the active files"
		}
		return ""
	})
}

// TestZoneSaid: the start line says which zone names the rolled files, and
// a TZ that names no zone (Go would fall back to UTC without a word) is a
// warning.
func TestZoneSaid(t *testing.T) {
	d := startDaemon(t, writeConfig(t, tempDir(t), conf{}.toml()), "TZ=Asia/Kolkata")
	if d.logCount(`zone="TZ=Asia/Kolkata, IST (UTC+05:30)"`) != 1 || d.logCount("TZ names no time zone") != 0 {
		t.Errorf("start lines do not name the zone:\n%s", d.stderr.String())
	}
	d.stop(t)
	d = startDaemon(t, writeConfig(t, tempDir(t), conf{}.toml()), "TZ=Europe/Atlantis")
	if d.logCount(`level=WARN msg="TZ names no time zone this machine has: rolled names and clock rolls are in UTC" TZ=Europe/Atlantis`) != 1 {
		t.Errorf("an unknown TZ not warned of:\n%s", d.stderr.String())
	}
}
