package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestOwnFilesNotTakenByAnotherLog: rolled names carry the active name and
// the host, both of which may hold dots, so "access.log.json.e2ehost.<times>"
// could be access.log's file of a host "json.e2ehost" or a file of a log
// "access.log.json" of this host (docs/rolling.md "Names"):
//
//   - two logs whose names are so apart (access and access.log.json) are
//     refused at load, with both places;
//   - a log removed from the configuration ("access.log.json", then
//     "access" declared) keeps its files out of access.log's
//     rolling_max_count, which deletes only access.log's own oldest file:
//     this host's names are split at its host name, and another host's
//     files of that log by the removed log's .meta, still in the folder.
func TestOwnFilesNotTakenByAnotherLog(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	base := conf{Logs: []string{}, Extra: "space_scan_interval_sec = 3600\n"}.toml()
	both := writeConfig(t, dir, base+"\n[[logs]]\nfilename = \"access\"\n\n[[logs]]\nfilename = \"access.log.json\"\n")
	if r := runCtl(t, "config", "check", both); r.code != 1 || !strings.Contains(r.stderr, `logs[2].filename: "access.log.json" (access.log.json) and logs[1]`) {
		t.Errorf("config check of access and access.log.json: %v", r)
	}
	path := writeConfig(t, dir, base+"\n[[logs]]\nfilename = \"access.log.json\"\n")
	d := startDaemon(t, path)
	var access, json []string
	next := 0
	post := func(log string) {
		d.ship(t, log, numberedBody("n", next, 3), 3)
		next += 3
	}
	for range 3 {
		post("access.log.json")
		json = append(json, d.roll(t, "access.log.json")...)
	}
	// Another host's files of the same log, in a shared folder, with their
	// times (their ENDs): the removed log's .meta says whose they are.
	for _, p := range json {
		other := strings.Replace(p, "access.log.json.e2ehost.", "access.log.json.web02.", 1)
		data := readFile(t, p)
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(other, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(other, fi.ModTime(), fi.ModTime()); err != nil {
			t.Fatal(err)
		}
		json = append(json, other)
	}
	writeConfig(t, dir, strings.Replace(base, "space_scan_interval_sec = 3600\n", "space_scan_interval_sec = 3600\nrolling_max_count = 3\n", 1)+"\n[[logs]]\nfilename = \"access\"\n")
	d.ctl(t, "config", "reload")
	for range 4 {
		post("access")
		access = append(access, d.roll(t, "access")...)
	}
	eventually(t, func() string {
		if got := present(access); !slices.Equal(got, present(access[1:])) || len(got) != 3 {
			return fmt.Sprintf("access.log's files: %q, want the newest 3 of %q", got, access)
		}
		return ""
	})
	time.Sleep(300 * time.Millisecond)
	if got := present(json); len(got) != 6 {
		t.Errorf("the removed log's files left: %q, want all 6 (access.log's rolling_max_count is access.log's)", got)
	}
	d.checkNotDeleted(t, json) // the removed log's files
	// rolled lists them as the space manager splits them.
	for _, f := range d.rolled(t) {
		if strings.HasPrefix(filepath.Base(f.Path), "access.log.json.") && f.Log != "access.log.json" {
			t.Errorf("rolled lists %s as %s's, of host %s", filepath.Base(f.Path), f.Log, f.Host)
		}
	}
}

// present returns the paths of paths that exist, as base names.
func present(paths []string) []string {
	var out []string
	for _, p := range paths {
		if _, err := os.Lstat(p); err == nil {
			out = append(out, filepath.Base(p))
		}
	}
	return out
}

// TestRolledDirSymlinkCountedOnce: a rolled_dir that is the log folder by
// a symbolic link, and a second log's rolled_dir that is the first's
// archive by another link, are each one folder: every rolled file is
// counted, listed and kept once (rolling_max_count = 3 keeps three files
// of each log, not one or two), and the used space is the files' bytes.
func TestRolledDirSymlinkCountedOnce(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	logs := filepath.Join(dir, "logs")
	archive := filepath.Join(logs, "archive")
	if err := os.MkdirAll(archive, 0o755); err != nil {
		t.Fatal(err)
	}
	for link, to := range map[string]string{"logs-link": logs, "archive-link": archive} {
		if err := os.Symlink(to, filepath.Join(dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	text := conf{Logs: []string{}, Extra: "space_scan_interval_sec = 3600\nrolling_max_count = 3\n"}.toml() +
		fmt.Sprintf("\n[[logs]]\nfilename = \"access\"\nrolled_dir = %q\n", filepath.Join(dir, "logs-link")) +
		"\n[[logs]]\nfilename = \"a2\"\nrolled_dir = \"archive\"\n" +
		fmt.Sprintf("\n[[logs]]\nfilename = \"a3\"\nrolled_dir = %q\n", filepath.Join(dir, "archive-link"))
	d := startDaemon(t, writeConfig(t, dir, text))
	var rolled []string
	next := 0
	for range 3 {
		for _, l := range []string{"access", "a2", "a3"} {
			d.ship(t, l, numberedBody("s", next, 4), 4)
			next += 4
			rolled = append(rolled, d.roll(t, l)...)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if got := present(rolled); len(got) != 9 {
		t.Errorf("rolled files left: %q, want all 9 (three per log)", got)
	}
	d.checkNotDeleted(t, rolled)
	if got := d.rolled(t); len(got) != 9 {
		var paths []string
		for _, f := range got {
			paths = append(paths, f.Path)
		}
		t.Errorf("rolled lists %d files, want 9: %q", len(got), paths)
	}
	d.checkUsedIs(t, rolled)
}

// TestRolledDirLinkedWhileRunning: an operator merges one log's archive
// into another's and links the first to it while the daemon runs. The next
// scan lists the folder once: no file is counted twice, so
// rolling_max_count = 6 deletes nothing with five files of the log, and the
// used space is the files' bytes (an outside tester's finding: both were
// counted through both paths, and two files were deleted).
func TestRolledDirLinkedWhileRunning(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	text := conf{Logs: []string{}, Extra: "space_scan_interval_sec = 1\n"}.toml() +
		"\n[[logs]]\nfilename = \"a\"\nrolled_dir = \"arch-a\"\nrolling_max_count = 6\n" +
		"\n[[logs]]\nfilename = \"b\"\nrolled_dir = \"arch-b\"\n"
	d := startDaemon(t, writeConfig(t, dir, text))
	var rolled []string
	next := 0
	for i := range 7 {
		l := "a"
		if i >= 5 {
			l = "b"
		}
		d.ship(t, l, numberedBody("s", next, 4), 4)
		next += 4
		rolled = append(rolled, d.roll(t, l)...)
	}
	archA, archB := filepath.Join(d.logs, "arch-a"), filepath.Join(d.logs, "arch-b")
	var merged []string
	for _, p := range rolled {
		if filepath.Dir(p) == archB {
			to := filepath.Join(archA, filepath.Base(p))
			if err := os.Rename(p, to); err != nil {
				t.Fatal(err)
			}
			p = to
		}
		merged = append(merged, p)
	}
	if err := os.Remove(archB); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("arch-a", archB); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // two scans, and the deletions they would make
	if len(d.logLines("the same folder as another counted one")) == 0 {
		t.Error("no warning that a folder is counted under another path")
	}
	if got := present(merged); len(got) != 7 {
		t.Errorf("rolled files left: %q, want all 7", got)
	}
	d.checkNotDeleted(t, append(merged, rolled...))
	d.checkUsedIs(t, merged)
}

// TestFutureENDsNotNewest: rolled files copied in with their times
// (`cp -p`, `rsync -t`) from a host whose clock ran minutes ahead carry an
// END in the future both in their names and as their modification time.
// They are not the newest files for rolling_max_count (each file the
// daemon rolled would go at once): their END is capped by the copy's
// ctime, so with rolling_max_count = 2 they go first and the daemon's
// two newest files stay (docs/space.md "Order").
func TestFutureENDsNotNewest(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	var foreign []string
	for _, ahead := range []time.Duration{4 * time.Minute, 34 * time.Minute} {
		end := now.Add(ahead)
		name := "access.log.web02." + end.Add(-30*time.Minute).Format(rolledTimeLayout) + "-" + end.Format(rolledTimeLayout) + ".old"
		p := filepath.Join(logs, name)
		if err := os.WriteFile(p, []byte("from web02\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, end, end); err != nil {
			t.Fatal(err)
		}
		foreign = append(foreign, p)
	}
	time.Sleep(1100 * time.Millisecond) // the copy's ctime is before the rolls, by more than the clock's grain
	d := startDaemon(t, writeConfig(t, dir, conf{Extra: "rolling_max_count = 2\n"}.toml()), "TZ=UTC")
	var ours []string
	for i := range 3 {
		d.postText(t, "access", fmt.Sprintf("record %d", i))
		ours = append(ours, d.roll(t, "access")[0])
	}
	eventually(t, func() string {
		if got := present(append(slices.Clone(foreign), ours...)); !slices.Equal(got, present(ours[1:])) || len(got) != 2 {
			return fmt.Sprintf("files left %q, want the daemon's two newest", got)
		}
		return ""
	})
}

// TestReloadWithoutLogsRefused: a file caught while being written, past
// its first keys but before its [[logs]] tables, declares no log: the
// reload is refused at FILE:1:1 and every log goes on.
func TestReloadWithoutLogsRefused(t *testing.T) {
	t.Parallel()
	dir := tempDir(t)
	full := conf{Logs: []string{"a", "b"}}.toml()
	path := writeConfig(t, dir, full)
	d := startDaemon(t, path)
	writeConfig(t, dir, "# logroll config\n[proxy.config]\nconfig_file_watch = 1\n")
	r := d.tryCtl(t, "config", "reload")
	if want := path + ":1:1: logs: the file declares no log"; r.code != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("reload of a file without [[logs]]: %v, want exit 1 and %q", r, want)
	}
	d.postText(t, "a", "still declared")
	d.postText(t, "b", "still declared")
}
