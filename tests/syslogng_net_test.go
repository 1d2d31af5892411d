package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// syslog-ng's network() and syslog() destinations, configured by
// etc/shippers/syslog-ng-network.conf, delivering to logrolld's syslog TCP
// input (docs/syslog.md).

// netRecipeAddr is what the test changes in the recipe.
const netRecipeAddr = `"127.0.0.1" port(5514)`

// startSyslogNGNet starts syslog-ng with the recipe pointed at d's
// syslog TCP port; network replaces the syslog() destination by network().
func startSyslogNGNet(t *testing.T, dir string, d *daemon, network bool) *syslogNG {
	t.Helper()
	recipe := readFile(t, repoFile(t, "etc/shippers/syslog-ng-network.conf"))
	if n := strings.Count(recipe, netRecipeAddr); n != 1 {
		t.Fatalf("etc/shippers/syslog-ng-network.conf names %s %d times, want once", netRecipeAddr, n)
	}
	tcp, _ := d.syslogAddrs(t)
	host, port, _ := strings.Cut(tcp, ":")
	recipe = strings.Replace(recipe, netRecipeAddr, fmt.Sprintf("%q port(%s)", host, port), 1)
	if network {
		if !strings.Contains(recipe, "    syslog(\"") {
			t.Fatal("the recipe has no syslog() destination to replace")
		}
		recipe = strings.Replace(recipe, "    syslog(\"", "    network(\"", 1)
	}
	return startSyslogNGWith(t, dir, recipe)
}

// netLineRE finds the sender and the sequence number in a line as syslog()
// (RFC 5424: "<14>1 TIME HOST senderN 100N - [meta sequenceId="…"] seq=…") or network() (RFC
// 3164: "<14>TIME HOST senderN[100N]: seq=…") writes it.
var netLineRE = regexp.MustCompile(`^<14>(?:1 \S+ \S+ sender(\d) 100(\d) - (?:-|\[[^]]*\]) |[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ sender(\d)\[100(\d)\]: )seq=(\d{5}) ` + regexp.QuoteMeta(messagePad) + `$`)

// checkNetDelivered checks that syslog.log's files hold each sender's
// messages 0..perSender-1 once each and in order, as syslog-ng sent them.
func checkNetDelivered(t *testing.T, d *daemon, perSender int) {
	t.Helper()
	checkDeliveryOrder(t, d, perSender, func(where, line string) (int, int) {
		m := netLineRE.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%s is not a test message as syslog-ng sends it: %q", where, line)
		}
		sender, pid := m[1]+m[3], m[2]+m[4]
		if sender != pid {
			t.Fatalf("%s: sender %s with pid 100%s: %q", where, sender, pid, line)
		}
		s, _ := strconv.Atoi(sender)
		seq, _ := strconv.Atoi(m[5])
		return s, seq
	})
}

// TestSyslogNGNetwork delivers 10,000 messages from four senders through
// syslog-ng's syslog() and network() destinations into logrolld's syslog
// input (1 MiB size rolls, so the order check spans files), then half of
// another 10,000 while the log space is exhausted: logrolld holds its
// batch and stops reading, syslog-ng's flow control holds the rest, and
// once the space is freed every message arrives once, in order per sender.
func TestSyslogNGNetwork(t *testing.T) {
	syslogNGBinary(t) // skips when syslog-ng is not installed
	for _, network := range []bool{false, true} {
		name := "syslog()"
		if network {
			name = "network()"
		}
		t.Run(name, func(t *testing.T) {
			dir := tempDir(t)
			text := exhaustibleConf("syslog", "filler")
			text = strings.Replace(text, "\n[[logs]]", "\n[proxy.config.syslog]\ntcp_listen = \"127.0.0.1:0\"\n\n[[logs]]", 1)
			d := startDaemon(t, writeConfig(t, dir, text))
			s := startSyslogNGNet(t, dir, d, network)

			half := messagesPerSender / 2
			s.send(t, 0, half)
			first := int64(syslogSenders * half)
			d.waitWritten(t, syslogLog, first, deliverLimit)
			d.exhaust(t, "filler")
			retriesBefore := d.metric(t, "proxy.process.log.syslog.write_retries")
			exhausted := time.Now()
			s.send(t, half, messagesPerSender)
			eventuallyWithin(t, deliverLimit, func() string {
				if n := d.metric(t, "proxy.process.log.syslog.write_retries"); n < retriesBefore+10 {
					return "logrolld has not held a refused batch yet"
				}
				return ""
			})
			if n := d.written(t, syslogLog); n != first {
				t.Fatalf("%d records written while the space was exhausted, want the %d of before", n, first)
			}
			d.removeRolled(t, "filler.log")
			resumed := time.Now()
			want := int64(syslogSenders * messagesPerSender)
			d.waitWritten(t, syslogLog, want, deliverLimit)
			s.stop(t)
			if strings.Contains(s.stderr.String(), "dropped") {
				t.Errorf("syslog-ng dropped messages:\n%s", s.stderr.String())
			}
			checkNetDelivered(t, d, messagesPerSender)
			if n := d.metric(t, "proxy.process.log.syslog.messages_refused"); n != 0 {
				t.Errorf("%d messages refused", n)
			}
			t.Logf("%s: held for %v while the space was exhausted; the rest written %v after it came back",
				name, resumed.Sub(exhausted).Round(time.Millisecond), time.Since(resumed).Round(time.Millisecond))
		})
	}
}
