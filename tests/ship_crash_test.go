package tests

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/s3test"
)

// postBig posts about mib MiB of text records to access, tagged tag.
func (d *daemon) postBig(t *testing.T, tag string, mib int) {
	t.Helper()
	line := strings.Repeat("z", 1000)
	for b := range mib {
		var body strings.Builder
		for i := range 1024 {
			fmt.Fprintf(&body, "%s %04d %04d %s\n", tag, b, i, line)
		}
		d.post(t, req{log: "access", ctype: "text/plain", body: []byte(body.String())}, 1024)
	}
}

// TestShipKilledWithUploadsInFlight: logrolld is kill -9'd, then stopped
// with SIGTERM, while uploads (a multipart one among them) are in flight
// through a slow proxy; after each restart every file ships, each exactly
// once as one object with its bytes, and the journal knows it
// (ship_delete_after = 0 keeps the files to compare).
func TestShipKilledWithUploadsInFlight(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	px := s3test.NewProxy(t, st.URL)
	slow := func(*http.Request) s3test.Fault { time.Sleep(300 * time.Millisecond); return s3test.Fault{} }
	dir := tempDir(t)
	cfg := writeConfig(t, dir, strings.Replace(shipConf(px.URL, "ship_delete_after = 0\n"), "rolling_size_mb = 1", "rolling_size_mb = 64", 1))
	var names []string
	saved := map[string][]byte{}
	rollOne := func(d *daemon, tag string, mib int) {
		d.postBig(t, tag, mib)
		p := d.roll(t, "access")
		if len(p) != 1 {
			t.Fatalf("roll printed %q", p)
		}
		data, err := os.ReadFile(p[0])
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, filepath.Base(p[0]))
		saved[filepath.Base(p[0])] = data
	}
	for round, stop := range []string{"kill -9", "SIGTERM"} {
		px.SetFault(slow)
		d := startDaemon(t, cfg, st.Env()...)
		rollOne(d, fmt.Sprintf("big%d", round), 20) // 20 MiB: two parts of 16 MiB
		for i := range 3 {
			rollOne(d, fmt.Sprintf("small%d%d", round, i), 1)
		}
		d.waitShip(t, 10*time.Second, func(s *ctl.ShipStatus) string {
			if s.Running == 0 {
				return "no upload in flight"
			}
			return ""
		})
		if stop == "kill -9" {
			d.kill(t)
		} else {
			d.signal(t, syscall.SIGTERM)
			if code := d.wait(t, 10*time.Second); code != 0 {
				t.Fatalf("exit %d after SIGTERM", code)
			}
		}
		px.SetFault(nil)
		d = startDaemon(t, cfg, st.Env()...)
		s := d.waitAllShipped(t, 30*time.Second)
		for _, f := range d.rolled(t, "access") {
			if f.Ship != "done" || !strings.HasSuffix(f.Key, "/"+filepath.Base(f.Path)) {
				t.Errorf("after %s and a restart: %s ship %q key %q, want done", stop, filepath.Base(f.Path), f.Ship, f.Key)
			}
		}
		t.Logf("after %s: shipped %d (%d already there) since the restart", stop, s.ShippedFiles, s.AlreadyThere)
		d.stop(t)
	}
	fetched, keys := fetchShipped(t, st)
	for i, p := range checkShippedKeys(t, fetched, keys, names) {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, saved[names[i]]) {
			t.Errorf("%s: object (%d bytes) differs from the file (%d bytes)", names[i], len(got), len(saved[names[i]]))
		}
	}
	if len(keys) != len(names) {
		t.Errorf("%d objects for %d files", len(keys), len(names))
	}
}

// TestShipBudgetWhileStoreDown: the store is down and the disk budget
// fills: no rolled file is deleted before it ships (ship_before_delete =
// 1), ingest answers 503 with Retry-After and the reason says why; once the
// store is back the files ship, go, and ingest accepts again. With
// ship_before_delete = 0 the budget deletes them, each an error in the log
// and counted.
func TestShipBudgetWhileStoreDown(t *testing.T) {
	for _, hold := range []bool{true, false} {
		t.Run(fmt.Sprintf("ship_before_delete=%v", hold), func(t *testing.T) {
			st := s3test.Start(t, shipBucket)
			st.Stop()
			dir := tempDir(t)
			extra := "max_space_mb_for_logs = 6\nmax_space_mb_headroom = 2\n"
			if !hold {
				extra += "ship_before_delete = 0\n"
			}
			d := startDaemon(t, writeConfig(t, dir, shipConf(st.URL, extra)), st.Env()...)
			if !hold {
				for range 8 {
					d.postBig(t, "fill", 1)
				}
				eventually(t, func() string {
					if d.metric(t, "proxy.process.log.ship.unhanded_deleted_files") == 0 {
						return "no file deleted by the budget"
					}
					return ""
				})
				if !strings.Contains(d.stderr.String(), "level=ERROR msg=\"deleted rolled file not yet handed on") {
					t.Errorf("unhanded deletion not logged as an error")
				}
				// The hand-on forgets the files the budget deleted: the
				// attempts go on for the others, and none of them counts
				// a deleted file as removed by someone else.
				before := d.shipStatus(t).Failures["network"]
				s := d.waitShip(t, 20*time.Second, func(s *ctl.ShipStatus) string {
					if s.Failures["network"] < before+4 {
						return "want more attempts"
					}
					return ""
				})
				if s.GoneFiles != 0 || d.logCount("gone before it was handed on") != 0 {
					t.Errorf("the budget's own deletions counted as files gone: %d", s.GoneFiles)
				}
				return
			}
			accepted := d.exhaust(t, "access")
			rolled := d.rolled(t, "access")
			if len(rolled) < 3 {
				t.Fatalf("%d rolled files after %d batches", len(rolled), accepted)
			}
			if n := d.metric(t, "proxy.process.log.autodeleted_files"); n != 0 {
				t.Fatalf("%d files autodeleted while none was shipped", n)
			}
			stat := d.status(t)
			if stat.Space.State != "exhausted" || !strings.Contains(stat.Space.Reason, "not yet handed on") {
				t.Errorf("space %s: %q, want exhausted, saying files wait to be handed on", stat.Space.State, stat.Space.Reason)
			}
			if stat.Ship.HeldFiles == 0 {
				t.Errorf("held files not counted: %+v", stat.Ship)
			}
			a, err := d.do(req{log: "access", ctype: "text/plain", body: []byte("refused?\n")})
			if err != nil || a.status != http.StatusServiceUnavailable || a.header.Get("Retry-After") == "" || !strings.Contains(string(a.body), "not yet handed on") {
				t.Fatalf("POST while held: %d %s %v, want 503 with Retry-After", a.status, a.body, err)
			}
			st.Restart()
			d.waitAllShipped(t, 20*time.Second)
			eventually(t, func() string {
				a, err := d.do(req{log: "access", ctype: "text/plain", body: []byte("back\n")})
				if err != nil || a.status != http.StatusOK {
					return fmt.Sprintf("ingest after shipping: %d %s %v", a.status, a.body, err)
				}
				return ""
			})
			// Each file goes once shipped: by the shipped rule, or by the
			// budget when its check comes first (a handed-on file is free
			// to go); every one of them is in the store (below).
			shipped := d.metric(t, "proxy.process.log.autodeleted_files", "rule", "shipped")
			budget := d.metric(t, "proxy.process.log.autodeleted_files", "rule", "budget")
			if shipped+budget < int64(len(rolled)) {
				t.Errorf("%d files deleted after shipping and %d by the budget, want %d in all", shipped, budget, len(rolled))
			}
			_, keys := fetchShipped(t, st)
			if len(keys) < len(rolled) {
				t.Errorf("%d objects, %d files rolled", len(keys), len(rolled))
			}
		})
	}
}

// TestOnRollCommand: the command runs once per finished file with its path
// as last argument and its fields in the environment; a failing command is
// retried until it exits 0 (the file kept meanwhile), also across a kill -9.
func TestOnRollCommand(t *testing.T) {
	dir := tempDir(t)
	out := filepath.Join(dir, "hook.out")
	fail := filepath.Join(dir, "fail")
	script := filepath.Join(dir, "index-log")
	body := "#!/bin/sh\nif [ -e " + fail + " ]; then echo 'index down' >&2; exit 7; fi\n" +
		"echo \"$1|$2|$LOGROLL_PATH|$LOGROLL_LOG|$LOGROLL_HOST|$LOGROLL_START|$LOGROLL_END|$LOGROLL_BYTES\" >> " + out + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(fail, nil, 0o644)
	cfg := writeConfig(t, dir, conf{Extra: fmt.Sprintf("on_roll_command = [%q, \"--tag\"]\nship_delete_after = 0\nship_retry_max_sec = 1\n", script)}.toml())
	d := startDaemon(t, cfg)
	d.postText(t, "access", "one")
	first := d.roll(t, "access")[0]
	d.waitShip(t, 10*time.Second, func(s *ctl.ShipStatus) string {
		if s.Failures["exit"] < 2 || s.PendingFiles != 1 {
			return "want the failing command retried"
		}
		return ""
	})
	if d.logCount("on_roll_command failed") != 1 || !strings.Contains(d.stderr.String(), "index down") {
		t.Errorf("the failure streak not logged once with the command's output")
	}
	d.kill(t)
	os.Remove(fail)
	d = startDaemon(t, cfg)
	d.postText(t, "access", "two")
	second := d.roll(t, "access")[0]
	d.waitAllShipped(t, 10*time.Second)
	data, _ := os.ReadFile(out)
	got := lines(string(data))
	if len(got) != 2 {
		t.Fatalf("command ran %d times, want once per file:\n%s", len(got), data)
	}
	for i, p := range []string{first, second} {
		fi, _ := os.Stat(p)
		f := strings.Split(got[i], "|")
		if len(f) != 8 || f[0] != "--tag" || f[1] != p || f[2] != p || f[3] != "access.log" || f[4] != "e2ehost" || f[7] != fmt.Sprint(fi.Size()) {
			t.Errorf("run %d saw %q, want --tag, the path %s, access.log, e2ehost, %d bytes", i, got[i], p, fi.Size())
		}
		if _, err := time.Parse(time.RFC3339, f[5]); err != nil {
			t.Errorf("LOGROLL_START %q: %v", f[5], err)
		}
	}
	for _, f := range d.rolled(t, "access") {
		if f.Hook != "done" || f.Ship != "" {
			t.Errorf("%s: hook %q ship %q, want done and no shipping", f.Path, f.Hook, f.Ship)
		}
	}
}
