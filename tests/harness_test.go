package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The harness, one concept a file:
//
//   - harness_test.go: TestMain (builds the binaries), the time limits,
//     temporary folders, files of the repository.
//   - harness_wait_test.go: eventually, the one way a test waits.
//   - harness_proc_test.go: proc, a child process the test started, and
//     programs run to their end; harness_procfs_test.go: what /proc says of
//     a proc.
//   - harness_daemon_test.go: daemon, a logrolld proc; its configuration
//     (conf) and its stderr.
//   - harness_ctl_test.go: logrollctl (d.ctl) and what it prints (status,
//     rolled files, configuration values).
//   - harness_metrics_test.go: d.metric, and the Go runtime's series of
//     /metrics.
//   - harness_http_test.go, harness_rawhttp_test.go: ingest requests through
//     net/http and written by hand.
//   - harness_files_test.go: the files of a log on disk, folder snapshots.
//   - harness_load_test.go, harness_disk_test.go: a load of clients
//     remembering what became of every request, and the check of the disk
//     against it.
//   - harness_numbered_test.go, harness_numbered_read_test.go: numbered
//     records of one tag, their poster and their readers.
//   - harness_exhaust_test.go: the log space exhausted on purpose.
//   - harness_mount_test.go: faults made as root (tmpfs, bind mounts, an
//     immutable file).
//   - harness_compress_test.go, harness_ship_test.go, harness_tls_test.go,
//     harness_zone_test.go: compressed rolled files, an S3 store,
//     certificates and tokens, time zones compiled with zic.

// The binaries TestMain builds.
var (
	daemonBin string
	ctlBin    string
)

// Time limits. Conditions are polled every pollStep until waitLimit.
const (
	pollStep  = 10 * time.Millisecond
	waitLimit = 10 * time.Second
	ctlLimit  = 15 * time.Second // one logrollctl run
)

// mib is one MiB in bytes.
const mib = 1 << 20

// module is the module whose binaries are tested.
const module = "github.com/logroll/logroll"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := moduleRoot()
	if err != nil {
		fmt.Fprintf(os.Stderr, "tests: %v\n", err)
		return 1
	}
	bin, err := os.MkdirTemp("", "logroll-e2e-bin")
	if err != nil {
		fmt.Fprintf(os.Stderr, "tests: %v\n", err)
		return 1
	}
	defer os.RemoveAll(bin)
	args := []string{"build", "-o", bin + string(filepath.Separator)}
	if raceBuild() {
		args = append(args, "-race")
		if os.Getenv("GORACE") == "" {
			// A race-enabled program sleeps 1 s at exit by default: each
			// logrollctl run would take a second.
			os.Setenv("GORACE", "atexit_sleep_ms=0")
		}
	}
	args = append(args, "./cmd/logrolld", "./cmd/logrollctl")
	build := exec.Command("go", args...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "tests: go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, out)
		return 1
	}
	daemonBin = filepath.Join(bin, "logrolld")
	ctlBin = filepath.Join(bin, "logrollctl")
	return m.Run()
}

// raceBuild reports whether the binaries are built with -race
// (LOGROLL_E2E_RACE set), whose shadow memory makes RSS bounds meaningless.
func raceBuild() bool { return os.Getenv("LOGROLL_E2E_RACE") != "" }

// moduleRoot walks up from the working directory to logroll's go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && regexp.MustCompile(`(?m)^module\s+`+regexp.QuoteMeta(module)+`\s*$`).Match(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", module)
		}
		dir = parent
	}
}

// repoFile returns the absolute path of rel (slash-separated) in the
// module, and fails the test if it does not exist.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return path
}

// tempDir returns a new short folder (Unix socket paths must stay below 108
// bytes, and t.TempDir can be long), removed when the test ends: after the
// daemons started in it are killed, since cleanups run last-in first-out.
func tempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// needRoot skips the test when not running as root: what it needs (a
// mount, an inode flag, another user) cannot be made otherwise.
func needRoot(t *testing.T, what string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skipf("%s needs root; skipped", what)
	}
}
