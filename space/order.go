package space

import (
	"io/fs"
	"slices"
	"time"

	"github.com/logroll/logroll/logging"
)

// The order of rolled files. A rolled name carries its START and END as
// local wall-clock times without their UTC offset. Within one zone and
// outside a daylight-saving fall-back they order the files; but in the hour
// the clock repeats, the files rolled after the jump carry earlier wall
// times than those rolled before it, and after a restart under another
// zone (UTC to America/New_York) every new name reads five hours earlier
// than the old ones. Ordered by their names, the newest files would be
// deleted first.
//
// The collator therefore sets every rolled file's modification time to
// its exact END, an instant (futimes(2) before the rename). OrderKey takes
// that instant when the modification time agrees with the name's END —
// they are the same time read in some zone, apart by a UTC offset some
// zone has today (zoneOffsets), which a copy with `cp -p`, `mv`, `rsync -t`
// or tar keeps — and otherwise falls back to the name's END read in the
// manager's zone: a file rolled by Traffic Server or an earlier logroll,
// touched since, or copied without its times. That reading is wrong by
// the zones' difference when another zone wrote the name (a file from a
// host in Tokyo), and may then lie hours in the future, which would make
// it the newest file of its log for every rule. So it is capped by the
// file's status-change time (ctime): a rolled file's END is never after
// its last status change — the roll's rename is one, and nothing sets a
// ctime back. An mtime that agrees with the name is capped the same way
// when it lies after the ctime (copied with its times from a host whose
// clock ran ahead).

// OrderKey returns the instant that orders a rolled file: its modification
// time mtime when that is its END (the name's END wall time endWall, given
// as a time in UTC whose fields are the name's, is mtime read in a zone
// whose offset some zone has today), else
// endWall's fields read in loc; either not after ctime, the file's last
// status change (zero: unknown). It is a pure function.
func OrderKey(endWall, mtime, ctime time.Time, loc *time.Location) time.Time {
	if _, ok := writtenOffset(endWall, mtime, loc); ok {
		// The END, unless it was set ahead of the clock that stamped the
		// file's last status change (a copy with its times from a host
		// whose clock ran ahead): capped as the name's reading is. The
		// collator's own futimes sets an END already past, within the
		// kernel's coarse ctime clock: futureSlack.
		if !ctime.IsZero() && mtime.Sub(ctime) > futureSlack {
			return ctime.In(mtime.Location())
		}
		return mtime
	}
	return capAt(inZone(endWall, loc), ctime)
}

// futureSlack is how far a modification time may be after the ctime
// stamped with it and still be taken as the file's END: the kernel stamps
// ctime from a coarse clock, up to a few milliseconds behind the one the
// END was read from.
const futureSlack = time.Second

// capAt returns t, or c when c is known and earlier.
func capAt(t, c time.Time) time.Time {
	if !c.IsZero() && c.Before(t) {
		return c.In(t.Location())
	}
	return t
}

// writtenOffset returns the UTC offset of the zone the name's END was
// written in, when mtime is that END (see OrderKey): mtime read in loc is
// the name's END (loc wrote it, whatever its offsets: zic zones used in
// tests jump by minutes), or the two are apart by an offset some zone has
// today (another real zone wrote it). Only those: a modification time
// moved by hand by a round amount (touch to END − 15 min) is less often
// taken for an END written elsewhere.
func writtenOffset(endWall, mtime time.Time, loc *time.Location) (time.Duration, bool) {
	if mtime.IsZero() {
		return 0, false
	}
	sec := mtime.Truncate(time.Second)
	d := endWall.Sub(sec.UTC())
	if sameWall(sec.In(loc), endWall) {
		return d, true
	}
	return d, d%time.Minute == 0 && zoneOffsets[int(d/time.Minute)]
}

// zoneOffsets are the UTC offsets, in minutes, of the world's zones today
// (standard and daylight-saving time, tzdata 2025): every whole hour from
// −12 to +14, and the half and three-quarter hours in use.
var zoneOffsets = func() map[int]bool {
	m := map[int]bool{}
	for h := -12; h <= 14; h++ {
		m[h*60] = true
	}
	for _, hm := range [][2]int{{-9, -30}, {-3, -30}, {-2, -30}, {3, 30}, {4, 30}, {5, 30}, {5, 45}, {6, 30}, {8, 45}, {9, 30}, {10, 30}, {12, 45}, {13, 45}} {
		m[hm[0]*60+hm[1]] = true
	}
	return m
}()

// nameTimes returns the instants a rolled name's START and END wall times
// stand for, in loc, for display. Where the modification time is the END
// (see OrderKey), END is that instant and START is read with the offset
// of the zone that wrote the name: loc's rules, the latest reading not
// after END (a file rolled in the repeated hour of a fall-back), or, when
// another zone wrote it (a restart under another TZ), END's offset. Else
// both are the walls read in loc, as Traffic Server names read, END not
// after ctime (OrderKey) and START not after END.
func nameTimes(startWall, endWall, mtime, ctime time.Time, loc *time.Location) (start, end time.Time) {
	off, ok := writtenOffset(endWall, mtime, loc)
	if !ok {
		end = capAt(inZone(endWall, loc), ctime)
		return capAt(inZone(startWall, loc), end), end
	}
	end = mtime.Truncate(time.Second).In(loc)
	if _, locOff := end.Zone(); time.Duration(locOff)*time.Second == off {
		start = latestReading(startWall, loc, end)
	} else {
		start = startWall.Add(-off).In(loc)
	}
	if start.After(end) {
		start = end
	}
	return start, end
}

// latestReading returns the latest instant whose wall time in loc is w
// (fields in UTC) and that is not after notAfter; in a repeated hour a wall
// time has two. If none is, it returns the earliest.
func latestReading(w time.Time, loc *time.Location, notAfter time.Time) time.Time {
	t := inZone(w, loc)
	// The readings of w are w less an offset loc uses around t: its own,
	// the one before its zone period began, the one after it ends.
	offs := []int{}
	_, off := t.Zone()
	offs = append(offs, off)
	start, end := t.ZoneBounds()
	if !start.IsZero() {
		_, o := start.Add(-time.Second).In(loc).Zone()
		offs = append(offs, o)
	}
	if !end.IsZero() {
		_, o := end.In(loc).Zone()
		offs = append(offs, o)
	}
	var readings []time.Time
	for _, o := range offs {
		c := w.Add(-time.Duration(o) * time.Second).In(loc)
		if sameWall(c, w) && !slices.ContainsFunc(readings, c.Equal) {
			readings = append(readings, c)
		}
	}
	if len(readings) == 0 {
		return t // a wall time loc skips: time.Date's reading
	}
	slices.SortFunc(readings, time.Time.Compare)
	best := readings[0]
	for _, c := range readings {
		if !c.After(notAfter) {
			best = c
		}
	}
	return best
}

// sameWall reports whether t's wall fields are w's.
func sameWall(t, w time.Time) bool {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wy, wmo, wd := w.Date()
	wh, wmi, ws := w.Clock()
	return y == wy && mo == wmo && d == wd && h == wh && mi == wmi && s == ws
}

// inZone returns the wall time w (fields in UTC) read in loc.
func inZone(w time.Time, loc *time.Location) time.Time {
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, loc)
}

// RolledFile returns the File for a rolled file named name, with the
// modification time and size of fi, or false when name is not a rolled
// name (logging.ParseRolledName, with the configured active names
// actives and this host's name host): a plain .old file or a compressed one. The caller sets Dir. START and END are the instants of the name's wall times
// (nameTimes), in loc; At is OrderKey's. The daemon's rolled-file listings and the accounting use
// it, so that every list of rolled files has one order (OldestFirst).
func RolledFile(name string, fi fs.FileInfo, actives []string, host string, loc *time.Location) (File, bool) {
	return rolledFile(name, fi.ModTime(), ctimeOf(fi), fi.Size(), actives, host, loc)
}

// rolledFile is RolledFile on the fields of a stat.
func rolledFile(name string, mtime, ctime time.Time, size int64, actives []string, host string, loc *time.Location) (File, bool) {
	// Parsed in UTC: every wall time exists there, so the names written
	// under another zone, in an hour loc skips, are read as written.
	r, err := logging.ParseRolledName(name, actives, host, time.UTC)
	if err != nil {
		return File{}, false
	}
	start, end := nameTimes(r.Start, r.End, mtime, ctime, loc)
	keyEnd := r.End
	if _, ok := writtenOffset(r.End, mtime, loc); ok {
		keyEnd = mtime.Truncate(time.Second).UTC()
	}
	return File{
		Name:        name,
		Compression: r.Compression,
		Log:         r.Active,
		Host:        r.Host,
		Start:       start,
		End:         end,
		At:          OrderKey(r.End, mtime, ctime, loc),
		KeyEnd:      keyEnd,
		Seq:         r.Seq,
		ModTime:     mtime,
		Size:        size,
	}, true
}
