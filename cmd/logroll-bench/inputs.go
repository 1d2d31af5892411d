package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Inputs (issue 21): the other ways in, each against a baseline measured in
// the same run, alternating, on fresh processes and folders.
//
//	syslog TCP       4 connections sending octet-counted RFC 5424 frames of
//	                 the text records (one "<134>1 TIME HOST httpd PID - - "
//	                 header each) to logrolld's syslog input, against the
//	                 HTTP text path (logrolld, 4 connections, the same
//	                 records in bodies of -batch): records/s
//	TLS + token      the HTTP text path over TLS with a bearer token, against
//	                 the same in clear: records/s
//	logrollctl pipe  the text records written as fast as possible into
//	                 `logrollctl pipe access` (to a logrolld), against
//	                 Apache's rotatelogs writing them to a file directly:
//	                 records/s from the first byte written to the process's
//	                 exit (each exits once everything it read is written)
//
// Syslog over TCP has no acknowledgement: a syslog run ends when logrolld's
// log files hold every record sent (their size is polled every 2 ms). Every
// run checks that the files hold exactly the bytes sent.
//
// CPU per record is the receiving side's: logrolld's (utime + stime over
// the measured part of the run), plus logrollctl's (its whole life) for
// the pipe; rotatelogs' for its run. The load generator's is not counted.

// Input names in results.
const (
	inSyslog    = "syslog tcp"
	inHTTP      = "http text"
	inTLS       = "https + token"
	inPipe      = "logrollctl pipe"
	inRotatelog = "rotatelogs"
	inputConns  = 4
)

// The names -inputs selects the comparisons by.
var allInputs = []string{"syslog", "tls", "pipe"}

// inputRun is one measured run of an input.
type inputRun struct {
	Input         string  `json:"input"`
	Rep           int     `json:"rep"`
	Records       int64   `json:"records"`
	Seconds       float64 `json:"seconds"`
	RecordsPerSec float64 `json:"records_per_sec"`
	CPUSeconds    float64 `json:"cpu_seconds"` // the receiving processes' (see above)
	CPUUsPerRec   float64 `json:"cpu_us_per_record"`
}

// setRate fills the rates of a run of r.Records records that took secs
// and cpu.
func (r *inputRun) setRate(secs float64, cpu time.Duration) {
	r.Seconds, r.CPUSeconds = secs, cpu.Seconds()
	r.RecordsPerSec = float64(r.Records) / secs
	r.CPUUsPerRec = cpu.Seconds() * 1e6 / float64(r.Records)
}

// inputRow compares an input with its baseline: medians of the runs, and
// the median of the per-rep ratios.
type inputRow struct {
	Input        string  `json:"input"`
	Baseline     string  `json:"baseline"`
	InputRate    float64 `json:"records_per_sec"`
	BaselineRate float64 `json:"baseline_records_per_sec"`
	Ratio        float64 `json:"ratio"`
	InputCPU     float64 `json:"cpu_us_per_record"`          // median
	BaselineCPU  float64 `json:"baseline_cpu_us_per_record"` // median
	Note         string  `json:"note,omitempty"`
}

// measureInputs runs the input comparisons.
func measureInputs(ctx context.Context, e *env) ([]inputRun, []inputRow, error) {
	bodies := makeBatches(FormatText, e.seed, e.pool, e.batch)
	requests := max(e.textRecords/e.batch, 1)
	frames := syslogFrames(bodies)
	pki, err := newBenchPKI(e.root)
	if err != nil {
		return nil, nil, err
	}
	rotatelogs := findRotatelogs()
	var runs []inputRun
	add := func(r inputRun, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", r.Input, err)
		}
		e.progress("input %-16s rep %d: %9.0f records/s", r.Input, r.Rep+1, r.RecordsPerSec)
		runs = append(runs, r)
		return nil
	}
	want := func(name string) bool { return slices.Contains(e.inputs, name) }
	var httpOrder []string // the HTTP-baselined inputs, rotated every rep
	if want("syslog") || want("tls") {
		httpOrder = append(httpOrder, inHTTP)
	}
	if want("syslog") {
		httpOrder = append(httpOrder, inSyslog)
	}
	if want("tls") {
		httpOrder = append(httpOrder, inTLS)
	}
	for rep := 0; rep < e.reps; rep++ {
		order := slices.Clone(httpOrder)
		for i := 0; len(order) > 0 && i < rep%len(order); i++ {
			order = append(order[1:], order[0])
		}
		for _, in := range order {
			var r inputRun
			var err error
			switch in {
			case inHTTP:
				r, err = runHTTPInput(ctx, e, bodies, requests, nil, rep)
			case inTLS:
				r, err = runHTTPInput(ctx, e, bodies, requests, pki, rep)
			case inSyslog:
				r, err = runSyslogInput(ctx, e, frames, requests, rep)
			}
			if err := add(r, err); err != nil {
				return runs, nil, err
			}
		}
		pipeOrder := []string{inPipe, inRotatelog}
		if !want("pipe") {
			pipeOrder = nil
		} else if rep%2 == 1 {
			pipeOrder = []string{inRotatelog, inPipe}
		}
		for _, in := range pipeOrder {
			if in == inRotatelog && rotatelogs == "" {
				continue
			}
			r, err := runPipeInput(ctx, e, bodies, requests, in, rotatelogs, rep)
			if err := add(r, err); err != nil {
				return runs, nil, err
			}
		}
	}
	var rows []inputRow
	if want("syslog") {
		rows = append(rows, compareInputs(runs, inSyslog, inHTTP))
	}
	if want("tls") {
		rows = append(rows, compareInputs(runs, inTLS, inHTTP))
	}
	if want("pipe") {
		row := compareInputs(runs, inPipe, inRotatelog)
		if rotatelogs == "" {
			row.Note = "rotatelogs not found (Debian: apt-get install apache2-utils)"
		}
		rows = append(rows, row)
	}
	return runs, rows, nil
}

// compareInputs builds the row of input against baseline.
func compareInputs(runs []inputRun, input, baseline string) inputRow {
	row := inputRow{Input: input, Baseline: baseline}
	byRep := map[string]map[int]float64{}
	cpu := map[string][]float64{}
	for _, r := range runs {
		if byRep[r.Input] == nil {
			byRep[r.Input] = map[int]float64{}
		}
		byRep[r.Input][r.Rep] = r.RecordsPerSec
		cpu[r.Input] = append(cpu[r.Input], r.CPUUsPerRec)
	}
	var in, base, ratios []float64
	for rep, v := range byRep[input] {
		in = append(in, v)
		if b, ok := byRep[baseline][rep]; ok {
			ratios = append(ratios, v/b)
		}
	}
	for _, v := range byRep[baseline] {
		base = append(base, v)
	}
	row.InputRate, row.BaselineRate, row.Ratio = median(in), median(base), median(ratios)
	row.InputCPU, row.BaselineCPU = median(cpu[input]), median(cpu[baseline])
	return row
}

// runHTTPInput runs the HTTP text load against a fresh logrolld, over TLS
// with a token when pki is set.
func runHTTPInput(ctx context.Context, e *env, bodies []batch, requests int, pki *benchPKI, rep int) (inputRun, error) {
	r := inputRun{Input: inHTTP, Rep: rep}
	dir, err := e.tempDir("in")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	o := e.daemonOpts("")
	spec := loadSpec{contentType: FormatText.contentType(), bodies: bodies, requests: requests, conns: inputConns, checkRecords: true}
	if pki != nil {
		r.Input = inTLS
		o.ingest = pki.records()
		spec.tls, spec.token = pki.client, pki.token
	}
	d, err := startDaemon(e.logrolld, dir, o)
	if err != nil {
		return r, err
	}
	defer d.kill()
	spec.url = d.url()
	if pki != nil {
		spec.url = "https://" + d.addr + "/v1/logs/access"
	}
	var cpu0 time.Duration
	var cpuErr error
	spec.onStart = func() {
		if e.prefault {
			if err := prefault(e.root, runBytes(bodies, requests)); err != nil {
				e.progress("prefault: %v", err)
			}
		}
		cpu0, cpuErr = cpuTime(d.pid())
	}
	lr, err := runLoad(ctx, spec)
	if err != nil {
		return r, fmt.Errorf("%w; logrolld stderr:\n%s", err, d.output())
	}
	cpu1, err := cpuTime(d.pid())
	if err = errors.Join(err, cpuErr); err != nil {
		return r, fmt.Errorf("logrolld CPU time: %w", err)
	}
	if n, err := logBytes(d.logs, "access.log"); err != nil || n != lr.lineBytes {
		return r, fmt.Errorf("log files hold %d bytes, %d acknowledged (%v)", n, lr.lineBytes, err)
	}
	r.Records = lr.records
	r.setRate(lr.elapsed.Seconds(), cpu1-cpu0)
	return r, nil
}

// syslogBatch is one batch of octet-counted syslog frames.
type syslogBatch struct {
	data      []byte
	records   int
	lineBytes int64 // what the messages take in the log file
}

// syslogFrames turns text bodies into octet-counted RFC 5424 frames, one
// message per record.
func syslogFrames(bodies []batch) []syslogBatch {
	const header = "<134>1 2026-11-21T06:00:00.000000Z web01 httpd 4211 - - "
	out := make([]syslogBatch, len(bodies))
	for i, b := range bodies {
		var buf bytes.Buffer
		var sb syslogBatch
		for _, line := range bytes.Split(bytes.TrimSuffix(b.body, []byte("\n")), []byte("\n")) {
			n := len(header) + len(line)
			buf.WriteString(strconv.Itoa(n))
			buf.WriteByte(' ')
			buf.WriteString(header)
			buf.Write(line)
			sb.records++
			sb.lineBytes += int64(n + 1)
		}
		sb.data = buf.Bytes()
		out[i] = sb
	}
	return out
}

var syslogLine = regexp.MustCompile(`msg="logrolld syslog listening" transport=tcp addr=(\S+)`)

// runSyslogInput sends requests batches of frames over inputConns TCP
// connections to a fresh logrolld's syslog input, and waits until its log
// files hold them all.
func runSyslogInput(ctx context.Context, e *env, frames []syslogBatch, requests, rep int) (inputRun, error) {
	r := inputRun{Input: inSyslog, Rep: rep}
	dir, err := e.tempDir("in")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	o := e.daemonOpts("")
	o.tables = "[proxy.config.syslog]\ntcp_listen = \"127.0.0.1:0\"\nlog = \"access\"\n"
	d, err := startDaemon(e.logrolld, dir, o)
	if err != nil {
		return r, err
	}
	defer d.kill()
	m, _, err := d.waitLine(syslogLine, 30*time.Second)
	if err != nil {
		return r, err
	}
	conns := make([]net.Conn, inputConns)
	for i := range conns {
		if conns[i], err = net.Dial("tcp", m[1]); err != nil {
			return r, err
		}
		defer conns[i].Close()
	}
	// Warm-up: one batch per connection, written.
	var want int64
	for _, c := range conns {
		if _, err := c.Write(frames[0].data); err != nil {
			return r, err
		}
		want += frames[0].lineBytes
	}
	if err := waitLogBytes(ctx, d, want); err != nil {
		return r, err
	}
	if e.prefault {
		var total int64
		for n := 0; n < requests; n++ {
			total += frames[n%len(frames)].lineBytes
		}
		if err := prefault(e.root, total); err != nil {
			e.progress("prefault: %v", err)
		}
	}
	var next atomic.Int64
	var sent atomic.Int64
	var records atomic.Int64
	errs := make(chan error, len(conns))
	var wg sync.WaitGroup
	cpu0, err := cpuTime(d.pid())
	if err != nil {
		return r, fmt.Errorf("logrolld CPU time: %w", err)
	}
	start := time.Now()
	for _, c := range conns {
		wg.Go(func() {
			for {
				n := int(next.Add(1)) - 1
				if n >= requests {
					return
				}
				b := frames[n%len(frames)]
				c.SetWriteDeadline(time.Now().Add(requestTimeout))
				if _, err := c.Write(b.data); err != nil {
					errs <- err
					return
				}
				sent.Add(b.lineBytes)
				records.Add(int64(b.records))
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return r, fmt.Errorf("send: %w; logrolld stderr:\n%s", err, d.output())
	}
	if err := waitLogBytes(ctx, d, want+sent.Load()); err != nil {
		return r, err
	}
	secs := time.Since(start).Seconds()
	cpu1, err := cpuTime(d.pid())
	if err != nil {
		return r, fmt.Errorf("logrolld CPU time: %w", err)
	}
	r.Records = records.Load()
	r.setRate(secs, cpu1-cpu0)
	return r, nil
}

// waitLogBytes polls d's access log files until they hold want bytes.
func waitLogBytes(ctx context.Context, d *daemonProc, want int64) error {
	deadline := time.Now().Add(requestTimeout)
	for {
		n, err := logBytes(d.logs, "access.log")
		if err != nil {
			return err
		}
		switch {
		case n == want:
			return nil
		case n > want:
			return fmt.Errorf("log files hold %d bytes, %d sent", n, want)
		case time.Now().After(deadline), ctx.Err() != nil:
			return fmt.Errorf("log files hold %d of %d bytes sent after %v; logrolld stderr:\n%s", n, want, requestTimeout, d.output())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// findRotatelogs returns the path of Apache's rotatelogs, "" when missing.
func findRotatelogs() string {
	if p, err := exec.LookPath("rotatelogs"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/bin/rotatelogs", "/usr/sbin/rotatelogs"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// runPipeInput writes requests bodies into `logrollctl pipe access` (with a
// fresh logrolld) or into rotatelogs, and times it from the first byte to
// the process's exit.
func runPipeInput(ctx context.Context, e *env, bodies []batch, requests int, in, rotatelogs string, rep int) (inputRun, error) {
	r := inputRun{Input: in, Rep: rep}
	dir, err := e.tempDir("in")
	if err != nil {
		return r, err
	}
	defer os.RemoveAll(dir)
	logs := filepath.Join(dir, "logs")
	var cmd *exec.Cmd
	var d *daemonProc
	if in == inPipe {
		if d, err = startDaemon(e.logrolld, dir, e.daemonOpts("")); err != nil {
			return r, err
		}
		defer d.kill()
		cmd = exec.CommandContext(ctx, e.logrollctl, "-socket", d.socket, "pipe", "access")
		logs = d.logs
	} else {
		if err := os.MkdirAll(logs, 0o755); err != nil {
			return r, err
		}
		cmd = exec.CommandContext(ctx, rotatelogs, filepath.Join(logs, "access.log"), "86400")
	}
	cmd.SysProcAttr = childAttr()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return r, err
	}
	var total int64
	for n := 0; n < requests; n++ {
		total += bodies[n%len(bodies)].lineBytes
	}
	if e.prefault {
		if err := prefault(e.root, total); err != nil {
			e.progress("prefault: %v", err)
		}
	}
	var cpu0 time.Duration
	if d != nil {
		if cpu0, err = cpuTime(d.pid()); err != nil {
			return r, fmt.Errorf("logrolld CPU time: %w", err)
		}
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	if err := register(cmd.Process); err != nil {
		_ = cmd.Wait()
		return r, err
	}
	defer unregister(cmd.Process)
	start := time.Now()
	var werr error
	for n := 0; n < requests && werr == nil; n++ {
		b := bodies[n%len(bodies)]
		_, werr = stdin.Write(b.body)
		r.Records += int64(b.records)
	}
	stdin.Close()
	err = cmd.Wait()
	secs := time.Since(start).Seconds()
	if err = errors.Join(werr, err); err != nil {
		return r, fmt.Errorf("%s: %w\n%s", in, err, stderr.String())
	}
	// The program's own CPU, and logrolld's for the pipe.
	cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	if d != nil {
		cpu1, err := cpuTime(d.pid())
		if err != nil {
			return r, fmt.Errorf("logrolld CPU time: %w", err)
		}
		cpu += cpu1 - cpu0
	}
	if n, err := logBytes(logs, "access.log"); err != nil || n != total {
		return r, fmt.Errorf("%s: the log files hold %d bytes, %d written (%v)", in, n, total, err)
	}
	r.setRate(secs, cpu)
	return r, nil
}

// benchPKI is a self-signed server certificate and a token, made in the
// run's folder for the TLS runs.
type benchPKI struct {
	cert, key, tokens string
	token             string
	client            *tls.Config
}

// newBenchPKI makes the certificate (127.0.0.1), the tokens file and the
// client configuration.
func newBenchPKI(root string) (*benchPKI, error) {
	dir, err := os.MkdirTemp(root, "pki")
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "logroll-bench"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, IsCA: true, BasicConstraintsValid: true,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	p := &benchPKI{cert: filepath.Join(dir, "server.crt"), key: filepath.Join(dir, "server.key"), tokens: filepath.Join(dir, "tokens")}
	tok := make([]byte, 32)
	if _, err := rand.Read(tok); err != nil {
		return nil, err
	}
	p.token = hex.EncodeToString(tok)
	sum := sha256.Sum256([]byte(p.token))
	if err := errors.Join(
		os.WriteFile(p.cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600),
		os.WriteFile(p.key, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600),
		os.WriteFile(p.tokens, []byte("bench "+hex.EncodeToString(sum[:])+" access\n"), 0o600),
	); err != nil {
		return nil, err
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	p.client = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return p, nil
}

// records returns the [proxy.config.ingest] lines of a TLS daemon.
func (p *benchPKI) records() string {
	return fmt.Sprintf("tls_cert_file = %q\ntls_key_file = %q\nauth_tokens_file = %q\n", p.cert, p.key, p.tokens)
}
