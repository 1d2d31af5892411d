package tests

import (
	"bytes"
	"context"
	"encoding/json"
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

// Helpers of the hand-on tests (ship_test.go): a real versitygw started by
// the test (internal/s3test; the test skips without it), the daemon given
// the store's credentials in its environment, and the aws CLI to list and
// fetch what landed. Every name starts with sh.

// shBucket is the bucket the tests ship to, under shPrefix.
const (
	shBucket = "fleet-logs"
	shPrefix = "prod/eu"
)

// shKey matches the key of a shipped file: PREFIX/HOST/LOG/YYYY/MM/DD/NAME.
var shKey = regexp.MustCompile(`^prod/eu/e2ehost/access\.log/(\d{4})/(\d{2})/(\d{2})/(access\.log\.e2ehost\.\d{8}\.\d{2}h\d{2}m\d{2}s-(\d{8})\.\d{2}h\d{2}m\d{2}s(\.\d+)?\.old)$`)

// shConf is a records.toml shipping access to endpoint, with 1 MiB size
// rolls, a retry every second at most, and extra records.
func shConf(endpoint, extra string) string {
	return conf{
		MaxBodyMB:      4,
		RollingEnabled: `"size"`,
		SizeMB:         1,
		Extra: fmt.Sprintf("ship_url = %q\nship_endpoint = %q\nship_retry_max_sec = 1\n%s",
			"s3://"+shBucket+"/"+shPrefix+"/", endpoint, extra),
	}.toml()
}

// shStart starts logrolld -config path with the store's credentials.
func shStart(t *testing.T, path string, st *s3test.Store) *daemon {
	t.Helper()
	return dsStart(t, path, st.Env()...)
}

// shStatus returns `status --json`'s ship section (fails without one).
func (d *daemon) shStatus() *ctl.ShipStatus {
	d.t.Helper()
	r := d.mustCtl("status", "--json")
	var st ctl.Status
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
		d.t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	if st.Ship == nil {
		d.t.Fatalf("status --json has no ship section:\n%s", r.stdout)
	}
	return st.Ship
}

// shWait polls cond (with the ship status) every 50 ms until it returns
// "" or limit passes.
func (d *daemon) shWait(limit time.Duration, cond func(s *ctl.ShipStatus) string) *ctl.ShipStatus {
	d.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := d.shStatus()
		msg := cond(s)
		if msg == "" {
			return s
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("after %v: %s (ship status %+v)", limit, msg, *s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shAllShipped waits until nothing is pending.
func (d *daemon) shAllShipped(limit time.Duration) *ctl.ShipStatus {
	d.t.Helper()
	return d.shWait(limit, func(s *ctl.ShipStatus) string {
		if s.PendingFiles != 0 || s.Running != 0 {
			return fmt.Sprintf("%d files pending, %d running", s.PendingFiles, s.Running)
		}
		return ""
	})
}

// shAWS runs the aws CLI against the store and returns its stdout.
func shAWS(t *testing.T, st *s3test.Store, args ...string) string {
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

// shFetch copies every object under the test prefix into a new folder with
// `aws s3 cp --recursive` and returns the local paths by key, and the keys
// `aws s3 ls --recursive` lists.
func shFetch(t *testing.T, st *s3test.Store) (map[string]string, []string) {
	t.Helper()
	dir := t.TempDir()
	shAWS(t, st, "s3", "cp", "--recursive", "--only-show-errors", "s3://"+shBucket+"/"+shPrefix+"/", dir)
	files := map[string]string{}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.Mode().IsRegular() {
			rel, _ := filepath.Rel(dir, p)
			files[shPrefix+"/"+filepath.ToSlash(rel)] = p
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, l := range lines(shAWS(t, st, "s3", "ls", "--recursive", "s3://"+shBucket+"/"+shPrefix+"/")) {
		f := strings.Fields(l) // DATE TIME SIZE KEY
		if len(f) == 4 {
			keys = append(keys, f[3])
		}
	}
	sort.Strings(keys)
	return files, keys
}

// shCheckKeys checks every key's layout and that it names a file of names
// (base names of rolled files), once each; it returns the object paths in
// the order of names.
func shCheckKeys(t *testing.T, fetched map[string]string, keys []string, names []string) []string {
	t.Helper()
	byName := map[string]string{}
	for _, k := range keys {
		m := shKey.FindStringSubmatch(k)
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

// shCount counts the daemon's stderr lines containing s.
func (d *daemon) shCount(s string) int { return strings.Count(d.stderr.String(), s) }
