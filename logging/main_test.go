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
	"time"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Test helpers shared by the collator's tests. Time-driven tests run inside a
// testing/synctest bubble, whose fake clock starts at 2000-01-01 00:00:00 UTC;
// the collator reads it through time.Now and names files in UTC.

// testLog is the log most tests use.
const testLog = "access.log"

// testCfg returns a config for dir with one log per policy, named testLog,
// "b.log", "c.log", ….
func testCfg(dir string, pols ...Policy) Config {
	cfg := Config{Dir: dir, Hostname: "web01", Durability: DurabilityWrite}
	for i, p := range pols {
		name := testLog
		if i > 0 {
			name = string(rune('a'+i)) + ".log"
		}
		cfg.Logs = append(cfg.Logs, LogConfig{Name: name, Policy: p})
	}
	return cfg
}

// hourly is mode 1 with interval d.
func timePolicy(d time.Duration) Policy { return Policy{Mode: ModeTime, Interval: d} }

// testOpts are the options of most tests: real (or bubble) clock, UTC, logs
// discarded.
func testOpts() Options {
	return Options{Now: time.Now, Location: time.UTC, Logger: slog.New(slog.DiscardHandler)}
}

// mustOpen opens a collator and closes it at the end of the test.
func mustOpen(t *testing.T, cfg Config) *Collator {
	t.Helper()
	c, err := Open(cfg, testOpts())
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// write writes records (as strings) to log, failing the test on error.
func write(t *testing.T, c *Collator, log string, records ...string) {
	t.Helper()
	recs := make([][]byte, len(records))
	for i, r := range records {
		recs[i] = []byte(r)
	}
	if err := c.Write(log, recs); err != nil {
		t.Fatalf("Write(%s): %v", log, err)
	}
}

// rolledFile is a rolled file found in the folder.
type rolledFile struct {
	RolledName
	path string
}

// rolledFiles returns the rolled files of log in dir, oldest first.
func rolledFiles(t *testing.T, dir, log string) []rolledFile {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []rolledFile
	for _, e := range ents {
		r, err := ParseRolledName(e.Name(), []string{log}, "", time.UTC)
		if err != nil || r.Active != log {
			continue
		}
		out = append(out, rolledFile{r, filepath.Join(dir, e.Name())})
	}
	// One zone (UTC), no clock going back: the names' times order them.
	slices.SortFunc(out, func(a, b rolledFile) int {
		if c := a.Start.Compare(b.Start); c != 0 {
			return c
		}
		if c := a.End.Compare(b.End); c != 0 {
			return c
		}
		return a.Seq - b.Seq
	})
	return out
}

// lines returns the lines of the file at path; it fails the test if the
// file does not end with a newline.
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Fatalf("%s: last line has no newline", path)
	}
	return strings.Split(string(bytes.TrimSuffix(data, []byte("\n"))), "\n")
}

// span formats a rolled file's START-END as "hh:mm:ss-hh:mm:ss" (UTC), or
// with the day when it is not 2000-01-01.
func span(r RolledName) string {
	f := func(t time.Time) string {
		t = t.UTC()
		if t.Year() == 2000 && t.YearDay() == 1 {
			return t.Format("15:04:05")
		}
		return t.Format("Jan2 15:04:05")
	}
	return f(r.Start) + "-" + f(r.End)
}

// rolledEnds returns the ENDs of log's rolled files in dir, oldest first,
// as span formats them.
func rolledEnds(t *testing.T, dir, log string) []string {
	t.Helper()
	var ends []string
	for _, f := range rolledFiles(t, dir, log) {
		_, end, _ := strings.Cut(span(f.RolledName), "-")
		ends = append(ends, end)
	}
	return ends
}

// spans returns the spans of files.
func spans(files []rolledFile) []string {
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = span(f.RolledName)
	}
	return out
}

// stamp is a record carrying the time it is written at, so that tests can
// check it against the name of the file it lands in.
func stamp(tag string) string {
	return fmt.Sprintf("%s@%s", tag, time.Now().UTC().Format(time.RFC3339Nano))
}

// stampTime parses the time out of a stamp record.
func stampTime(t *testing.T, rec string) time.Time {
	t.Helper()
	_, ts, ok := strings.Cut(rec, "@")
	if !ok {
		t.Fatalf("record %q has no time", rec)
	}
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// stampSlack is how much earlier than its acceptance a record's stamp may
// be: stamps are taken before Write is called, and START is the
// acceptance of the file's first record, floored to the second, so a
// record stamped just before a whole second and accepted just after it
// may begin a file whose START is that second. Between the stamp and the
// acceptance the caller's goroutine may wait for a CPU: on a loaded
// machine under -race, 150 ms was seen.
const stampSlack = 250 * time.Millisecond

// checkPartition checks docs/design.md §5 on every rolled file of log in dir: each
// record's time t satisfies START − stampSlack ≤ t and floor(t) ≤ END, and
// START(next) ≥ END(prev). Records must be stamps. It returns the records of the rolled
// files in order.
func checkPartition(t *testing.T, dir, log string) []string {
	t.Helper()
	var all []string
	files := rolledFiles(t, dir, log)
	for i, f := range files {
		if i > 0 && f.Start.Before(files[i-1].End) {
			t.Errorf("%s starts before the END of %s", filepath.Base(f.path), filepath.Base(files[i-1].path))
		}
		for _, rec := range lines(t, f.path) {
			st := stampTime(t, rec)
			ts := st.Truncate(time.Second)
			if st.Before(f.Start.Add(-stampSlack)) || ts.After(f.End) {
				t.Errorf("record %q is outside %s", rec, filepath.Base(f.path))
			}
			all = append(all, rec)
		}
	}
	return all
}
