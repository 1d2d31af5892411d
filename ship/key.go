package ship

import (
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
)

// Target is where a log's files go: a bucket and a key prefix on an
// S3-compatible store, and how to reach it.
type Target struct {
	// Bucket and Prefix come from ship_url ("s3://BUCKET/PREFIX"); Prefix
	// has no leading or trailing '/' and may be "".
	Bucket, Prefix string
	// Endpoint is ship_endpoint: "" for AWS S3 in Region, else the store's
	// URL (path-style addressing).
	Endpoint string
	// Region is ship_region, the region requests are signed for.
	Region string
}

// String returns the target as ship_url writes it, with the endpoint when
// there is one: "s3://logs/fleet (http://127.0.0.1:7070)".
func (t Target) String() string {
	s := "s3://" + t.Bucket
	if t.Prefix != "" {
		s += "/" + t.Prefix
	}
	if t.Endpoint != "" {
		s += " (" + t.Endpoint + ")"
	}
	return s
}

// ParseURL splits a ship_url, "s3://BUCKET" or "s3://BUCKET/PREFIX", into
// its bucket and prefix (without trailing '/'). The records package checks
// the bucket's and the prefix's characters at load; ParseURL only refuses
// what cannot be split.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", fmt.Errorf("ship: url %q: want s3://BUCKET/PREFIX", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	prefix = strings.Trim(prefix, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("ship: url %q: no bucket", u)
	}
	if strings.Contains(prefix, "//") {
		return "", "", fmt.Errorf("ship: url %q: empty prefix segment", u)
	}
	return bucket, prefix, nil
}

// ErrBadKeyPart is returned by Key for a host, log or name that cannot be
// one segment of a key.
var ErrBadKeyPart = errors.New("ship: not a key segment")

// Key returns the object key of a finished file:
//
//	PREFIX/HOST/LOG/YYYY/MM/DD/NAME
//
// HOST is the host in the rolled name (the daemon's hostname), LOG the
// log's active name ("access.log"), YYYY/MM/DD the date of the file's END
// in UTC (end, an instant), and NAME the rolled file's name as it is on disk
// (with its .gz/.zst). A host never reuses a rolled name, so a key is a
// lasting identity: the same file always gets the same key, and two files
// never share one. Keys of one host sort by log, then by day; a day's files
// of every host are under PREFIX/*/LOG/YYYY/MM/DD/ (docs/shipping.md).
// It is a pure function.
func Key(prefix, host, log, name string, end time.Time) (string, error) {
	for _, p := range []string{host, log, name} {
		if p == "" || p == "." || p == ".." || strings.ContainsAny(p, "/\x00") {
			return "", fmt.Errorf("%w: %q", ErrBadKeyPart, p)
		}
	}
	day := end.UTC().Format("2006/01/02")
	if prefix == "" {
		return path.Join(host, log, day, name), nil
	}
	return prefix + "/" + path.Join(host, log, day, name), nil
}
