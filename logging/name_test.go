package logging

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// nameAt returns 2026-11-21 h:m:s in loc.
func nameAt(h, m, s int, loc *time.Location) time.Time {
	return time.Date(2026, 11, 21, h, m, s, 0, loc)
}

// nameEqual compares two rolled names, times as instants.
func nameEqual(a, b RolledName) bool {
	return a.Active == b.Active && a.Host == b.Host && a.Seq == b.Seq && a.Form == b.Form && a.Compression == b.Compression &&
		a.Start.Equal(b.Start) && a.End.Equal(b.End)
}

func TestRolledNameString(t *testing.T) {
	ny := policyTestZone(t, "America/New_York")
	utc := time.UTC
	base := RolledName{Active: "access.log", Host: "web01", Start: nameAt(6, 0, 0, utc), End: nameAt(12, 0, 0, utc)}
	with := func(f func(*RolledName)) RolledName { r := base; f(&r); return r }
	tests := []struct {
		name string
		r    RolledName
		want string
	}{
		{"dot", base, "access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old"},
		{"ats", with(func(r *RolledName) { r.Form = FormATS }), "access.log_web01.20261121.06h00m00s-20261121.12h00m00s.old"},
		{"seq 1", with(func(r *RolledName) { r.Seq = 1 }), "access.log.web01.20261121.06h00m00s-20261121.12h00m00s.1.old"},
		{"seq 2 ats", with(func(r *RolledName) { r.Seq, r.Form = 2, FormATS }), "access.log_web01.20261121.06h00m00s-20261121.12h00m00s.2.old"},
		{"negative seq is none", with(func(r *RolledName) { r.Seq = -3 }), "access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old"},
		{"fractions dropped", with(func(r *RolledName) { r.Start, r.End = r.Start.Add(999*time.Millisecond), r.End.Add(time.Nanosecond) }),
			"access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old"},
		{"host with dots", with(func(r *RolledName) { r.Host = "web01.example.com" }), "access.log.web01.example.com.20261121.06h00m00s-20261121.12h00m00s.old"},
		{"in start's location", with(func(r *RolledName) { r.Start, r.End = r.Start.In(ny), r.End.In(ny) }),
			"access.log.web01.20261121.01h00m00s-20261121.07h00m00s.old"},
		{"seconds and day change", with(func(r *RolledName) { r.Start, r.End = nameAt(23, 59, 58, utc), nameAt(24, 0, 0, utc) }),
			"access.log.web01.20261121.23h59m58s-20261122.00h00m00s.old"},
		{"gzip", with(func(r *RolledName) { r.Compression = CompressionGzip }), "access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old.gz"},
		{"zstd seq ats", with(func(r *RolledName) { r.Compression, r.Seq, r.Form = CompressionZstd, 1, FormATS }),
			"access.log_web01.20261121.06h00m00s-20261121.12h00m00s.1.old.zst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseRolledName(t *testing.T) {
	utc := time.UTC
	s6, e12 := nameAt(6, 0, 0, utc), nameAt(12, 0, 0, utc)
	const times = "20261121.06h00m00s-20261121.12h00m00s"
	known := []string{"access.log", "access.log.eu", "my_app.log", "error"}
	tests := []struct {
		name    string
		in      string
		actives []string
		want    RolledName
		host    string // this host's name; "" for none
	}{
		{"dot", "access.log.web01." + times + ".old", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12}, ""},
		{"ats", "access.log_web01." + times + ".old", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Form: FormATS}, ""},
		{"collision 1", "access.log.web01." + times + ".1.old", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Seq: 1}, ""},
		{"collision 2 ats", "access.log_web01." + times + ".2.old", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Seq: 2, Form: FormATS}, ""},
		{"collision 10", "access.log.web01." + times + ".10.old", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Seq: 10}, ""},
		{"host with dots", "access.log.web01.example.com." + times + ".old", known,
			RolledName{Active: "access.log", Host: "web01.example.com", Start: s6, End: e12}, ""},
		{"host with dots ats", "access.log_web01.example.com." + times + ".old", known,
			RolledName{Active: "access.log", Host: "web01.example.com", Start: s6, End: e12, Form: FormATS}, ""},
		{"host with underscore", "access.log.web_01." + times + ".old", known,
			RolledName{Active: "access.log", Host: "web_01", Start: s6, End: e12}, ""},
		{"host named like a log", "access.log.log.example.com." + times + ".old", known,
			RolledName{Active: "access.log", Host: "log.example.com", Start: s6, End: e12}, ""},
		{"longest active wins", "access.log.eu.web01." + times + ".old", known,
			RolledName{Active: "access.log.eu", Host: "web01", Start: s6, End: e12}, ""},
		{"active with underscore", "my_app.log.web01." + times + ".old", known,
			RolledName{Active: "my_app.log", Host: "web01", Start: s6, End: e12}, ""},
		{"active with underscore ats", "my_app.log_web_01." + times + ".old", known,
			RolledName{Active: "my_app.log", Host: "web_01", Start: s6, End: e12, Form: FormATS}, ""},
		{"active without dot", "error.web01.example.com." + times + ".old", known,
			RolledName{Active: "error", Host: "web01.example.com", Start: s6, End: e12}, ""},
		{"unknown .log.", "old.log.web01.example.com." + times + ".old", known,
			RolledName{Active: "old.log", Host: "web01.example.com", Start: s6, End: e12}, ""},
		{"unknown .log_", "old.log_web01.example.com." + times + ".old", nil,
			RolledName{Active: "old.log", Host: "web01.example.com", Start: s6, End: e12, Form: FormATS}, ""},
		{"unknown first .log", "a.log.log.example.com." + times + ".old", nil,
			RolledName{Active: "a.log", Host: "log.example.com", Start: s6, End: e12}, ""},
		{"unknown .logs is not .log", "app.logs.web01." + times + ".old", nil,
			RolledName{Active: "app.logs", Host: "web01", Start: s6, End: e12}, ""},
		{"unknown last dot", "squid.web01." + times + ".old", nil,
			RolledName{Active: "squid", Host: "web01", Start: s6, End: e12}, ""},
		{"unknown last dot cuts host", "error.txt.web01.example.com." + times + ".old", nil,
			RolledName{Active: "error.txt.web01.example", Host: "com", Start: s6, End: e12}, ""},
		{"unknown last underscore", "my_app_web01." + times + ".old", nil,
			RolledName{Active: "my_app", Host: "web01", Start: s6, End: e12, Form: FormATS}, ""},
		{"known prefix without separator", "access.logx.web01." + times + ".old", known,
			RolledName{Active: "access.logx", Host: "web01", Start: s6, End: e12}, ""},
		{"start after end", "access.log.web01.20261121.12h00m00s-20261121.06h00m00s.old", known,
			RolledName{Active: "access.log", Host: "web01", Start: e12, End: s6}, ""},
		// Traffic Server rolls its own diags.log and traffic.out without a host.
		{"host-less, configured", "diags.log." + times + ".old", []string{"diags.log", "diags"},
			RolledName{Active: "diags.log", Start: s6, End: e12}, ""},
		{"host-less, configured, no .log", "traffic.out." + times + ".old", []string{"traffic.out"},
			RolledName{Active: "traffic.out", Start: s6, End: e12}, ""},
		{"host-less .log, not configured", "diags.log." + times + ".old", known,
			RolledName{Active: "diags.log", Start: s6, End: e12}, ""},
		{"host-less with collision", "diags.log." + times + ".3.old", nil,
			RolledName{Active: "diags.log", Start: s6, End: e12, Seq: 3}, ""},
		{"host ending in .log still a host", "access.log.web01.log." + times + ".old", known,
			RolledName{Active: "access.log", Host: "web01.log", Start: s6, End: e12}, ""},
		{"gzip", "access.log.web01." + times + ".old.gz", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Compression: CompressionGzip}, ""},
		{"zstd with collision", "access.log.web01." + times + ".2.old.zst", known,
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Seq: 2, Compression: CompressionZstd}, ""},
		{"host-less gzip", "diags.log." + times + ".old.gz", nil,
			RolledName{Active: "diags.log", Start: s6, End: e12, Compression: CompressionGzip}, ""},
		// This host's own files, whatever else is configured.
		{"own host, a log named like its files", "access.log.web01." + times + ".old", []string{"access.log", "access.log.web01"},
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12}, "web01"},
		{"own host, that log's file", "access.log.web01.web01." + times + ".old", []string{"access.log", "access.log.web01"},
			RolledName{Active: "access.log.web01", Host: "web01", Start: s6, End: e12}, "web01"},
		{"own host, a log no longer configured", "access.log.json.web01." + times + ".old", []string{"access.log"},
			RolledName{Active: "access.log.json", Host: "web01", Start: s6, End: e12}, "web01"},
		{"own host ats", "access.log_web01." + times + ".old.zst", []string{"access.log", "access.log_web01"},
			RolledName{Active: "access.log", Host: "web01", Start: s6, End: e12, Form: FormATS, Compression: CompressionZstd}, "web01"},
		{"own host with dots", "access.log.web01.example.com." + times + ".old", []string{"access.log", "access.log.web01"},
			RolledName{Active: "access.log", Host: "web01.example.com", Start: s6, End: e12}, "web01.example.com"},
		{"another host", "access.log.json.web02." + times + ".old", []string{"access.log"},
			RolledName{Active: "access.log", Host: "json.web02", Start: s6, End: e12}, "web01"},
		{"leap day", "access.log.web01.20280229.23h59m59s-20280301.00h00m00s.old", known,
			RolledName{Active: "access.log", Host: "web01", Start: time.Date(2028, 2, 29, 23, 59, 59, 0, utc), End: time.Date(2028, 3, 1, 0, 0, 0, 0, utc)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRolledName(tt.in, tt.actives, tt.host, utc)
			if err != nil {
				t.Fatalf("ParseRolledName(%q) error: %v", tt.in, err)
			}
			if !nameEqual(got, tt.want) {
				t.Errorf("ParseRolledName(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			if got.Start.Location() != utc || got.End.Location() != utc {
				t.Errorf("times not in the given location: %v, %v", got.Start.Location(), got.End.Location())
			}
			if s := got.String(); s != tt.in {
				t.Errorf("String() = %q, want the parsed name %q", s, tt.in)
			}
		})
	}
}

func TestParseRolledNameRejects(t *testing.T) {
	ny := policyTestZone(t, "America/New_York")
	const host = "access.log.web01."
	tests := []struct {
		name   string
		in     string
		loc    *time.Location
		reason string // a part of the error message
	}{
		{"active file", "access.log", nil, "no .old suffix"},
		{"meta file", ".access.log.meta", nil, "hidden file"},
		{"hidden rolled-looking", ".access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old", nil, "hidden file"},
		{"old without times", "foo.old", nil, "no .START-END times"},
		{"just .old", ".old", nil, "hidden file"},
		{"missing .old", host + "20261121.06h00m00s-20261121.12h00m00s", nil, "no .old suffix"},
		{"temp suffix", host + "20261121.06h00m00s-20261121.12h00m00s.old.tmp", nil, "no .old suffix"},
		{"other compression", host + "20261121.06h00m00s-20261121.12h00m00s.old.bz2", nil, "no .old suffix"},
		{"gz without .old", host + "20261121.06h00m00s-20261121.12h00m00s.gz", nil, "no .old suffix"},
		{"gz twice", host + "20261121.06h00m00s-20261121.12h00m00s.old.gz.gz", nil, "no .old suffix"},
		{"raw of a compression", "." + host + "20261121.06h00m00s-20261121.12h00m00s.old.gz.raw", nil, "hidden file"},
		{"temporary of a compression", "." + host + "20261121.06h00m00s-20261121.12h00m00s.old.zst.tmp123", nil, "hidden file"},
		{"path", "logs/" + host + "20261121.06h00m00s-20261121.12h00m00s.old", nil, "not a base name"},
		{"seven digit date", host + "2026112.06h00m00s-20261121.12h00m00s.old", nil, "no .START-END times"},
		{"letter in date", host + "2026112a.06h00m00s-20261121.12h00m00s.old", nil, "START"},
		{"one digit hour", host + "20261121.6h00m00s-20261121.12h00m00s.old", nil, "no .START-END times"},
		{"upper case H", host + "20261121.06H00m00s-20261121.12h00m00s.old", nil, "START"},
		{"month 13", host + "20261321.06h00m00s-20261121.12h00m00s.old", nil, "month 13"},
		{"month 0", host + "20261121.06h00m00s-20260021.12h00m00s.old", nil, "END"},
		{"day 32", host + "20261132.06h00m00s-20261121.12h00m00s.old", nil, "day 32"},
		{"30 February", host + "20260230.06h00m00s-20261121.12h00m00s.old", nil, "does not exist"},
		{"hour 24", host + "20261121.24h00m00s-20261121.12h00m00s.old", nil, "hour 24"},
		{"minute 60", host + "20261121.06h60m00s-20261121.12h00m00s.old", nil, "minute 60"},
		{"second 60", host + "20261121.06h00m60s-20261121.12h00m00s.old", nil, "second 60"},
		{"no dash", host + "20261121.06h00m00s_20261121.12h00m00s.old", nil, "'-'"},
		{"start only", host + "20261121.06h00m00s.old", nil, "no .START-END times"},
		{"no separator before times", "access.logweb0120261121.06h00m00s-20261121.12h00m00s.old", nil, "no .START-END times"},
		{"nothing before times", "20261121.06h00m00s-20261121.12h00m00s.old", nil, "no .START-END times"},
		{"no host", "access.20261121.06h00m00s-20261121.12h00m00s.old", nil, "cannot split"},
		{"empty host", "access.log..20261121.06h00m00s-20261121.12h00m00s.old", nil, "cannot split"},
		{"collision 0", host + "20261121.06h00m00s-20261121.12h00m00s.0.old", nil, "leading zero"},
		{"collision 01", host + "20261121.06h00m00s-20261121.12h00m00s.01.old", nil, "leading zero"},
		{"collision overflow", host + "20261121.06h00m00s-20261121.12h00m00s.99999999999999999999.old", nil, "out of range"},
		{"two collisions", host + "20261121.06h00m00s-20261121.12h00m00s.1.2.old", nil, "no .START-END times"},
		{"skipped wall time", host + "20260308.02h30m00s-20260308.03h00m00s.old", ny, "does not exist"},
		{"arabic-indic digits", host + "2026112١.06h00m00s-20261121.12h00m00s.old", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := tt.loc
			if loc == nil {
				loc = time.UTC
			}
			got, err := ParseRolledName(tt.in, []string{"access.log"}, "web01", loc)
			if err == nil {
				t.Fatalf("ParseRolledName(%q) = %+v, want an error", tt.in, got)
			}
			if !errors.Is(err, errNotRolled) {
				t.Errorf("error %v does not match errNotRolled", err)
			}
			var ne *nameError
			if !errors.As(err, &ne) || ne.Name != tt.in {
				t.Errorf("error %v is not a *nameError naming %q", err, tt.in)
			}
			if !strings.Contains(err.Error(), tt.reason) {
				t.Errorf("error %q does not say %q", err, tt.reason)
			}
		})
	}
}

// nameFuzzMaxUnix keeps fuzzed times inside years 1970–9999 in every test zone.
const nameFuzzMaxUnix = 253402300799 - 2*policyDay

// nameFuzzZones are the zones of FuzzRolledNameRoundTrip: fixed offsets only, so
// that every wall time names one instant.
var nameFuzzZones = []*time.Location{time.UTC, time.FixedZone("IST", 19800), time.FixedZone("MART", -34200)}

func FuzzRolledNameRoundTrip(f *testing.F) {
	f.Add("access.log", "web01", int64(1795240800), int64(1795262400), uint16(0), false, uint8(0))
	f.Add("access.log", "web01.example.com", int64(1795240800), int64(1795240800), uint16(1), true, uint8(1))
	f.Add("my_app.log", "h_1.x", int64(0), int64(nameFuzzMaxUnix), uint16(65535), false, uint8(2))
	f.Fuzz(func(t *testing.T, active, host string, start, end int64, seq uint16, ats bool, zone uint8) {
		if active == "" || host == "" || strings.HasPrefix(active, ".") || strings.ContainsAny(active+host, "/\x00") {
			t.Skip("not a valid active name or host")
		}
		loc := nameFuzzZones[int(zone)%len(nameFuzzZones)]
		r := RolledName{
			Active: active,
			Host:   host,
			Start:  time.Unix(policyFloorMod(start, nameFuzzMaxUnix), 0).In(loc),
			End:    time.Unix(policyFloorMod(end, nameFuzzMaxUnix), 0).In(loc),
			Seq:    int(seq),
		}
		if ats {
			r.Form = FormATS
		}
		name := r.String()
		got, err := ParseRolledName(name, []string{active}, host, loc)
		if err != nil {
			t.Fatalf("ParseRolledName(%q) error: %v", name, err)
		}
		if !nameEqual(got, r) {
			t.Fatalf("ParseRolledName(%q) = %+v, want %+v", name, got, r)
		}
	})
}

func FuzzParseRolledName(f *testing.F) {
	f.Add("access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old", "access.log")
	f.Add("access.log_web01.example.com.20261121.06h00m00s-20261121.12h00m00s.3.old", "")
	f.Add("x_y.20260308.02h30m00s-20261101.01h30m00s.old", "x")
	f.Add(".access.log.meta", "access.log")
	f.Fuzz(func(t *testing.T, name, active string) {
		ny, err := time.LoadLocation("America/New_York")
		if err != nil {
			ny = time.UTC
		}
		var actives []string
		if active != "" {
			actives = []string{active}
		}
		r, err := ParseRolledName(name, actives, "web01", ny)
		if err != nil {
			if !errors.Is(err, errNotRolled) {
				t.Fatalf("ParseRolledName(%q) error %v does not match errNotRolled", name, err)
			}
			return
		}
		if s := r.String(); s != name {
			t.Fatalf("ParseRolledName(%q) = %+v, which formats as %q", name, r, s)
		}
		again, err := ParseRolledName(r.String(), actives, "web01", ny)
		if err != nil || !nameEqual(again, r) {
			t.Fatalf("reparse of %q = %+v, %v; want %+v", name, again, err, r)
		}
	})
}
