package space

import (
	"io/fs"
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
// they are the same time read in some zone, an offset of whole quarter
// hours of at most 14 h apart, which a copy with `cp -p`, `mv`, `rsync -t`
// or tar keeps — and otherwise falls back to the name's END read in the
// manager's zone: a file rolled by Traffic Server or an earlier logroll,
// touched since, or copied without its times.

// maxZoneOffset bounds the UTC offsets of real zones (UTC−12 to UTC+14).
const maxZoneOffset = 14 * time.Hour

// OrderKey returns the instant that orders a rolled file: its modification
// time mtime when that is its END (the name's END wall time endWall, given
// as a time in UTC whose fields are the name's, is mtime read in a zone
// whose offset is a whole number of quarter hours up to 14 h), else
// endWall's fields read in loc. It is a pure function.
func OrderKey(endWall, mtime time.Time, loc *time.Location) time.Time {
	if !mtime.IsZero() {
		d := endWall.Sub(mtime.Truncate(time.Second).UTC())
		if d >= -maxZoneOffset && d <= maxZoneOffset && d%(15*time.Minute) == 0 {
			return mtime
		}
	}
	return inZone(endWall, loc)
}

// inZone returns the wall time w (fields in UTC) read in loc.
func inZone(w time.Time, loc *time.Location) time.Time {
	y, mo, d := w.Date()
	h, mi, s := w.Clock()
	return time.Date(y, mo, d, h, mi, s, 0, loc)
}

// RolledFile returns the File for a rolled file of the log folder, named
// name, with the modification time and size of fi, or false when name is
// not a rolled name (logging.ParseRolledName, with the configured active
// names actives). START and END are the name's wall times read in loc; At
// is OrderKey's. The daemon's rolled-file listings and the accounting use
// it, so that every list of rolled files has one order (OldestFirst).
func RolledFile(name string, fi fs.FileInfo, actives []string, loc *time.Location) (File, bool) {
	return rolledFile(name, fi.ModTime(), fi.Size(), actives, loc)
}

// rolledFile is RolledFile on the fields of a stat.
func rolledFile(name string, mtime time.Time, size int64, actives []string, loc *time.Location) (File, bool) {
	// Parsed in UTC: every wall time exists there, so the names written
	// under another zone, in an hour loc skips, are read as written.
	r, err := logging.ParseRolledName(name, actives, time.UTC)
	if err != nil {
		return File{}, false
	}
	return File{
		Name:    name,
		Log:     r.Active,
		Host:    r.Host,
		Start:   inZone(r.Start, loc),
		End:     inZone(r.End, loc),
		At:      OrderKey(r.End, mtime, loc),
		Seq:     r.Seq,
		ModTime: mtime,
		Size:    size,
	}, true
}
