package ship

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The on-roll command (on_roll_command): run once per finished file, with
// the file's path as its last argument and its fields in the environment,
// without a shell, in its own process group (a timeout kills the group, so
// a script's children go too). Exit 0 hands the file on; anything else is
// retried with backoff (at least once: a file whose command was running at
// a crash runs again after the restart, so the command must be idempotent).
// A program the command leaves running in the background is its own: the
// command's exit decides, and the output is read for 2 s after it.

// hookOutputMax bounds the output kept for the failure message.
const hookOutputMax = 2048

// HookEnv returns the environment variables an on-roll command gets for it
// (host is the daemon's host name when the rolled name has none): a pure
// function, documented in docs/shipping.md.
func HookEnv(it Item, host string) []string {
	if it.Host != "" {
		host = it.Host
	}
	return []string{
		"LOGROLL_PATH=" + it.Path,
		"LOGROLL_NAME=" + it.Name,
		"LOGROLL_LOG=" + it.Log,
		"LOGROLL_HOST=" + host,
		"LOGROLL_START=" + it.Start.Format(time.RFC3339),
		"LOGROLL_END=" + it.End.Format(time.RFC3339),
		"LOGROLL_BYTES=" + strconv.FormatInt(it.Size, 10),
	}
}

// runHook runs argv for it, at most timeout. A returned error is a *Failure.
func runHook(ctx context.Context, argv []string, it Item, host string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], append(append([]string(nil), argv[1:]...), it.Path)...)
	cmd.Env = append(os.Environ(), HookEnv(it, host)...)
	// Its own group, so that a timeout kills the script's children too;
	// killed with the daemon (a kill -9 would leave it running beside the
	// run the restart makes; a spurious kill, should the thread that
	// started it end, is one more retry).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second // a grandchild holding the pipes open
	out := &tailBuffer{max: hookOutputMax}
	cmd.Stdout, cmd.Stderr = out, out
	err := cmd.Run()
	switch {
	case err == nil:
		return nil
	case errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success():
		// The command exited 0 and left a program in the background
		// holding its output (postrotate's "indexer &"): the file is
		// handed on, and that program's output is no longer read.
		return nil
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return &Failure{Kind: KindTimeout, Err: fmt.Errorf("%s: killed after %v%s", argv[0], timeout, out.suffix())}
	case ctx.Err() != nil:
		return &Failure{Kind: KindExit, Err: fmt.Errorf("%s: stopped: %w", argv[0], ctx.Err())}
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return &Failure{Kind: KindExit, Err: fmt.Errorf("%s: %v%s", argv[0], ee.ProcessState, out.suffix())}
	}
	return &Failure{Kind: KindStart, Err: fmt.Errorf("%s: %w", argv[0], err)}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.buf = append(b.buf, p...)
	if len(b.buf) > b.max {
		b.buf = b.buf[len(b.buf)-b.max:]
	}
	return len(p), nil
}

// suffix returns ": <last output line(s)>" or "".
func (b *tailBuffer) suffix() string {
	s := strings.TrimSpace(string(bytes.ToValidUTF8(b.buf, []byte("?"))))
	if s == "" {
		return ""
	}
	return ": " + strings.ReplaceAll(s, "\n", " | ")
}
