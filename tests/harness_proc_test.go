package tests

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
