package tests

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Numbered records: "tag 00000042 xxx…", numberedLineLen bytes each,
// posted in the order of their numbers, so that a file's records say how
// old it is whatever its name says. harness_numbered_read_test.go reads
// them back.

const numberedLineLen = 128 // bytes per record, newline included

// numberedLine is record id of the stream tag: "tag 00000042 xxx…\n", exactly
// numberedLineLen bytes.
func numberedLine(tag string, id int) string {
	head := fmt.Sprintf("%s %08d ", tag, id)
	return head + strings.Repeat("x", numberedLineLen-1-len(head)) + "\n"
}

var numberedLineRE = regexp.MustCompile(`^([a-z]+) (\d{8}) x+$`)

// numberedBody is n records of tag from id first on.
func numberedBody(tag string, first, n int) []byte {
	var b strings.Builder
	b.Grow(n * numberedLineLen)
	for id := first; id < first+n; id++ {
		b.WriteString(numberedLine(tag, id))
	}
	return []byte(b.String())
}

// postNumbered posts records first..first+n-1 of tag to log once and returns the
// answer.
func (d *daemon) postNumbered(t *testing.T, log, tag string, first, n int) answer {
	t.Helper()
	return d.mustDo(t, req{log: log, ctype: "text/plain", body: numberedBody(tag, first, n)})
}

// numberedPoster posts numbered records of one tag to one log, one request at a
// time, every pause, until stopped. Any answer but 200 is a failure.
type numberedPoster struct {
	d      *daemon
	log    string
	tag    string
	batch  int
	pause  time.Duration
	stopCh chan struct{}
	done   chan struct{}

	mu      sync.Mutex
	next    int    // id of the next record to post
	failure string // first failure, "" when none
}

// startNumberedPoster starts posting batch records of tag to log every pause.
// The numberedPoster is stopped when the test ends.
func startNumberedPoster(t *testing.T, d *daemon, log, tag string, batch int, pause time.Duration) *numberedPoster {
	p := &numberedPoster{d: d, log: log, tag: tag, batch: batch, pause: pause,
		stopCh: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	t.Cleanup(p.stop)
	return p
}

func (p *numberedPoster) run() {
	defer close(p.done)
	client := &http.Client{Timeout: waitLimit}
	url := "http://" + p.d.addr + "/v1/logs/" + p.log
	for {
		select {
		case <-p.stopCh:
			return
		case <-time.After(p.pause):
		}
		p.mu.Lock()
		first := p.next
		p.mu.Unlock()
		resp, err := client.Post(url, "text/plain", strings.NewReader(string(numberedBody(p.tag, first, p.batch))))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %s", resp.Status)
			}
		}
		p.mu.Lock()
		if err != nil {
			p.failure = fmt.Sprintf("POST records %d..%d: %v", first, first+p.batch-1, err)
			p.mu.Unlock()
			return
		}
		p.next += p.batch
		p.mu.Unlock()
	}
}

// stop stops the numberedPoster and waits for its last request.
func (p *numberedPoster) stop() {
	select {
	case <-p.stopCh:
	default:
		close(p.stopCh)
	}
	<-p.done
}

// acked returns the number of records acknowledged (ids 0..acked-1) and the
// first failure.
func (p *numberedPoster) acked() (int, string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next, p.failure
}
