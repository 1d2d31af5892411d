package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// outcome is what a client knows of one request.
type outcome int

const (
	acked   outcome = iota // 200: every record written
	refused                // an error status: nothing written
	unknown                // no answer: written whole or not at all
)

// sent is one request of the load.
type sent struct {
	batch   int
	outcome outcome
	detail  string
}

// loadRecord is the line of record r of batch b of client c; the line
// regexp below reads it back.
func loadRecord(c, b, r int) string {
	return fmt.Sprintf("rec c%d b%06d r%02d %s", c, b, r, strings.Repeat("x", 200))
}

var loadLine = regexp.MustCompile(`^rec c(\d) b(\d{6}) r(\d{2}) x{200}$`)

// TestSIGTERMUnderLoad stops the daemon with SIGTERM while four clients post
// numbered records and the log rolls on size and by force (DESIGN §2, §3,
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
					body.WriteString(loadRecord(c, b, r) + "\n")
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
			_ = d.cmd.Process.Signal(syscall.SIGKILL)
		}
		wg.Wait()
	}
	defer stopClients()

	waitAcked := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(2 * waitLimit)
		for ackedRecords.Load() < n {
			select {
			case f := <-failures:
				t.Fatal(f)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("only %d records acknowledged after %v, want %d", ackedRecords.Load(), 2*waitLimit, n)
			}
			time.Sleep(pollStep)
		}
	}
	forced := 0
	for _, n := range []int64{1000, 2500} {
		waitAcked(n)
		forced += len(d.roll())
	}
	waitAcked(target)
	if forced == 0 { // 1 is possible: a size roll just before a forced one
		t.Errorf("forced rolls under load rolled no file")
	}
	if v := d.metricValue(`proxy.process.log.rolls{cause="size"}`); v == "0" {
		t.Errorf("no size roll happened before SIGTERM: the test does not exercise rolls under load")
	}

	termSent.Store(true)
	termAt := time.Now()
	d.signal(syscall.SIGTERM)
	code := d.wait(5 * time.Second)
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
			m := loadLine.FindStringSubmatch(l)
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

// logFiles returns the rolled files of log in dir, oldest first (by START,
// END and collision number, checking that they never overlap in time), then
// its active file. Any other file but the daemon's hidden ones is an error.
func logFiles(t *testing.T, dir, log string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type rolled struct {
		path       string
		start, end time.Time
		seq        int
	}
	var rs []rolled
	for _, e := range entries {
		n := e.Name()
		switch m := rolledName.FindStringSubmatch(n); {
		case n == log || strings.HasPrefix(n, "."):
		case m != nil && m[1] == log:
			p := filepath.Join(dir, n)
			start, end := parseRolled(t, p, dir, log)
			seq, _ := strconv.Atoi(strings.TrimPrefix(m[4], "."))
			rs = append(rs, rolled{p, start, end, seq})
		default:
			t.Errorf("unexpected file %s in the log folder", n)
		}
	}
	sort.Slice(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if !a.start.Equal(b.start) {
			return a.start.Before(b.start)
		}
		if !a.end.Equal(b.end) {
			return a.end.Before(b.end)
		}
		return a.seq < b.seq
	})
	var out []string
	for i, r := range rs {
		if i > 0 && r.start.Before(rs[i-1].end) {
			t.Errorf("%s starts before the end of %s: rolled files overlap", filepath.Base(r.path), filepath.Base(rs[i-1].path))
		}
		out = append(out, r.path)
	}
	if _, err := os.Stat(filepath.Join(dir, log)); err == nil {
		out = append(out, filepath.Join(dir, log))
	}
	return out
}
