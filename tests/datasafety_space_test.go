package tests

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// Data safety on small partitions (issue 17 #4 and #8): the log folder on
// a tmpfs, so these tests need root and are skipped otherwise.

// TestPartitionBelowHeadroomKeepsRolled puts the log folder on a 16 MiB
// tmpfs with the default budget and headroom (25000 and 1000 MiB), so that
// the partition's free space is always below the headroom (issue 17 #4).
// Five forced rolls with records in between: the rolled files stay while
// the partition has room (today each is deleted the moment it rolls), and
// status warns that the headroom is more than the partition can keep free,
// naming the partition and the headroom. Then 40 MiB posted in 256 KiB requests with 1 MiB size rolls
// are all answered 200: as the tmpfs fills up, the oldest rolled files are
// deleted and the newest records are kept, contiguous.
func TestPartitionBelowHeadroomKeepsRolled(t *testing.T) {
	dir := tempDir(t)
	mountTmpfs(t, filepath.Join(dir, "logs"), "size=16m")
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"size"`, SizeMB: 1}.toml()))
	next := 0
	var early []string
	for range 5 {
		d.post(t, req{log: "access", ctype: "text/plain", body: numberedBody("a", next, 64)}, 64)
		next += 64
		early = append(early, d.roll(t, "access")...)
	}
	// While the space is not normal the manager looks again every second.
	time.Sleep(1500 * time.Millisecond)
	if _, rolled := logNames(t, d.logs, "access.log"); len(rolled) != len(early) {
		t.Errorf("%d rolled files in the folder after %d rolls (printed %q): rolled files were deleted while the partition had room",
			len(rolled), len(early), early)
	}
	sp := d.spaceStatus(t)
	if ws := sp.Warnings; len(ws) != 1 || !strings.Contains(ws[0], "partition") || !strings.Contains(ws[0], "headroom") {
		t.Errorf("status space.warnings %q, want one naming the partition and the headroom", ws)
	}
	if d.logCount("log space: max_space_mb_headroom") != 1 {
		t.Error("the daemon's log does not warn once that the headroom is more than the partition can keep")
	}
	t.Logf("after 5 rolls: space %+v", sp)

	const batches = 40 * mib / spaceBatchLen
	refused := 0
	for range batches {
		refused += d.ship(t, "access", numberedBody("a", next, spaceBatch), spaceBatch)
		next += spaceBatch
	}
	if refused > 0 {
		t.Errorf("%d requests were refused with 503 while filling the partition: want every one answered 200", refused)
	}
	f := lookNumbered(t, d.logs, "access.log", "a", nil)
	lo, hi, problem := checkContiguous(f)
	if problem != "" {
		t.Error(problem)
	}
	switch {
	case hi < 0:
		t.Errorf("no record on disk, want the newest up to %d", next-1)
	case hi != next-1 || lo == 0:
		t.Errorf("records %d..%d on disk, want the newest up to %d, the oldest deleted", lo, hi, next-1)
	}
	if d.hasExited() {
		t.Fatal("logrolld died")
	}
	t.Logf("after filling: records %d..%d kept (of 0..%d); space %+v", lo, hi, next-1, d.spaceStatus(t))
}

// inodeConf is the inode tests' records.toml: no time or size rolls, a
// budget and headroom that the 64 MiB tmpfs never reaches (so only inodes
// run short), autodelete as given.
func inodeConf(autoDelete int) string {
	return conf{Extra: fmt.Sprintf("max_space_mb_for_logs = 1000\nmax_space_mb_headroom = 2\nauto_delete_rolled_files = %d\n", autoDelete)}.toml()
}

// inodeLoad posts one record at a time to a daemon whose folder runs out
// of inodes, checking every answer: 200, or 503 with Retry-After, never
// anything else (today: 500 without Retry-After).
type inodeLoad struct {
	d      *daemon
	next   int
	acked  map[int]bool
	n503   int
	others []string // other answers
}

// post posts the next record and returns the status.
func (l *inodeLoad) post(t *testing.T) int {
	t.Helper()
	a := l.d.postNumbered(t, "access", "i", l.next, 1)
	switch {
	case a.status == http.StatusOK:
		l.acked[l.next] = true
	case a.status == http.StatusServiceUnavailable && a.retryAfterOK():
		l.n503++
	default:
		l.others = append(l.others, fmt.Sprintf("record %d: %d Retry-After %q %s", l.next, a.status, a.header.Get("Retry-After"), a.body))
	}
	l.next++
	return a.status
}

// answers fails the test for the answers so far other than 200 or 503 with
// Retry-After (and forgets them).
func (l *inodeLoad) answers(t *testing.T) {
	t.Helper()
	if len(l.others) > 0 {
		t.Errorf("%d answers neither 200 nor 503 with Retry-After, the first: %s", len(l.others), strings.Join(l.others[:min(3, len(l.others))], "; "))
	}
	l.others = nil
}

// check checks the answers, and the records on disk: each acknowledged one
// once from the oldest kept on (older ones deleted: those are counted as
// gone), none that was refused.
func (l *inodeLoad) check(t *testing.T, dir string) (kept, gone int) {
	t.Helper()
	l.answers(t)
	f := lookNumbered(t, dir, "access.log", "i", nil)
	seen := map[int]int{}
	lo := 1 << 62
	for _, file := range append(f.rolled, f.active) {
		for _, id := range file.ids {
			seen[id]++
			lo = min(lo, id)
		}
	}
	var missing []int
	for id := range l.next {
		switch {
		case seen[id] > 1:
			t.Errorf("record %d on disk %d times", id, seen[id])
		case seen[id] == 1 && !l.acked[id]:
			t.Errorf("record %d on disk, but it was refused", id)
		case seen[id] == 0 && l.acked[id] && id > lo:
			missing = append(missing, id)
		case seen[id] == 1:
			kept++
		case l.acked[id]:
			gone++
		}
	}
	if len(missing) > 0 {
		sort.Ints(missing)
		t.Errorf("acknowledged records %v are not on disk, though older ones are kept", missing)
	}
	return kept, gone
}

// TestInodeExhaustion puts the log folder on a 64 MiB tmpfs with 8 inodes
// (the folder, the lock file, the active file and its .meta take 4) and
// posts and rolls one record at a time (issue 17 #8). Every request is
// answered 200 or 503 with Retry-After, never 500 (today: 500 without
// Retry-After for as long as it lasts, once a roll could not create the new
// active file).
//
// With autodelete, logging goes on by itself: autodelete deletes the
// oldest rolled files to free inodes (a deletion logged with its rule and
// counted in status space.deleted_by_rule), rolls go on beyond the inodes
// the folder ever had free, and every acknowledged record since the oldest
// kept is on disk.
//
// Without autodelete, once the inodes are all used (or the daemon refuses
// records because they are short), status shows the space not normal with
// a reason that names inodes and partition_free_inodes as statfs says;
// deleting a rolled file by hand brings 200s back.
func TestInodeExhaustion(t *testing.T) {
	t.Run("autodelete", func(t *testing.T) {
		dir := tempDir(t)
		mountTmpfs(t, filepath.Join(dir, "logs"), "size=64m,nr_inodes=8")
		d := startDaemon(t, writeConfig(t, dir, inodeConf(1)))
		free := freeInodes(t, d.logs)
		l := &inodeLoad{d: d, acked: map[int]bool{}}
		rolls := 0
		for range 3*free + 4 {
			l.post(t)
			r := d.tryCtl(t, "roll", "access")
			if r.code == 0 && len(lines(r.stdout)) == 1 {
				rolls++
			}
			time.Sleep(50 * time.Millisecond)
		}
		l.answers(t)
		// Logging is back by itself: a record is taken and rolled.
		eventually(t, func() string {
			if l.post(t) != http.StatusOK {
				time.Sleep(100 * time.Millisecond)
				return "no 200 after the rolls: logging did not resume by itself"
			}
			return ""
		})
		if r := d.tryCtl(t, "roll", "access"); r.code != 0 || len(lines(r.stdout)) != 1 {
			t.Errorf("roll after logging resumed: %v", r)
		} else {
			rolls++
		}
		kept, gone := l.check(t, d.logs)
		sp := d.spaceStatus(t)
		if int64(rolls) <= free {
			t.Errorf("%d rolls done with %d inodes free at start: want rolls to go on once autodelete frees inodes", rolls, free)
		}
		byRule := int64(0)
		for _, n := range sp.DeletedByRule {
			byRule += n
		}
		if sp.DeletedFiles == 0 || byRule == 0 {
			t.Errorf("status space %+v: want rolled files deleted to free inodes", sp)
		}
		if len(d.logLines("rule=")) == 0 {
			t.Errorf("no deletion logged with its rule=")
		}
		if sp.PartitionFreeInodes < 0 {
			t.Errorf("status space partition_free_inodes %d on a tmpfs of 8 inodes, want the count", sp.PartitionFreeInodes)
		}
		t.Logf("%d rolls, %d inodes free at start; %d records kept, %d deleted, %d refused with 503; space %+v",
			rolls, free, kept, gone, l.n503, sp)
	})
	t.Run("no autodelete", func(t *testing.T) {
		dir := tempDir(t)
		mountTmpfs(t, filepath.Join(dir, "logs"), "size=64m,nr_inodes=8")
		d := startDaemon(t, writeConfig(t, dir, inodeConf(0)))
		l := &inodeLoad{d: d, acked: map[int]bool{}}
		// Roll until the inodes are all used, or the daemon refuses records
		// because they are short.
		for i := 0; ; i++ {
			if i == 20 {
				t.Fatalf("%d rolls and the tmpfs still has %d inodes free", i, freeInodes(t, d.logs))
			}
			if l.post(t) == http.StatusServiceUnavailable || freeInodes(t, d.logs) == 0 {
				break
			}
			d.tryCtl(t, "roll", "access")
		}
		for range 3 {
			l.post(t)
			d.tryCtl(t, "roll", "access")
		}
		l.answers(t)
		free := freeInodes(t, d.logs)
		var reason string
		eventually(t, func() string {
			sp := d.spaceStatus(t)
			reason = sp.Reason
			if sp.State == "normal" || !strings.Contains(strings.ToLower(reason), "inode") || sp.PartitionFreeInodes != free {
				return fmt.Sprintf("%d inodes free: status space %+v, reason %q, partition_free_inodes %v; want not normal, the reason naming inodes, %d free",
					free, sp, reason, sp.PartitionFreeInodes, free)
			}
			return ""
		})
		l.post(t)

		// An operator's script deletes a rolled file (its records are
		// then not expected on disk).
		_, rolled := logNames(t, d.logs, "access.log")
		if len(rolled) == 0 {
			t.Fatalf("no rolled file to delete")
		}
		victim := filepath.Join(d.logs, rolled[0])
		f, err := readNumberedFile(victim, "i", false)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Remove(victim); err != nil {
			t.Fatal(err)
		}
		eventually(t, func() string {
			if l.post(t) != http.StatusOK {
				time.Sleep(100 * time.Millisecond)
				return "no 200 after a rolled file was deleted"
			}
			return ""
		})
		for _, id := range f.ids {
			delete(l.acked, id)
		}
		kept, _ := l.check(t, d.logs)
		t.Logf("%d records kept, %d refused with 503; the reason was %q", kept, l.n503, reason)
	})
}
