// Package s3test runs a real S3-compatible object store for tests:
// versitygw (Apache-2.0, AWS-strict about checksums and conditional
// writes, storing plain files) on a loopback port in a temporary folder,
// and a fault-injecting proxy to put in front of it.
//
//	st := s3test.Start(t, "fleet-logs") // skips the test when versitygw is missing
//	env := st.Env()                     // AWS_* for a client of the store
//	data := st.Get(t, "fleet-logs", key)
//
// The binary is $LOGROLL_VERSITYGW, else versitygw in PATH, else
// $HOME/.cache/logroll-ci/versitygw-v1.8.0/versitygw, where .ci/run
// installs it (pinned, outside go.mod).
package s3test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Version is the versitygw release the tests are written against.
const Version = "v1.8.0"

// The credentials of the store's root user.
const (
	AccessKey = "logrolltest"
	SecretKey = "logrolltestsecret"
	Region    = "us-east-1"
)

// Binary returns the versitygw binary's path, or "" when there is none.
func Binary() string {
	if p := os.Getenv("LOGROLL_VERSITYGW"); p != "" {
		return p
	}
	if p, err := exec.LookPath("versitygw"); err == nil {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "logroll-ci", "versitygw-"+Version, "versitygw")
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p
		}
	}
	return ""
}

// Store is one versitygw process serving a posix folder.
type Store struct {
	// URL is the store's endpoint, "http://127.0.0.1:PORT".
	URL  string
	Addr string
	// Root is the folder it serves: one subfolder per bucket.
	Root string

	t    testing.TB
	bin  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
	out  *os.File
}

// Start starts a store with the buckets, and stops it when the test ends.
// It skips the test when versitygw is missing.
func Start(t testing.TB, buckets ...string) *Store {
	t.Helper()
	bin := Binary()
	if bin == "" {
		t.Skipf("versitygw %s not found: install it with `GOBIN=$HOME/.cache/logroll-ci/versitygw-%s go install github.com/versity/versitygw/cmd/versitygw@%s` (.ci/run does), or set LOGROLL_VERSITYGW", Version, Version, Version)
	}
	dir := t.TempDir()
	s := &Store{t: t, bin: bin, Root: filepath.Join(dir, "root")}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "versitygw.out"))
	if err != nil {
		t.Fatal(err)
	}
	s.out = out
	s.Addr = freeAddr(t)
	s.URL = "http://" + s.Addr
	s.start()
	t.Cleanup(func() {
		s.Stop()
		out.Close()
		if t.Failed() {
			data, _ := os.ReadFile(out.Name())
			if len(data) > 4000 {
				data = data[len(data)-4000:]
			}
			t.Logf("versitygw output (tail):\n%s", data)
		}
	})
	for _, b := range buckets {
		if _, err := s.Client().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatalf("create bucket %s: %v", b, err)
		}
	}
	return s
}

// freeAddr returns a loopback address with a port free now.
func freeAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the process and waits until it accepts connections.
func (s *Store) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin, "--access", AccessKey, "--secret", SecretKey, "--region", Region,
		"--port", s.Addr, "--quiet", "posix", s.Root)
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("start versitygw: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.mu.Lock()
	s.cmd, s.done = cmd, done
	s.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.Addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-done:
			s.t.Fatalf("versitygw exited at start: %v", cmd.ProcessState)
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("versitygw not listening on %s after 20 s", s.Addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop kills the store (it keeps its folder); Restart starts it again on
// the same address.
func (s *Store) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart starts a stopped store again, on the same address and folder.
func (s *Store) Restart() { s.t.Helper(); s.start() }

// Env returns the environment a client of the store needs: ClientEnv.
func (s *Store) Env() []string { return ClientEnv() }

// ClientEnv returns the environment a client of a store started here
// needs: the credentials and region, with the AWS shared files pointed
// away so that the machine's own do not count.
func ClientEnv() []string {
	return []string{
		"AWS_ACCESS_KEY_ID=" + AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + SecretKey,
		"AWS_REGION=" + Region,
		"AWS_DEFAULT_REGION=" + Region,
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// Client returns an S3 client of the store (path style, the root user).
func (s *Store) Client() *s3.Client {
	return s3.New(s3.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKey, SecretKey, ""),
	})
}

// Object is one stored object.
type Object struct {
	Key  string
	Size int64
}

// List returns every object of bucket under prefix.
func (s *Store) List(t testing.TB, bucket, prefix string) []Object {
	t.Helper()
	var out []Object
	p := s3.NewListObjectsV2Paginator(s.Client(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			out = append(out, Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size)})
		}
	}
	return out
}

// Get returns an object's bytes.
func (s *Store) Get(t testing.TB, bucket, key string) []byte {
	t.Helper()
	o, err := s.Client().GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer o.Body.Close()
	data, err := io.ReadAll(o.Body)
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

// Put stores data under key (unconditionally), for tests that plant an
// object.
func (s *Store) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	if _, err := s.Client().PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytesReader(data),
	}); err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// ErrNotRunning is returned by Running when the store was stopped.
var ErrNotRunning = errors.New("s3test: store not running")

// Running reports whether the process runs.
func (s *Store) Running() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return ErrNotRunning
	}
	select {
	case <-s.done:
		return fmt.Errorf("s3test: versitygw exited: %v", s.cmd.ProcessState)
	default:
		return nil
	}
}
