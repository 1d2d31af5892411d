package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Time zones compiled with zic, for a logrolld run with TZ= one: a test
// cannot wait for a Monday or a clock going back, so it makes a zone in
// which that happens a few seconds after it starts.

// zoneSeg is one period of a compiled zone: its UTC offset, until an
// instant (zero for the last).
type zoneSeg struct {
	off   time.Duration
	until time.Time
}

// zicOffset renders an offset for zic: [-]H:MM:SS, hours beyond 24 allowed.
func zicOffset(d time.Duration) string {
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	s := int64(d / time.Second)
	return fmt.Sprintf("%s%d:%02d:%02d", sign, s/3600, s/60%60, s%60)
}

// compileZone compiles a zone made of segs with zic and returns its file's path.
func compileZone(t *testing.T, segs ...zoneSeg) string {
	t.Helper()
	zic, err := exec.LookPath("zic")
	if err != nil {
		if zic, err = exec.LookPath("/usr/sbin/zic"); err != nil {
			t.Skip("zic (Debian libc-bin) not found: the test is skipped")
		}
	}
	dir := tempDir(t)
	var b strings.Builder
	for i, s := range segs {
		if i == 0 {
			b.WriteString("Zone LR/Cal ")
		} else {
			b.WriteString("            ")
		}
		fmt.Fprintf(&b, "%s - LR%c", zicOffset(s.off), 'A'+i)
		if !s.until.IsZero() {
			fmt.Fprintf(&b, " %su", s.until.UTC().Format("2006 Jan 2 15:04:05"))
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "zone.src"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(zic, "-d", dir, filepath.Join(dir, "zone.src")).CombinedOutput(); err != nil {
		t.Fatalf("zic: %v\n%s\n%s", err, out, b.String())
	}
	path := filepath.Join(dir, "LR", "Cal")
	loc := loadZone(t, path)
	for i, s := range segs {
		if !s.until.IsZero() {
			if _, off := s.until.Add(-time.Second).In(loc).Zone(); time.Duration(off)*time.Second != s.off {
				t.Fatalf("compiled zone: offset %d s before %v, want %v\n%s", off, s.until, s.off, b.String())
			}
		}
		if i > 0 {
			if _, off := segs[i-1].until.In(loc).Zone(); time.Duration(off)*time.Second != s.off {
				t.Fatalf("compiled zone: offset %d s from %v, want %v\n%s", off, segs[i-1].until, s.off, b.String())
			}
		}
	}
	return path
}

// zoneGoingBack compiles, with zic, a private time zone whose clocks go back by
// back (whole seconds) at the instant at (whole seconds): offset +1:00
// plus back until at, +1:00 after (compileZone). It returns the
// compiled file's absolute path, for TZ=. The test is skipped when zic is
// missing (Debian's libc-bin has it).
func zoneGoingBack(t *testing.T, at time.Time, back time.Duration) string {
	t.Helper()
	// The clocks go back from a day before: the zone is on +1:00 plus back now.
	at = at.UTC().Truncate(time.Second)
	return compileZone(t, zoneSeg{off: time.Hour, until: at.Add(-24 * time.Hour)}, zoneSeg{off: time.Hour + back, until: at}, zoneSeg{off: time.Hour})
}

// loadZone loads a compiled zone file as a *time.Location.
func loadZone(t *testing.T, path string) *time.Location {
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
