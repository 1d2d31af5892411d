package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Child processes. Every process the bench starts (logrolld, logrollctl, the
// baseline server) is registered in reg from its start until it has been
// waited for, so that an interrupt (killAll, from the signal handler) can
// kill every one of them, and the temporary folders are registered so that
// it can remove them. Each child also gets Pdeathsig SIGKILL, so that it dies
// with the bench even if the bench is itself killed with SIGKILL.

var reg = struct {
	mu     sync.Mutex
	closed bool
	pids   map[int]*os.Process
	dirs   []string
}{pids: map[int]*os.Process{}}

// errInterrupted is returned by starts refused after killAll.
var errInterrupted = errors.New("interrupted")

// register records a started process; it fails (and kills p) after killAll.
func register(p *os.Process) error {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	if reg.closed {
		_ = p.Kill()
		return errInterrupted
	}
	reg.pids[p.Pid] = p
	return nil
}

// unregister forgets a process that has been waited for.
func unregister(p *os.Process) {
	reg.mu.Lock()
	delete(reg.pids, p.Pid)
	reg.mu.Unlock()
}

// registerDir records a temporary folder for killAll to remove.
func registerDir(dir string) {
	reg.mu.Lock()
	reg.dirs = append(reg.dirs, dir)
	reg.mu.Unlock()
}

// killAll SIGKILLs every registered process, refuses new ones, and removes
// the registered folders. It is for interrupts; the normal path stops each
// child itself.
func killAll() {
	reg.mu.Lock()
	reg.closed = true
	procs := make([]*os.Process, 0, len(reg.pids))
	for _, p := range reg.pids {
		procs = append(procs, p)
	}
	dirs := reg.dirs
	reg.mu.Unlock()
	for _, p := range procs {
		_ = p.Kill()
	}
	// Give the waiters a moment to reap them, so that no folder is in use.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) {
		reg.mu.Lock()
		n := len(reg.pids)
		reg.mu.Unlock()
		if n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, d := range dirs {
		_ = os.RemoveAll(d)
	}
}

// interrupted reports whether killAll has run.
func interrupted() bool {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	return reg.closed
}

// childAttr makes a child die with the bench (Linux).
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// line is one line of a child's stderr and when it was read.
type line struct {
	text string
	at   time.Time
}

// maxLines bounds the stderr lines a child keeps (the first ones: the
// start-up lines); maxTail the bytes of its last output kept for errors.
const (
	maxLines = 200
	maxTail  = 16 << 10
)

// child is a long-running process (logrolld, the baseline server) whose
// stderr is read line by line, each line stamped on arrival.
type child struct {
	name    string
	cmd     *exec.Cmd
	started time.Time // just before exec
	exited  chan struct{}

	mu      sync.Mutex
	lines   []line
	tail    []string
	tailN   int           // bytes in tail
	changed chan struct{} // closed and replaced at each line
	waitErr error
}

// startChild starts bin with args in dir.
func startChild(name, bin string, args []string, dir string) (*child, error) {
	c := &child{name: name, exited: make(chan struct{}), changed: make(chan struct{})}
	c.cmd = exec.Command(bin, args...)
	c.cmd.Dir = dir
	c.cmd.SysProcAttr = childAttr()
	c.cmd.Env = append(os.Environ(), "GORACE=atexit_sleep_ms=0")
	pr, err := c.cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c.started = time.Now()
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	if err := register(c.cmd.Process); err != nil {
		_ = c.cmd.Wait()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.read(pr)
	}()
	go func() {
		<-done // Wait closes the pipe: read it all first
		err := c.cmd.Wait()
		unregister(c.cmd.Process)
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
		close(c.exited)
	}()
	return c, nil
}

// read reads the child's stderr until EOF.
func (c *child) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		now := time.Now()
		text := sc.Text()
		c.mu.Lock()
		if len(c.lines) < maxLines {
			c.lines = append(c.lines, line{text: text, at: now})
		}
		c.tail = append(c.tail, text)
		c.tailN += len(text) + 1
		for len(c.tail) > 1 && c.tailN > maxTail {
			c.tailN -= len(c.tail[0]) + 1
			c.tail = c.tail[1:]
		}
		close(c.changed)
		c.changed = make(chan struct{})
		c.mu.Unlock()
	}
	_, _ = io.Copy(io.Discard, r)
}

// output returns the last lines of the child's stderr, for error messages.
func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.tail, "\n")
}

// waitLine waits until a stderr line matches re and returns its submatches
// and arrival time. It fails when the child exits first or after limit.
func (c *child) waitLine(re *regexp.Regexp, limit time.Duration) ([]string, time.Time, error) {
	timer := time.NewTimer(limit)
	defer timer.Stop()
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.lines); seen++ {
			if m := re.FindStringSubmatch(c.lines[seen].text); m != nil {
				at := c.lines[seen].at
				c.mu.Unlock()
				return m, at, nil
			}
		}
		changed := c.changed
		c.mu.Unlock()
		select {
		case <-changed:
		case <-c.exited:
			// Lines read before the exit are in c.lines: look once more.
			c.mu.Lock()
			found := false
			for i := seen; i < len(c.lines); i++ {
				found = found || re.MatchString(c.lines[i].text)
			}
			c.mu.Unlock()
			if found {
				continue
			}
			return nil, time.Time{}, fmt.Errorf("%s exited (%v) before printing /%s/; stderr:\n%s", c.name, c.exitErr(), re, c.output())
		case <-timer.C:
			return nil, time.Time{}, fmt.Errorf("%s did not print /%s/ within %v; stderr:\n%s", c.name, re, limit, c.output())
		}
	}
}

func (c *child) exitErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.waitErr
}

// pid returns the child's process id.
func (c *child) pid() int { return c.cmd.Process.Pid }

// kill SIGKILLs the child and waits for it to be reaped.
func (c *child) kill() {
	select {
	case <-c.exited:
		return
	default:
	}
	_ = c.cmd.Process.Kill()
	<-c.exited
}

// stop sends SIGTERM and waits up to limit for the child to exit, then
// kills it. It returns the exit error (nil for exit 0).
func (c *child) stop(limit time.Duration) error {
	select {
	case <-c.exited:
		return c.exitErr()
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
		return c.exitErr()
	case <-time.After(limit):
		c.kill()
		return fmt.Errorf("%s did not stop within %v after SIGTERM; killed", c.name, limit)
	}
}

// runShort runs a short-lived command (logrollctl) to completion and returns
// its stdout, stderr and how long it took from just before exec to its exit
// being reaped.
func runShort(ctx context.Context, bin string, args ...string) (stdout, stderr string, took time.Duration, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = childAttr()
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", "", 0, err
	}
	if err := register(cmd.Process); err != nil {
		_ = cmd.Wait()
		return "", "", 0, err
	}
	err = cmd.Wait()
	took = time.Since(start)
	unregister(cmd.Process)
	return out.String(), errb.String(), took, err
}
