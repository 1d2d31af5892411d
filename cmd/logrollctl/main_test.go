package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
	"github.com/logroll/logroll/records"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// result is what one run of logrollctl did.
type result struct {
	code           int
	stdout, stderr string
}

// ctlRun runs logrollctl in-process with args.
func ctlRun(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

// want checks the exit code and that stdout equals wantOut (when not "*").
func (r result) want(t *testing.T, code int, wantOut string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
	if wantOut != "*" && r.stdout != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s\nstderr:\n%s", r.stdout, wantOut, r.stderr)
	}
}

// decodeJSON checks that stdout is exactly one JSON document and decodes it.
func (r result) decodeJSON(t *testing.T, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("stdout is not JSON: %v\n%s", err, r.stdout)
	}
	if dec.More() {
		t.Fatalf("stdout holds more than one JSON document:\n%s", r.stdout)
	}
}

// shortDir returns a temporary folder with a short path (Unix socket paths
// are limited to 107 bytes, which t.TempDir can exceed).
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var t0 = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

// configResponse builds what a daemon running cfg answers on GET /v1/config.
func configResponse(cfg *records.Config, last ctl.ReloadResult) ctl.ConfigResponse {
	return ctl.ConfigFrom(cfg, last)
}

const testConfig = `[proxy.config.log]
logfile_dir = "logs"
rolling_size_mb = 10

[[logs]]
filename = "access"
rolling_size_mb = 100

[[logs]]
filename = "error"
`

// loadConfig writes content as records.toml in dir and loads it.
func loadConfig(t *testing.T, dir, content string) *records.Config {
	t.Helper()
	path := writeFile(t, filepath.Join(dir, "records.toml"), content)
	cfg, _, err := records.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// serveFake serves f on a temporary socket and returns "-socket PATH" args.
func serveFake(t *testing.T, f *ctltest.Fake) []string {
	return []string{"-socket", ctltest.Serve(t, f)}
}
