package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// etc/shippers/curl-ship.sh, the plain curl recipe, against a real daemon.

const curlLines = 20000

// curlInput is the lines the test ships: "curl NNNNN …".
func curlInput() string {
	var b strings.Builder
	for i := range curlLines {
		fmt.Fprintf(&b, "curl %05d GET /shipped/by/curl 200\n", i)
	}
	return b.String()
}

// checkCurlLog checks that access.log's files hold the shipped lines once
// each, in order.
func checkCurlLog(t *testing.T, d *daemon) {
	t.Helper()
	want := lines(curlInput())
	var got []string
	for _, path := range d.filesOf(t, "access.log") {
		got = append(got, lines(readFile(t, path))...)
	}
	if len(got) != len(want) {
		t.Fatalf("%d lines in access.log's files, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("line %d is %q, want %q: lost, duplicated or out of order", i+1, got[i], want[i])
		}
	}
}

// curlCmd runs curl-ship.sh on the test's lines towards d's access log.
func curlCmd(t *testing.T, ctx context.Context, d *daemon, gzip bool) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the curl recipe is not tested")
	}
	cmd := exec.CommandContext(ctx, repoFile(t, "etc/shippers/curl-ship.sh"), "http://"+d.addr+"/v1/logs/access")
	cmd.Stdin = strings.NewReader(curlInput())
	cmd.Env = append(os.Environ(), "LOGROLL_BATCH_LINES=5000")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // curl with it
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if gzip {
		cmd.Env = append(cmd.Env, "LOGROLL_GZIP=1")
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

// TestCurlShipper ships 20,000 lines with etc/shippers/curl-ship.sh in
// batches of 5,000: once plainly, once gzip-compressed while the log space is
// exhausted (503) until a script removes the rolled files that fill it. The
// lines arrive once each and in order, and curl retried the refused batch.
func TestCurlShipper(t *testing.T) {
	t.Run("plain", func(t *testing.T) {
		dir := tempDir(t)
		d := startDaemon(t, writeConfig(t, dir, conf{MaxBodyMB: 4, RollingEnabled: `"size"`, SizeMB: 1, Extra: "max_space_mb_headroom = 1\n"}.toml()))
		ctx, cancel := context.WithTimeout(context.Background(), deliverLimit)
		defer cancel()
		cmd, out := curlCmd(t, ctx, d, false)
		if err := cmd.Run(); err != nil {
			t.Fatalf("curl-ship.sh: %v\n%s", err, out)
		}
		if n := d.metric(t, "proxy.process.log.ingest.requests", "status", "200"); n != curlLines/5000 {
			t.Errorf("%d requests answered 200, want %d batches", n, curlLines/5000)
		}
		checkCurlLog(t, d)
	})
	t.Run("gzip through 503", func(t *testing.T) {
		dir := tempDir(t)
		d := startDaemon(t, writeConfig(t, dir, exhaustibleConf("access", "filler")))
		d.exhaust(t, "filler")
		refusedBefore := d.metricOr0(t, "proxy.process.log.ingest.requests", "status", "503")

		ctx, cancel := context.WithTimeout(context.Background(), deliverLimit)
		defer cancel()
		cmd, out := curlCmd(t, ctx, d, true)
		begin := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		eventuallyWithin(t, deliverLimit, func() string {
			if n := d.metricOr0(t, "proxy.process.log.ingest.requests", "status", "503"); n < refusedBefore+2 {
				return fmt.Sprintf("%d 503 answers to curl, want 2 (a refused batch and its retry)", n-refusedBefore)
			}
			return ""
		})
		if n := d.written(t, "access.log"); n != 0 {
			t.Fatalf("%d records written while the space was exhausted", n)
		}
		d.removeRolled(t, "filler.log")
		freed := time.Now()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("curl-ship.sh: %v\n%s", err, out)
			}
		case <-ctx.Done():
			t.Fatalf("curl-ship.sh did not finish within %v of the start\n%s", deliverLimit, out)
		}
		checkCurlLog(t, d)
		t.Logf("refused for %v, then shipped in %v", freed.Sub(begin).Round(time.Millisecond), time.Since(freed).Round(time.Millisecond))
	})
}
