package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/s3test"
	"github.com/logroll/logroll/logging"
)

// The ship section (issue 20): logrolld's shipping of finished files to a
// local versitygw against `aws s3 cp --recursive` of the same files to the
// same store, in alternating runs; and the ingest p99 of a paced text load
// while logrolld ships its size rolls, against the same load and daemon
// without ship_url. docs/performance.md ("Shipping") defines both.

// shipResult is the ship section's figures.
type shipResult struct {
	Files   int     `json:"files"`
	FileMiB float64 `json:"file_mib"`
	// Per rep: MB/s of logrolld (daemon ready → nothing pending) and of
	// the aws CLI (exec → exit), and their ratio.
	LogrollMBps []float64 `json:"logroll_mb_per_s"`
	AWSMBps     []float64 `json:"aws_cli_mb_per_s"`
	Ratio       float64   `json:"ratio"` // median of per-rep logroll ÷ aws
	// The paced load: requests per second, per run; p99 per rep without
	// and with shipping, and the median of per-rep ratios.
	LoadRate      int       `json:"load_requests_per_s"`
	LoadSeconds   float64   `json:"load_seconds"`
	P99NoShipMs   []float64 `json:"p99_no_ship_ms"`
	P99ShipMs     []float64 `json:"p99_ship_ms"`
	P99Ratio      float64   `json:"p99_ratio"`
	ShippedInLoad []int64   `json:"shipped_during_load"`
	RollMiBInLoad int       `json:"rolling_size_mb_in_load"`
	AWSCLI        string    `json:"aws_cli"`
	VersitygwPath string    `json:"versitygw"`
}

// benchBucket is the bench's bucket.
const benchBucket = "logroll-bench"

// measureShip runs the ship section.
func measureShip(ctx context.Context, e *env, quick bool) (*shipResult, error) {
	bin := s3test.Binary()
	if bin == "" {
		return nil, fmt.Errorf("versitygw %s not found (LOGROLL_VERSITYGW, PATH, or ~/.cache/logroll-ci/versitygw-%s/versitygw; .ci/run installs it)", s3test.Version, s3test.Version)
	}
	awsBin, err := exec.LookPath("aws")
	if err != nil {
		return nil, errors.New("the aws CLI is not installed: it is the baseline of the ship section")
	}
	res := &shipResult{Files: 12, FileMiB: 32, LoadRate: 100, LoadSeconds: 20, RollMiBInLoad: 8, VersitygwPath: bin, AWSCLI: awsBin}
	if quick {
		res.Files, res.FileMiB, res.LoadSeconds, res.RollMiBInLoad = 4, 2, 3, 1
	}
	// The store's credentials, for logrolld (the environment it inherits)
	// and the aws CLI.
	for _, kv := range s3test.ClientEnv() {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	dir, err := e.tempDir("ship")
	if err != nil {
		return nil, err
	}
	store, url, err := startStore(bin, dir)
	if err != nil {
		return nil, err
	}
	defer store.kill()
	client := s3.New(s3.Options{Region: s3test.Region, BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s3test.AccessKey, s3test.SecretKey, "")})
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(benchBucket)}); err != nil {
		return nil, fmt.Errorf("create bucket: %w", err)
	}

	src := filepath.Join(dir, "files")
	if err := makeShipFiles(e, src, res.Files, int64(res.FileMiB*(1<<20))); err != nil {
		return nil, err
	}
	total := float64(res.Files) * res.FileMiB * (1 << 20) / 1e6
	for rep := range e.reps {
		var lr, cli float64
		runLR := func() error {
			d, err := shipDaemon(e, dir, src, url, rep)
			if err != nil {
				return err
			}
			defer d.kill()
			secs, err := waitShipped(ctx, d, res.Files, 10*time.Minute)
			if err != nil {
				return err
			}
			lr = total / secs
			return d.stop(10 * time.Second)
		}
		runCLI := func() error {
			t0 := time.Now()
			cmd := exec.CommandContext(ctx, awsBin, "--endpoint-url", url, "s3", "cp", "--recursive", "--only-show-errors",
				src, fmt.Sprintf("s3://%s/aws-%d/", benchBucket, rep))
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("aws s3 cp: %v: %s", err, out)
			}
			cli = total / time.Since(t0).Seconds()
			return nil
		}
		first, second := runLR, runCLI
		if rep%2 == 1 {
			first, second = runCLI, runLR
		}
		if err := errors.Join(first(), second()); err != nil {
			return nil, err
		}
		res.LogrollMBps, res.AWSMBps = append(res.LogrollMBps, lr), append(res.AWSMBps, cli)
		e.progress("ship %d files of %.0f MiB: logrolld %.0f MB/s, aws s3 cp --recursive %.0f MB/s", res.Files, res.FileMiB, lr, cli)
	}
	res.Ratio = medianRatio(res.LogrollMBps, res.AWSMBps)

	bodies := makeBatches(FormatText, e.seed, e.pool, e.batch)
	for rep := range e.reps {
		for _, ship := range []bool{rep%2 == 1, rep%2 == 0} {
			p99, shipped, err := pacedIngest(ctx, e, dir, url, bodies, ship, rep, res)
			if err != nil {
				return nil, err
			}
			if ship {
				res.P99ShipMs = append(res.P99ShipMs, p99)
				res.ShippedInLoad = append(res.ShippedInLoad, shipped)
			} else {
				res.P99NoShipMs = append(res.P99NoShipMs, p99)
			}
			e.progress("paced ingest (%d req/s of %d records), shipping %v: p99 %.2f ms, %d files shipped", res.LoadRate, e.batch, ship, p99, shipped)
		}
	}
	res.P99Ratio = medianRatio(res.P99ShipMs, res.P99NoShipMs)
	return res, nil
}

// medianRatio returns the median of a[i]/b[i].
func medianRatio(a, b []float64) float64 {
	var rs []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			rs = append(rs, a[i]/b[i])
		}
	}
	return median(rs)
}

// startStore starts versitygw on a free loopback port serving dir/store.
func startStore(bin, dir string) (*child, string, error) {
	root := filepath.Join(dir, "store")
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	addr := l.Addr().String()
	l.Close()
	c, err := startChild("versitygw", bin, []string{"--access", s3test.AccessKey, "--secret", s3test.SecretKey,
		"--region", s3test.Region, "--port", addr, "--quiet", "posix", root}, dir)
	if err != nil {
		return nil, "", err
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			return c, "http://" + addr, nil
		}
		if time.Now().After(deadline) {
			c.kill()
			return nil, "", fmt.Errorf("versitygw not listening on %s: %s", addr, c.output())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// makeShipFiles writes n rolled files of access.log of size bytes of
// text records into dir, with their modification time at their END.
func makeShipFiles(e *env, dir string, n int, size int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	bodies := makeBatches(FormatText, e.seed+7, e.pool, e.batch)
	end := time.Date(2026, 11, 21, 0, 0, 0, 0, time.Local)
	for i := range n {
		start := end
		end = start.Add(10 * time.Minute)
		name := logging.RolledName{Active: "access.log", Host: benchHost, Start: start, End: end}.String()
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		var written int64
		for j := i; written < size; j++ {
			b := bodies[j%len(bodies)].body
			if rest := size - written; int64(len(b)) > rest {
				b = b[:rest]
				b[len(b)-1] = '\n'
			}
			if _, err := f.Write(b); err != nil {
				f.Close()
				return err
			}
			written += int64(len(b))
		}
		if err := f.Close(); err != nil {
			return err
		}
		if err := os.Chtimes(p, end, end); err != nil {
			return err
		}
	}
	return nil
}

// shipDaemon starts a logrolld whose log folder holds hard links to the
// files of src, shipping to s3://benchBucket/lr-REP on url and keeping
// the files (ship_delete_after = 0): at start it finds them all pending.
func shipDaemon(e *env, dir, src, url string, rep int) (*daemonProc, error) {
	ddir := filepath.Join(dir, fmt.Sprintf("lr%d", rep))
	logs := filepath.Join(ddir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		return nil, err
	}
	for _, en := range ents {
		if err := os.Link(filepath.Join(src, en.Name()), filepath.Join(logs, en.Name())); err != nil {
			return nil, err
		}
	}
	extra := fmt.Sprintf("ship_url = \"s3://%s/lr-%d\"\nship_endpoint = %q\nship_delete_after = 0\n%s", benchBucket, rep, url, e.extraRecords)
	return startDaemon(e.logrolld, ddir, daemonOpts{rolling: "0", extra: extra})
}

// waitShipped polls the daemon's status until n files are shipped and
// none is pending, and returns the seconds since its ingest line.
func waitShipped(ctx context.Context, d *daemonProc, n int, limit time.Duration) (float64, error) {
	cl := ctl.NewClient(d.socket)
	deadline := time.Now().Add(limit)
	for {
		st, err := cl.Status(ctx)
		if err != nil {
			return 0, err
		}
		if s := st.Ship; s != nil && s.PendingFiles == 0 && s.ShippedFiles >= int64(n) {
			return time.Since(d.lineAt).Seconds(), nil
		}
		if s := st.Ship; s != nil && s.ParkedFiles > 0 {
			return 0, fmt.Errorf("shipping refused: %s", s.LastFailure)
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("not shipped after %v: %+v", limit, st.Ship)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pacedIngest runs a paced text load (res.LoadRate requests a second on 4
// connections, for res.LoadSeconds) against a logrolld with size rolls of
// res.RollMiBInLoad MiB, shipping them when ship, and returns the p99
// latency and the files shipped.
func pacedIngest(ctx context.Context, e *env, dir, url string, bodies []batch, ship bool, rep int, res *shipResult) (float64, int64, error) {
	ddir := filepath.Join(dir, fmt.Sprintf("load%d-%v", rep, ship))
	if err := os.MkdirAll(ddir, 0o755); err != nil {
		return 0, 0, err
	}
	extra := fmt.Sprintf("rolling_size_mb = %d\n%s", res.RollMiBInLoad, e.extraRecords)
	if ship {
		extra = fmt.Sprintf("ship_url = \"s3://%s/load-%d\"\nship_endpoint = %q\n%s", benchBucket, rep, url, extra)
	}
	d, err := startDaemon(e.logrolld, ddir, daemonOpts{rolling: `"size"`, extra: extra})
	if err != nil {
		return 0, 0, err
	}
	defer d.kill()
	lr, err := runPaced(ctx, pacedSpec{
		url: d.url(), contentType: "text/plain", bodies: bodies, conns: 4,
		rate: float64(res.LoadRate), requests: int(float64(res.LoadRate) * res.LoadSeconds),
	})
	if err != nil {
		return 0, 0, err
	}
	var shipped int64
	if st, err := ctl.NewClient(d.socket).Status(ctx); err == nil && st.Ship != nil {
		shipped = st.Ship.ShippedFiles
	}
	return ms(percentileSorted(lr.latencies, 99)), shipped, d.stop(10 * time.Second)
}

// writeShipReport writes the ship section of the report.
func writeShipReport(w io.Writer, s *shipResult) {
	fmt.Fprintf(w, "\nshipping: %d rolled files of %.0f MiB to a local versitygw (%s), alternating runs;\n", s.Files, s.FileMiB, s.VersitygwPath)
	fmt.Fprintf(w, "logrolld = daemon ready → nothing pending (it finds them at start); aws = `aws s3 cp --recursive` of the same files (exec → exit)\n")
	var rows [][]string
	for i := range min(len(s.LogrollMBps), len(s.AWSMBps)) {
		rows = append(rows, []string{strconv.Itoa(i + 1), fnum(s.LogrollMBps[i], 0), fnum(s.AWSMBps[i], 0), fratio(s.LogrollMBps[i] / s.AWSMBps[i])})
	}
	table(w, []string{"run", "logrolld MB/s", "aws cli MB/s", "ratio"}, rows)
	fmt.Fprintf(w, "paced ingest: %d requests/s of text batches on 4 connections for %.0f s, size rolls of %d MiB, with and without ship_url (the store runs in both)\n",
		s.LoadRate, s.LoadSeconds, s.RollMiBInLoad)
	rows = nil
	for i := range min(len(s.P99ShipMs), len(s.P99NoShipMs)) {
		rows = append(rows, []string{strconv.Itoa(i + 1), fnum(s.P99NoShipMs[i], 2), fnum(s.P99ShipMs[i], 2), strconv.FormatInt(s.ShippedInLoad[i], 10), fratio(s.P99ShipMs[i] / s.P99NoShipMs[i])})
	}
	table(w, []string{"run", "p99 ms not shipping", "p99 ms shipping", "files shipped", "ratio"}, rows)
}
