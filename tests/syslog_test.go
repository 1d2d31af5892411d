package tests

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The syslog input (docs/syslog.md) against real senders: util-linux
// logger over TCP (newline and octet-counted) and UDP in both formats, with
// routing by app name and facility; the UDP loss count; bad input with its
// bounds. syslog-ng's network() and syslog() destinations are in
// syslogng_net_test.go.

// syslogListenLine reads the syslog listeners' addresses from the start-up lines.
var syslogListenLine = regexp.MustCompile(`msg="logrolld syslog listening" transport=(tcp|udp) addr=(\S+)`)

// syslogAddrs returns the daemon's syslog TCP and UDP addresses ("" when off).
func (d *daemon) syslogAddrs(t *testing.T) (tcp, udp string) {
	t.Helper()
	for _, m := range syslogListenLine.FindAllStringSubmatch(d.stderr.String(), -1) {
		if m[1] == "tcp" {
			tcp = m[2]
		} else {
			udp = m[2]
		}
	}
	return tcp, udp
}

// syslogConf is a records.toml with both syslog listeners on free loopback
// ports, the logs given (plus "syslog"), each log's table body after its
// filename taken from routes, and extra records of [proxy.config.log].
func syslogConf(extra string, logs []string, routes map[string]string) string {
	c := conf{
		MaxBodyMB: 4, RollingEnabled: `"size"`, SizeMB: 1, Logs: []string{},
		Extra: extra + "\n[proxy.config.syslog]\ntcp_listen = \"127.0.0.1:0\"\nudp_listen = \"127.0.0.1:0\"\n",
	}.toml()
	for _, l := range append([]string{"syslog"}, logs...) {
		c += fmt.Sprintf("\n[[logs]]\nfilename = %q\n%s", l, routes[l])
	}
	return c
}

// startSyslog starts a daemon on syslogConf and returns it with its syslog
// addresses.
func startSyslog(t *testing.T, extra string, logs []string, routes map[string]string) (*daemon, string, string) {
	t.Helper()
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, syslogConf(extra, logs, routes)))
	tcp, udp := d.syslogAddrs(t)
	if tcp == "" || udp == "" {
		t.Fatalf("no syslog listening lines:\n%s", d.stderr.String())
	}
	return d, tcp, udp
}

// runLogger runs util-linux logger with args, the messages on its
// standard input (one a line), against addr.
func runLogger(t *testing.T, addr string, stdin string, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("util-linux logger is not installed")
	}
	host, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command(bin, append([]string{"--server", host, "--port", port}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("logger %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// activeLines returns the lines of a log's active file.
func (d *daemon) activeLines(t *testing.T, log string) []string {
	t.Helper()
	return lines(readFile(t, filepath.Join(d.logs, log)))
}

// logger5424RE and logger3164RE match the lines util-linux logger writes in each format:
// RFC 5424 "<PRI>1 TIMESTAMP HOST TAG - - [timeQuality…] MSG" and RFC 3164
// "<PRI>Mmm dd hh:mm:ss HOST TAG: MSG".
var (
	logger5424RE = regexp.MustCompile(`^<(\d+)>1 \d{4}-\d\d-\d\dT\S+ \S+ (\S+) - - \[timeQuality[^]]*\] (.*)$`)
	logger3164RE = regexp.MustCompile(`^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ ([^:\s]+): (.*)$`)
)

// TestSyslogLogger sends messages with util-linux logger in every
// transport, framing and format it has, routed by app name and facility,
// and checks that each arrives once, in order, exactly as logger sent it
// (checked against the format's shape), in its log.
func TestSyslogLogger(t *testing.T) {
	d, tcp, udp := startSyslog(t, "", []string{"auth", "web"}, map[string]string{
		"auth": `syslog_facility = ["auth", "authpriv"]` + "\n",
		"web":  `syslog_app_name = ["nginx"]` + "\n",
	})
	type run struct {
		name   string
		addr   string
		args   []string
		format *regexp.Regexp
	}
	runs := []run{
		{"tcp newline rfc5424", tcp, []string{"--tcp", "--rfc5424"}, logger5424RE},
		{"tcp octet rfc5424", tcp, []string{"--tcp", "--octet-count", "--rfc5424"}, logger5424RE},
		{"tcp newline rfc3164", tcp, []string{"--tcp", "--rfc3164"}, logger3164RE},
		{"tcp octet rfc3164", tcp, []string{"--tcp", "--octet-count", "--rfc3164"}, logger3164RE},
		{"udp rfc5424", udp, []string{"--udp", "--rfc5424"}, logger5424RE},
		{"udp rfc3164", udp, []string{"--udp", "--rfc3164"}, logger3164RE},
	}
	want := map[string][]string{} // log → "tag|pri|message" in order
	for i, r := range runs {
		for _, dest := range []struct{ tag, prio, log string }{
			{"myapp", "user.info", "syslog.log"}, // 14
			{"sshd", "auth.notice", "auth.log"},  // 37
			{"sudo", "authpriv.err", "auth.log"}, // 83
			{"nginx", "local7.info", "web.log"},  // 190: the app name wins
			{"nginx", "auth.info", "web.log"},    // 38: the app name wins over the facility too
		} {
			var in strings.Builder
			for j := range 50 {
				fmt.Fprintf(&in, "run %d %s message %02d ünïcode\n", i, r.name, j)
			}
			runLogger(t, r.addr, in.String(), append(r.args, "--tag", dest.tag, "--priority", dest.prio)...)
			for j := range 50 {
				want[dest.log] = append(want[dest.log], fmt.Sprintf("%s|%d|run %d %s message %02d ünïcode", dest.tag, priOf(dest.prio), i, r.name, j))
			}
			// Each logger is written before the next starts: the order
			// of the file is then the order sent. Two loggers are two
			// connections (or datagrams read after the exit of the
			// first), which the daemon serves side by side.
			total := 0
			for _, w := range want {
				total += len(w)
			}
			eventually(t, func() string {
				if n := d.metric(t, "proxy.process.log.syslog.messages_written"); n != int64(total) {
					return fmt.Sprintf("after %s %s: %d messages written, want %d", r.name, dest.tag, n, total)
				}
				return ""
			})
		}
	}
	for log, w := range want {
		var got []string
		for _, l := range d.activeLines(t, log) {
			m := logger5424RE.FindStringSubmatch(l)
			if m == nil {
				m = logger3164RE.FindStringSubmatch(l)
			}
			if m == nil {
				t.Fatalf("%s: line %q is not as logger sends it", log, l)
			}
			got = append(got, m[2]+"|"+m[1]+"|"+m[3])
		}
		if !slices.Equal(got, w) {
			t.Errorf("%s: %d lines, want %d; first difference: %s", log, len(got), len(w), firstDiff(got, w))
		}
	}
	if n := d.metric(t, "proxy.process.log.syslog.messages_refused"); n != 0 {
		t.Errorf("%d messages refused", n)
	}
}

// priOf is the PRI of a logger priority "facility.level".
func priOf(p string) int {
	fac := map[string]int{"user": 1, "auth": 4, "authpriv": 10, "local7": 23}
	lvl := map[string]int{"err": 3, "notice": 5, "info": 6}
	f, l, _ := strings.Cut(p, ".")
	return fac[f]*8 + lvl[l]
}

func firstDiff(got, want []string) string {
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			return fmt.Sprintf("line %d: %q, want %q", i+1, got[i], want[i])
		}
	}
	if len(got) > len(want) {
		return fmt.Sprintf("extra %q", got[len(want)])
	}
	if len(want) > len(got) {
		return fmt.Sprintf("missing %q", want[len(got)])
	}
	return "none"
}

// TestSyslogBadInput sends, on TCP and UDP, every kind of malformed syslog
// between good messages: each bad one is refused and counted by reason,
// nothing of it written; the good ones are written; a bad octet count and
// a stream cut in the middle of a frame end their connection.
func TestSyslogBadInput(t *testing.T) {
	d, tcp, udp := startSyslog(t, "", nil, nil)
	good := func(i int) string { return fmt.Sprintf("<13>1 2026-11-21T06:00:00Z h app - - - good %d", i) }
	long := "<13>1 2026-11-21T06:00:00Z h app - - - " + strings.Repeat("x", 70000) // over 65536
	cases := []struct {
		name, stream, reason string
	}{
		{"invalid PRI", "<192>1 2026-11-21T06:00:00Z h app - - - pri 192\n", "syntax"},
		{"PRI not a number", "<x>1 2026-11-21T06:00:00Z h app - - - pri x\n", "syntax"},
		{"no PRI", "just text\n", "syntax"},
		{"bad RFC 5424 timestamp", "<13>1 yesterday h app - - - ts\n", "syntax"},
		{"bad structured data", "<13>1 2026-11-21T06:00:00Z h app - - [unclosed sd\n", "syntax"},
		{"invalid UTF-8", "<13>1 2026-11-21T06:00:00Z h app - - - \xc3\x28 bad\n", "utf8"},
		{"NUL", "<13>1 2026-11-21T06:00:00Z h app - - - a\x00b\n", "nul"},
		{"oversize line", long + "\n", "oversize"},
		{"oversize octet frame", fmt.Sprintf("%d %s", len(long), long), "oversize"},
	}
	// All on one connection, a good message before and after each.
	var stream strings.Builder
	for i, c := range cases {
		stream.WriteString(good(i) + "\n")
		stream.WriteString(c.stream)
	}
	stream.WriteString(good(len(cases)) + "\n")
	sendSyslog(t, tcp, stream.String())
	// Connection enders, each on its own connection after a good message.
	sendSyslog(t, tcp, good(100)+"\n"+"12a <13>1 - - - - - - x")           // bad octet count
	sendSyslog(t, tcp, good(101)+"\n"+"0 \n")                              // zero length
	sendSyslog(t, tcp, good(102)+"\n"+"60 <13>1 2026-11-21T06:00:00Z h a") // cut mid-frame
	sendSyslog(t, tcp, good(103)+"\n"+"<13>1 2026-11-21T06:00:00Z h a - - - no LF")
	// UDP: one datagram each.
	uc, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer uc.Close()
	for _, dg := range []string{"<13>no header", "\xff\xfe", "<13>1 2026-11-21T06:00:00Z h app - - - a\x00b", good(200)} {
		uc.Write([]byte(dg))
	}
	wantRefused := map[string]int64{"syntax": 5 + 1, "utf8": 1 + 1, "nul": 1 + 1, "oversize": 2, "length": 2, "cut": 2}
	eventually(t, func() string {
		for r, n := range wantRefused {
			if got := d.metricOr0(t, "proxy.process.log.syslog.messages_refused", "reason", r); got != n {
				return fmt.Sprintf("refused{reason=%q} = %d, want %d", r, got, n)
			}
		}
		if n := d.metric(t, "proxy.process.log.syslog.messages_written"); n != int64(len(cases)+1+4+1) {
			return fmt.Sprintf("%d written", n)
		}
		return ""
	})
	var want []string
	for i := range len(cases) + 1 {
		want = append(want, good(i))
	}
	want = append(want, good(100), good(101), good(102), good(103), good(200))
	got := d.activeLines(t, "syslog.log")
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("syslog.log: %s", firstDiff(got, want))
	}
	if strings.Count(d.stderr.String(), "syslog message refused") == 0 {
		t.Error("no refusal in the daemon's log")
	}
}

// sendSyslog writes data on a new TCP connection to addr, then closes it.
func sendSyslog(t *testing.T, addr, data string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(data)); err != nil {
		t.Fatal(err)
	}
}

// TestSyslogBounds opens 200 connections at once, half sending endless
// lines without a newline (each discarded as oversize as it comes), half
// stalled in the middle of a frame: the daemon's peak RSS and goroutines
// stay bounded, nothing is written, and once the connections close the
// goroutines are back where they were. A 257th connection is refused at
// once (256 at most), and still nothing else suffers: a message sent then
// is written.
func TestSyslogBounds(t *testing.T) {
	d, tcp, _ := startSyslog(t, "", nil, nil)
	sendSyslog(t, tcp, "<13>1 - h a - - - warm up\n")
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.messages_written"); n != 1 {
			return "warm-up not written"
		}
		return ""
	})
	baseHWM := d.hwm(t)
	baseG := d.goMetric(t, "go_goroutines")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	var conns []net.Conn
	var mu sync.Mutex
	chunk := bytes.Repeat([]byte("y"), 64<<10)
	for i := range 200 {
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
		if i%2 == 1 {
			c.Write([]byte("<13>1 - h a - - - stalled frame without end"))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Write([]byte("<13>1 - h a - - - "))
			for sent := 0; sent < 4<<20 && ctx.Err() == nil; sent += len(chunk) {
				c.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if _, err := c.Write(chunk); err != nil {
					return
				}
			}
		}()
	}
	wg.Wait() // 400 MB discarded
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.connections"); n != 200 {
			return fmt.Sprintf("%d connections open, want 200", n)
		}
		return ""
	})
	g := d.goMetric(t, "go_goroutines")
	hwm := d.hwm(t)
	t.Logf("200 connections: goroutines %v → %v, VmHWM %.1f → %.1f MiB", baseG, g, float64(baseHWM)/mib, float64(hwm)/mib)
	if g > baseG+200+10 {
		t.Errorf("%v goroutines for 200 connections (%v before): more than one each", g, baseG)
	}
	// Each connection holds a 64 KiB buffer (an oversize frame is
	// discarded as it comes, never buffered), plus its goroutine's stack
	// and the socket: 200 × (64 + 8) KiB ≈ 14 MiB; 32 MiB of slack for the
	// runtime.
	if bound := baseHWM + 48*mib; hwm > bound && !raceBuild() {
		t.Errorf("VmHWM %.1f MiB, over the bound %.1f MiB", float64(hwm)/mib, float64(bound)/mib)
	}
	if n := d.metric(t, "proxy.process.log.syslog.messages_refused", "reason", "oversize"); n != 100 {
		t.Errorf("%d refused as oversize, want 100 (one per endless line)", n)
	}
	// More than MaxConns: refused at once, the others unharmed.
	for range 60 {
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.connections_refused"); n != 4 {
			return fmt.Sprintf("%d connections refused, want 4 (260 for 256)", n)
		}
		return ""
	})
	for _, c := range conns {
		c.Close()
	}
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.connections"); n != 0 {
			return fmt.Sprintf("%d connections still open", n)
		}
		if g := d.goMetric(t, "go_goroutines"); g > baseG+2 {
			return fmt.Sprintf("%v goroutines, %v before the connections", g, baseG)
		}
		return ""
	})
	sendSyslog(t, tcp, "<13>1 - h a - - - after\n")
	eventually(t, func() string {
		if got := d.activeLines(t, "syslog.log"); !slices.Equal(got, []string{"<13>1 - h a - - - warm up", "<13>1 - h a - - - after"}) {
			return fmt.Sprintf("syslog.log = %q", got)
		}
		return ""
	})
	if n := d.metric(t, "proxy.process.log.syslog.messages_refused", "reason", "cut"); n != 100 {
		t.Errorf("%d refused as cut, want 100 (the stalled frames)", n)
	}
}

// TestSyslogUDPLossCounted exhausts the log space, floods the UDP port
// while the daemon holds its batch and reads nothing, then frees the space:
// every datagram sent is either on disk once or counted in udp_dropped, and
// the written ones are in the order sent.
func TestSyslogUDPLossCounted(t *testing.T) {
	dir := tempDir(t)
	text := exhaustibleConf("syslog", "filler")
	text = strings.Replace(text, "\n[[logs]]", "\n[proxy.config.syslog]\nudp_listen = \"127.0.0.1:0\"\n\n[[logs]]", 1)
	d := startDaemon(t, writeConfig(t, dir, text))
	_, udp := d.syslogAddrs(t)
	d.exhaust(t, "filler")
	c, err := net.Dial("udp", udp)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const flood = 30000
	for i := range flood {
		fmt.Fprintf(c, "<13>1 2026-11-21T06:00:00Z h app - - - datagram %05d %s", i, strings.Repeat("u", 60))
	}
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.write_retries"); n == 0 {
			return "no refused batch yet"
		}
		return ""
	})
	if n := d.written(t, "syslog.log"); n != 0 {
		t.Fatalf("%d written while the space was exhausted", n)
	}
	d.removeRolled(t, "filler.log")
	eventually(t, func() string {
		if d.written(t, "syslog.log") == 0 {
			return "nothing written after the space came back"
		}
		return ""
	})
	// Wait until the socket's buffer is drained (nothing written for half
	// a second): the kernel's drop count comes with the next datagram read,
	// which must find room.
	for last, stable := int64(-1), time.Now(); time.Since(stable) < 500*time.Millisecond; time.Sleep(50 * time.Millisecond) {
		if n := d.written(t, "syslog.log"); n != last {
			last, stable = n, time.Now()
		}
	}
	fmt.Fprintf(c, "<13>1 2026-11-21T06:00:00Z h app - - - datagram %05d last", flood)
	var written, dropped int64
	eventually(t, func() string {
		written = d.metric(t, "proxy.process.log.syslog.messages_written")
		dropped = d.metric(t, "proxy.process.log.syslog.udp_dropped")
		if written+dropped != flood+1 {
			return fmt.Sprintf("%d written + %d dropped, want %d sent", written, dropped, flood+1)
		}
		return ""
	})
	if dropped == 0 {
		t.Errorf("no datagram dropped: the flood did not fill the socket buffer")
	}
	var got []string
	for _, path := range d.filesOf(t, "syslog.log") {
		got = append(got, lines(readFile(t, path))...)
	}
	if int64(len(got)) != written {
		t.Fatalf("%d lines in syslog.log's files, %d written", len(got), written)
	}
	prev := -1
	for _, l := range got {
		var n int
		if _, err := fmt.Sscanf(l[strings.Index(l, "datagram"):], "datagram %05d", &n); err != nil || n <= prev {
			t.Fatalf("line %q out of order or malformed (after %d)", l, prev)
		}
		prev = n
	}
	t.Logf("%d datagrams: %d written, %d dropped by the kernel while the space was exhausted", flood+1, written, dropped)
}

// TestSyslogIdleConnectionsEvicted fills the syslog TCP port with 256
// connections that send nothing: a util-linux logger connecting then is
// turned away (its message is not written, connections_refused counts
// it). A minute later the idle connections may make room: the same logger
// message is written, and connections_evicted counts the connection
// closed for it (docs/syslog.md, "Bounds").
func TestSyslogIdleConnectionsEvicted(t *testing.T) {
	t.Parallel() // a minute of waiting
	d, tcp, _ := startSyslog(t, "", nil, nil)
	var idle []net.Conn
	for range 256 {
		c, err := net.Dial("tcp", tcp)
		if err != nil {
			t.Fatal(err)
		}
		idle = append(idle, c)
	}
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.connections"); n != 256 {
			return fmt.Sprintf("%d connections open, want 256", n)
		}
		return ""
	})
	runLogger(t, tcp, "", "--tcp", "--octet-count", "--rfc5424", "-t", "app", "turned away")
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.connections_refused"); n != 1 {
			return fmt.Sprintf("%d connections refused, want 1", n)
		}
		return ""
	})
	time.Sleep(61 * time.Second)
	runLogger(t, tcp, "", "--tcp", "--octet-count", "--rfc5424", "-t", "app", "made room")
	eventually(t, func() string {
		if n := d.metric(t, "proxy.process.log.syslog.messages_written"); n != 1 {
			return fmt.Sprintf("%d messages written, want the second one", n)
		}
		return ""
	})
	got := d.activeLines(t, "syslog.log")
	if len(got) != 1 || !strings.HasSuffix(got[0], "made room") {
		t.Errorf("syslog.log holds %q, want the message sent after a minute", got)
	}
	if n := d.metric(t, "proxy.process.log.syslog.connections_evicted"); n != 1 {
		t.Errorf("%d connections evicted, want 1", n)
	}
	if n := d.logCount("closed the one idle longest to make room"); n != 1 {
		t.Errorf("%d eviction warnings, want 1", n)
	}
}
