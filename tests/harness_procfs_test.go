package tests

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// What /proc says of a process the test started: its memory, its owner,
// its CPU time, its descriptors and sockets.

// procStatus returns a field of /proc/PID/status as written ("VmHWM",
// "Uid").
func (p *proc) procStatus(t *testing.T, field string) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		t.Fatalf("read /proc/%d/status: %v", p.pid(), err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("/proc/%d/status has no %s", p.pid(), field)
	return ""
}

// memory returns a "kB" field of /proc/PID/status in bytes.
func (p *proc) memory(t *testing.T, field string) int64 {
	t.Helper()
	v := p.procStatus(t, field)
	kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(v, "kB")), 10, 64)
	if err != nil {
		t.Fatalf("/proc/%d/status %s: %q: %v", p.pid(), field, v, err)
	}
	return kb << 10
}

// hwm returns the peak resident set size (VmHWM), in bytes.
func (p *proc) hwm(t *testing.T) int64 { t.Helper(); return p.memory(t, "VmHWM") }

// rss returns the resident set size (VmRSS), in bytes.
func (p *proc) rss(t *testing.T) int64 { t.Helper(); return p.memory(t, "VmRSS") }

// ids returns the effective uid and gid.
func (p *proc) ids(t *testing.T) (uid, gid uint32) {
	t.Helper()
	for _, f := range []struct {
		name string
		id   *uint32
	}{{"Uid", &uid}, {"Gid", &gid}} {
		fs := strings.Fields(p.procStatus(t, f.name)) // real, effective, saved, fs
		if len(fs) < 2 {
			t.Fatalf("/proc/%d/status %s: %q", p.pid(), f.name, fs)
		}
		v, err := strconv.ParseUint(fs[1], 10, 32)
		if err != nil {
			t.Fatalf("/proc/%d/status %s: %v", p.pid(), f.name, err)
		}
		*f.id = uint32(v)
	}
	return uid, gid
}

// cpuTicks returns the user and system CPU time so far, in clock ticks
// (/proc/PID/stat fields 14 and 15).
func (p *proc) cpuTicks(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		t.Fatal(err)
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	var ticks int64
	for _, s := range f[11:13] { // utime, stime: fields 14 and 15
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("/proc/%d/stat: %v", p.pid(), err)
		}
		ticks += v
	}
	return ticks
}

// fds returns what each open file descriptor points at (readlink of
// /proc/PID/fd/N: a path, "socket:[INODE]", "pipe:[…]"), sorted; a
// descriptor closed while they are listed is left out.
func (p *proc) fds(t *testing.T) []string {
	t.Helper()
	dir := fmt.Sprintf("/proc/%d/fd", p.pid())
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("list %s: %v", dir, err)
	}
	var links []string
	for _, e := range ents {
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		links = append(links, target)
	}
	sort.Strings(links)
	return links
}

// netSockets returns the TCP sockets the process listens on and the UDP
// sockets it has, as "tcp 127.0.0.1:8480" / "udp …", from /proc/PID/net.
func (p *proc) netSockets(t *testing.T) []string {
	t.Helper()
	inodes := map[string]bool{}
	for _, l := range p.fds(t) {
		if ino, ok := strings.CutPrefix(l, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"tcp", "tcp6", "udp", "udp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", p.pid(), table))
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
			out = append(out, proto+" "+procNetAddr(f[1]))
		}
	}
	sort.Strings(out)
	return out
}

// procNetAddr decodes an address of /proc/net/{tcp,udp}{,6}: the IP in
// hex, 32-bit words in host (little-endian) order, then the port.
func procNetAddr(s string) string {
	hexIP, hexPort, _ := strings.Cut(s, ":")
	port, _ := strconv.ParseUint(hexPort, 16, 16)
	var ip net.IP
	for i := 0; i+8 <= len(hexIP); i += 8 {
		w, _ := strconv.ParseUint(hexIP[i:i+8], 16, 32)
		ip = append(ip, byte(w), byte(w>>8), byte(w>>16), byte(w>>24))
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10))
}
