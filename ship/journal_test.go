package ship

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/internal/logtest"
)

// TestJournalUnusable: a journal that cannot be read nor written (here a
// folder) does not stop the manager: it starts, says so, and ships; a step
// it cannot record counts as done until a restart (a full disk must not
// hold the files whose deletion would free it), with one error for the
// streak, and the files are handed on.
func TestJournalUnusable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		all := files(t, dir, "a.log", 2)
		if err := os.Mkdir(filepath.Join(dir, JournalName), 0o755); err != nil {
			t.Fatal(err)
		}
		st, logs := newFakeStore(), &logtest.Recorder{}
		m := newTest(t, dir, st, logs, all)
		defer m.Close()
		if logs.Count("cannot read the hand-on journal") != 1 {
			t.Errorf("the unreadable journal not reported: %q", logs.Messages())
		}
		m.Start()
		time.Sleep(time.Minute)
		synctest.Wait()
		calls, handed, _ := st.get()
		if len(calls) != 2 || len(handed) != 2 {
			t.Errorf("uploads %v, handed %v: want each file uploaded once and handed on", calls, handed)
		}
		if n := logs.Count("cannot record steps done in the hand-on journal"); n != 1 {
			t.Errorf("the failure to record logged %d times, want once for the streak: %q", n, logs.Messages())
		}
		if s := m.Status(); s.Failures[KindLocal] != 2 || s.Pending != 0 {
			t.Errorf("status %+v: want 2 local failures, nothing pending", s)
		}
	})
}

// journalWithGone writes a journal in dir holding name shipped and a file
// gone since; it returns its path and content.
func journalWithGone(t *testing.T, dir, name string) (path, data string) {
	t.Helper()
	path = filepath.Join(dir, JournalName)
	data = "ship " + name + " k/" + name + "\nship gone.old k/gone.old\n"
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, data
}

// TestJournalCompactionFails: a start whose compaction fails (no room, a
// read-only folder; here the temporary's name is taken by a folder) goes
// on with the journal as it is.
func TestJournalCompactionFails(t *testing.T) {
	dir := t.TempDir()
	all := files(t, dir, "a.log", 2)
	j, _ := journalWithGone(t, dir, all[0].Name)
	if err := os.Mkdir(j+".tmp", 0o755); err != nil {
		t.Fatal(err)
	}
	logs := &logtest.Recorder{}
	m := newTest(t, dir, newFakeStore(), logs, all)
	defer m.Close()
	if logs.Count("cannot compact the hand-on journal") != 1 {
		t.Errorf("compaction failure not reported: %q", logs.Messages())
	}
	if s := m.Status(); s.Pending != 1 {
		t.Errorf("pending %d, want the file the journal does not hold", s.Pending)
	}
}

// TestJournalCompactionLeftover: the temporary of a compaction a crash cut
// short is removed at the next start, also when that start has nothing to
// compact (a compaction would overwrite it); it is never read as the
// journal.
func TestJournalCompactionLeftover(t *testing.T) {
	for _, journal := range []bool{false, true} {
		dir := t.TempDir()
		all := files(t, dir, "a.log", 2)
		j, want := filepath.Join(dir, JournalName), 2
		if journal {
			j, _ = journalWithGone(t, dir, all[0].Name)
			want = 1
		}
		if err := os.WriteFile(journalTemp(j), []byte("ship "+all[1].Name+" k/"+all[1].Name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m := newTest(t, dir, newFakeStore(), &logtest.Recorder{}, all)
		if _, err := os.Lstat(journalTemp(j)); !os.IsNotExist(err) {
			t.Errorf("journal %v: the compaction's leftover is still there: %v", journal, err)
		}
		if s := m.Status(); s.Pending != want {
			t.Errorf("journal %v: pending %d, want %d: the leftover is not the journal", journal, s.Pending, want)
		}
		m.Close()
	}
}

// TestJournalTornAndRemoved: a torn last line (a crash in an append) is
// ended before the next record, which is read back whole after a restart
// with the fragment counted as skipped; a journal removed while in use is
// made again, and that is reported.
func TestJournalTornAndRemoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		all := files(t, dir, "a.log", 2)
		j := filepath.Join(dir, JournalName)
		if err := os.WriteFile(j, []byte("ship a.log.web01.h0"), 0o644); err != nil { // only a torn fragment: nothing to compact
			t.Fatal(err)
		}
		st, logs := newFakeStore(), &logtest.Recorder{}
		m := newTestKnown(t, dir, st, logs, all[:1], all)
		m.Start()
		synctest.Wait()
		got, _ := os.ReadFile(j)
		recs, skipped := parseJournal(got)
		if _, ok := recs[all[0].Name]; !ok || skipped != 1 {
			t.Errorf("journal %q: record of %s lost, or fragment not skipped (%d)", got, all[0].Name, skipped)
		}
		os.Remove(j)
		m.Rolled(all[1].Path)
		synctest.Wait()
		if logs.Count("hand-on journal was removed or moved away while in use") != 1 {
			t.Errorf("removal not reported: %q", logs.Messages())
		}
		m.Close()
		got, _ = os.ReadFile(j)
		if !strings.Contains(string(got), "ship "+all[1].Name+" ") {
			t.Errorf("journal made again holds %q, want %s's record", got, all[1].Name)
		}
	})
}

// TestJournalFolderMoved: a log folder moved away (and made again at its
// path) while the manager runs takes its journal along; the next record is
// appended to a journal made again at the path, not to the moved one, so a
// restart knows the steps done for the files rolled there since (an
// outside tester's finding: their hooks ran again).
func TestJournalFolderMoved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		root := t.TempDir()
		dir := filepath.Join(root, "logs")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		first := files(t, dir, "a.log", 1)
		st, logs := newFakeStore(), &logtest.Recorder{}
		// The second file, rolled after the move, at the same path.
		later := item("a.log", "a.log.web01.h02.old", 2)
		later.Path = filepath.Join(dir, later.Name)
		m := newTestKnown(t, dir, st, logs, first, append(first, later))
		m.Start()
		synctest.Wait()
		if err := os.Rename(dir, filepath.Join(root, "logs.old")); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(later.Path, []byte("later\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		m.Rolled(later.Path)
		synctest.Wait()
		m.Close()
		got, _ := os.ReadFile(filepath.Join(dir, JournalName))
		if !strings.Contains(string(got), "ship "+later.Name+" ") {
			t.Errorf("the journal at the folder's path holds %q, want %s's record", got, later.Name)
		}
		if logs.Count("removed or moved away while in use") != 1 {
			t.Errorf("the move not reported: %q", logs.Messages())
		}
	})
}

// TestJournalFIFO: a FIFO where the journal should be does not hang the
// start (a read would wait for a writer for ever): it is refused as an
// unusable journal, and the manager goes on.
func TestJournalFIFO(t *testing.T) {
	dir := t.TempDir()
	all := files(t, dir, "a.log", 1)
	if err := syscall.Mkfifo(filepath.Join(dir, JournalName), 0o644); err != nil {
		t.Fatal(err)
	}
	type started struct {
		logs *logtest.Recorder
		err  error
	}
	done := make(chan started, 1)
	go func() { // no t.Fatal here: not the test's goroutine
		logs := &logtest.Recorder{}
		m, err := New(Config{Host: "h", Logs: []Log{{Name: "a.log", Ship: &Target{Bucket: "b", Region: "r"}}}},
			Options{Journal: filepath.Join(dir, JournalName), Item: func(string) (Item, bool) { return Item{}, false }, Logger: slog.New(logs)}, all)
		if err == nil {
			m.Close()
		}
		done <- started{logs, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if r.logs.Count("cannot read the hand-on journal") != 1 {
			t.Errorf("the FIFO not reported: %q", r.logs.Messages())
		}
	case <-time.After(10 * time.Second):
		// Let the blocked open end, so that no goroutine is left behind.
		if f, err := os.OpenFile(filepath.Join(dir, JournalName), os.O_WRONLY, 0); err == nil {
			f.Close()
		}
		t.Fatal("New hangs on a FIFO journal")
	}
}
