package tests

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A real client: Debian's syslog-ng with its http() destination, configured
// by etc/shippers/syslog-ng.conf, delivering to a real logrolld.

const (
	syslogSenders     = 4                        // syslog clients, one connection each
	messagesPerSender = 2500                     // messages per sender: 10,000 in all
	recipeURL         = "http://127.0.0.1:8480/" // what the test changes in the recipe
	syslogLog         = "syslog.log"             // the recipe posts to /v1/logs/syslog
	deliverLimit      = 30 * time.Second         // all messages in, retries included
	syslogNGStopLimit = 10 * time.Second         // syslog-ng's exit after SIGTERM
	messagePad        = "the quick brown fox jumps over the lazy dog"
)

// syslogNG is one syslog-ng process run by a test.
type syslogNG struct {
	*proc
	sock string // its unix-stream source
}

// syslogNGBinary returns syslog-ng's path and its "major.minor" version
// for @version, or skips the test when syslog-ng or its http() module is not
// installed.
func syslogNGBinary(t *testing.T) (bin, version string) {
	t.Helper()
	bin, err := exec.LookPath("syslog-ng")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/syslog-ng"); serr != nil {
			t.Skip("syslog-ng is not installed (Debian: apt-get install syslog-ng-core syslog-ng-mod-http; .ci/run installs them): the real-client test is skipped")
		}
		bin = "/usr/sbin/syslog-ng"
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", bin, err, out)
	}
	m := regexp.MustCompile(`(?m)^syslog-ng \d+ \((\d+\.\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("%s --version: no version in\n%s", bin, out)
	}
	mods := regexp.MustCompile(`(?m)^Available-Modules: (.*)$`).FindSubmatch(out)
	if mods == nil || !contains(strings.Split(string(mods[1]), ","), "http") {
		t.Skip("syslog-ng's http() module is not installed (Debian: apt-get install syslog-ng-mod-http; .ci/run installs it): the real-client test is skipped")
	}
	return bin, string(m[1])
}

// startSyslogNG writes a syslog-ng configuration in dir, a unix-stream
// source s_src plus etc/shippers/syslog-ng.conf with its URL pointed at the
// daemon d, checks it, starts syslog-ng in the foreground with its own
// persist, pid and control files in dir, and waits until the source
// accepts connections. The process is stopped when the test ends.
func startSyslogNG(t *testing.T, dir string, d *daemon) *syslogNG {
	t.Helper()
	recipe := readFile(t, repoFile(t, "etc/shippers/syslog-ng.conf"))
	if n := strings.Count(recipe, recipeURL); n != 1 {
		t.Fatalf("etc/shippers/syslog-ng.conf names %s %d times, want once (the test points it at its daemon)", recipeURL, n)
	}
	return startSyslogNGWith(t, dir, strings.Replace(recipe, recipeURL, "http://"+d.addr+"/", 1))
}

// startSyslogNGWith is startSyslogNG with the recipe's text given.
func startSyslogNGWith(t *testing.T, dir, recipe string) *syslogNG {
	t.Helper()
	bin, version := syslogNGBinary(t)
	recipePath := filepath.Join(dir, "logroll.conf")
	if err := os.WriteFile(recipePath, []byte(recipe), 0o644); err != nil {
		t.Fatal(err)
	}
	s := &syslogNG{sock: filepath.Join(dir, "in.sock")}
	// The window (log-iw-size) is shared by the connections the source may
	// take; the default (1000 for 256) would let 3 messages per connection
	// wait for delivery under flow-control.
	main := fmt.Sprintf(`@version: %s
# written by logroll's tests/syslogng_test.go
options { stats-freq(0); };
source s_src { unix-stream(%q max-connections(8) log-iw-size(80000)); };
@include %q
`, version, s.sock, recipePath)
	conf := filepath.Join(dir, "syslog-ng.conf")
	if err := os.WriteFile(conf, []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "--syntax-only", "-f", conf).CombinedOutput(); err != nil {
		t.Fatalf("syslog-ng --syntax-only -f %s: %v\n%s\n%s", conf, err, out, main)
	}
	cmd := exec.Command(bin, "-F", "-e", "--no-caps", "-f", conf,
		"-R", filepath.Join(dir, "syslog-ng.persist"),
		"-p", filepath.Join(dir, "syslog-ng.pid"),
		"-c", filepath.Join(dir, "syslog-ng.ctl"))
	cmd.Dir = dir
	s.proc = startProc(t, cmd)
	t.Cleanup(func() { s.stop(t) }) // before startProc's kill
	eventually(t, func() string {
		if s.hasExited() {
			t.Fatalf("syslog-ng exited before it was ready:\n%s", s.stderr.String())
		}
		c, err := net.Dial("unix", s.sock)
		if err != nil {
			return "syslog-ng's source " + s.sock + " does not accept connections: " + err.Error()
		}
		c.Close()
		return ""
	})
	return s
}

// stop sends SIGTERM (syslog-ng then sends what it holds) and waits for the
// exit; SIGKILL after syslogNGStopLimit. It can be called more than once.
func (s *syslogNG) stop(t *testing.T) {
	if s.hasExited() {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
		return
	case <-time.After(syslogNGStopLimit):
	}
	t.Errorf("syslog-ng pid %d still running %v after SIGTERM; killed", s.pid(), syslogNGStopLimit)
	s.sigkill()
	<-s.exited
}

// syslogLine is message seq of sender, as a local program writes it to
// /dev/log: "<PRI>TIMESTAMP PROGRAM[PID]: MESSAGE".
func syslogLine(sender, seq int) string {
	return fmt.Sprintf("<14>%s sender%d[%d]: seq=%05d %s\n",
		time.Now().Format(time.Stamp), sender, 1000+sender, seq, messagePad)
}

// send makes each sender write messages [from, to) on its own connection,
// all senders at once, and waits until they are all written (syslog-ng
// reads them as flow-control allows).
func (s *syslogNG) send(t *testing.T, from, to int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, syslogSenders)
	for sender := range syslogSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("unix", s.sock)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			if err := c.SetWriteDeadline(time.Now().Add(deliverLimit)); err != nil {
				errs <- err
				return
			}
			var b strings.Builder
			for seq := from; seq < to; seq++ {
				b.WriteString(syslogLine(sender, seq))
			}
			if _, err := c.Write([]byte(b.String())); err != nil {
				errs <- fmt.Errorf("sender %d: %w", sender, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// syslogRecord is one record as the recipe's format-json writes it.
type syslogRecord struct {
	Time     string `json:"time"`
	Host     string `json:"host"`
	Program  string `json:"program"`
	PID      string `json:"pid"`
	Facility string `json:"facility"`
	Severity string `json:"severity"`
	Message  string `json:"message"`
}

var seqRE = regexp.MustCompile(`^seq=(\d{5}) ` + regexp.QuoteMeta(messagePad) + `$`)

// checkDelivered reads every file of syslog.log in order and checks that
// each sender's messages 0..perSender-1 are there once each and in order,
// with the fields the recipe sends.
func checkDelivered(t *testing.T, d *daemon, perSender int) {
	t.Helper()
	checkDeliveryOrder(t, d, perSender, func(where, line string) (int, int) {
		var r syslogRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s is not a JSON record: %v: %q", where, err, line)
		}
		var sender int
		if _, err := fmt.Sscanf(r.Program, "sender%d", &sender); err != nil || sender < 0 || sender >= syslogSenders {
			t.Fatalf("%s: program %q is not one of the senders: %q", where, r.Program, line)
		}
		m := seqRE.FindStringSubmatch(r.Message)
		if m == nil {
			t.Fatalf("%s: message %q is not a test message", where, r.Message)
		}
		var seq int
		fmt.Sscanf(m[1], "%d", &seq)
		if r.PID != fmt.Sprint(1000+sender) || r.Time == "" || r.Host == "" || r.Facility != "user" || r.Severity != "info" {
			t.Fatalf("%s: fields not as sent (pid %d, facility user, severity info): %q", where, 1000+sender, line)
		}
		return sender, seq
	})
}

// checkDeliveryOrder reads every file of syslog.log in order; parse returns the
// sender and sequence number of each line (and fails the test for a line
// that is not a test message; where is "FILE line N"). Each sender's
// messages 0..perSender-1 must be there once each and in order.
func checkDeliveryOrder(t *testing.T, d *daemon, perSender int, parse func(where, line string) (sender, seq int)) {
	t.Helper()
	next := make([]int, syslogSenders) // next expected seq per sender
	records := 0
	for _, path := range d.filesOf(t, syslogLog) {
		text := readFile(t, path)
		if text != "" && !strings.HasSuffix(text, "\n") {
			t.Errorf("%s does not end with a newline", path)
		}
		for i, line := range lines(text) {
			records++
			where := fmt.Sprintf("%s line %d", filepath.Base(path), i+1)
			sender, seq := parse(where, line)
			if seq != next[sender] {
				t.Fatalf("%s: sender%d message %d, want %d: lost, duplicated or out of order", where, sender, seq, next[sender])
			}
			next[sender]++
		}
	}
	for sender, n := range next {
		if n != perSender {
			t.Errorf("sender%d: %d messages on disk, want %d", sender, n, perSender)
		}
	}
	if records != syslogSenders*perSender {
		t.Errorf("%d records on disk, want %d", records, syslogSenders*perSender)
	}
}

// TestSyslogNG feeds 10,000 messages from four senders through syslog-ng and
// the recipe etc/shippers/syslog-ng.conf into logrolld (1 MiB size rolls, so
// the records span files): every message arrives once, in order per sender.
func TestSyslogNG(t *testing.T) {
	syslogNGBinary(t) // skips when syslog-ng is not installed
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{
		MaxBodyMB: 4, RollingEnabled: `"size"`, SizeMB: 1, Logs: []string{"syslog"},
		Extra: "max_space_mb_headroom = 1\n", // the least: no autodelete unless the disk is nearly full
	}.toml()))
	s := startSyslogNG(t, dir, d)

	begin := time.Now()
	s.send(t, 0, messagesPerSender)
	want := int64(syslogSenders * messagesPerSender)
	d.waitWritten(t, syslogLog, want, deliverLimit)
	elapsed := time.Since(begin)
	s.stop(t) // what it still held is sent before it exits
	if n := d.written(t, syslogLog); n != want {
		t.Errorf("%d records written, want %d", n, want)
	}
	checkDelivered(t, d, messagesPerSender)
	rolled := len(d.rolled(t, syslogLog))
	if rolled == 0 {
		t.Errorf("no size roll: the order check did not span files")
	}
	t.Logf("%d messages from %d senders delivered by syslog-ng in %v, in %d rolled files and the active one",
		want, syslogSenders, elapsed.Round(time.Millisecond), rolled)
}

// TestSyslogNGSpaceExhausted delivers half of the messages, then exhausts the
// daemon's log space with another log so that it answers 503, sends the
// other half (syslog-ng's batches are refused and retried), then frees the
// space the way an operator's script does: every message arrives once, in
// order per sender, and none was written while the daemon refused.
func TestSyslogNGSpaceExhausted(t *testing.T) {
	syslogNGBinary(t) // skips when syslog-ng is not installed
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, exhaustibleConf("syslog", "filler")))
	s := startSyslogNG(t, dir, d)

	half := messagesPerSender / 2
	s.send(t, 0, half)
	firstHalf := int64(syslogSenders * half)
	d.waitWritten(t, syslogLog, firstHalf, deliverLimit)

	fill := d.exhaust(t, "filler")
	refusedBefore := d.metricOr0(t, "proxy.process.log.ingest.requests", "status", "503")
	exhausted := time.Now()
	s.send(t, half, messagesPerSender)
	// Two more 503s: syslog-ng's batch was refused and retried at least once.
	eventuallyWithin(t, deliverLimit, func() string {
		if n := d.metricOr0(t, "proxy.process.log.ingest.requests", "status", "503"); n < refusedBefore+2 {
			return fmt.Sprintf("%d 503 answers to syslog-ng, want 2 (a refused batch and its retry)", n-refusedBefore)
		}
		return ""
	})
	if n := d.written(t, syslogLog); n != firstHalf {
		t.Fatalf("%d records written while the space was exhausted, want the %d of before", n, firstHalf)
	}
	refused := d.metric(t, "proxy.process.log.ingest.requests", "status", "503") - refusedBefore
	freed := d.removeRolled(t, "filler.log")
	resumed := time.Now()

	want := int64(syslogSenders * messagesPerSender)
	d.waitWritten(t, syslogLog, want, deliverLimit)
	delivered := time.Since(resumed)
	s.stop(t)
	if !strings.Contains(s.stderr.String(), "status_code='503'") {
		t.Errorf("syslog-ng did not log a 503 answer:\n%s", s.stderr.String())
	}
	if strings.Contains(s.stderr.String(), "dropped") {
		t.Errorf("syslog-ng dropped messages:\n%s", s.stderr.String())
	}
	checkDelivered(t, d, messagesPerSender)
	t.Logf("%d filler batches exhausted the space; syslog-ng was refused %d times over %v and retried; %d filler files removed; the rest delivered %v later",
		fill, refused, resumed.Sub(exhausted).Round(time.Millisecond), freed, delivered.Round(time.Millisecond))
}
