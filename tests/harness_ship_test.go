package tests

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/s3test"
)

// Shipping to an S3 store (ship_test.go, ship_crash_test.go): a real
// versitygw started by the test (internal/s3test; the test skips without
// it), the daemon given the store's credentials in its environment
// (startDaemon(t, path, st.Env()...)), and the aws CLI to list and fetch
// what landed.

// shipBucket is the bucket the tests ship to, under shipPrefix.
const (
	shipBucket = "fleet-logs"
	shipPrefix = "prod/eu"
)

// shippedKey matches the key of a shipped file: PREFIX/HOST/LOG/YYYY/MM/DD/NAME.
var shippedKey = regexp.MustCompile(`^prod/eu/e2ehost/access\.log/(\d{4})/(\d{2})/(\d{2})/(access\.log\.e2ehost\.\d{8}\.\d{2}h\d{2}m\d{2}s-(\d{8})\.\d{2}h\d{2}m\d{2}s(\.\d+)?\.old)$`)

// shipConf is a records.toml shipping access to endpoint, with 1 MiB size
// rolls, a retry every second at most, and extra records.
func shipConf(endpoint, extra string) string {
	return conf{
		MaxBodyMB:      4,
		RollingEnabled: `"size"`,
		SizeMB:         1,
		Extra: fmt.Sprintf("ship_url = %q\nship_endpoint = %q\nship_retry_max_sec = 1\n%s",
			"s3://"+shipBucket+"/"+shipPrefix+"/", endpoint, extra),
	}.toml()
}

// waitShip polls the ship status until cond returns "" (done) or limit
// passes, and returns the status then.
func (d *daemon) waitShip(t *testing.T, limit time.Duration, cond func(s *ctl.ShipStatus) string) *ctl.ShipStatus {
	t.Helper()
	var s ctl.ShipStatus
	eventuallyWithin(t, limit, func() string {
		s = d.shipStatus(t)
		if msg := cond(&s); msg != "" {
			return fmt.Sprintf("%s (ship status %+v)", msg, s)
		}
		return ""
	})
	return &s
}

// waitAllShipped waits up to limit until nothing is pending.
func (d *daemon) waitAllShipped(t *testing.T, limit time.Duration) *ctl.ShipStatus {
	t.Helper()
	return d.waitShip(t, limit, func(s *ctl.ShipStatus) string {
		if s.PendingFiles != 0 || s.Running != 0 {
			return fmt.Sprintf("%d files pending, %d running", s.PendingFiles, s.Running)
		}
		return ""
	})
}

// awsCLI runs the aws CLI against the store and returns its stdout.
func awsCLI(t *testing.T, st *s3test.Store, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws CLI is not installed (pip install awscli): it lists and fetches what landed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", st.URL}, args...)...)
	cmd.Env = append(os.Environ(), st.Env()...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, errb.String())
	}
	return out.String()
}

// fetchShipped copies every object under the test prefix into a new folder with
// `aws s3 cp --recursive` and returns the local paths by key, and the keys
// `aws s3 ls --recursive` lists.
func fetchShipped(t *testing.T, st *s3test.Store) (map[string]string, []string) {
	t.Helper()
	dir := t.TempDir()
	awsCLI(t, st, "s3", "cp", "--recursive", "--only-show-errors", "s3://"+shipBucket+"/"+shipPrefix+"/", dir)
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files[shipPrefix+"/"+filepath.ToSlash(rel)] = p
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range lines(awsCLI(t, st, "s3", "ls", "--recursive", "s3://"+shipBucket+"/"+shipPrefix+"/")) {
		f := strings.Fields(l) // DATE TIME SIZE KEY
		if len(f) == 4 {
			keys = append(keys, f[3])
		}
	}
	sort.Strings(keys)
	return files, keys
}

// checkShippedKeys checks every key's layout and that it names a file of names
// (base names of rolled files), once each; it returns the object paths in
// the order of names.
func checkShippedKeys(t *testing.T, fetched map[string]string, keys []string, names []string) []string {
	t.Helper()
	byName := map[string]string{}
	for _, k := range keys {
		m := shippedKey.FindStringSubmatch(k)
		if m == nil {
			t.Errorf("key %q is not PREFIX/HOST/LOG/YYYY/MM/DD/NAME", k)
			continue
		}
		if prev, dup := byName[m[4]]; dup {
			t.Errorf("file %s shipped twice: %s and %s", m[4], prev, k)
		}
		byName[m[4]] = k
		if fetched[k] == "" {
			t.Errorf("aws s3 ls lists %s, aws s3 cp did not fetch it", k)
		}
	}
	var out []string
	for _, n := range names {
		k, ok := byName[n]
		if !ok {
			t.Errorf("rolled file %s was not shipped", n)
			continue
		}
		delete(byName, n)
		out = append(out, fetched[k])
	}
	for n := range byName {
		t.Errorf("object %s is no rolled file of this run", n)
	}
	return out
}
