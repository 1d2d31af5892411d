package tests

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Helpers of the bad-input, bad-configuration and attack-surface tests
// (badinput_test.go, badconfig_test.go, surface_test.go). Every name starts
// with "in" so that helpers added by other test files cannot collide.

// inMiB is one MiB in bytes.
const inMiB = 1 << 20

// inProcStatus returns a "kB" field of /proc/PID/status (VmHWM, VmRSS) in
// bytes.
func inProcStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", pid, err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		v, ok := strings.CutPrefix(l, field+":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/status %s: %q: %v", pid, field, v, err)
		}
		return kb << 10
	}
	t.Fatalf("/proc/%d/status has no %s", pid, field)
	return 0
}

// inHWM returns the daemon's peak resident set size (VmHWM), in bytes.
func (d *daemon) inHWM() int64 {
	d.t.Helper()
	return inProcStatus(d.t, d.cmd.Process.Pid, "VmHWM")
}

// inRSS returns the daemon's resident set size (VmRSS), in bytes.
func (d *daemon) inRSS() int64 {
	d.t.Helper()
	return inProcStatus(d.t, d.cmd.Process.Pid, "VmRSS")
}

// inFDs returns the number of file descriptors the daemon has open.
func (d *daemon) inFDs() int {
	d.t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", d.cmd.Process.Pid))
	if err != nil {
		d.t.Fatalf("list the daemon's fds: %v", err)
	}
	return len(ents)
}

// inRaceBuild reports whether the binaries are built with -race, whose
// shadow memory makes RSS bounds meaningless.
func inRaceBuild() bool { return os.Getenv("LOGROLL_E2E_RACE") != "" }

// inFile is what inFolder records of one directory entry.
type inFile struct {
	size int64
	mode fs.FileMode
}

// inFolder lists dir: each entry's name, size and mode (of the entry itself,
// not of what a symlink points to).
func inFolder(t *testing.T, dir string) map[string]inFile {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	m := make(map[string]inFile, len(ents))
	for _, e := range ents {
		fi, err := os.Lstat(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatalf("lstat: %v", err)
		}
		m[e.Name()] = inFile{size: fi.Size(), mode: fi.Mode()}
	}
	return m
}

// inFolderDiff describes how after differs from before, "" when equal.
func inFolderDiff(before, after map[string]inFile) string {
	var diffs []string
	for n, b := range before {
		a, ok := after[n]
		switch {
		case !ok:
			diffs = append(diffs, n+" removed")
		case a != b:
			diffs = append(diffs, fmt.Sprintf("%s changed: %d bytes %v -> %d bytes %v", n, b.size, b.mode, a.size, a.mode))
		}
	}
	for n, a := range after {
		if _, ok := before[n]; !ok {
			diffs = append(diffs, fmt.Sprintf("%s appeared (%d bytes %v)", n, a.size, a.mode))
		}
	}
	sort.Strings(diffs)
	return strings.Join(diffs, "; ")
}

// inWriteCounters are the metrics that count what reached the log files
// and what ingest acknowledged.
var inWriteCounters = []string{
	"proxy.process.log.records_written",
	"proxy.process.log.bytes_written",
	"proxy.process.log.write_calls",
	"proxy.process.log.ingest.records_accepted",
}

// inCounters reads inWriteCounters (the unlabelled totals) through
// `logrollctl metric get`.
func (d *daemon) inCounters() map[string]string {
	d.t.Helper()
	r := d.mustCtl(append([]string{"metric", "get"}, inWriteCounters...)...)
	got := map[string]string{}
	for _, l := range lines(r.stdout) {
		name, value, ok := strings.Cut(l, " ")
		if ok && !strings.Contains(name, "{") {
			got[name] = value
		}
	}
	for _, n := range inWriteCounters {
		if _, ok := got[n]; !ok {
			d.t.Fatalf("metric get: no %s: %v", n, r)
		}
	}
	return got
}

// inRawAnswer is the answer to a raw request: the status (0 when the
// connection was closed without an answer), the body, and how long it
// took.
type inRawAnswer struct {
	status int
	header http.Header
	body   string
	err    error // why no answer was read
	took   time.Duration
}

// inRaw sends raw bytes to addr on a new connection and reads one HTTP
// answer, waiting at most limit.
func inRaw(t *testing.T, addr string, raw []byte, limit time.Duration) inRawAnswer {
	t.Helper()
	begin := time.Now()
	conn, err := net.DialTimeout("tcp", addr, waitLimit)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	conn.SetDeadline(begin.Add(limit))
	if _, err := conn.Write(raw); err != nil {
		// The server may answer and close before reading everything (413).
		t.Logf("raw write: %v", err)
	}
	return inReadAnswer(conn, begin)
}

// inReadAnswer reads one HTTP answer from conn.
func inReadAnswer(conn net.Conn, begin time.Time) inRawAnswer {
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return inRawAnswer{err: err, took: time.Since(begin)}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return inRawAnswer{status: resp.StatusCode, header: resp.Header, body: string(body), err: err, took: time.Since(begin)}
}

// inConnClosed waits up to limit for the peer to close conn (a read
// returning EOF or a reset) and reports whether it did and after how long
// since begin. Bytes the peer sends meanwhile are discarded.
func inConnClosed(conn net.Conn, begin time.Time, limit time.Duration) (bool, time.Duration) {
	conn.SetReadDeadline(time.Now().Add(limit))
	buf := make([]byte, 4096)
	for {
		_, err := conn.Read(buf)
		if err == nil {
			continue
		}
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			return false, time.Since(begin)
		}
		return true, time.Since(begin)
	}
}

// inLaunch starts logrolld with args in dir (its working directory) and
// returns at once, like launch, for what launch cannot do: no -config (the
// embedded defaults, relative to dir), or a umask (umask >= 0: through
// sh -c 'umask U && exec logrolld ARGS', so the pid is logrolld's). The
// daemon's log folder is taken to be dir/logs.
func inLaunch(t *testing.T, dir string, umask int, args ...string) *daemon {
	t.Helper()
	d := &daemon{
		t:      t,
		dir:    dir,
		logs:   filepath.Join(dir, "logs"),
		stderr: &syncBuffer{},
		exited: make(chan struct{}),
	}
	for i, a := range args {
		if a == "-config" && i+1 < len(args) {
			d.config = args[i+1]
		}
	}
	if umask >= 0 {
		script := fmt.Sprintf(`umask %03o && exec "$0" "$@"`, umask)
		d.run(exec.Command("/bin/sh", append([]string{"-c", script, daemonBin}, args...)...))
	} else {
		d.run(exec.Command(daemonBin, args...))
	}
	return d
}

// inSocketInodes returns the inodes of the sockets pid has open.
func inSocketInodes(t *testing.T, pid int) map[string]bool {
	t.Helper()
	fdDir := fmt.Sprintf("/proc/%d/fd", pid)
	ents, err := os.ReadDir(fdDir)
	if err != nil {
		t.Fatalf("list %s: %v", fdDir, err)
	}
	inodes := map[string]bool{}
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(fdDir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(target, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return inodes
}

// inProcNetAddr decodes an address of /proc/net/{tcp,udp}{,6}: the IP in
// hex, 32-bit words in host (little-endian) order, then the port.
func inProcNetAddr(s string) string {
	hexIP, hexPort, _ := strings.Cut(s, ":")
	port, _ := strconv.ParseUint(hexPort, 16, 16)
	var ip net.IP
	for i := 0; i+8 <= len(hexIP); i += 8 {
		w, _ := strconv.ParseUint(hexIP[i:i+8], 16, 32)
		ip = append(ip, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10))
}

// inNetSockets returns the TCP sockets pid listens on and the UDP sockets
// it has, as "tcp 127.0.0.1:8480" / "udp …", from /proc/net.
func inNetSockets(t *testing.T, pid int) []string {
	t.Helper()
	inodes := inSocketInodes(t, pid)
	var out []string
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", pid, table))
		if err != nil {
			continue // no IPv6
		}
		for _, l := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(l)
			if len(f) < 10 || !inodes[f[9]] {
				continue
			}
			proto := strings.TrimSuffix(table, "6")
			if proto == "tcp" && f[3] != "0A" { // not LISTEN
				continue
			}
			out = append(out, proto+" "+inProcNetAddr(f[1]))
		}
	}
	sort.Strings(out)
	return out
}

// inCtl runs logrollctl -socket <the daemon's socket> args: unlike d.ctl,
// it reaches the daemon whatever its config file says now (a changed
// local_state_dir names another socket).
func (d *daemon) inCtl(args ...string) ctlResult {
	d.t.Helper()
	return runCtl(d.t, append([]string{"-socket", d.socket}, args...)...)
}

// inConfigValues runs `config get NAMES…` on the socket and returns each
// full name's global value.
func (d *daemon) inConfigValues(names ...string) map[string]string {
	d.t.Helper()
	r := d.inCtl(append([]string{"config", "get"}, names...)...)
	if r.code != 0 {
		d.t.Fatalf("want exit 0: %v", r)
	}
	got := map[string]string{}
	for _, l := range lines(r.stdout) {
		if name, value, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(name, "logs[") {
			got[name] = value
		}
	}
	return got
}
