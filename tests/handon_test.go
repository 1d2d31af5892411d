package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/s3test"
)

// TestOnRollCommandKeepsFiles: a log with an on_roll_command and no
// ship_url keeps its rolled files once the command succeeded, whatever
// ship_delete_after says (its default is 1): a hook is told of a file, it
// does not store it anywhere. Adding the command by a reload runs it on the
// files rolled before, and deletes none of them. A command that exits 0
// leaving a program in the background (postrotate's "indexer &") hands the
// file on.
func TestOnRollCommandKeepsFiles(t *testing.T) {
	dir := tempDir(t)
	out := filepath.Join(dir, "hook.out")
	script := filepath.Join(dir, "index-log")
	body := "#!/bin/sh\necho \"$1\" >> " + out + "\nsleep 3 &\nexit 0\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := conf{}.toml()
	cfg := writeConfig(t, dir, plain)
	d := startDaemon(t, cfg)
	var rolled []string
	for _, s := range []string{"one", "two"} {
		d.postText(t, "access", s)
		rolled = append(rolled, d.roll(t, "access")...)
	}
	writeConfig(t, dir, conf{Extra: fmt.Sprintf("on_roll_command = [%q]\n", script)}.toml())
	d.ctl(t, "config", "reload")
	d.postText(t, "access", "three")
	rolled = append(rolled, d.roll(t, "access")...)
	d.waitShip(t, 20*time.Second, func(s *ctl.ShipStatus) string {
		if s.PendingFiles != 0 || s.HooksSucceeded < 3 {
			return "want the command run on the 3 files"
		}
		return ""
	})
	data, _ := os.ReadFile(out)
	if got := lines(string(data)); len(got) != 3 {
		t.Errorf("command ran %d times, want 3:\n%s", len(got), data)
	}
	time.Sleep(500 * time.Millisecond) // a deletion would follow the hand-on at once
	for _, p := range rolled {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s: %v (a hook-only log deleted its rolled file)", filepath.Base(p), err)
		}
	}
	if n := d.logCount("deleted rolled file"); n != 0 {
		t.Errorf("%d deletions logged", n)
	}
	if s := d.shipStatus(t); s.Failures["start"] != 0 {
		t.Errorf("the background program counted as a failure to start: %+v", s.Failures)
	}
}

// TestShipCredentialsFixedByReload: uploads refused for wrong credentials
// (403, parked) ship after the operator mends the AWS shared credentials
// file and reloads: the reload makes new clients, which read the file
// again.
func TestShipCredentialsFixedByReload(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	dir := tempDir(t)
	creds := filepath.Join(dir, "credentials")
	write := func(secret string) {
		if err := os.WriteFile(creds, []byte("[default]\naws_access_key_id = "+s3test.AccessKey+"\naws_secret_access_key = "+secret+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("wrong-" + s3test.SecretKey)
	var env []string
	for _, kv := range st.Env() {
		if !strings.HasPrefix(kv, "AWS_ACCESS_KEY_ID=") && !strings.HasPrefix(kv, "AWS_SECRET_ACCESS_KEY=") && !strings.HasPrefix(kv, "AWS_SHARED_CREDENTIALS_FILE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SHARED_CREDENTIALS_FILE="+creds)
	d := startDaemon(t, writeConfig(t, dir, shipConf(st.URL, "")), env...)
	d.postText(t, "access", "one")
	d.roll(t, "access")
	d.waitShip(t, 20*time.Second, func(s *ctl.ShipStatus) string {
		if s.ParkedFiles != 1 {
			return "want the file parked by the 403"
		}
		return ""
	})
	write(s3test.SecretKey)
	d.ctl(t, "config", "reload")
	s := d.waitAllShipped(t, 20*time.Second)
	if s.ShippedFiles != 1 {
		t.Errorf("shipped %d files after the reload, want 1", s.ShippedFiles)
	}
}

// TestShipRemovedLogLastFile: a log removed from the configuration by a
// reload, while the store is away, is rolled one last time, and that file
// is still shipped once the store is back, with
// the log's last settings, and deleted after (ship_delete_after); the
// logs still declared go on as before.
func TestShipRemovedLogLastFile(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	dir := tempDir(t)
	base := shipConf(st.URL, "")
	path := writeConfig(t, dir, base+"\n[[logs]]\nfilename = \"gone\"\n")
	d := startDaemon(t, path, st.Env()...)
	d.postText(t, "gone", "the removed log's last record")
	d.postText(t, "access", "a record of access")
	// The store is away while the log goes: its last file is still
	// pending when the new configuration is taken.
	st.Stop()
	writeConfig(t, dir, base)
	d.ctl(t, "config", "reload")
	d.roll(t, "access")
	time.Sleep(500 * time.Millisecond)
	st.Restart()
	s := d.waitAllShipped(t, 30*time.Second)
	if s.ShippedFiles != 2 {
		t.Errorf("shipped %d files, want 2 (access's, and the removed log's last)", s.ShippedFiles)
	}
	var gone []string
	for _, o := range st.List(t, shipBucket, shipPrefix+"/") {
		if strings.Contains(o.Key, "/gone.log/") {
			gone = append(gone, o.Key)
			if got := string(st.Get(t, shipBucket, o.Key)); got != "the removed log's last record\n" {
				t.Errorf("%s holds %q", o.Key, got)
			}
		}
	}
	if len(gone) != 1 {
		t.Errorf("objects of the removed log: %q, want its last file", gone)
	}
	if len(d.logLines(`msg="log removed from the configuration: the files it rolled are still handed on`)) != 1 {
		t.Errorf("the removal was not said once")
	}
}

// TestShipDroppedRolledDirAfterRestart: a file not yet shipped in a
// rolled_dir that a reload dropped is still shipped after a kill -9 and a
// start (the folder stays listed while it holds rolled files), and the
// start says so; nothing there is counted or deleted.
func TestShipDroppedRolledDirAfterRestart(t *testing.T) {
	st := s3test.Start(t, shipBucket)
	st.Stop()
	dir := tempDir(t)
	withDir := func(rd string) string { return shipConf(st.URL, "") + fmt.Sprintf("rolled_dir = %q\n", rd) }
	path := writeConfig(t, dir, withDir("a1"))
	d := startDaemon(t, path, st.Env()...)
	d.postText(t, "access", "left in a1")
	p := d.roll(t, "access")
	if len(p) != 1 || filepath.Base(filepath.Dir(p[0])) != "a1" {
		t.Fatalf("roll printed %q", p)
	}
	writeConfig(t, dir, withDir("a2"))
	d.ctl(t, "config", "reload")
	d.kill(t)

	st.Restart()
	d = startDaemon(t, path, st.Env()...)
	d.waitAllShipped(t, 30*time.Second)
	var keys []string
	for _, o := range st.List(t, shipBucket, shipPrefix+"/") {
		keys = append(keys, o.Key)
		if got := string(st.Get(t, shipBucket, o.Key)); got != "left in a1\n" {
			t.Errorf("%s holds %q", o.Key, got)
		}
	}
	if len(keys) != 1 || filepath.Base(keys[0]) != filepath.Base(p[0]) {
		t.Errorf("objects %q, want the file left in a1", keys)
	}
	if _, err := os.Stat(p[0]); err != nil {
		t.Errorf("the file in the dropped folder: %v (kept: nothing deletes there)", err)
	}
	if n := d.logCount(`msg="rolled files in a rolled folder a reload dropped: still handed on`); n != 1 {
		t.Errorf("%d start-up lines about the dropped folder, want 1", n)
	}
}
