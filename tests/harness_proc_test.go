package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is one child process a test started (logrolld, syslog-ng, a
// shell loop): its stderr kept, killed when the test ends if it still runs.
// Its methods that take t fail the test; the others may run in any
// goroutine.
type proc struct {
	name   string      // the command line, for messages
	cmd    *exec.Cmd   // started
	stderr *syncBuffer // what it wrote to stderr (and to stdout, unless the test took it)
	exited chan struct{}
}

// startProc starts cmd with its stderr (and its stdout, unless set) kept,
// and returns at once. When the test ends the process is killed if it still
// runs (cleanups the caller registers after this one run before), a data
// race it reported fails the test, and its stderr is printed if the test
// failed.
func startProc(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: strings.Join(cmd.Args, " "), cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = p.stderr
	if cmd.Stdout == nil {
		cmd.Stdout = p.stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", p.name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		if !p.hasExited() {
			p.sigkill()
			select {
			case <-p.exited:
			case <-time.After(waitLimit):
				t.Errorf("%s (pid %d) did not die after SIGKILL", p.name, p.pid())
			}
		}
		if strings.Contains(p.stderr.String(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", p.name)
		}
		if t.Failed() {
			t.Logf("%s stderr:\n%s", p.name, p.stderr.String())
		}
	})
	return p
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) hasExited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// exitCode is the exit code once the process has exited (-1 when a signal
// killed it).
func (p *proc) exitCode() int { return p.cmd.ProcessState.ExitCode() }

// signal sends sig.
func (p *proc) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to %s: %v", sig, p.name, err)
	}
}

// sigkill kills the process at once, from any goroutine.
func (p *proc) sigkill() { _ = p.cmd.Process.Signal(syscall.SIGKILL) }

// wait waits up to limit for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.exited:
		return p.exitCode()
	case <-time.After(limit):
		t.Fatalf("%s still running after %v; stderr:\n%s", p.name, limit, p.stderr.String())
		return -1
	}
}

// kill SIGKILLs the process and waits for it to die.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.signal(t, syscall.SIGKILL)
	p.wait(t, waitLimit)
}

// runResult is one run of a program to its end (logrollctl, logrolld
// -version, a script).
type runResult struct {
	args   []string // the command line, the program's base name first
	stdout string
	stderr string
	code   int
}

func (r runResult) String() string {
	return fmt.Sprintf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// runToEnd runs cmd, made with exec.CommandContext(ctx, …), to its end.
// The error says it could not run or ctx ended it; an exit code is not an
// error.
func runToEnd(ctx context.Context, cmd *exec.Cmd) (runResult, error) {
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := runResult{args: append([]string{filepath.Base(cmd.Path)}, cmd.Args[1:]...), stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return r, nil
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s: still running at %v: %w\n%v", strings.Join(r.args, " "), ctx.Err(), err, r)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
		return r, nil
	default:
		return r, fmt.Errorf("%s: %w", strings.Join(r.args, " "), err)
	}
}

// execProgram runs bin with args to its end, within ctlLimit.
func execProgram(bin string, args ...string) (runResult, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ctlLimit)
	defer cancel()
	return runToEnd(ctx, exec.CommandContext(ctx, bin, args...))
}

// runProgram is execProgram failing the test when bin could not run.
func runProgram(t *testing.T, bin string, args ...string) runResult {
	t.Helper()
	r, err := execProgram(bin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// syncBuffer is a bytes.Buffer that a process writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// What /proc says of the process.

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
