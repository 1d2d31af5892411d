package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Helpers of the reliability tests (crash_test.go, faults_test.go,
// soak_test.go, stop_test.go): a load of clients that remember what became
// of every request, a reader that finds every record on disk, and looks at
// the daemon from outside (its stderr, /proc, its metrics). Every name
// starts with rel, so as not to collide with other tests' helpers.

// relRecordPad is the filler of every load record: with the prefix a record
// is about 230 bytes, a batch of 50 about 11.5 KiB.
var relRecordPad = strings.Repeat("x", 200)

// relRecord is record r of batch b of client c of the load tagged tag.
func relRecord(tag string, c, b, r int) string {
	return fmt.Sprintf("%s c%d b%06d r%03d %s", tag, c, b, r, relRecordPad)
}

// relRecordLine reads a relRecord back.
var relRecordLine = regexp.MustCompile(`^([a-z][a-z0-9]*) c(\d+) b(\d{6}) r(\d{3}) (x+)$`)

// relBatchKey names one request of a load.
type relBatchKey struct {
	tag           string
	client, batch int
}

// relSent is one request of a load and what its client knows of it.
type relSent struct {
	batch   int
	outcome outcome // acked, refused or unknown (stop_test.go)
	status  int     // HTTP status, 0 without an answer
	detail  string
}

// relLoad is clients posting batches of unique records to one log, each
// client one request at a time, remembering what became of each request.
// A client stops at the first request without an answer (the daemon died
// or is stopping), at an unexpected status (reported as a failure), or when
// stop is called.
type relLoad struct {
	d       *daemon
	log     string // the path element after /v1/logs/
	tag     string
	clients int
	batch   int           // records per request
	pause   time.Duration // between two requests of a client
	// refusable lists the statuses a request may get besides 200 without
	// it being a failure; they count as refused.
	refusable map[int]bool

	client   *http.Client
	acked    atomic.Int64 // records acknowledged
	stopping chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	results  [][]relSent // per client, in order
	failures []string
}

// relLoadOpts configure relStartLoad. Zero values: 4 clients, 50 records a
// request, no pause, only 200 expected.
type relLoadOpts struct {
	clients, batch int
	pause          time.Duration
	refusable      []int
}

// relStartLoad starts a load tagged tag (lowercase letters and digits)
// against d's log. The clients are stopped when the test ends.
func relStartLoad(t *testing.T, d *daemon, log, tag string, o relLoadOpts) *relLoad {
	t.Helper()
	if o.clients == 0 {
		o.clients = 4
	}
	if o.batch == 0 {
		o.batch = 50
	}
	l := &relLoad{
		d: d, log: log, tag: tag, clients: o.clients, batch: o.batch, pause: o.pause,
		refusable: map[int]bool{},
		client: &http.Client{
			Timeout:   waitLimit,
			Transport: &http.Transport{MaxIdleConnsPerHost: o.clients},
		},
		stopping: make(chan struct{}),
		results:  make([][]relSent, o.clients),
	}
	for _, s := range o.refusable {
		l.refusable[s] = true
	}
	addr := d.addr
	for c := range o.clients {
		l.wg.Add(1)
		go l.run(c, addr)
	}
	t.Cleanup(func() { l.stop() })
	return l
}

// run is client c.
func (l *relLoad) run(c int, addr string) {
	defer l.wg.Done()
	url := "http://" + addr + "/v1/logs/" + l.log
	var body bytes.Buffer
	for b := 0; ; b++ {
		select {
		case <-l.stopping:
			return
		default:
		}
		body.Reset()
		for r := range l.batch {
			body.WriteString(relRecord(l.tag, c, b, r))
			body.WriteByte('\n')
		}
		s := relSent{batch: b}
		resp, err := l.client.Post(url, "text/plain", bytes.NewReader(body.Bytes()))
		if err != nil {
			s.outcome, s.detail = unknown, err.Error()
		} else {
			data, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			s.status = resp.StatusCode
			switch {
			case rerr != nil:
				s.outcome, s.detail = unknown, rerr.Error()
			case resp.StatusCode == http.StatusOK:
				s.outcome = acked
				var a struct{ Records int }
				if err := json.Unmarshal(data, &a); err != nil || a.Records != l.batch {
					l.fail(fmt.Sprintf("client %d batch %d: 200 %s, want {\"records\":%d}", c, b, data, l.batch))
				}
			case l.refusable[resp.StatusCode]:
				s.outcome, s.detail = refused, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(data))
				if (resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests) &&
					resp.Header.Get("Retry-After") == "" {
					l.fail(fmt.Sprintf("client %d batch %d: %s without Retry-After", c, b, resp.Status))
				}
			default:
				s.outcome, s.detail = refused, fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(data))
				l.fail(fmt.Sprintf("client %d batch %d: unexpected status %s", c, b, s.detail))
			}
		}
		l.mu.Lock()
		l.results[c] = append(l.results[c], s)
		l.mu.Unlock()
		if s.outcome == acked {
			l.acked.Add(int64(l.batch))
		}
		if s.outcome == unknown || (s.status != 0 && s.status != http.StatusOK && !l.refusable[s.status]) {
			return
		}
		if l.pause > 0 {
			select {
			case <-l.stopping:
				return
			case <-time.After(l.pause):
			}
		}
	}
}

func (l *relLoad) fail(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 20 {
		l.failures = append(l.failures, msg)
	}
}

// stop stops the clients and waits for them (their last requests end, at
// the latest, at the client timeout).
func (l *relLoad) stop() {
	select {
	case <-l.stopping:
	default:
		close(l.stopping)
	}
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// waitAcked waits until n records are acknowledged, failing the test after
// limit or at a client's failure.
func (l *relLoad) waitAcked(t *testing.T, n int64, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for l.acked.Load() < n {
		if f := l.failed(); f != "" {
			t.Fatal(f)
		}
		if time.Now().After(deadline) {
			t.Fatalf("load %s: only %d records acknowledged after %v, want %d", l.tag, l.acked.Load(), limit, n)
		}
		time.Sleep(pollStep)
	}
}

// failed returns the clients' failures, "" when none.
func (l *relLoad) failed() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.failures, "\n")
}

// counts returns the requests of each outcome.
func (l *relLoad) counts() (n [3]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, rs := range l.results {
		for _, s := range rs {
			n[s.outcome]++
		}
	}
	return n
}

// relDisk is every load record found in a log's files.
type relDisk struct {
	copies map[relBatchKey][]int8 // per request, copies of each record
	files  []string               // the files read, oldest first
	bytes  int64                  // their total size
	// seq is, per client index, its requests in the order they were found,
	// file after file (consecutive records of one request counted once).
	seq map[int][]relBatchKey
	// problems are what is wrong with the files: torn lines, lines that
	// are not records.
	problems []string
}

// relReadLog reads the files extra (outside the folder, say), then every
// file of the log whose active name is log in dir (logFiles: rolled files
// in time order, checked not to overlap, then the active file). Every line
// must be a whole load record and every file must end with a newline.
//
// The daemon may still be running: a size roll follows the acknowledgement
// that triggered it, a time roll comes at the next boundary, autodelete
// follows a roll; any of them may rename or remove a file between the
// listing and the reading. So the folder is listed again after the reading,
// and the whole read repeated until nothing changed in between: what is
// returned is one consistent state of the folder.
func relReadLog(t *testing.T, dir, log string, extra ...string) *relDisk {
	t.Helper()
	return relReadStable(t, func() string { return relListing(t, dir) },
		func() []string { return append(slices.Clone(extra), logFiles(t, dir, log)...) })
}

// relReadStable reads the files files lists (relReadFiles) until listing,
// a description of the folders they are in, did not change during the
// reading, and reports the files' problems: relReadLog for any folders.
func relReadStable(t *testing.T, listing func() string, files func() []string) *relDisk {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		before := listing()
		disk, err := relReadFiles(files())
		if err == nil && listing() == before {
			for i, p := range disk.problems {
				if i == 20 {
					t.Errorf("%d more problems not shown", len(disk.problems)-i)
					break
				}
				t.Error(p)
			}
			return disk
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log folder kept changing while it was read for %v (%v)", waitLimit, err)
		}
	}
}

// relListing describes the folder's entries: names, sizes, inodes.
func relListing(t *testing.T, dir string) string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, e := range ents {
		fi, err := e.Info()
		if err != nil {
			b.WriteString(e.Name() + " gone\n")
			continue
		}
		var ino uint64
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			ino = st.Ino
		}
		fmt.Fprintf(&b, "%s %d %d\n", e.Name(), fi.Size(), ino)
	}
	return b.String()
}

// relReadFiles reads the given files, in that order, as relReadLog does,
// keeping what is wrong with them in problems. A file gone is an error.
// Compressed rolled files (.gz, .zst) are read decompressed.
func relReadFiles(files []string) (*relDisk, error) {
	disk := &relDisk{copies: map[relBatchKey][]int8{}, files: files, seq: map[int][]relBatchKey{}}
	for _, f := range files {
		data, err := readRolled(f)
		if err != nil {
			return nil, err
		}
		disk.bytes += int64(len(data))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			disk.problems = append(disk.problems, fmt.Sprintf("%s: last line torn (no newline): %.80q", filepath.Base(f), data[bytes.LastIndexByte(data, '\n')+1:]))
		}
		for i, line := range lines(string(data)) {
			m := relRecordLine.FindStringSubmatch(line)
			if m == nil || len(m[5]) != len(relRecordPad) {
				disk.problems = append(disk.problems, fmt.Sprintf("%s:%d: not a whole record: %.80q", filepath.Base(f), i+1, line))
				continue
			}
			c, _ := strconv.Atoi(m[2])
			b, _ := strconv.Atoi(m[3])
			r, _ := strconv.Atoi(m[4])
			k := relBatchKey{m[1], c, b}
			if disk.copies[k] == nil {
				disk.copies[k] = make([]int8, 1000)
			}
			disk.copies[k][r]++
			if seq := disk.seq[c]; len(seq) == 0 || seq[len(seq)-1] != k {
				disk.seq[c] = append(seq, k)
			}
		}
	}
	return disk, nil
}

// relCheckLoad checks what the disk holds of load l's requests: an
// acknowledged request's records each exactly once; an unanswered one's
// each at most once, and a prefix of the request (a crash cuts only a torn
// last line); a refused one's none. It returns the acknowledged records
// found and removes the load's requests from disk.copies, so that what is
// left at the end was never sent.
func relCheckLoad(t *testing.T, l *relLoad, disk *relDisk) (ackedOnDisk int) {
	t.Helper()
	errs := 0
	report := func(format string, args ...any) {
		if errs++; errs <= 20 {
			t.Errorf(format, args...)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, rs := range l.results {
		for _, s := range rs {
			k := relBatchKey{l.tag, c, s.batch}
			cp := disk.copies[k]
			delete(disk.copies, k)
			n, dup, prefix := 0, 0, true
			for r := range l.batch {
				var x int8
				if cp != nil {
					x = cp[r]
				}
				if x > 0 {
					n++
					if r > 0 && cp[r-1] == 0 {
						prefix = false
					}
				}
				if x > 1 {
					dup++
				}
			}
			if cp != nil {
				for r := l.batch; r < len(cp); r++ {
					if cp[r] > 0 {
						report("load %s client %d batch %d: record r%03d on disk, but the batch has %d records", l.tag, c, s.batch, r, l.batch)
					}
				}
			}
			switch s.outcome {
			case acked:
				ackedOnDisk += n
				if n != l.batch || dup > 0 {
					report("load %s client %d batch %d acknowledged: %d of its %d records on disk, %d of them more than once", l.tag, c, s.batch, n, l.batch, dup)
				}
			case refused:
				if n > 0 {
					report("load %s client %d batch %d refused (%s): %d of its records on disk", l.tag, c, s.batch, s.detail, n)
				}
			case unknown:
				if dup > 0 || !prefix {
					report("load %s client %d batch %d unanswered (%s): %d records on disk, %d more than once, prefix %v: want each at most once, a prefix of the batch",
						l.tag, c, s.batch, s.detail, n, dup, prefix)
				}
			}
		}
	}
	if errs > 20 {
		t.Errorf("load %s: %d more problems not shown", l.tag, errs-20)
	}
	return ackedOnDisk
}

// relCheckNothingElse fails the test for every request on disk that no
// checked load sent (what relCheckLoad left in disk.copies).
func relCheckNothingElse(t *testing.T, disk *relDisk) {
	t.Helper()
	n := 0
	for k := range disk.copies {
		if n++; n <= 10 {
			t.Errorf("records of load %s client %d batch %d are on disk, but no such request was sent", k.tag, k.client, k.batch)
		}
	}
}

// relCheckOrder checks that each client's requests appear on disk in the
// order they were sent, file after file: loads in the order of tags (a
// client index stands for the same sequential sender in every load), then
// batch numbers.
func relCheckOrder(t *testing.T, disk *relDisk, tags ...string) {
	t.Helper()
	rank := map[string]int{}
	for i, tag := range tags {
		rank[tag] = i
	}
	for c, seq := range disk.seq {
		for i := 1; i < len(seq); i++ {
			a, b := seq[i-1], seq[i]
			if rank[b.tag] < rank[a.tag] || (b.tag == a.tag && b.batch < a.batch) {
				t.Errorf("client %d: load %s batch %d found after load %s batch %d: out of order", c, b.tag, b.batch, a.tag, a.batch)
				break
			}
		}
	}
}

// relCount returns the lines of the daemon's stderr so far that contain s.
func (d *daemon) relCount(s string) int {
	n := 0
	for _, l := range lines(d.stderr.String()) {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// relLines returns the lines of the daemon's stderr that contain s.
func (d *daemon) relLines(s string) []string {
	var out []string
	for _, l := range lines(d.stderr.String()) {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// relMetric reads an unlabelled metric, or a labelled series
// (name{label="v"}), as an integer.
func (d *daemon) relMetric(series string) int64 {
	d.t.Helper()
	v := d.metricValue(series)
	f, err := strconv.ParseFloat(v, 64)
	if err != nil {
		d.t.Fatalf("metric %s = %q: %v", series, v, err)
	}
	return int64(f)
}

// relCtl runs logrollctl -config <d's config> args in the background,
// without touching the test (it may run in any goroutine); the result
// arrives on the channel.
func (d *daemon) relCtl(args ...string) <-chan ctlResult {
	ch := make(chan ctlResult, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), ctlLimit)
		defer cancel()
		all := append([]string{"-config", d.config}, args...)
		cmd := exec.CommandContext(ctx, ctlBin, all...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		res := ctlResult{args: all, stdout: stdout.String(), stderr: stderr.String()}
		if ee, ok := err.(*exec.ExitError); ok {
			res.code = ee.ExitCode()
		} else if err != nil {
			res.code, res.stderr = -1, err.Error()
		}
		ch <- res
	}()
	return ch
}

// relProc is what /proc says of a process.
type relProc struct {
	fds   int
	rss   int64 // VmRSS, bytes
	links []string
}

// relProcOf reads /proc/pid: its open file descriptors (with what they
// point at) and its resident set size.
func relProcOf(t *testing.T, pid int) relProc {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var p relProc
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed while we listed
		}
		p.fds++
		p.links = append(p.links, target)
	}
	sort.Strings(p.links)
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines(string(status)) {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			p.rss = kb << 10
		}
	}
	return p
}

// relPromValue reads one unlabelled series from the daemon's Prometheus
// /metrics (go_goroutines, go_memstats_heap_inuse_bytes, …).
func (d *daemon) relPromValue(name string) float64 {
	d.t.Helper()
	code, body := d.get("/metrics")
	if code != http.StatusOK {
		d.t.Fatalf("GET /metrics: %d", code)
	}
	for _, l := range lines(body) {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				d.t.Fatalf("/metrics %s: %v", l, err)
			}
			return f
		}
	}
	d.t.Fatalf("/metrics has no series %s", name)
	return 0
}

// Inode flags of FS_IOC_SETFLAGS (linux/fs.h), as chattr sets them.
const (
	relImmutable = 0x10 // FS_IMMUTABLE_FL, chattr +i
)

// relSetAttr sets (on) or clears an inode flag (relImmutable) of path, as
// chattr does; root can set them, and then
// even root cannot change what they protect. It reports whether the file
// system supports it. A flag set is cleared when the test ends, so that
// the folder can be removed.
func relSetAttr(t *testing.T, path string, flag int, on bool) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cur, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("get inode flags of %s: %w", path, err)
	}
	v := int(cur) &^ flag
	if on {
		v |= flag
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, v); err != nil {
		return fmt.Errorf("set inode flags of %s: %w", path, err)
	}
	if on {
		t.Cleanup(func() { _ = relSetAttr(t, path, flag, false) })
	}
	return nil
}

// relNeedRoot skips the test when not running as root.
func relNeedRoot(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("%s needs root (the fault cannot be made otherwise: root bypasses mode bits); skipped", what)
	}
}

// relSIGKILL kills the daemon at once, from any goroutine.
func (d *daemon) relSIGKILL() { _ = d.cmd.Process.Signal(syscall.SIGKILL) }

// readRolled returns the content of a log file: a compressed rolled file
// (.old.gz, .old.zst) decompressed by klauspost/compress's readers, any
// other file as it is. A compressed file that does not decompress whole
// (truncated, corrupt) is an error.
func readRolled(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r io.Reader
	switch {
	case strings.HasSuffix(path, ".old.gz"):
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		r = zr
	case strings.HasSuffix(path, ".old.zst"):
		zr, err := zstd.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		defer zr.Close()
		r = zr
	default:
		return data, nil
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}
