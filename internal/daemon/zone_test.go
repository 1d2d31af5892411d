package daemon

import (
	"testing"
	"time"
)

func TestZone(t *testing.T) {
	at := time.Date(2026, 12, 7, 5, 0, 0, 0, time.FixedZone("IST", 5*3600+1800))
	if got, want := zoneDesc("Asia/Kolkata", true, at), "TZ=Asia/Kolkata, IST (UTC+05:30)"; got != want {
		t.Errorf("zoneDesc = %q, want %q", got, want)
	}
	if got, want := zoneDesc("", false, at.In(time.FixedZone("NST", -(3*3600+1800)))), "system (/etc/localtime), NST (UTC-03:30)"; got != want {
		t.Errorf("zoneDesc = %q, want %q", got, want)
	}
	if got, want := zoneDesc("", true, at.UTC()), "TZ= (set and empty: UTC), UTC (UTC+00:00)"; got != want {
		t.Errorf("zoneDesc = %q, want %q", got, want)
	}
	for tz, ok := range map[string]bool{
		"": true, "UTC": true, "Europe/Paris": true, ":Europe/Paris": true, "/usr/share/zoneinfo/Asia/Tokyo": true,
		"Europe/Atlantis": false, "CET-1CEST,M3.5.0,M10.5.0/3": false, "/nonexistent/zone": false, "/etc/hostname": false,
	} {
		if err := checkTZ(tz); (err == nil) != ok {
			t.Errorf("checkTZ(%q) = %v, want ok %v", tz, err, ok)
		}
	}
}
