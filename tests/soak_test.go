package tests

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// procResources is one look at the daemon's resources.
type procResources struct {
	at         time.Duration // since the load began
	fds        int           // /proc/PID/fd entries
	goroutines int           // go_goroutines on /metrics
	rss        int64         // VmRSS, bytes
	heap       int64         // go_memstats_heap_inuse_bytes on /metrics
	links      []string      // what the descriptors point at
}

func (r procResources) String() string {
	return fmt.Sprintf("%4.0fs: %d fds, %d goroutines, RSS %.1f MiB, heap in use %.1f MiB",
		r.at.Seconds(), r.fds, r.goroutines, float64(r.rss)/(1<<20), float64(r.heap)/(1<<20))
}

// lookResources takes five looks 100 ms apart and keeps the fewest descriptors
// and goroutines seen (a logrollctl connection or a request in flight at
// the moment of one look is not a leak) and the RSS of the last look.
func lookResources(t *testing.T, d *daemon, since time.Time) procResources {
	t.Helper()
	var best procResources
	for i := range 5 {
		if i > 0 {
			time.Sleep(100 * time.Millisecond) // spacing of the looks, not a synchronisation
		}
		// /metrics first: its keep-alive connection (one descriptor, one
		// goroutine) is then there for every look, the first included.
		g := int(d.goMetric(t, "go_goroutines"))
		links := d.fds(t)
		if i == 0 || len(links) < best.fds {
			best.fds, best.links = len(links), links
		}
		if i == 0 || g < best.goroutines {
			best.goroutines = g
		}
		best.rss = d.rss(t)
	}
	best.heap = int64(d.goMetric(t, "go_memstats_heap_inuse_bytes"))
	best.at = time.Since(since)
	return best
}

// deletedLine reads the daemon's line for one autodeleted file.
var deletedLine = regexp.MustCompile(`msg="deleted rolled file" path=(\S+) bytes=(\d+)`)

// TestSoak runs the daemon for 60 s under steady load — four clients
// posting 50-record requests (about 2 MB/s together), the log rolling on
// time every second and at 1 MiB, `logrollctl roll` every second besides,
// autodelete keeping the folder in an 8 MiB budget (2 MiB headroom), a
// full rescan every 5 s — and checks that nothing leaks and nothing is
// lost:
//
//   - file descriptors (/proc/PID/fd) and goroutines (go_goroutines) after
//     the run are what they were after a 10 s warm-up, give or take 2
//     descriptors and 5 goroutines: the fewest of five looks is compared,
//     so a logrollctl connection or a request caught in flight is not
//     taken for a leak, while anything kept per roll (60+ forced, 60 time,
//     ~100 size rolls), per deletion (~100) or per request (~10,000)
//     would exceed it many times over;
//   - RSS after the run is at most 8 MiB or a quarter above its value
//     after the warm-up (about 17 MiB), whichever is larger: the heap then
//     holds the same live data (buffers, pools) under the same GC target,
//     and the looks every 10 s vary by about 1 MiB; the margin still
//     catches a leak of about 1.2 KiB per request (some 7,000 requests
//     after the warm-up) or 60 KiB per roll (some 150 rolls);
//   - every acknowledged record is accounted for: each client's records
//     on disk are exactly its last acknowledged requests, whole, once each
//     (autodelete removes the oldest files, and files never overlap in
//     time, so what was deleted is a prefix of each client's requests),
//     and the bytes of the acknowledged requests not on disk are exactly
//     the bytes autodeleted — as the autodeleted_bytes metric says and as
//     the daemon's one log line per deletion adds up to;
//   - every request succeeded and every forced roll exited 0.
//
// LOGROLL_SOAK_SECONDS runs it longer (a number of seconds, at least 20),
// to look for slower trends by hand; the looks stay 10 s apart.
func TestSoak(t *testing.T) {
	const warmUp = 10 * time.Second
	duration := 60 * time.Second
	if v := os.Getenv("LOGROLL_SOAK_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 20 {
			t.Fatalf("LOGROLL_SOAK_SECONDS=%q: want a number of seconds ≥ 20", v)
		}
		duration = time.Duration(n) * time.Second
	}
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{
		RollingEnabled: `"time_or_size"`, SizeMB: 1,
		Extra: "rolling_interval_sec = 1\nmax_space_mb_for_logs = 8\nmax_space_mb_headroom = 2\n" +
			"auto_delete_rolled_files = 1\nspace_scan_interval_sec = 5\n",
	}.toml()))
	l := startLoad(t, d, "access", "soak", loadOpts{pause: 25 * time.Millisecond, refusable: []int{http.StatusServiceUnavailable}})
	begin := time.Now()

	// logrollctl roll every second, as a cron script gone mad would.
	var forced, rollFailures atomic.Int64
	var rollMsg atomic.Value
	stopRolls := make(chan struct{})
	var rolls sync.WaitGroup
	rolls.Add(1)
	go func() {
		defer rolls.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-stopRolls:
				return
			case <-tick.C:
			}
			r := <-d.ctlAsync("roll")
			if r.code != 0 {
				rollFailures.Add(1)
				rollMsg.Store(r.String())
				continue
			}
			forced.Add(int64(len(lines(r.stdout))))
		}
	}()
	stop := func() {
		select {
		case <-stopRolls:
		default:
			close(stopRolls)
		}
		rolls.Wait()
		l.stop()
	}
	defer stop()

	// run waits until the load has run for until, failing early on a
	// client's failure or the daemon's death.
	run := func(until time.Duration) {
		t.Helper()
		for time.Since(begin) < until {
			if f := l.failed(); f != "" {
				t.Fatal(f)
			}
			if d.hasExited() {
				t.Fatalf("logrolld exited under load")
			}
			time.Sleep(min(time.Second, until-time.Since(begin))) // the soak's length is the point
		}
	}
	run(warmUp)
	var looks []procResources
	first := lookResources(t, d, begin)
	looks = append(looks, first)
	for next := warmUp + 10*time.Second; next < duration; next += 10 * time.Second {
		run(next)
		looks = append(looks, lookResources(t, d, begin))
	}
	run(duration)
	last := lookResources(t, d, begin)
	looks = append(looks, last)
	stop()

	var report strings.Builder
	for _, r := range looks {
		report.WriteString("\n  " + r.String())
	}
	t.Logf("resources after the warm-up and every 10 s:%s", report.String())
	if last.fds > first.fds+2 {
		t.Errorf("file descriptors grew from %d to %d over the soak\nafter the warm-up: %q\nat the end: %q", first.fds, last.fds, first.links, last.links)
	}
	if last.goroutines > first.goroutines+5 {
		t.Errorf("goroutines grew from %d to %d over the soak", first.goroutines, last.goroutines)
	}
	if limit := first.rss + max(8<<20, first.rss/4); last.rss > limit {
		t.Errorf("RSS grew from %.1f MiB to %.1f MiB over the soak (limit %.1f MiB)", float64(first.rss)/(1<<20), float64(last.rss)/(1<<20), float64(limit)/(1<<20))
	}
	if n := rollFailures.Load(); n > 0 {
		t.Errorf("%d forced rolls failed; the last: %v", n, rollMsg.Load())
	}
	if rs := l.refusals(); len(rs) > 0 {
		t.Errorf("%d requests refused (%v): autodelete should keep logging going", len(rs), rs[:min(len(rs), 10)])
	}

	// The last records are rolled at the next boundary: wait for it, and
	// for autodelete after it, before reading the folder.
	eventually(t, func() string {
		if st := d.status(t); len(st.Logs) != 1 || st.Logs[0].ActiveBytes != 0 {
			return fmt.Sprintf("status logs %+v: the active file is not rolled yet", st.Logs)
		}
		return ""
	})
	d.waitQuiet(t, "normal")
	disk := readLoads(t, d.logs, "access.log")
	kept, lost := checkSoak(t, l, disk)
	checkNothingElse(t, disk)
	deletedBytes := d.metric(t, "proxy.process.log.autodeleted_bytes")
	deletedFiles := d.metric(t, "proxy.process.log.autodeleted_files")
	if lost != deletedBytes {
		t.Errorf("acknowledged requests not on disk hold %d bytes, but autodelete deleted %d: records were lost (or kept twice)", lost, deletedBytes)
	}
	var logged, loggedFiles int64
	for _, m := range deletedLine.FindAllStringSubmatch(d.stderr.String(), -1) {
		n, _ := strconv.ParseInt(m[2], 10, 64)
		logged += n
		loggedFiles++
	}
	if logged != deletedBytes || loggedFiles != deletedFiles {
		t.Errorf("the daemon logged %d deletions of %d bytes; the metrics say %d files, %d bytes", loggedFiles, logged, deletedFiles, deletedBytes)
	}
	if v := d.metric(t, "proxy.process.log.max_count_deleted_files"); v != 0 {
		t.Errorf("max_count_deleted_files %d: only autodelete was to delete", v)
	}
	n := l.counts()
	t.Logf("%v: %d requests acknowledged (%d records), %d forced rolls printed a file, %d time and %d size rolls; %d files (%d bytes) autodeleted; %d bytes of acknowledged records on disk in %d files",
		duration, n[acked], l.acked.Load(), forced.Load(), d.metric(t, "proxy.process.log.rolls", "cause", "time"), d.metric(t, "proxy.process.log.rolls", "cause", "size"),
		deletedFiles, deletedBytes, kept, len(disk.files))
}

// checkSoak checks the disk against load l when files were deleted
// oldest first: for each client, the acknowledged requests on disk are the
// last ones, each whole and once, and no refused or unanswered one is
// there. It returns the bytes of the acknowledged requests on disk and of
// those not there (deleted), and removes l's requests from disk.copies.
func checkSoak(t *testing.T, l *load, disk *diskRecords) (kept, gone int64) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, rs := range l.results {
		var present []bool // per acknowledged request, in send order
		for _, s := range rs {
			k := batchKey{l.tag, c, s.batch}
			cp := disk.copies[k]
			delete(disk.copies, k)
			var size int64
			n := 0
			for r := range l.batch {
				size += int64(len(loadRecord(l.tag, c, s.batch, r)) + 1)
				if cp != nil && cp[r] > 0 {
					n++
					if cp[r] > 1 {
						t.Errorf("client %d batch %d: record %d on disk %d times", c, s.batch, r, cp[r])
					}
				}
			}
			switch {
			case s.outcome != acked && n > 0:
				t.Errorf("client %d batch %d not acknowledged (%s), but %d of its records are on disk", c, s.batch, s.detail, n)
			case s.outcome != acked:
			case n == l.batch:
				present = append(present, true)
				kept += size
			case n == 0:
				present = append(present, false)
				gone += size
			default:
				t.Errorf("client %d batch %d acknowledged: %d of its %d records on disk (a request is in one file, deleted whole or kept whole)", c, s.batch, n, l.batch)
			}
		}
		// Deleted oldest first: absent, then present, nothing after.
		if i := slices.Index(present, true); i >= 0 {
			if j := slices.Index(present[i:], false); j >= 0 {
				t.Errorf("client %d: its acknowledged request %d of %d is on disk but %d is not: autodelete deleted a newer file before an older one, or a record was lost",
					c, i, len(present), i+j)
			}
		} else if len(present) > 0 {
			t.Errorf("client %d: none of its %d acknowledged requests is on disk: even the newest were deleted", c, len(present))
		}
	}
	return kept, gone
}
