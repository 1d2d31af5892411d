package logging

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/internal/logtest"
)

// TestRepairTail cuts a torn last line back to the last newline, and only
// that: whole lines before it stay, even those of an unacknowledged request.
func TestRepairTail(t *testing.T) {
	long := strings.Repeat("z", 3*repairChunk+17)
	for _, tc := range []struct{ name, in, want string }{
		{"whole", "a\nb\n", "a\nb\n"},
		{"torn", "a\nbb", "a\n"},
		// A crash during the write of an unacknowledged buffer (one request's
		// records r1 r2 r3) keeps its whole lines: records of an
		// unacknowledged request may be partly present (at-least-once for
		// such requests); acknowledged records are never cut.
		{"unacknowledged request torn after whole lines", "a\nr1\nr2\nr", "a\nr1\nr2\n"},
		{"no newline at all", "torn", ""},
		{"NULs after a power loss", "a\n\x00\x00\x00", "a\n"},
		{"torn line longer than a chunk", "a\n" + long, "a\n"},
		{"newline exactly at a chunk edge", long[:repairChunk-1] + "\n" + long, long[:repairChunk-1] + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "f")
			if err := os.WriteFile(p, []byte(tc.in), 0o644); err != nil {
				t.Fatal(err)
			}
			f, err := os.OpenFile(p, os.O_RDWR|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n, err := repairTail(f, int64(len(tc.in)))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tc.want || n != int64(len(tc.want)) {
				t.Errorf("repaired to %d bytes %.20q…, want %d bytes", n, got, len(tc.want))
			}
		})
	}
}

// seedActive writes an active file and, unless start is zero, its .meta.
func seedActive(t *testing.T, dir, content string, start time.Time) {
	t.Helper()
	p := filepath.Join(dir, testLog)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if !start.IsZero() {
		if err := replaceMeta(metaPath(p), metaContent{CreationTime: start}, 0o644, false); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRestart covers reopening an existing active file: appended to, START
// from the .meta, torn line cut, size counter from the existing size, START
// reconstructed when the .meta is missing or corrupt, and never earlier than
// END of the latest rolled file.
func TestRestart(t *testing.T) {
	midnight := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		content string
		meta    time.Time // zero: no .meta
		corrupt bool      // .meta holds garbage
		tsMeta  bool      // the .meta is Traffic Server's: creation_time only
		rolled  string    // an existing rolled file's name
		pol     Policy
		want    []string // lines of the rolled file after a write of "new" and a Roll
		start   string   // its START
		logged  string   // a message that must be logged
	}{
		{name: "meta", content: "old\n", meta: midnight, want: []string{"old", "new"}, start: "00:00:00"},
		{name: "torn line", content: "old\ntor", meta: midnight, want: []string{"old", "new"}, start: "00:00:00", logged: "torn"},
		{name: "size counter", content: strings.Repeat("x", 95) + "\n", meta: midnight, pol: Policy{Mode: ModeSize, SizeBytes: 100},
			start: "00:00:00"}, // the write of "new" reaches 100 bytes and rolls
		{name: "meta missing", content: "old\n", want: []string{"old", "new"}, start: "00:10:00", logged: "metadata missing"},
		{name: "meta corrupt", content: "old\n", meta: midnight, corrupt: true, want: []string{"old", "new"}, start: "00:10:00", logged: "unreadable"},
		{name: "after the latest rolled file", content: "old\n", meta: midnight, tsMeta: true, rolled: "access.log.web01.20000101.00h05m00s-20000101.00h07m00s.old",
			want: []string{"old", "new"}, start: "00:07:00"},
		{name: "not after another host's rolled file", content: "old\n", meta: midnight, tsMeta: true, rolled: "access.log.web02.20000101.00h05m00s-20000101.00h07m00s.old",
			want: []string{"old", "new"}, start: "00:00:00"},
		{name: "our .meta before the first roll", content: "old\n", meta: midnight, rolled: "access.log.web01.20000101.00h05m00s-20000101.00h07m00s.old",
			want: []string{"old", "new"}, start: "00:00:00"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				dir := t.TempDir()
				seedActive(t, dir, tc.content, tc.meta)
				if tc.corrupt {
					os.WriteFile(metaPath(filepath.Join(dir, testLog)), []byte("creation_time = soon\n"), 0o644)
				}
				if tc.tsMeta {
					os.WriteFile(metaPath(filepath.Join(dir, testLog)), fmt.Appendf(nil, "creation_time = %d\n", tc.meta.Unix()), 0o644)
				}
				if tc.rolled != "" {
					os.WriteFile(filepath.Join(dir, tc.rolled), []byte("r\n"), 0o644)
				}
				time.Sleep(10 * time.Minute) // the file's mtime is real time: START falls back to now
				rec := &logtest.Recorder{}
				opts := testOpts()
				opts.Logger = slog.New(rec)
				c, err := Open(testCfg(dir, tc.pol), opts)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				if tc.logged != "" && rec.Count(tc.logged) != 1 {
					t.Errorf("no %q message in %q", tc.logged, rec.Messages())
				}
				write(t, c, testLog, "new")
				synctest.Wait() // a size roll follows the acknowledgement
				if tc.pol.Mode != ModeSize {
					if _, err := c.Roll(); err != nil {
						t.Fatal(err)
					}
				}
				var f rolledFile
				for _, r := range rolledFiles(t, dir, testLog) {
					if r.Host == "web01" && r.path != filepath.Join(dir, tc.rolled) {
						f = r // this host's latest, not the one seeded
					}
				}
				if got := span(f.RolledName); !strings.HasPrefix(got, tc.start+"-") {
					t.Errorf("rolled %s, want START %s", got, tc.start)
				}
				if tc.want != nil {
					if got := lines(t, f.path); !slices.Equal(got, tc.want) {
						t.Errorf("rolled file holds %q, want %q", got, tc.want)
					}
				}
				data, _ := os.ReadFile(f.path)
				if !bytes.HasSuffix(data, []byte("new\n")) {
					t.Errorf("rolled file does not end with the new record")
				}
			})
		})
	}
}

// TestRestartEmptyActiveFile: an empty active file with an old .meta starts
// at its first record, and rolls nothing at open without AllowEmpty.
func TestRestartEmptyActiveFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		seedActive(t, dir, "", time.Date(1999, 12, 31, 12, 0, 0, 0, time.UTC))
		c := mustOpen(t, testCfg(dir, timePolicy(time.Hour)))
		if n := len(rolledFiles(t, dir, testLog)); n != 0 {
			t.Fatalf("an empty file rolled at open")
		}
		time.Sleep(15 * time.Minute)
		write(t, c, testLog, "a")
		r, err := c.Roll()
		if err != nil || len(r) != 1 || span(RolledName{Start: r[0].Start, End: r[0].End}) != "00:15:00-00:15:00" {
			t.Errorf("Roll() = %+v, %v", r, err)
		}
	})
}

// TestInheritedFileSyncedBeforeRoll: an active file left by an earlier
// process (perhaps a crash, so never fsynced) is fsynced before a roll
// publishes it at DurabilityRoll: by the catch-up roll at open, and by a
// forced roll after a repair, even when this process wrote nothing into it.
func TestInheritedFileSyncedBeforeRoll(t *testing.T) {
	t.Run("catch-up", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			seedActive(t, dir, "from a crashed run\n", time.Now().Add(-2*time.Hour))
			cfg := testCfg(dir, timePolicy(time.Hour))
			cfg.Durability = DurabilityRoll
			c := mustOpen(t, cfg)
			synctest.Wait() // the publisher's fsync
			if st := c.Stats().Total; st.RollsTime != 1 || st.Syncs != 1 {
				t.Errorf("catch-up: %d time rolls, %d fsyncs; want 1, 1", st.RollsTime, st.Syncs)
			}
		})
	})
	t.Run("forced after repair", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			dir := t.TempDir()
			seedActive(t, dir, "whole\ntorn", time.Now())
			cfg := testCfg(dir, Policy{})
			cfg.Durability = DurabilityRoll
			c := mustOpen(t, cfg)
			r, err := c.Roll()
			if err != nil || len(r) != 1 {
				t.Fatalf("Roll: %v, %v", r, err)
			}
			if n := c.Stats().Total.Syncs; n != 1 {
				t.Errorf("%d fsyncs before the forced roll, want 1", n)
			}
			if got := lines(t, r[0].Path); !slices.Equal(got, []string{"whole"}) {
				t.Errorf("rolled file holds %q", got)
			}
		})
	})
}

// TestRestartRemovesMetaTemps: a crash between replaceMeta's creating its
// temporary file and renaming it leaves the temporary file; the next Open
// removes it (once per crash it would pile up otherwise, counted in the
// folder's used space, never deleted) and says so, and leaves alone every
// other hidden file, including the .meta of a log whose name merely starts
// like the temporary file's.
func TestRestartRemovesMetaTemps(t *testing.T) {
	dir := t.TempDir()
	seedActive(t, dir, "old\n", time.Now().Add(-time.Minute))
	meta := metaPath(filepath.Join(dir, testLog))
	stale := []string{meta + ".tmp12345", meta + ".tmp9"}
	keep := []string{
		meta,
		filepath.Join(dir, ".logrolld.lock"),
		meta + ".tmp", // no random part: not replaceMeta's
		metaPath(filepath.Join(dir, testLog+".meta.tmp7")),    // another log's .meta
		filepath.Join(dir, "."+testLog+".meta.tmp42.partial"), // not all digits
	}
	for _, p := range append(slices.Clone(stale), keep[1:]...) {
		if err := os.WriteFile(p, []byte("creation_time = 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rec := &logtest.Recorder{}
	opts := testOpts()
	opts.Logger = slog.New(rec)
	c, err := Open(testCfg(dir, Policy{}), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, p := range stale {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("%s left after Open", filepath.Base(p))
		}
	}
	for _, p := range keep {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v; want it kept", filepath.Base(p), err)
		}
	}
	if n := rec.Count("removed temporary .meta files left by a crash"); n != 1 {
		t.Errorf("%d messages about the removed files, want 1: %q", n, rec.Messages())
	}
}
