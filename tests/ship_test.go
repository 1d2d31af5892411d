package tests

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/s3test"
)

// TestShipUnderLoad: clients post records while the log rolls on size
// every few hundred milliseconds and every finished file ships to
// versitygw and is deleted locally (ship_delete_after = 1). At the end the
// aws CLI fetches every object: each acknowledged record is in exactly one
// object (or the active file), keys follow PREFIX/HOST/LOG/YYYY/MM/DD/NAME,
// and no file shipped twice.
func TestShipUnderLoad(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, shipConf(st.URL, "")), st.Env()...)
	sl := startLoad(t, d, "access", "shipload", loadOpts{clients: 4, batch: 50, pause: time.Millisecond})
	sl.waitAcked(t, 40_000, 60*time.Second) // about 9 MiB: 8 or more size rolls
	sl.stop()
	if f := sl.failed(); f != "" {
		t.Fatal(f)
	}
	d.roll(t, "access")
	s := d.waitAllShipped(t, 30*time.Second)
	eventually(t, func() string {
		if n := len(d.rolled(t, "access")); n != 0 {
			return fmt.Sprintf("%d rolled files left locally after shipping (ship_delete_after = 1)", n)
		}
		return ""
	})
	fetched, keys := fetchShipped(t, st)
	var names []string
	for _, k := range keys {
		names = append(names, k[strings.LastIndexByte(k, '/')+1:])
	}
	if len(keys) < 8 {
		t.Fatalf("%d objects, want at least 8 rolls' worth", len(keys))
	}
	objects := checkShippedKeys(t, fetched, keys, names)
	disk, err := readLoadFiles(append(objects, filepath.Join(d.logs, "access.log")))
	if err != nil {
		t.Fatal(err)
	}
	if n := checkLoad(t, sl, disk); n == 0 {
		t.Fatal("no acknowledged record found in the objects")
	}
	checkNothingElse(t, disk)
	if s.ShippedFiles != int64(len(keys)) || s.AlreadyThere != 0 {
		t.Errorf("status: %d shipped (%d already there), %d objects", s.ShippedFiles, s.AlreadyThere, len(keys))
	}
	if n := d.metric(t, "proxy.process.log.autodeleted_files", "rule", "shipped"); n != int64(len(keys)) {
		t.Errorf("autodeleted_files{rule=shipped} = %d, want %d", n, len(keys))
	}
	if n := d.metric(t, "proxy.process.log.ship.shipped_files"); n != int64(len(keys)) {
		t.Errorf("ship.shipped_files = %d, want %d", n, len(keys))
	}
}

// TestShipStoreDownThenBack: with the store down, finished files wait
// (kept locally, pending, failures counted, one warning for the streak);
// when it is back they ship, with their bytes, and go.
func TestShipStoreDownThenBack(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	st.Stop()
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, shipConf(st.URL, "")), st.Env()...)
	saved := map[string][]byte{}
	var names []string
	for i := range 3 {
		d.postText(t, "access", "down "+strings.Repeat("y", i*100))
		p := d.roll(t, "access")
		if len(p) != 1 {
			t.Fatalf("roll printed %q", p)
		}
		data, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		saved[filepath.Base(p[0])] = data
		names = append(names, filepath.Base(p[0]))
	}
	s := d.waitShip(t, 10*time.Second, func(s *ctl.ShipStatus) string {
		if s.PendingFiles != 3 || s.Failures["network"]+s.Failures["server"] < 3 {
			return "want 3 files pending after failed attempts"
		}
		return ""
	})
	if s.OldestPending == nil || s.OldestPendingAge < 0 {
		t.Errorf("oldest pending not shown: %+v", s)
	}
	// Tried again (every second at most), the store still down.
	failed := s.Failures["network"] + s.Failures["server"]
	d.waitShip(t, 10*time.Second, func(s *ctl.ShipStatus) string {
		if n := s.Failures["network"] + s.Failures["server"]; n < failed+3 {
			return fmt.Sprintf("%d failed attempts since, want the 3 files tried again", n-failed)
		}
		return ""
	})
	for _, f := range d.rolled(t, "access") {
		if f.Ship != "pending" {
			t.Errorf("%s: ship %q, want pending", f.Path, f.Ship)
		}
	}
	if n := len(d.rolled(t, "access")); n != 3 {
		t.Fatalf("%d rolled files kept locally, want 3", n)
	}
	if n := d.logCount("shipping failed"); n != 1 {
		t.Errorf("%d 'shipping failed' lines for one outage, want 1 (once per streak)", n)
	}
	if n := d.metric(t, "proxy.process.log.ship.pending_files"); n != 3 {
		t.Errorf("ship.pending_files = %d", n)
	}
	plain := d.ctl(t, "status").stdout
	for _, want := range []string{`(?m)^ship:$`, `(?m)^  pending:\s+3 files, \d+ B \(oldest END \S+, \d+s ago\)$`, `(?m)^  failures:\s+network \d+$`,
		`(?m)^  access\.log:\s+s3://` + shipBucket + "/" + shipPrefix + ` \(` + regexp.QuoteMeta(st.URL) + `\); 3 pending, 0 shipped$`} {
		if !regexp.MustCompile(want).MatchString(plain) {
			t.Errorf("logrollctl status has no line matching %s:\n%s", want, plain)
		}
	}
	st.Restart()
	d.waitAllShipped(t, 15*time.Second)
	eventually(t, func() string {
		if n := len(d.rolled(t, "access")); n != 0 {
			return "shipped files not deleted"
		}
		return ""
	})
	if d.logCount("shipping works again") != 1 {
		t.Errorf("no 'works again' line")
	}
	fetched, keys := fetchShipped(t, st)
	for i, p := range checkShippedKeys(t, fetched, keys, names) {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, saved[names[i]]) {
			t.Errorf("%s: object differs from the file", names[i])
		}
	}
}

// TestShipFaults: a store that answers 403 (permanent) is not retried: the
// file waits, marked failed, until a reload; one that answers 503
// (transient) is retried until it works.
func TestShipFaults(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	px := s3test.NewProxy(t, st.URL)
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, shipConf(px.URL, "")), st.Env()...)

	px.SetFault(func(r *http.Request) s3test.Fault {
		if r.Method == http.MethodPut {
			return s3test.Fault{Status: 403, Code: "AccessDenied"}
		}
		return s3test.Fault{}
	})
	d.postText(t, "access", "refused")
	p := d.roll(t, "access")
	d.waitShip(t, 10*time.Second, func(s *ctl.ShipStatus) string {
		if s.ParkedFiles != 1 || s.Failures["refused"] != 1 {
			return "want one file refused for good"
		}
		return ""
	})
	n := px.Faulted()
	time.Sleep(2500 * time.Millisecond) // more than twice ship_retry_max_sec
	if px.Faulted() != n {
		t.Errorf("a 403 was retried: %d requests refused, then %d", n, px.Faulted())
	}
	if f := d.rolled(t, "access"); len(f) != 1 || f[0].Ship != "failed" {
		t.Errorf("rolled: %+v, want the file kept and marked failed", f)
	}
	if d.logCount("shipping refused for good") != 1 || !strings.Contains(d.stderr.String(), "AccessDenied") {
		t.Errorf("the refusal is not logged once with its code")
	}
	if v := d.metric(t, "proxy.process.log.ship.failures", "kind", "refused"); v != 1 {
		t.Errorf("failures{kind=refused} = %d", v)
	}
	// The operator fixes the policy and reloads: it ships.
	px.SetFault(nil)
	d.ctl(t, "config", "reload")
	d.waitAllShipped(t, 10*time.Second)
	if _, err := os.Stat(p[0]); !os.IsNotExist(err) {
		t.Errorf("%s still there after shipping: %v", p[0], err)
	}

	// 503 for a while: retried, then shipped.
	px.SetFault(func(*http.Request) s3test.Fault { return s3test.Fault{Status: 503, Code: "SlowDown"} })
	d.postText(t, "access", "slow down")
	d.roll(t, "access")
	d.waitShip(t, 10*time.Second, func(s *ctl.ShipStatus) string {
		if s.Failures["server"] < 2 {
			return "want the 503 retried"
		}
		return ""
	})
	px.SetFault(nil)
	s := d.waitAllShipped(t, 10*time.Second)
	if s.ParkedFiles != 0 || s.ShippedFiles != 2 {
		t.Errorf("after the 503s: %+v", s)
	}
	if _, keys := fetchShipped(t, st); len(keys) != 2 {
		t.Errorf("objects %q, want 2", keys)
	}
}

// TestShipToNotAStore: a ship_endpoint that is not an S3 store but answers
// 200 to anything (a typo reaching a web server or a load balancer's health
// page) stores nothing: the files stay pending, parked with a refusal that
// says so, and ship_delete_after deletes none of them (an outside
// tester's finding: they were taken as shipped and deleted).
func TestShipToNotAStore(t *testing.T) {
	t.Parallel()
	var hits atomic.Int64
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer fake.Close()
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, shipConf(fake.URL, "")), "AWS_ACCESS_KEY_ID=k", "AWS_SECRET_ACCESS_KEY=s", "AWS_REGION=us-east-1")
	d.postText(t, "access", "a record the store must hold before it is deleted")
	rolled := d.roll(t, "access")
	s := d.waitShip(t, 30*time.Second, func(s *ctl.ShipStatus) string {
		if s.ParkedFiles != 1 || s.Failures["refused"] == 0 {
			return "the file is not parked as refused"
		}
		return ""
	})
	if s.ShippedFiles != 0 || !strings.Contains(s.LastFailure, "without an ETag") {
		t.Errorf("status %+v: want nothing shipped and the missing ETag said", s)
	}
	time.Sleep(500 * time.Millisecond)
	if got := present(rolled); len(got) != 1 {
		t.Errorf("the rolled file is gone: %q", rolled)
	}
	d.checkNotDeleted(t, rolled)
	if hits.Load() == 0 {
		t.Error("the endpoint was never asked")
	}
}
