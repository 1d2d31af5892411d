package ship

import (
	"errors"
	"testing"
	"time"

	"github.com/logroll/logroll/space"
)

func TestKey(t *testing.T) {
	end := time.Date(2026, 11, 21, 1, 30, 0, 0, time.FixedZone("CET", 3600)) // 00:30 UTC
	tests := []struct {
		prefix, host, log, name string
		want                    string
		err                     bool
	}{
		{"fleet/prod", "web01", "access.log", "access.log.web01.20261121.00h00m00s-20261121.01h30m00s.old",
			"fleet/prod/web01/access.log/2026/11/21/access.log.web01.20261121.00h00m00s-20261121.01h30m00s.old", false},
		{"", "web01", "access.log", "a.gz", "web01/access.log/2026/11/21/a.gz", false},
		{"p", "", "access.log", "a", "", true},
		{"p", "web01", "..", "a", "", true},
		{"p", "web/01", "access.log", "a", "", true},
		{"p", "web01", "access.log", "", "", true},
	}
	for _, tc := range tests {
		got, err := Key(tc.prefix, tc.host, tc.log, tc.name, end)
		if (err != nil) != tc.err || got != tc.want {
			t.Errorf("Key(%q, %q, %q, %q) = %q, %v; want %q, error %v", tc.prefix, tc.host, tc.log, tc.name, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrBadKeyPart) {
			t.Errorf("error %v is not ErrBadKeyPart", err)
		}
	}
	// The date is END's, in UTC: the day before in a zone west of UTC.
	west := time.Date(2026, 11, 20, 23, 0, 0, 0, time.FixedZone("EST", -5*3600))
	if got, _ := Key("", "h", "l", "n", west); got != "h/l/2026/11/21/n" {
		t.Errorf("west of UTC: %q", got)
	}
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in, bucket, prefix string
		err                bool
	}{
		{"s3://logs", "logs", "", false},
		{"s3://logs/", "logs", "", false},
		{"s3://logs/a/b/", "logs", "a/b", false},
		{"https://logs/a", "", "", true},
		{"s3:///a", "", "", true},
		{"s3://logs/a//b", "", "", true},
	}
	for _, tc := range tests {
		b, p, err := ParseURL(tc.in)
		if (err != nil) != tc.err || b != tc.bucket || p != tc.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v", tc.in, b, p, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	min, max := time.Second, time.Minute
	tests := []struct {
		n      int
		jitter float64
		want   time.Duration
	}{
		{0, 0.5, time.Second},
		{1, 0.5, time.Second},
		{2, 0.5, 2 * time.Second},
		{3, 0.5, 4 * time.Second},
		{3, 0, 3200 * time.Millisecond},
		{3, 0.999999, 4799999 * time.Microsecond},
		{7, 0.5, time.Minute},    // 64 s capped
		{100, 0.99, time.Minute}, // capped, not overflowed
		{1, 0, 800 * time.Millisecond},
	}
	for _, tc := range tests {
		if got := Backoff(tc.n, min, max, tc.jitter); got.Round(time.Millisecond) != tc.want.Round(time.Millisecond) {
			t.Errorf("Backoff(%d, jitter %v) = %v, want %v", tc.n, tc.jitter, got, tc.want)
		}
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		status int
		code   string
		want   Kind
	}{
		{500, "InternalError", KindServer}, {503, "SlowDown", KindServer}, {429, "", KindServer},
		{408, "", KindServer}, {409, "ConditionalRequestConflict", KindServer},
		{400, "RequestTimeout", KindServer}, {403, "RequestTimeTooSkewed", KindServer}, {400, "SlowDown", KindServer},
		{307, "TemporaryRedirect", KindServer},
		{400, "BadDigest", KindRefused}, {400, "", KindRefused}, {403, "AccessDenied", KindRefused},
		{403, "SignatureDoesNotMatch", KindRefused}, {404, "NoSuchBucket", KindRefused}, {405, "", KindRefused},
		{301, "PermanentRedirect", KindRefused}, {301, "", KindRefused},
		{0, "", KindNetwork},
	} {
		if got := Classify(tc.status, tc.code); got != tc.want {
			t.Errorf("Classify(%d, %q) = %s, want %s", tc.status, tc.code, got, tc.want)
		}
	}
	if !KindConflict.Permanent() || KindNetwork.Permanent() || KindExit.Permanent() {
		t.Errorf("permanence wrong")
	}
}

func TestParseJournal(t *testing.T) {
	data := "ship a.old k/a.old\nhook a.old\nhook b.old\nbogus x\nship c.old\nship e.old k/e.o\nship d.old k/d"
	got, skipped := parseJournal([]byte(data))
	if skipped != 3 {
		t.Errorf("skipped %d lines, want 3 (bogus, ship without key, a key torn short; not the torn last one)", skipped)
	}
	if _, ok := got["e.old"]; ok {
		t.Errorf("a key torn short was taken")
	}
	if r := got["a.old"]; r.steps != stepShip|stepHook || r.key != "k/a.old" {
		t.Errorf("a.old = %+v", r)
	}
	if r := got["b.old"]; r.steps != stepHook {
		t.Errorf("b.old = %+v", r)
	}
	if _, ok := got["c.old"]; ok {
		t.Errorf("a ship line without key was taken")
	}
	if _, ok := got["d.old"]; ok {
		t.Errorf("a torn last line was taken")
	}
}

// item returns an Item of log named name whose END is at hour h.
func item(log, name string, h int) Item {
	end := time.Date(2026, 11, 21, h, 0, 0, 0, time.UTC)
	return Item{Path: "/logs/" + name, File: space.File{Name: name, Log: log, Host: "web01", Start: end.Add(-time.Hour), End: end, At: end, Size: 10}}
}

func TestQueue(t *testing.T) {
	now := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)
	q := newQueue()
	for i, n := range []string{"c", "a", "b"} {
		if !q.add(stepShip, item("a.log", n, 3-i), now) {
			t.Fatalf("add %s refused", n)
		}
	}
	if q.add(stepShip, item("a.log", "a", 2), now) {
		t.Errorf("a task queued twice")
	}
	q.add(stepHook, item("a.log", "a", 2), now)
	got := q.ready(stepShip, now, 2)
	if len(got) != 2 || got[0].id.name != "b" || got[1].id.name != "a" {
		t.Fatalf("ready = %v, want b then a (oldest END first)", names(got))
	}
	for _, tk := range got {
		tk.running = true
	}
	if r := q.ready(stepShip, now, 5); len(r) != 1 || r[0].id.name != "c" {
		t.Errorf("running tasks offered again: %v", names(r))
	}
	q.fail(taskID{stepShip, "b"}, &Failure{Kind: KindServer}, now, 4*time.Second)
	q.fail(taskID{stepShip, "a"}, &Failure{Kind: KindRefused}, now, 4*time.Second)
	if next := q.nextDue(); !next.Equal(now) { // c and the hook are due now
		t.Errorf("nextDue = %v, want now", next)
	}
	q.finish(taskID{stepShip, "c"})
	q.finish(taskID{stepHook, "a"})
	if next := q.nextDue(); !next.Equal(now.Add(4 * time.Second)) {
		t.Errorf("nextDue = %v, want b's backoff (a is parked)", next)
	}
	if r := q.ready(stepShip, now.Add(4*time.Second), 5); len(r) != 1 || r[0].id.name != "b" || r[0].failures != 1 {
		t.Errorf("after the backoff: %v", names(r))
	}
	fs := q.files()
	if len(fs) != 2 || fs[0].item.Name != "b" || !fs[1].parked {
		t.Errorf("files = %+v", fs)
	}
	if n := q.unpark(now); n != 1 {
		t.Errorf("unpark = %d", n)
	}
	if n := q.drop(func(s step, it Item) bool { return it.Name != "a" }); n != 1 || len(q.tasks) != 1 {
		t.Errorf("drop = %d, %d left", n, len(q.tasks))
	}
}

func names(ts []*task) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.id.name)
	}
	return out
}
