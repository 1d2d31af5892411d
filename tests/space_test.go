package tests

import (
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// Space tests (docs/design.md §6): the space manager seen from outside, through the
// real binaries and the files in the log folder.

const (
	spaceBatch    = 2048                         // records per request: 256 KiB
	spaceBatchLen = numberedLineLen * spaceBatch // bytes per request
	resumeLimit   = 1500 * time.Millisecond      // "within about a second", with slack for a noisy machine
	resumeStep    = 50 * time.Millisecond        // how often a shipper retries while waiting for the resume
)

// spaceLog is a [[logs]] table with its rolling_min_count (-1: not written).
type spaceLog struct {
	name     string
	minCount int
}

// spaceConf is a records.toml with size rolls of 1 MiB and the space records.
func spaceConf(limitMB, headroomMB int, autoDelete bool, logs ...spaceLog) string {
	ad := 0
	if autoDelete {
		ad = 1
	}
	c := conf{
		RollingEnabled: `"size"`,
		SizeMB:         1,
		Logs:           []string{}, // written below, with their min_count
		Extra: fmt.Sprintf("max_space_mb_for_logs = %d\nmax_space_mb_headroom = %d\nauto_delete_rolled_files = %d\nspace_scan_interval_sec = 60\n",
			limitMB, headroomMB, ad),
	}
	var b strings.Builder
	b.WriteString(c.toml())
	if len(logs) == 0 {
		logs = []spaceLog{{"access", -1}}
	}
	for _, l := range logs {
		fmt.Fprintf(&b, "\n[[logs]]\nfilename = %q\n", l.name)
		if l.minCount >= 0 {
			fmt.Fprintf(&b, "rolling_min_count = %d\n", l.minCount)
		}
	}
	return b.String()
}

// folderUsage is the total size of the regular files directly in dir, each
// inode counted once (a roll renames a file while the folder is listed).
func folderUsage(dir string) (int64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	seen := map[uint64]bool{}
	var total int64
	for _, e := range entries {
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		if errors.Is(err, fs.ErrNotExist) {
			continue // deleted while we listed
		}
		if err != nil {
			return 0, err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			if seen[st.Ino] {
				continue
			}
			seen[st.Ino] = true
		}
		total += fi.Size()
	}
	return total, nil
}

// usageSampler samples folderUsage in a goroutine, like an operator's du in a
// loop, and keeps the largest figure.
type usageSampler struct {
	dir     string
	stop    chan struct{}
	done    chan struct{}
	mu      sync.Mutex
	max     int64
	samples int
}

func sampleUsage(dir string) *usageSampler {
	s := &usageSampler{dir: dir, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			if u, err := folderUsage(dir); err == nil {
				s.mu.Lock()
				s.samples++
				s.max = max(s.max, u)
				s.mu.Unlock()
			}
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// finish stops the sampler and returns the largest usage seen and the number
// of samples.
func (s *usageSampler) finish() (int64, int) {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.samples
}

// ship posts body to log as a log shipper does: a 503 with Retry-After is
// retried after the delay it asks for (at most 10 times), anything else but
// 200 {"records":want} fails the test. It returns the 503s seen.
func (d *daemon) ship(t *testing.T, log string, body []byte, want int) int {
	t.Helper()
	refused := 0
	for {
		a, err := d.do(req{log: log, ctype: "text/plain", body: body})
		if err != nil {
			t.Fatalf("POST /v1/logs/%s: %v", log, err)
		}
		if a.status == http.StatusOK {
			if got := string(a.body); !strings.Contains(got, fmt.Sprintf(`"records":%d`, want)) {
				t.Fatalf("POST /v1/logs/%s: %s, want %d records", log, got, want)
			}
			return refused
		}
		if a.status != http.StatusServiceUnavailable {
			t.Fatalf("POST /v1/logs/%s: status %d %s, want 200", log, a.status, a.body)
		}
		refused++
		secs, err := strconv.Atoi(a.header.Get("Retry-After"))
		if err != nil || secs < 1 {
			t.Fatalf("POST /v1/logs/%s: 503 with Retry-After %q, want whole seconds ≥ 1", log, a.header.Get("Retry-After"))
		}
		if refused > 10 {
			t.Fatalf("POST /v1/logs/%s: still 503 after %d tries (%s)", log, refused, a.body)
		}
		time.Sleep(time.Duration(secs) * time.Second)
	}
}

// checkUsedMatchesDisk checks, once nothing is being written, that status's
// used_bytes is what the folder holds: the accounting between scans is exact
// (docs/space.md), and the next scan is a minute away. It waits a little
// for events in flight.
func (d *daemon) checkUsedMatchesDisk(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		du, err := folderUsage(d.logs)
		if err != nil {
			t.Fatal(err)
		}
		st := d.status(t)
		if st.Space == nil {
			t.Fatal("status --json has no space section")
		}
		if st.Space.Used == du {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("status used_bytes %d, but the folder holds %d bytes (%+d): the accounting drifted (autodeleted %d files)",
				st.Space.Used, du, st.Space.Used-du, st.Space.DeletedFiles)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSpaceBudget posts 40 MiB into a 12 MiB budget with 2 MiB headroom,
// 1 MiB size rolls and autodelete on (docs/design.md §6): every request succeeds,
// the folder never holds more than the budget (sampled all along, as du
// would), the records kept are the newest ones, contiguous up to the last,
// and the deletions are counted in status and metrics.
func TestSpaceBudget(t *testing.T) {
	const (
		limitMB, headroomMB = 12, 2
		batches             = 40 * mib / spaceBatchLen // 40 MiB
	)
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, spaceConf(limitMB, headroomMB, true)))
	s := sampleUsage(d.logs)
	defer s.finish()

	refused := 0
	begin := time.Now()
	for b := range int(batches) {
		refused += d.ship(t, "access", numberedBody("a", b*spaceBatch, spaceBatch), spaceBatch)
	}
	elapsed := time.Since(begin)
	last := int(batches)*spaceBatch - 1
	// The last roll and deletion follow the last acknowledgement.
	d.waitQuiet(t, "normal")
	maxUsed, samples := s.finish()
	end, err := folderUsage(d.logs)
	if err != nil {
		t.Fatal(err)
	}
	limit := int64(limitMB) * mib
	t.Logf("%d MiB posted in %v; %d 503s; folder at most %d bytes over %d samples (limit %d), %d at the end",
		batches*spaceBatchLen/mib, elapsed.Round(time.Millisecond), refused, maxUsed, samples, limit, end)
	if refused > 0 {
		t.Errorf("%d requests were refused with 503 (retried after Retry-After): want every request to succeed with autodelete on", refused)
	}
	if maxUsed > limit || end > limit {
		t.Errorf("the folder held up to %d bytes (%d at the end), over the budget of %d", maxUsed, end, limit)
	}
	if samples < 10 {
		t.Errorf("only %d samples of the folder's size", samples)
	}
	// Autodelete stops as soon as U + H < M: after its last deletion the
	// folder held at least M − H − one rolled file (1 MiB, and at most one
	// request more), and it has only grown since.
	if floor := limit - int64(headroomMB)*mib - mib - spaceBatchLen; end < floor {
		t.Errorf("the folder holds %d bytes at the end, less than M − H − 1.25 MiB = %d: autodelete deleted more than the budget asked for", end, floor)
	}

	l := readLog(t, d.logs, "access.log", "a")
	lo := checkNewest(t, "access.log", l, last)
	if lo == 0 {
		t.Errorf("the oldest record is still on disk: nothing was deleted")
	}
	posted := int64(batches) * spaceBatchLen
	st := d.status(t)
	sp := st.Space
	if sp == nil {
		t.Fatal("status --json has no space section")
	}
	if sp.DeletedFiles == 0 || sp.DeletedBytes+l.bytes != posted {
		t.Errorf("status: deleted %d files, %d bytes; with the %d bytes on disk that is not the %d posted",
			sp.DeletedFiles, sp.DeletedBytes, l.bytes, posted)
	}
	if !sp.AutoDelete || sp.Limit != limit || sp.Headroom != int64(headroomMB)*mib || !st.Accepting {
		t.Errorf("status space %+v accepting %v, want autodelete, limit %d, headroom %d, accepting", sp, st.Accepting, limit, int64(headroomMB)*mib)
	}
	if len(st.Logs) != 1 || st.Logs[0].Rolled != len(l.rolled) {
		t.Errorf("status logs %+v, want access.log with %d rolled files", st.Logs, len(l.rolled))
	}
	if v := d.metric(t, "proxy.process.log.autodeleted_files"); v != sp.DeletedFiles {
		t.Errorf("metric autodeleted_files %d, status deleted_files %d", v, sp.DeletedFiles)
	}
	if v := d.metric(t, "proxy.process.log.autodeleted_bytes"); v != sp.DeletedBytes {
		t.Errorf("metric autodeleted_bytes %d, status deleted_bytes %d", v, sp.DeletedBytes)
	}
	if v := d.metric(t, "proxy.process.log.space_refused_requests"); v != int64(refused) {
		t.Errorf("metric space_refused_requests %d, the shipper saw %d 503s", v, refused)
	}
	if v := d.metric(t, "proxy.process.log.space_state"); v != 0 {
		t.Errorf("metric space_state %d, want 0 (normal)", v)
	}
	d.checkUsedMatchesDisk(t)
	if v, used := d.metric(t, "proxy.process.log.log_files_space_used"), d.status(t).Space.Used; v != used {
		t.Errorf("metric log_files_space_used %d, status used_bytes %d", v, used)
	}
	t.Logf("kept records %d..%d in %d rolled files + the active one; %d files (%d bytes) deleted",
		lo, last, len(l.rolled), sp.DeletedFiles, sp.DeletedBytes)
}

// TestSpaceMinCount posts to two logs, rolling_min_count 5 and 1, until
// autodelete has to act (docs/design.md §6: the log with the most rolled files per
// min_count gives first). The first log gets 3.5 MiB (3 rolled files,
// 3/5 < 1 for the second as long as it holds one file), the second 14 MiB
// interleaved with it: only the second loses files, its newest are kept, and
// every record of the first is still there.
func TestSpaceMinCount(t *testing.T) {
	const (
		limitMB, headroomMB = 12, 2
		firstBatches        = 14 // 3.5 MiB
		perFirst            = 4  // batches of the second log per batch of the first
	)
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, spaceConf(limitMB, headroomMB, true,
		spaceLog{"first", 5}, spaceLog{"second", 1})))

	refused, nf, ns := 0, 0, 0
	for range firstBatches {
		refused += d.ship(t, "first", numberedBody("f", nf*spaceBatch, spaceBatch), spaceBatch)
		nf++
		for range perFirst {
			refused += d.ship(t, "second", numberedBody("s", ns*spaceBatch, spaceBatch), spaceBatch)
			ns++
		}
	}
	d.waitQuiet(t, "normal")
	if refused > 0 {
		t.Errorf("%d requests were refused with 503: want every request to succeed with autodelete on", refused)
	}

	first := readLog(t, d.logs, "first.log", "f")
	second := readLog(t, d.logs, "second.log", "s")
	if lo := checkNewest(t, "first.log", first, nf*spaceBatch-1); lo != 0 {
		t.Errorf("first.log (min_count 5, %d rolled files) lost records: it starts at %d", len(first.rolled), lo)
	}
	if len(first.rolled) != 3 {
		t.Errorf("first.log has rolled files %q, want 3 (3.5 MiB in 1 MiB rolls)", first.rolled)
	}
	lo := checkNewest(t, "second.log", second, ns*spaceBatch-1)
	if lo == 0 {
		t.Errorf("second.log (min_count 1) lost no record: autodelete never acted")
	}
	st := d.status(t)
	if st.Space == nil {
		t.Fatal("status --json has no space section")
	}
	postedSecond := int64(ns) * spaceBatchLen
	if first.bytes != int64(nf)*spaceBatchLen || st.Space.DeletedBytes != postedSecond-second.bytes {
		t.Errorf("deleted %d bytes; first.log holds %d of %d bytes posted, second.log %d of %d: the deletions were not all the second's",
			st.Space.DeletedBytes, first.bytes, int64(nf)*spaceBatchLen, second.bytes, postedSecond)
	}
	got := map[string][2]int{}
	for _, ls := range st.Logs {
		got[ls.Name] = [2]int{ls.Rolled, ls.MinCount}
	}
	if want := map[string][2]int{"first.log": {len(first.rolled), 5}, "second.log": {len(second.rolled), 1}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("status logs (rolled files, min_count) %v, want %v as on disk", got, want)
	}
	t.Logf("first.log: %d rolled files, all %d records; second.log: %d rolled files, records %d..%d; %d files deleted",
		len(first.rolled), len(first.ids), len(second.rolled), lo, ns*spaceBatch-1, st.Space.DeletedFiles)
}

// fillLog is what a shipper knows after posting until refused.
type fillLog struct {
	acked   map[int]bool // ids acknowledged
	refused map[int]bool // ids of requests answered 503
	next    int          // next id
	n503    int
}

// fillUntilRefused posts 256 KiB batches to access until a 503 comes back
// (at most maxBatches requests), then three more that must also be refused.
// Every 503 must carry Retry-After.
func (d *daemon) fillUntilRefused(t *testing.T, maxBatches int) *fillLog {
	t.Helper()
	f := &fillLog{acked: map[int]bool{}, refused: map[int]bool{}}
	post := func(n int) int {
		first := f.next
		f.next += n
		a, err := d.do(req{log: "access", ctype: "text/plain", body: numberedBody("a", first, n)})
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		switch a.status {
		case http.StatusOK:
			for id := first; id < first+n; id++ {
				f.acked[id] = true
			}
		case http.StatusServiceUnavailable:
			f.n503++
			if ra := a.header.Get("Retry-After"); ra == "" {
				t.Errorf("503 without Retry-After: %s", a.body)
			} else if secs, err := strconv.Atoi(ra); err != nil || secs < 1 {
				t.Errorf("503 with Retry-After %q, want whole seconds ≥ 1", ra)
			}
			for id := first; id < first+n; id++ {
				f.refused[id] = true
			}
		default:
			t.Fatalf("POST: status %d %s, want 200 or 503", a.status, a.body)
		}
		return a.status
	}
	for b := 0; ; b++ {
		if b == maxBatches {
			t.Fatalf("%d batches (%d MiB) accepted and no 503", b, int64(b)*spaceBatchLen/mib)
		}
		if post(spaceBatch) == http.StatusServiceUnavailable {
			break
		}
	}
	for range 3 {
		if post(spaceBatch) != http.StatusServiceUnavailable {
			t.Errorf("a request after the first 503 was accepted while nothing freed space")
		}
	}
	return f
}

// probe posts one record until it is accepted, every resumeStep, and returns
// how long that took. Past resumeLimit the test fails but keeps trying up to
// waitLimit, so that what follows still runs.
func (d *daemon) probe(t *testing.T, f *fillLog, since time.Time) time.Duration {
	t.Helper()
	for {
		id := f.next
		f.next++
		a, err := d.do(req{log: "access", ctype: "text/plain", body: []byte(numberedLine("a", id))})
		if err != nil {
			t.Fatalf("POST: %v", err)
		}
		switch a.status {
		case http.StatusOK:
			f.acked[id] = true
			delay := time.Since(since)
			if delay > resumeLimit {
				t.Errorf("logging resumed %v after space came back, want within about a second (%v)", delay, resumeLimit)
			}
			return delay
		case http.StatusServiceUnavailable:
			f.refused[id] = true
			f.n503++
		default:
			t.Fatalf("POST: status %d %s, want 200 or 503", a.status, a.body)
		}
		if time.Since(since) > waitLimit {
			t.Fatalf("logging did not resume within %v; status %+v", waitLimit, d.status(t).Space)
		}
		time.Sleep(resumeStep)
	}
}

// checkAcked checks that every acknowledged record of f is on disk exactly
// once (in l) and that no refused one is.
func checkAcked(t *testing.T, f *fillLog, l logOnDisk) {
	t.Helper()
	lost, dup, refused, unknown := 0, 0, 0, 0
	for id := range f.acked {
		switch l.ids[id] {
		case 0:
			lost++
		case 1:
		default:
			dup++
		}
	}
	for id := range l.ids {
		switch {
		case f.refused[id]:
			refused++
		case !f.acked[id]:
			unknown++
		}
	}
	if lost+dup+refused+unknown > 0 {
		t.Errorf("of %d acknowledged records %d are lost and %d written twice; %d refused records and %d never posted are on disk",
			len(f.acked), lost, dup, refused, unknown)
	}
}

// shipAndRemoveRolled does what a cron script does with the rolled files of
// log in dir: it reads (ships) them, then deletes them. It returns what it
// shipped.
func shipAndRemoveRolled(t *testing.T, dir, log, tag string) logOnDisk {
	t.Helper()
	_, rolled := logNames(t, dir, log)
	shipped := readNames(t, dir, rolled, tag)
	for _, n := range rolled {
		if err := os.Remove(filepath.Join(dir, n)); err != nil {
			t.Fatal(err)
		}
	}
	return shipped
}

// waitQuiet waits until the daemon is at rest in the space state want: the
// state is want (and accepting matches it), every log's active file is on
// disk below the 1 MiB roll size with the size status gives it (an
// acknowledgement can come before the roll that its write triggers, and the
// roll's rename before the new active file), and the folder's files, their
// sizes and the deletions counted are the same over two looks 100 ms
// apart (autodelete runs after the write that calls for it).
func (d *daemon) waitQuiet(t *testing.T, want string) ctl.Status {
	t.Helper()
	prev := ""
	var st ctl.Status
	eventually(t, func() string {
		st = d.status(t)
		if st.Space == nil {
			return "status has no space section"
		}
		if st.Space.State != want || st.Accepting != (want != "exhausted") {
			prev = ""
			return fmt.Sprintf("status space %+v accepting %v, want state %s", st.Space, st.Accepting, want)
		}
		entries, err := os.ReadDir(d.logs)
		if err != nil {
			return err.Error()
		}
		var b strings.Builder
		for _, e := range entries {
			fi, err := e.Info()
			if err != nil {
				prev = ""
				return err.Error() // gone since the listing: not at rest
			}
			fmt.Fprintf(&b, "%s %d\n", e.Name(), fi.Size())
		}
		for _, l := range st.Logs {
			fi, err := os.Stat(l.Path)
			if err != nil || fi.Size() >= mib || fi.Size() != l.ActiveBytes {
				prev = ""
				return fmt.Sprintf("active file %s: %v (status %d bytes): a roll is under way", l.Path, err, l.ActiveBytes)
			}
			fmt.Fprintf(&b, "%s rolled %d\n", l.Name, l.Rolled)
		}
		fmt.Fprintf(&b, "deleted %d\n", st.Space.DeletedFiles)
		if cur := b.String(); cur != prev {
			prev = cur
			time.Sleep(100 * time.Millisecond)
			return "the folder is still changing:\n" + cur
		}
		return ""
	})
	return st
}

// TestSpaceExhaustedResume runs without autodelete in a 6 MiB budget with
// 2 MiB headroom (docs/design.md §6): posting until refused gives 503 with
// Retry-After; every acknowledged record is on disk once and refused ones
// are not; a script then deletes the rolled files, and a post succeeds
// within about a second; status shows the state back to normal.
func TestSpaceExhaustedResume(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, spaceConf(6, 2, false)))
	f := d.fillUntilRefused(t, 40)
	d.waitQuiet(t, "exhausted")
	if v := d.metric(t, "proxy.process.log.space_refused_requests"); v != int64(f.n503) {
		t.Errorf("metric space_refused_requests %d, %d requests were refused", v, f.n503)
	}
	if v := d.metric(t, "proxy.process.log.space_state"); v != 2 {
		t.Errorf("metric space_state %d, want 2 (exhausted)", v)
	}
	checkAcked(t, f, readLog(t, d.logs, "access.log", "a"))

	shipped := shipAndRemoveRolled(t, d.logs, "access.log", "a")
	removed := time.Now()
	delay := d.probe(t, f, removed)
	t.Logf("%d records acknowledged, %d requests refused; %d rolled files shipped and removed; logging resumed after %v",
		len(f.acked), f.n503, len(shipped.rolled), delay)
	d.waitQuiet(t, "normal")
	d.postText(t, "access", numberedLine("a", f.next)[:numberedLineLen-1])
	f.acked[f.next] = true
	f.next++
	checkAcked(t, f, shipped.plus(readLog(t, d.logs, "access.log", "a")))
	if st := d.status(t); st.Space.DeletedFiles != 0 {
		t.Errorf("status deleted_files %d with autodelete off", st.Space.DeletedFiles)
	}
	d.checkUsedMatchesDisk(t)
}

// TestSpaceReloadResumes exhausts a 6 MiB budget without autodelete, then
// raises max_space_mb_for_logs and runs `logrollctl config reload`: posts
// succeed again promptly and status shows the new limit, state normal.
func TestSpaceReloadResumes(t *testing.T) {
	dir := tempDir(t)
	path := writeConfig(t, dir, spaceConf(6, 2, false))
	d := startDaemon(t, path)
	f := d.fillUntilRefused(t, 40)
	d.waitQuiet(t, "exhausted")

	writeConfig(t, dir, spaceConf(64, 2, false))
	reload := time.Now()
	d.ctl(t, "config", "reload")
	delay := d.probe(t, f, reload)
	t.Logf("%d records acknowledged, %d requests refused; logging resumed %v after `config reload` began",
		len(f.acked), f.n503, delay)
	d.waitQuiet(t, "normal")
	if st := d.status(t); st.Space.Limit != 64*mib {
		t.Errorf("status limit_bytes %d after the reload, want %d", st.Space.Limit, 64*mib)
	}
	checkAcked(t, f, readLog(t, d.logs, "access.log", "a"))
}

// TestSpaceFullPartition puts the log folder on an 8 MiB tmpfs with a budget
// far larger (1000 MiB, 2 MiB headroom), so that the partition is what runs
// out (docs/design.md §6: low when P ≤ H, exhausted when P is too small to write).
// With autodelete, 24 MiB posted all succeed and the newest records are
// kept; without, posting ends in 503 without losing an acknowledged record,
// and logging resumes once a script deletes the rolled files. The daemon
// never fails a write (write_errors stays 0) and never dies.
func TestSpaceFullPartition(t *testing.T) {
	const part = 8 * mib
	t.Run("autodelete", func(t *testing.T) {
		dir := tempDir(t)
		mountTmpfs(t, filepath.Join(dir, "logs"), fmt.Sprintf("size=%d", part))
		d := startDaemon(t, writeConfig(t, dir, spaceConf(1000, 2, true)))
		const batches = 24 * mib / spaceBatchLen
		refused := 0
		for b := range int(batches) {
			refused += d.ship(t, "access", numberedBody("a", b*spaceBatch, spaceBatch), spaceBatch)
		}
		if refused > 0 {
			t.Errorf("%d requests were refused with 503: want every request to succeed with autodelete on", refused)
		}
		d.waitQuiet(t, "normal")
		l := readLog(t, d.logs, "access.log", "a")
		lo := checkNewest(t, "access.log", l, int(batches)*spaceBatch-1)
		st := d.status(t)
		// The headroom (2 MiB) is more than 15 % of the 8 MiB partition:
		// the partition's headroom is 15 % of it, and the status says so.
		if st.Space.DeletedFiles == 0 || st.Space.PartitionFree <= st.Space.PartitionHeadroom || st.Space.PartitionHeadroom != part/100*15 ||
			len(st.Space.Warnings) != 1 || !strings.Contains(st.Space.Warnings[0], "more than 15% of the log partition") {
			t.Errorf("status space %+v: want deletions and the partition above the partition's headroom, 15%% of it, with a warning", st.Space)
		}
		if v := d.metric(t, "proxy.process.log.write_errors"); v != 0 {
			t.Errorf("write_errors %d: the partition filled up", v)
		}
		if d.hasExited() {
			t.Fatalf("logrolld died")
		}
		t.Logf("%d 503s; kept records %d..%d; %d files deleted; partition free %d bytes",
			refused, lo, int(batches)*spaceBatch-1, st.Space.DeletedFiles, st.Space.PartitionFree)
	})
	t.Run("no autodelete", func(t *testing.T) {
		dir := tempDir(t)
		mountTmpfs(t, filepath.Join(dir, "logs"), fmt.Sprintf("size=%d", part))
		d := startDaemon(t, writeConfig(t, dir, spaceConf(1000, 2, false)))
		f := d.fillUntilRefused(t, 40)
		d.waitQuiet(t, "exhausted")
		st := d.status(t)
		if st.Space.Used >= st.Space.Limit || st.Space.PartitionFree >= st.Space.Headroom {
			t.Errorf("status space %+v: want the partition, not the budget, to be the cause", st.Space)
		}
		checkAcked(t, f, readLog(t, d.logs, "access.log", "a"))
		if v := d.metric(t, "proxy.process.log.write_errors"); v != 0 {
			t.Errorf("write_errors %d: the partition filled up", v)
		}

		shipped := shipAndRemoveRolled(t, d.logs, "access.log", "a")
		delay := d.probe(t, f, time.Now())
		t.Logf("%d records acknowledged, %d requests refused; partition free %d; %d rolled files shipped and removed; logging resumed after %v",
			len(f.acked), f.n503, st.Space.PartitionFree, len(shipped.rolled), delay)
		d.waitQuiet(t, "normal")
		checkAcked(t, f, shipped.plus(readLog(t, d.logs, "access.log", "a")))
		if d.hasExited() {
			t.Fatalf("logrolld died")
		}
	})
}

// TestSpaceExhaustedSaysTodaysFigures: while logging is stopped for space,
// every 503 and `status` quote today's figures and what it takes to resume
// (issue 18 #3: they quoted the figures of the moment logging stopped, with
// "log space exhausted:" twice, and status gave no reason). A script frees
// space to just under the limit: still refused (the headroom is not back),
// with the new figures; then below the limit less the headroom: accepted.
func TestSpaceExhaustedSaysTodaysFigures(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, spaceConf(6, 2, false)))
	f := d.fillUntilRefused(t, 40)
	st := d.waitQuiet(t, "exhausted")
	if r := st.Space.Reason; !strings.Contains(r, "≥ limit 6.0 MiB") || !strings.Contains(r, "resumes when") {
		t.Errorf("status reason %q, want the figures and when logging resumes", r)
	}
	refusal := func() string {
		a, err := d.do(req{log: "access", ctype: "text/plain", body: []byte(numberedLine("a", f.next))})
		if err != nil {
			t.Fatal(err)
		}
		f.refused[f.next] = true
		f.next++
		if a.status != http.StatusServiceUnavailable {
			t.Fatalf("status %d %s, want 503", a.status, a.body)
		}
		return string(a.body)
	}
	before := refusal()
	if strings.Count(before, "log space exhausted") != 1 || !strings.Contains(before, "resumes when") {
		t.Errorf("503 %s: want \"log space exhausted\" once, and when logging resumes", before)
	}

	// A script deletes one rolled file: used falls below the limit but
	// used + headroom does not.
	_, rolled := logNames(t, d.logs, "access.log")
	shipped := readNames(t, d.logs, rolled[:1], "a")
	if err := os.Remove(filepath.Join(d.logs, rolled[0])); err != nil {
		t.Fatal(err)
	}
	var after string
	eventually(t, func() string {
		st := d.status(t)
		if st.Space.Used >= st.Space.Limit {
			return fmt.Sprintf("used %d, still ≥ the limit: the deletion is not seen yet", st.Space.Used)
		}
		after = refusal()
		if after == before {
			return "the 503 still quotes the figures of when logging stopped: " + after
		}
		return ""
	})
	st = d.status(t)
	if st.Space.State != "exhausted" || !strings.Contains(st.Space.Reason, "+ headroom 2.0 MiB") ||
		!strings.Contains(st.Space.Reason, "resumes when used is below 4.0 MiB") || !strings.Contains(after, "resumes when used is below 4.0 MiB") {
		t.Errorf("after the deletion: status %+v, 503 %s; want exhausted until used is below 4.0 MiB, with today's figures", st.Space, after)
	}
	shipped = shipped.plus(shipAndRemoveRolled(t, d.logs, "access.log", "a"))
	d.probe(t, f, time.Now())
	d.waitQuiet(t, "normal")
	checkAcked(t, f, shipped.plus(readLog(t, d.logs, "access.log", "a")))
	t.Logf("503 when logging stopped: %s\n503 after a deletion: %s", before, after)
}
