package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// A load: clients posting batches of unique records, each remembering what
// became of every request (harness_disk_test.go checks the disk against
// it). A record is "TAG cCLIENT bBATCH rRECORD xxx…".

// loadRecordPad is the filler of every load record: with the prefix a record
// is about 230 bytes, a batch of 50 about 11.5 KiB.
var loadRecordPad = strings.Repeat("x", 200)

// loadRecord is record r of batch b of client c of the load tagged tag.
func loadRecord(tag string, c, b, r int) string {
	return fmt.Sprintf("%s c%d b%06d r%03d %s", tag, c, b, r, loadRecordPad)
}

// loadRecordLine reads a loadRecord back.
var loadRecordLine = regexp.MustCompile(`^([a-z][a-z0-9]*) c(\d+) b(\d{6}) r(\d{3}) (x+)$`)

// batchKey names one request of a load.
type batchKey struct {
	tag           string
	client, batch int
}

// outcome is what a client knows of one request.
type outcome int

const (
	acked   outcome = iota // 200: every record written
	refused                // an error status: nothing written
	unknown                // no answer: written whole, in part (a crash) or not at all
)

// loadRequest is one request of a load and what its client knows of it.
type loadRequest struct {
	batch   int
	outcome outcome // acked, refused or unknown
	status  int     // HTTP status, 0 without an answer
	detail  string
}

// load is clients posting batches of unique records to one log, each
// client one request at a time, remembering what became of each request.
// A client stops at the first request without an answer (the daemon died
// or is stopping), at an unexpected status (reported as a failure), or when
// stop is called.
type load struct {
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
	results  [][]loadRequest // per client, in order
	failures []string
}

// loadOpts configure startLoad. Zero values: 4 clients, 50 records a
// request, no pause, only 200 expected.
type loadOpts struct {
	clients, batch int
	pause          time.Duration
	refusable      []int
}

// startLoad starts a load tagged tag (lowercase letters and digits)
// against d's log. The clients are stopped when the test ends.
func startLoad(t *testing.T, d *daemon, log, tag string, o loadOpts) *load {
	t.Helper()
	if o.clients == 0 {
		o.clients = 4
	}
	if o.batch == 0 {
		o.batch = 50
	}
	l := &load{
		d: d, log: log, tag: tag, clients: o.clients, batch: o.batch, pause: o.pause,
		refusable: map[int]bool{},
		client: &http.Client{
			Timeout:   waitLimit,
			Transport: &http.Transport{MaxIdleConnsPerHost: o.clients},
		},
		stopping: make(chan struct{}),
		results:  make([][]loadRequest, o.clients),
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
func (l *load) run(c int, addr string) {
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
			body.WriteString(loadRecord(l.tag, c, b, r))
			body.WriteByte('\n')
		}
		s := loadRequest{batch: b}
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

func (l *load) fail(msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.failures) < 20 {
		l.failures = append(l.failures, msg)
	}
}

// stop stops the clients and waits for them (their last requests end, at
// the latest, at the client timeout).
func (l *load) stop() {
	select {
	case <-l.stopping:
	default:
		close(l.stopping)
	}
	l.wg.Wait()
	l.client.CloseIdleConnections()
}

// waitAcked waits until n records are acknowledged in all, failing the
// test after limit or at a client's failure, and returns how long it
// waited.
func (l *load) waitAcked(t *testing.T, n int64, limit time.Duration) time.Duration {
	t.Helper()
	begin := time.Now()
	eventuallyWithin(t, limit, func() string {
		if f := l.failed(); f != "" {
			t.Fatal(f)
		}
		if got := l.acked.Load(); got < n {
			return fmt.Sprintf("load %s: %d records acknowledged, want %d", l.tag, got, n)
		}
		return ""
	})
	return time.Since(begin)
}

// waitRefused waits until n requests in all were refused (at most
// waitLimit).
func (l *load) waitRefused(t *testing.T, n int) {
	t.Helper()
	eventually(t, func() string {
		if f := l.failed(); f != "" {
			t.Fatal(f)
		}
		if got := len(l.refusals()); got < n {
			return fmt.Sprintf("load %s: %d requests refused, want %d", l.tag, got, n)
		}
		return ""
	})
}

// refusals returns the statuses of the refused requests, in order.
func (l *load) refusals() []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []int
	for _, rs := range l.results {
		for _, s := range rs {
			if s.outcome == refused {
				out = append(out, s.status)
			}
		}
	}
	return out
}

// failed returns the clients' failures, "" when none.
func (l *load) failed() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.failures, "\n")
}

// counts returns the requests of each outcome.
func (l *load) counts() (n [3]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, rs := range l.results {
		for _, s := range rs {
			n[s.outcome]++
		}
	}
	return n
}

// loadBody is n records of the load tagged tag, client 0, batch 0.
func loadBody(tag string, n int) []byte {
	var b bytes.Buffer
	for r := range n {
		b.WriteString(loadRecord(tag, 0, 0, r) + "\n")
	}
	return b.Bytes()
}
