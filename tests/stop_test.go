package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// sent is one request of the load.
type sent struct {
	batch   int
	outcome outcome
	detail  string
}

// termRecord is the line of record r of batch b of client c; the line
// regexp below reads it back.
func termRecord(c, b, r int) string {
	return fmt.Sprintf("rec c%d b%06d r%02d %s", c, b, r, strings.Repeat("x", 200))
}

var termLine = regexp.MustCompile(`^rec c(\d) b(\d{6}) r(\d{2}) x{200}$`)

// TestSIGTERMUnderLoad stops the daemon with SIGTERM while four clients post
// numbered records and the log rolls on size and by force (docs/design.md §2, §3,
// §5): the daemon exits 0 within 5 s without rolling; every acknowledged
// record is on disk exactly once, every request is all-or-nothing, no line
// is torn, each client's records are in the order it sent them, and the
// rolled files never overlap in time.
func TestSIGTERMUnderLoad(t *testing.T) {
	const (
		clients = 4
		batch   = 50
		target  = 20000 // acknowledged records before SIGTERM: > 1 MiB after the forced rolls
	)
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{RollingEnabled: `"size"`, SizeMB: 1, MaxBodyMB: 1}.toml()))

	client := &http.Client{
		Timeout:   waitLimit,
		Transport: &http.Transport{MaxIdleConnsPerHost: clients},
	}
	defer client.CloseIdleConnections()
	var (
		ackedRecords atomic.Int64
		termSent     atomic.Bool
		wg           sync.WaitGroup
		results      [clients][]sent
		failures     = make(chan string, 64)
	)
	fail := func(msg string) { // never blocks a client
		select {
		case failures <- msg:
		default:
		}
	}
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				if d.hasExited() {
					return
				}
				var body bytes.Buffer
				for r := range batch {
					body.WriteString(termRecord(c, b, r) + "\n")
				}
				s := sent{batch: b}
				resp, err := client.Post("http://"+d.addr+"/v1/logs/access", "text/plain", &body)
				var answer struct {
					Records int `json:"records"`
				}
				stop := false // after a failure the test reports
				switch {
				case err != nil:
					s.outcome, s.detail = unknown, err.Error()
				case resp.StatusCode == http.StatusOK:
					err = json.NewDecoder(resp.Body).Decode(&answer)
					s.outcome = acked
					if err != nil || answer.Records != batch {
						fail(fmt.Sprintf("client %d batch %d: 200 with records %d (%v), want %d", c, b, answer.Records, err, batch))
						stop = true
					}
				case resp.StatusCode == http.StatusServiceUnavailable || resp.StatusCode == http.StatusTooManyRequests:
					s.outcome, s.detail = refused, resp.Status
					if resp.Header.Get("Retry-After") == "" {
						fail(fmt.Sprintf("client %d batch %d: %s without Retry-After", c, b, resp.Status))
					}
				default:
					s.outcome, s.detail = refused, resp.Status
					fail(fmt.Sprintf("client %d batch %d: unexpected %s", c, b, resp.Status))
					stop = true
				}
				if resp != nil {
					resp.Body.Close()
				}
				results[c] = append(results[c], s)
				if s.outcome == acked {
					ackedRecords.Add(batch)
				}
				if s.outcome == unknown || s.outcome == refused && resp.StatusCode == http.StatusServiceUnavailable {
					if !termSent.Load() {
						fail(fmt.Sprintf("client %d batch %d: %s before SIGTERM", c, b, s.detail))
					}
					stop = true // the daemon is stopping
				}
				if stop {
					return
				}
			}
		}()
	}
	stopClients := func() {
		// Clients end on their first failure after SIGTERM, or when they
		// see the daemon gone; make sure of it if the test ends early.
		if !d.hasExited() {
			termSent.Store(true)
			d.sigkill()
		}
		wg.Wait()
	}
	defer stopClients()

	waitAcked := func(n int64) {
		t.Helper()
		eventuallyWithin(t, 2*waitLimit, func() string {
			select {
			case f := <-failures:
				t.Fatal(f)
			default:
			}
			if got := ackedRecords.Load(); got < n {
				return fmt.Sprintf("only %d records acknowledged, want %d", got, n)
			}
			return ""
		})
	}
	forced := 0
	for _, n := range []int64{1000, 2500} {
		waitAcked(n)
		forced += len(d.roll(t))
	}
	waitAcked(target)
	if forced == 0 { // 1 is possible: a size roll just before a forced one
		t.Errorf("forced rolls under load rolled no file")
	}
	if v := d.metric(t, "proxy.process.log.rolls", "cause", "size"); v == 0 {
		t.Errorf("no size roll happened before SIGTERM: the test does not exercise rolls under load")
	}

	termSent.Store(true)
	termAt := time.Now()
	d.signal(t, syscall.SIGTERM)
	code := d.wait(t, 5*time.Second)
	t.Logf("SIGTERM after %d acknowledged records; exit %d after %v", ackedRecords.Load(), code, time.Since(termAt).Round(time.Millisecond))
	if code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	wg.Wait()
	close(failures)
	for f := range failures {
		t.Error(f)
	}
	// A graceful stop does not roll; a size roll by the last accepted
	// records' write is still a size roll.
	if _, after, ok := strings.Cut(d.stderr.String(), "msg=stopping"); ok {
		for _, l := range lines(after) {
			if strings.Contains(l, "msg=rolled") && !strings.Contains(l, "cause=size") {
				t.Errorf("the daemon rolled after SIGTERM (a graceful stop does not roll): %s", l)
			}
		}
	}

	files := logFiles(t, d.logs, "access.log")
	type key struct{ client, batch int }
	seen := map[key][]bool{}
	lastBatch := [clients]int{-1, -1, -1, -1}
	for _, f := range files {
		data := readFile(t, f)
		if data != "" && !strings.HasSuffix(data, "\n") {
			t.Errorf("%s: last line torn (no newline): %q", f, data[strings.LastIndexByte(data, '\n')+1:])
		}
		for i, l := range lines(data) {
			m := termLine.FindStringSubmatch(l)
			if m == nil {
				t.Errorf("%s:%d: not a whole record: %.80q", f, i+1, l)
				continue
			}
			c, _ := strconv.Atoi(m[1])
			b, _ := strconv.Atoi(m[2])
			r, _ := strconv.Atoi(m[3])
			k := key{c, b}
			if seen[k] == nil {
				seen[k] = make([]bool, batch)
			}
			if seen[k][r] {
				t.Errorf("%s:%d: record c%d b%d r%d written twice", f, i+1, c, b, r)
			}
			seen[k][r] = true
			if b < lastBatch[c] {
				t.Errorf("%s:%d: client %d's batch %d after its batch %d: out of order", f, i+1, c, b, lastBatch[c])
			}
			lastBatch[c] = b
		}
	}
	var total [3]int
	for c := range clients {
		for _, s := range results[c] {
			total[s.outcome]++
			if s.outcome != acked {
				t.Logf("client %d batch %d: %s", c, s.batch, s.detail)
			}
			n := 0
			for _, ok := range seen[key{c, s.batch}] {
				if ok {
					n++
				}
			}
			delete(seen, key{c, s.batch})
			switch {
			case s.outcome == acked && n != batch:
				t.Errorf("client %d batch %d acknowledged, but %d of its %d records are on disk", c, s.batch, n, batch)
			case s.outcome == refused && n != 0:
				t.Errorf("client %d batch %d refused (%s), but %d of its records are on disk", c, s.batch, s.detail, n)
			case s.outcome == unknown && n != 0 && n != batch:
				t.Errorf("client %d batch %d unanswered (%s): %d of its %d records on disk, want all or none", c, s.batch, s.detail, n, batch)
			}
		}
	}
	for k := range seen {
		t.Errorf("records of client %d batch %d on disk, but it was never sent", k.client, k.batch)
	}
	t.Logf("%d requests acknowledged, %d refused, %d unanswered; %d files", total[acked], total[refused], total[unknown], len(files))
}

// TestSIGTERMInFlight stops the daemon with SIGTERM while three requests
// are at different stages (docs/design.md §2, §3; docs/daemon.md "A graceful stop"):
//
//   - A has sent its headers and half its body: it was in flight (its
//     handler runs). It sends the rest after the stop began and gets 200;
//     its records are on disk.
//   - B has sent its headers and part of its body and then stalls: after the
//     stop timeout (4 s) its connection is closed without an answer, and
//     nothing of it is written.
//   - C has sent only part of its headers: the daemon never began it; when
//     it completes them after the stop began it gets 503 with Retry-After,
//     and nothing of it is written.
//   - A new connection while A and B are in flight is answered 503 with
//     Retry-After (the listener stays open during the drain), on any path;
//     once the daemon has exited, connections are refused.
//
// The daemon exits 0 within 5 s of SIGTERM, says once that it closed
// connections at the stop timeout, counting B (the one request still in
// flight then), and writes no file but the active one.
func TestSIGTERMInFlight(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	const n = 40
	a := dialRaw(t, d, loadBody("a", n))
	b := dialRaw(t, d, loadBody("b", n))
	c := dialRaw(t, d, loadBody("c", n))
	for _, err := range []error{
		a.send(append(a.head, a.body[:len(a.body)/2]...)),
		b.send(append(b.head, b.body[:len(b.body)/3]...)),
		c.send(c.head[:len(c.head)/2]),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.ingest.requests_in_flight"); v != 2 {
			return fmt.Sprintf("%d ingest requests in flight, want A and B", v)
		}
		return ""
	})

	termAt := time.Now()
	d.signal(t, syscall.SIGTERM)
	// The stop has begun once /healthz answers 503; the listener is still
	// open (A and B are in flight), and a new request gets 503 with
	// Retry-After, not a refused connection.
	eventually(t, func() string {
		if code, _ := d.get(t, "/healthz"); code != http.StatusServiceUnavailable {
			return fmt.Sprintf("/healthz answers %d after SIGTERM, want 503", code)
		}
		return ""
	})
	n2 := dialRaw(t, d, loadBody("n", 1))
	if err := n2.send(append(n2.head, n2.body...)); err != nil {
		t.Fatalf("a new request during the drain: %v", err)
	}
	if ans := n2.answer(); ans.err != nil || ans.status != http.StatusServiceUnavailable || ans.header.Get("Retry-After") == "" {
		t.Errorf("a new request during the drain: %d %v %v, want 503 with Retry-After", ans.status, ans.header, ans.err)
	} else {
		t.Logf("a new request during the drain: %d %s", ans.status, ans.body)
	}

	if err := a.send(a.body[len(a.body)/2:]); err != nil {
		t.Fatalf("A: rest of the body after SIGTERM: %v", err)
	}
	switch ans := a.answer(); {
	case ans.err != nil:
		t.Errorf("A (in flight at SIGTERM): no answer: %v", ans.err)
	case ans.status != http.StatusOK || ans.body != fmt.Sprintf(`{"records":%d}`, n):
		t.Errorf("A (in flight at SIGTERM): %d %s, want 200 {\"records\":%d}", ans.status, ans.body, n)
	}

	if err := c.send(append(c.head[len(c.head)/2:], c.body...)); err != nil {
		t.Errorf("C (not begun at SIGTERM): the rest of its request: %v", err)
	} else if ans := c.answer(); ans.err != nil || ans.status != http.StatusServiceUnavailable || ans.header.Get("Retry-After") == "" {
		t.Errorf("C (not begun at SIGTERM): %d %v %q %v, want 503 with Retry-After", ans.status, ans.header, ans.body, ans.err)
	}

	code := d.wait(t, 5*time.Second-time.Since(termAt))
	took := time.Since(termAt)
	if code != 0 {
		t.Errorf("exit %d after SIGTERM, want 0", code)
	}
	if ans := b.answer(); ans.err == nil {
		t.Errorf("B (stalled in its body): answered %d %s, want its connection closed", ans.status, ans.body)
	}
	if got := d.logCount("stop timeout: closed ingest connections still in flight"); got != 1 {
		t.Errorf("%d \"stop timeout\" lines, want 1", got)
	}
	if got := d.logCount("1 request(s) still in flight"); got != 1 {
		t.Errorf("the stop timeout line does not count B, the one request in flight:\n%s", d.stderr.String())
	}
	if conn, err := net.DialTimeout("tcp", d.addr, waitLimit); err == nil {
		conn.Close()
		t.Errorf("the ingest port still accepts connections after the daemon exited")
	}
	disk := readLoads(t, d.logs, "access.log")
	if len(disk.files) != 1 {
		t.Errorf("files %q after a graceful stop, want the active file only (a stop does not roll)", disk.files)
	}
	for _, tag := range []string{"a", "b", "c"} {
		got := 0
		for _, x := range disk.copies[batchKey{tag, 0, 0}] {
			got += int(x)
		}
		want := 0
		if tag == "a" {
			want = n
		}
		if got != want {
			t.Errorf("request %s: %d records on disk, want %d", strings.ToUpper(tag), got, want)
		}
	}
	t.Logf("exit %d %v after SIGTERM", code, took.Round(time.Millisecond))
}

// TestSecondSIGTERMExitsAtOnce sends a second SIGTERM while a graceful stop
// waits for a request stalled in its body (docs/daemon.md, "Signals"): the
// daemon exits at once with 1 and says that records accepted but not yet
// written are lost; records acknowledged before are on disk.
func TestSecondSIGTERMExitsAtOnce(t *testing.T) {
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	d.postText(t, "access", loadRecord("a", 0, 0, 0), loadRecord("a", 0, 0, 1))
	stalled := dialRaw(t, d, loadBody("b", 10))
	if err := stalled.send(append(stalled.head, stalled.body[:10]...)); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() string {
		if v := d.metric(t, "proxy.process.log.ingest.requests_in_flight"); v != 1 {
			return fmt.Sprintf("%d ingest requests in flight, want the stalled one", v)
		}
		return ""
	})
	d.signal(t, syscall.SIGTERM)
	// The graceful stop has begun (and the second signal is watched for)
	// once /healthz answers 503.
	eventually(t, func() string {
		if code, _ := d.get(t, "/healthz"); code != http.StatusServiceUnavailable {
			return fmt.Sprintf("/healthz answers %d after SIGTERM, want 503", code)
		}
		return ""
	})
	second := time.Now()
	d.signal(t, syscall.SIGTERM)
	if code := d.wait(t, 2*time.Second); code != 1 {
		t.Errorf("exit %d after a second SIGTERM, want 1", code)
	}
	took := time.Since(second)
	if got := d.logCount("msg=stopping"); got != 1 {
		t.Errorf("%d \"stopping\" lines, want 1", got)
	}
	if got := d.logCount("second signal: exiting without finishing the graceful stop"); got != 1 {
		t.Errorf("%d \"second signal\" lines, want 1", got)
	}
	disk := readLoads(t, d.logs, "access.log")
	if cp := disk.copies[batchKey{"a", 0, 0}]; cp == nil || cp[0] != 1 || cp[1] != 1 {
		t.Errorf("the records acknowledged before the signals are not on disk once each")
	}
	if disk.copies[batchKey{"b", 0, 0}] != nil {
		t.Errorf("records of the stalled request are on disk")
	}
	t.Logf("exit %v after the second SIGTERM", took.Round(time.Millisecond))
}
