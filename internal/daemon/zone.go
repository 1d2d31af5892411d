package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The time zone of rolled names and clock rolls is the process's local
// zone: TZ when set (set and empty is UTC), else the system's
// (/etc/localtime). Go falls back to
// UTC, silently, for a TZ it cannot load (a misspelt name, a POSIX rule
// string, a container without zone files — logrolld embeds the zone
// database for that last case), so the start line says which zone is in
// use and a TZ that names none is a warning.

// zoneDesc describes the zone in use at now, for the start line: where it
// comes from (TZ's value, when set), its abbreviation and UTC offset.
func zoneDesc(tz string, set bool, now time.Time) string {
	from := "system (/etc/localtime)"
	switch {
	case set && tz == "":
		from = "TZ= (set and empty: UTC)"
	case set:
		from = "TZ=" + tz
	}
	abbr, off := now.Zone()
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	return fmt.Sprintf("%s, %s (UTC%c%02d:%02d)", from, abbr, sign, off/3600, off%3600/60)
}

// checkTZ reports why the zone TZ names cannot be loaded, nil when it can
// (or TZ is empty or UTC).
func checkTZ(tz string) error {
	tz = strings.TrimPrefix(tz, ":")
	if tz == "" || tz == "UTC" {
		return nil
	}
	if filepath.IsAbs(tz) {
		data, err := os.ReadFile(tz)
		if err != nil {
			return err
		}
		_, err = time.LoadLocationFromTZData(tz, data)
		return err
	}
	_, err := time.LoadLocation(tz)
	return err
}
