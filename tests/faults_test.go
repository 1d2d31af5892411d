package tests

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Disk faults (docs/design.md §5, §6; docs/reliability.md "Disk faults"): while
// clients post, the disk fails under the daemon in one way or another. In
// each case the daemon keeps running; refused requests get a 5xx and wrote
// nothing; every acknowledged record is on disk exactly once; the fault is
// logged once when it starts (and once when it clears), not once per
// record or request, and counted in a metric; and when the fault goes away
// the daemon recovers by itself: records posted then land on disk.

// faultLoad is the light load the fault tests run: two clients, a
// request of 50 records every 20 ms each (about 1 MB/s), 500 and 503
// answers counted as refused.
func faultLoad(t *testing.T, d *daemon, tag string) *load {
	t.Helper()
	return startLoad(t, d, "access", tag, loadOpts{
		clients: 2, pause: 20 * time.Millisecond,
		refusable: []int{http.StatusInternalServerError, http.StatusServiceUnavailable},
	})
}

// saidOnce checks that each message (the start of a log line's msg)
// was logged at most once, and exactly once for those in want.
func saidOnce(t *testing.T, d *daemon, want []string, atMostOnce ...string) {
	t.Helper()
	for _, m := range want {
		if n := d.logCount(`msg="` + m); n != 1 {
			t.Errorf("%q logged %d times, want once:\n%s", m, n, strings.Join(d.logLines(`msg="`+m), "\n"))
		}
	}
	for _, m := range atMostOnce {
		if n := d.logCount(`msg="` + m); n > 1 {
			t.Errorf("%q logged %d times, want at most once:\n%s", m, n, strings.Join(d.logLines(`msg="`+m), "\n"))
		}
	}
}

// checkDisk reads every file of access.log and checks the loads'
// requests against it (checkLoad), and that nothing else is there.
func checkDisk(t *testing.T, dir string, loads ...*load) int {
	t.Helper()
	disk := readLoads(t, dir, "access.log")
	n := 0
	for _, l := range loads {
		l.stop()
		n += checkLoad(t, l, disk)
	}
	checkNothingElse(t, disk)
	return n
}

// writeFaultMessages are what the daemon says about failed writes.
var writeFaultMessages = []string{
	"log write failed",                // the collator, when writes start failing
	"log writes work again",           // and when they work again
	"ingest: write failed",            // ingest, about the 500 it answers
	"cannot write log metadata",       // .meta writes, which fail too
	"log space exhausted",             // the space manager
	"log space back to normal",        //
	"logging stopped",                 // the collator, told by the space manager
	"logging resumed",                 //
	"cannot read the partition's",     // statfs
	"cannot scan the log folder",      //
	"cannot recreate active log file", //
}

// TestFaultFullFilesystem fills the partition of the log folder (a 4 MiB
// tmpfs, as root) with another program's file while two clients post, then
// removes that file. While it is full, requests are refused with 503 and
// Retry-After, never 500: first for the write that failed with ENOSPC,
// then by the space manager once it has seen the partition full (within
// about a second of the first failed write, not at its next scan a minute
// later); the daemon says so once and counts it; once the file is removed,
// logging resumes within about a second; every acknowledged record is on
// disk once.
func TestFaultFullFilesystem(t *testing.T) {
	dir := tempDir(t)
	mnt := filepath.Join(dir, "mnt")
	mountTmpfs(t, mnt, fmt.Sprintf("size=%d", 4*mib))
	d := startDaemon(t, writeConfig(t, dir, conf{LogfileDir: "mnt/logs", Extra: "max_space_mb_headroom = 1\n"}.toml()))
	d.logs = filepath.Join(mnt, "logs")
	l := faultLoad(t, d, "full")
	l.waitAcked(t, 1000, waitLimit)

	filler := filepath.Join(mnt, "filler")
	fillDisk(t, filler)
	full := time.Now()
	eventually(t, func() string {
		if f := l.failed(); f != "" {
			t.Fatal(f)
		}
		rs := l.refusals()
		if len(rs) == 0 || rs[len(rs)-1] != http.StatusServiceUnavailable {
			return fmt.Sprintf("refusals %v since the partition filled: want the space manager's 503 at last", rs)
		}
		return ""
	})
	noticed := time.Since(full)
	if noticed > 3*time.Second {
		t.Errorf("the space manager refused with 503 %v after the partition filled up, want within about a second", noticed.Round(time.Millisecond))
	}
	// The fault goes on for a while: more failures, no more messages.
	before := len(l.refusals())
	l.waitRefused(t, before+20)
	if v := d.metric(t, "proxy.process.log.space_state"); v != 2 {
		t.Errorf("space_state %d while the partition is full, want 2 (exhausted)", v)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	took := l.waitAcked(t, l.acked.Load()+500, waitLimit)
	if took > resumeLimit {
		t.Errorf("logging resumed %v after the partition was freed, want within about a second (%v)", took.Round(time.Millisecond), resumeLimit)
	}
	l.stop()

	rs := l.refusals()
	n500, n503 := 0, 0
	for _, s := range rs {
		switch s {
		case http.StatusInternalServerError:
			n500++
		case http.StatusServiceUnavailable:
			n503++
		}
	}
	saidOnce(t, d, []string{"log space exhausted", "log space back to normal"}, writeFaultMessages...)
	if n500 > 0 {
		t.Errorf("%d requests answered 500: a full partition must answer 503 with Retry-After", n500)
	}
	if v := d.metric(t, "proxy.process.log.ingest.requests", "status", "503"); v != int64(n503) {
		t.Errorf("ingest requests{status=503} %d, the clients got %d", v, n503)
	}
	refusedForSpace := d.metric(t, "proxy.process.log.space_refused_requests")
	if refusedForSpace == 0 || refusedForSpace > int64(n503) {
		t.Errorf("space_refused_requests %d, the clients got %d 503s", refusedForSpace, n503)
	}
	if refusedForSpace < int64(n503) {
		// The others failed writing (ENOSPC) before the space manager knew.
		saidOnce(t, d, []string{"log write failed", "log writes work again"})
		if v := d.metric(t, "proxy.process.log.write_errors"); v == 0 {
			t.Errorf("write_errors 0 after %d requests failed writing", int64(n503)-refusedForSpace)
		}
	}
	acked := checkDisk(t, d.logs, l)
	if d.hasExited() {
		t.Fatal("logrolld exited")
	}
	t.Logf("partition full for %v: %d requests refused (%d 500, %d 503), 503 after %v, resumed %v after the file was removed; %d records acknowledged and on disk",
		time.Since(full).Round(time.Millisecond), len(rs), n500, n503, noticed.Round(time.Millisecond), took.Round(time.Millisecond), acked)
}

// TestFaultActiveFileUnwritable makes the active file refuse writes
// (chattr +i, as root: even root cannot write an immutable file, through a
// descriptor opened before too) while two clients post, then writable
// again. Meanwhile every request is answered 500 and writes nothing; the
// failure is logged once (by the collator, and by ingest) and counted in
// write_errors; afterwards records land in the same file again.
func TestFaultActiveFileUnwritable(t *testing.T) {
	needRoot(t, "making a file immutable")
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	l := faultLoad(t, d, "unwritable")
	l.waitAcked(t, 500, waitLimit)

	active := filepath.Join(d.logs, "access.log")
	if err := setImmutable(t, active, true); err != nil {
		t.Skipf("chattr +i: %v", err)
	}
	l.waitRefused(t, 20)
	if err := setImmutable(t, active, false); err != nil {
		t.Fatal(err)
	}
	took := l.waitAcked(t, l.acked.Load()+500, waitLimit)
	l.stop()

	rs := l.refusals()
	for _, s := range rs {
		if s != http.StatusInternalServerError {
			t.Errorf("refusals %v, want only 500 (a write that failed)", rs)
			break
		}
	}
	saidOnce(t, d, []string{"log write failed", "log writes work again"}, writeFaultMessages...)
	if v := d.metric(t, "proxy.process.log.write_errors"); v == 0 || v > int64(len(rs)) {
		t.Errorf("write_errors %d after %d requests answered 500, want 1 to %[2]d (one per failed buffer, which may hold several requests)", v, len(rs))
	}
	if v := d.metric(t, "proxy.process.log.ingest.requests", "status", "500"); v != int64(len(rs)) {
		t.Errorf("ingest requests{status=500} %d, the clients got %d", v, len(rs))
	}
	acked := checkDisk(t, d.logs, l)
	t.Logf("%d requests answered 500; writes resumed %v after the file was writable again; %d records acknowledged and on disk", len(rs), took.Round(time.Millisecond), acked)
}

// checkNoRefusals fails the test if any request of l was refused.
func checkNoRefusals(t *testing.T, l *load, why string) {
	t.Helper()
	if rs := l.refusals(); len(rs) > 0 {
		t.Errorf("%d requests refused (%v): want every request to succeed, %s", len(rs), rs[:min(len(rs), 10)], why)
	}
}

// TestFaultReadOnlyFolder makes the log folder read-only (a read-only bind
// mount of it onto itself, as root) while two clients post and the log
// rolls at 1 MiB, then writable again. Writes go on into the open active
// file, so every request succeeds; rolls fail (a forced one exits 1 with
// the reason; a size roll is retried on its own) and leave the active file
// in place; the failure is logged once for all of them and counted in
// roll_failures; once the folder is writable the pending size roll is
// retried by itself within seconds and forced rolls work again.
func TestFaultReadOnlyFolder(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"size"`, SizeMB: 1}.toml()))
	l := faultLoad(t, d, "rofolder")
	l.waitAcked(t, 500, waitLimit)

	undo := bindReadOnly(t, d.logs)
	r := d.tryCtl(t, "roll")
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "read-only file system") {
		t.Errorf("forced roll in a read-only folder: want exit 1 with the reason on stderr and no path: %v", r)
	}
	eventually(t, func() string { // the file reaches 1 MiB: a size roll fails too
		if v := d.metric(t, "proxy.process.log.roll_failures"); v < 2 {
			return fmt.Sprintf("roll_failures %d, want the forced roll's and a size roll's", v)
		}
		return ""
	})
	failed := d.metric(t, "proxy.process.log.roll_failures")
	undo()
	fixed := time.Now()
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.rolls", "cause", "size"); v == 0 {
			return "no size roll since the folder is writable again"
		}
		return ""
	})
	retried := time.Since(fixed)
	l.waitAcked(t, l.acked.Load()+100, waitLimit) // records for the forced roll
	forced := d.roll(t)
	l.stop()
	if len(forced) != 1 {
		t.Errorf("forced roll after the fault printed %q, want one path", forced)
	}
	checkNoRefusals(t, l, "the open active file stays writable")
	saidOnce(t, d, []string{"roll failed", "rolls work again"}, writeFaultMessages...)
	acked := checkDisk(t, d.logs, l)
	t.Logf("%d roll failures while read-only; the size roll retried by itself %v after the fault cleared; %d records acknowledged and on disk",
		failed, retried.Round(time.Millisecond), acked)
}

// TestFaultRenameFails makes renames in the log folder fail (chattr +i on
// the folder, as root: EPERM even for root) while two clients post and the
// log rolls every second on time. Each boundary's roll fails, the records
// go on into the active file, every request succeeds; the failure is
// logged once for the whole streak and every attempt is counted; once
// renames work, the next boundary or retry rolls everything accepted so
// far, and the rolled files still never overlap in time.
func TestFaultRenameFails(t *testing.T) {
	needRoot(t, "making a folder immutable")
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"time"`, Extra: "rolling_interval_sec = 1\n"}.toml()))
	l := faultLoad(t, d, "rename")
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.rolls", "cause", "time"); v == 0 {
			return "no time roll yet"
		}
		return ""
	})
	if err := setImmutable(t, d.logs, true); err != nil {
		t.Skipf("chattr +i: %v", err)
	}
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.roll_failures"); v < 2 {
			return fmt.Sprintf("roll_failures %d, want two boundaries' rolls failed", v)
		}
		return ""
	})
	rollsBefore := d.metric(t, "proxy.process.log.rolls", "cause", "time")
	if err := setImmutable(t, d.logs, false); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.rolls", "cause", "time"); v == rollsBefore {
			return "no time roll since renames work again"
		}
		return ""
	})
	took := time.Since(fixed)
	failures := d.metric(t, "proxy.process.log.roll_failures")
	l.stop()
	// A file rolled before the folder became immutable waits, hidden, for
	// its publication's retry (its rename failed too): read the folder
	// once every rolled file is published.
	eventually(t, func() string {
		ents, err := os.ReadDir(d.logs)
		if err != nil {
			return err.Error()
		}
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") && strings.HasSuffix(e.Name(), ".raw") {
				return "a rolled file still waits for its publication: " + e.Name()
			}
		}
		return ""
	})
	checkNoRefusals(t, l, "a failed roll leaves the active file in place")
	saidOnce(t, d, []string{"roll failed", "rolls work again"}, writeFaultMessages...)
	acked := checkDisk(t, d.logs, l)
	t.Logf("%d failed rolls; rolled again %v after renames worked; %d records acknowledged and on disk", failures, took.Round(time.Millisecond), acked)
}

// TestFaultActiveFileDeleted deletes the active file while the daemon runs
// (between two loads, so that which records it held is known): the next
// write recreates it, which is logged once and counted in
// active_files_recreated; every request succeeds and every record
// acknowledged after the deletion is on disk.
func TestFaultActiveFileDeleted(t *testing.T) {
	deletedWhileRunning(t, func(d *daemon, active string) error { return os.Remove(active) },
		"the active file is recreated at the next write", "active log file was deleted", "in the deleted file")
}

// saveAndDo copies the file at path (which nobody writes at the moment)
// to a file next to the log folder, then runs fault; it returns the copy.
func saveAndDo(t *testing.T, path string, fault func() error) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(filepath.Dir(filepath.Dir(path)), "saved-"+filepath.Base(path))
	if err := os.WriteFile(saved, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fault(); err != nil {
		t.Fatal(err)
	}
	return saved
}

// TestFaultActiveFileMoved moves the active file out of the log folder
// while the daemon runs with size rolls (between two loads). The daemon
// goes on appending to the moved file (as it must for logrotate's move
// before SIGUSR2), so nothing is lost; the next roll — here when the moved
// file reaches 1 MiB — finds the file gone from its path and, instead of
// failing (and retrying) for ever, says so once, counts it and continues
// in a new active file; later rolls work.
func TestFaultActiveFileMoved(t *testing.T) {
	movedWhileRunning(t, false)
}

// TestFaultActiveFileReplaced does what logrotate's `create` does without
// a SIGUSR2 (the postrotate line forgotten): it moves the active file out
// of the log folder and creates an empty file at its path. The daemon
// appends to the moved file until the next roll, which finds another file
// at the path: it renames nothing (the file is not the log's), says so
// once, counts it, and adopts the new file, as SIGUSR2 would have; later
// rolls rename that file. Nothing is lost or refused.
func TestFaultActiveFileReplaced(t *testing.T) {
	movedWhileRunning(t, true)
}

// movedWhileRunning runs a load with size rolls at 1 MiB, moves the
// active file out of the folder (and, with replace, creates an empty file
// at its path), runs a second load until records reach the file at the
// path, and rolls: no request refused, the move said once, one recreation
// counted, no roll failure, a rolled file in the folder after the move, and
// every acknowledged record on disk in the moved file or the log folder.
func movedWhileRunning(t *testing.T, replace bool) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"size"`, SizeMB: 1}.toml()))
	before := faultLoad(t, d, "before")
	before.waitAcked(t, 500, waitLimit)
	before.stop()
	active := filepath.Join(d.logs, "access.log")
	moved := filepath.Join(dir, "moved.log")
	if err := os.Rename(active, moved); err != nil {
		t.Fatal(err)
	}
	said := "active log file was moved away"
	if replace {
		said = "active log file was replaced"
		if err := os.WriteFile(active, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	after := faultLoad(t, d, "after")
	eventually(t, func() string {
		if fi, err := os.Stat(active); err != nil || fi.Size() == 0 {
			return fmt.Sprintf("no records in a file at the active path yet: %v", err)
		}
		return ""
	})
	from := after.acked.Load()
	after.waitAcked(t, from+500, waitLimit)
	after.stop()
	// The file at the path rolls: by the forced roll, or by a size roll just
	// before it (then the forced roll may find an empty file).
	r := d.roll(t)
	if old, err := filepath.Glob(filepath.Join(d.logs, "access.log.*.old")); len(r) > 1 || len(r) == 0 && len(old) == 0 || err != nil {
		t.Errorf("forced roll after the move printed %q, with %d rolled files in the folder (%v); want the file at the path rolled", r, len(old), err)
	}
	checkNoRefusals(t, before, "")
	checkNoRefusals(t, after, "the moved file stays writable, and the file at the path is written after the roll")
	saidOnce(t, d, []string{said}, append([]string{"roll failed"}, writeFaultMessages...)...)
	if v := d.metric(t, "proxy.process.log.active_files_recreated"); v != 1 {
		t.Errorf("active_files_recreated %d, want 1", v)
	}
	if v := d.metric(t, "proxy.process.log.roll_failures"); v != 0 {
		t.Errorf("roll_failures %d, want 0", v)
	}
	disk := readLoads(t, d.logs, "access.log", moved)
	n := checkLoad(t, before, disk) + checkLoad(t, after, disk)
	checkNothingElse(t, disk)
	t.Logf("%d records acknowledged, on disk in the moved file or the log folder", n)
}

// TestFaultFolderDeleted removes the whole log folder while the daemon runs
// (between two loads): the next write creates the folder and the active
// file again, which is logged once and counted; every request succeeds and
// every record acknowledged after the deletion is on disk, and rolls work.
func TestFaultFolderDeleted(t *testing.T) {
	deletedWhileRunning(t, func(d *daemon, _ string) error { return os.RemoveAll(d.logs) },
		"the folder is created again at the next write", "log folder was removed", "in the deleted folder's active file")
}

// TestFaultFolderDeletedRelocked removes the log folder while the daemon
// runs, then writes: once the write has created the folder again, the daemon
// holds the lock of the new folder (.logrolld.lock is there and held, and a
// second logrolld on the folder is refused), and the space manager watches
// it again: a roll there, and the rolled file's deletion by a script, show
// in status at once, not at the next scan a minute later.
func TestFaultFolderDeletedRelocked(t *testing.T) {
	folderRenewed(t, false)
}

// TestFaultFolderReplacedRelocked is TestFaultFolderDeletedRelocked with
// the folder created again by someone else (rm -rf logs && mkdir logs)
// before the daemon's next write: the write finds only its active file
// gone, notices the new folder, says so once, and locks and watches it.
func TestFaultFolderReplacedRelocked(t *testing.T) {
	folderRenewed(t, true)
}

// folderRenewed removes the log folder between two writes, and with
// mkdir creates it again itself, then checks that the daemon locks and
// watches the new folder.
func folderRenewed(t *testing.T, mkdir bool) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	waitRolled := func(what string, n int) {
		t.Helper()
		eventuallyWithin(t, 2*time.Second, func() string {
			if st := d.status(t); len(st.Logs) != 1 || st.Logs[0].Rolled != n {
				return fmt.Sprintf("%s: status logs %+v, want %d rolled files", what, st.Logs, n)
			}
			return ""
		})
	}
	d.postText(t, "access", "before the removal")
	if r := d.roll(t); len(r) != 1 {
		t.Fatalf("roll printed %q, want one path", r)
	}
	waitRolled("after the first roll", 1)
	if err := os.RemoveAll(d.logs); err != nil {
		t.Fatal(err)
	}
	said := "log folder was removed by someone else"
	if mkdir {
		if err := os.Mkdir(d.logs, 0o755); err != nil {
			t.Fatal(err)
		}
		said = "log folder was replaced by someone else"
	}
	d.postText(t, "access", "after the removal") // creates the folder (or the active file) again

	// (a) The new folder is locked.
	f, err := os.OpenFile(filepath.Join(d.logs, ".logrolld.lock"), os.O_RDWR, 0)
	if err != nil {
		t.Fatalf("no lock file in the recreated folder: %v", err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); !errors.Is(err, syscall.EWOULDBLOCK) {
		t.Errorf("flock of the recreated folder's lock file = %v, want EWOULDBLOCK (held by the daemon)", err)
	}
	dir2 := tempDir(t)
	d2 := launch(t, writeConfig(t, dir2, conf{LogfileDir: d.logs}.toml()))
	if code := d2.wait(t, waitLimit); code != 1 {
		t.Errorf("second daemon on the recreated folder exited %d, want 1", code)
	}
	if msg := d2.stderr.String(); !strings.Contains(msg, "log folder") || !strings.Contains(msg, "another logrolld") {
		t.Errorf("second daemon's stderr does not say the log folder is used by another logrolld:\n%s", msg)
	}

	// (b) The space manager sees the new folder: the old rolled file went
	// with the old folder (the old watch's last events, or the rescan that
	// follows the new watch), and a roll in the new folder and a script's
	// deletion there come as events of the new watch.
	waitRolled("after the recreation", 0)
	r := d.roll(t)
	if len(r) != 1 || filepath.Dir(r[0]) != d.logs {
		t.Fatalf("roll in the recreated folder printed %q, want one path in %s", r, d.logs)
	}
	if got := readFile(t, r[0]); got != "after the removal\n" {
		t.Errorf("rolled file holds %q", got)
	}
	waitRolled("after the roll in the recreated folder", 1)
	if err := os.Remove(r[0]); err != nil {
		t.Fatal(err)
	}
	waitRolled("after a script deleted the rolled file", 0)
	saidOnce(t, d, []string{said, "log folder lock taken again in the recreated folder", "watching the recreated log folder"})
	if n := d.logCount("level=ERROR"); n != 0 {
		t.Errorf("%d errors logged:\n%s", n, strings.Join(d.logLines("level=ERROR"), "\n"))
	}
	d.checkServes(t, "the first daemon still serves")
}

// TestFaultFolderReplacedTakenByAnother: someone replaces the log folder
// (rm -r && mkdir) and a second logrolld starts on it, taking its lock,
// before the first daemon writes again. The first daemon's next write
// notices the new folder, cannot lock it, and says as an error that two
// daemons now write the same files; it keeps serving, and the record is
// written. (The two daemons then do get in each other's way, as the error
// says: a roll by one finds its active file replaced by the other's.)
func TestFaultFolderReplacedTakenByAnother(t *testing.T) {
	d := startDaemon(t, writeConfig(t, tempDir(t), conf{}.toml()))
	d.postText(t, "access", "before the replacement")
	if err := os.RemoveAll(d.logs); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(d.logs, 0o755); err != nil {
		t.Fatal(err)
	}
	d2 := startDaemon(t, writeConfig(t, tempDir(t), conf{LogfileDir: d.logs}.toml()))
	d.postText(t, "access", "after the replacement")
	eventually(t, func() string { // stderr arrives through a pipe
		if d.logCount("two daemons now write the same files") == 0 {
			return "no error saying two daemons now write the same files"
		}
		return ""
	})
	saidOnce(t, d, []string{"log folder was replaced by someone else", "the recreated log folder is locked by another logrolld"})
	if n := d.logCount("level=ERROR"); n != 1 {
		t.Errorf("%d errors logged, want the one:\n%s", n, strings.Join(d.logLines("level=ERROR"), "\n"))
	}
	if n := d.logCount("log folder lock taken again"); n != 0 {
		t.Errorf("the first daemon says it locked a folder another one holds")
	}
	if got := readFile(t, filepath.Join(d.logs, "access.log")); !strings.Contains(got, "after the replacement\n") {
		t.Errorf("active file holds %q, want the record written after the replacement", got)
	}
	d.checkServes(t, "the first daemon still serves")
	if d2.hasExited() {
		t.Error("the second daemon exited")
	}
}

// deletedWhileRunning runs a load, deletes something with remove (the
// active file's bytes are saved first), runs a second load and rolls: no
// request refused (why says why), the fault said once (said), one
// recreation counted, and every acknowledged record on disk or in the saved
// copy (where names it in the log).
func deletedWhileRunning(t *testing.T, remove func(d *daemon, active string) error, why, said, where string) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"size"`, SizeMB: 1}.toml()))
	before := faultLoad(t, d, "before")
	before.waitAcked(t, 500, waitLimit)
	before.stop()
	active := filepath.Join(d.logs, "access.log")
	saved := saveAndDo(t, active, func() error { return remove(d, active) })

	after := faultLoad(t, d, "after")
	after.waitAcked(t, 500, waitLimit)
	r := d.roll(t)
	after.stop()
	if len(r) != 1 {
		t.Errorf("roll after the deletion printed %q, want one path", r)
	}
	checkNoRefusals(t, before, "")
	checkNoRefusals(t, after, why)
	saidOnce(t, d, []string{said}, writeFaultMessages...)
	if v := d.metric(t, "proxy.process.log.active_files_recreated"); v != 1 {
		t.Errorf("active_files_recreated %d, want 1", v)
	}
	disk := readLoads(t, d.logs, "access.log", saved)
	n := checkLoad(t, before, disk) + checkLoad(t, after, disk)
	checkNothingElse(t, disk)
	t.Logf("%d records acknowledged, on disk or %s", n, where)
}
