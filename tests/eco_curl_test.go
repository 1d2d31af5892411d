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

const ecoCurlLines = 20000

// ecoCurlInput is the lines the test ships: "curl NNNNN …".
func ecoCurlInput() string {
	var b strings.Builder
	for i := range ecoCurlLines {
		fmt.Fprintf(&b, "curl %05d GET /shipped/by/curl 200\n", i)
	}
	return b.String()
}

// ecoCheckCurlLog checks that access.log's files hold the shipped lines once
// each, in order.
func ecoCheckCurlLog(t *testing.T, d *daemon) {
	t.Helper()
	want := lines(ecoCurlInput())
	var got []string
	for _, path := range d.ecoLogFiles("access.log") {
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

// ecoCurlCmd runs curl-ship.sh on the test's lines towards d's access log.
func ecoCurlCmd(t *testing.T, ctx context.Context, d *daemon, gzip bool) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the curl recipe is not tested")
	}
	cmd := exec.CommandContext(ctx, ecoRepoFile(t, "etc/shippers/curl-ship.sh"), "http://"+d.addr+"/v1/logs/access")
	cmd.Stdin = strings.NewReader(ecoCurlInput())
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
		ctx, cancel := context.WithTimeout(context.Background(), ecoDeliverLimit)
		defer cancel()
		cmd, out := ecoCurlCmd(t, ctx, d, false)
		if err := cmd.Run(); err != nil {
			t.Fatalf("curl-ship.sh: %v\n%s", err, out)
		}
		if n := d.ecoProm(`proxy_process_log_ingest_requests_total{status="200"}`); n != ecoCurlLines/5000 {
			t.Errorf("%d requests answered 200, want %d batches", n, ecoCurlLines/5000)
		}
		ecoCheckCurlLog(t, d)
	})
	t.Run("gzip through 503", func(t *testing.T) {
		dir := tempDir(t)
		d := startDaemon(t, writeConfig(t, dir, ecoSpaceConf("access", "filler")))
		d.ecoExhaust("filler")
		refusedBefore := d.ecoProm(`proxy_process_log_ingest_requests_total{status="503"}`)

		ctx, cancel := context.WithTimeout(context.Background(), ecoDeliverLimit)
		defer cancel()
		cmd, out := ecoCurlCmd(t, ctx, d, true)
		begin := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		ecoWait(t, ecoDeliverLimit, func() string {
			if n := d.ecoProm(`proxy_process_log_ingest_requests_total{status="503"}`); n < refusedBefore+2 {
				return fmt.Sprintf("%d 503 answers to curl, want 2 (a refused batch and its retry)", n-refusedBefore)
			}
			return ""
		})
		if n := d.ecoWritten("access.log"); n != 0 {
			t.Fatalf("%d records written while the space was exhausted", n)
		}
		d.ecoRemoveRolled("filler.log")
		freed := time.Now()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("curl-ship.sh: %v\n%s", err, out)
			}
		case <-ctx.Done():
			t.Fatalf("curl-ship.sh did not finish within %v of the start\n%s", ecoDeliverLimit, out)
		}
		ecoCheckCurlLog(t, d)
		t.Logf("refused for %v, then shipped in %v", freed.Sub(begin).Round(time.Millisecond), time.Since(freed).Round(time.Millisecond))
	})
}
