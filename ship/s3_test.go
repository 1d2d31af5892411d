package ship

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/logroll/logroll/internal/s3test"
	"github.com/logroll/logroll/space"
)

// storeEnv points the SDK's default chain at the test store's credentials.
func storeEnv(t *testing.T, st *s3test.Store) {
	for _, kv := range st.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// realFile writes a rolled file of size bytes into dir and returns its Item.
func realFile(t *testing.T, dir, name string, size int, seed byte) Item {
	t.Helper()
	data := bytes.Repeat([]byte{seed}, size)
	for i := range data {
		data[i] = seed + byte(i%251)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	return Item{Path: p, File: space.File{Name: name, Log: "access.log", Host: "web01", Start: end.Add(-time.Hour), End: end, At: end, Size: int64(size)}}
}

// testUploader returns an uploader whose idle connections the test closes.
func testUploader(t *testing.T, target Target) *uploader {
	u, err := newUploader(context.Background(), target, minPartSize, 2, StallTimeout)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(u.close)
	return u
}

// TestUploaderAgainstVersitygw: a single PUT and a multipart upload land
// with their bytes; a second upload of the same bytes is recognised as
// done (412, same checksum); other bytes under the key are a conflict and
// are not overwritten; 403 is refused, 503 and a dead store are transient.
func TestUploaderAgainstVersitygw(t *testing.T) {
	st := s3test.Start(t, "fleet-logs")
	storeEnv(t, st)
	dir := t.TempDir()
	ctx := context.Background()
	target := Target{Bucket: "fleet-logs", Prefix: "prod", Endpoint: st.URL, Region: s3test.Region}
	u := testUploader(t, target)
	small := realFile(t, dir, "small.old", 100_000, 1)
	big := realFile(t, dir, "big.old", 2*minPartSize+12345, 2)
	for _, it := range []Item{small, big} {
		key, _ := Key(target.Prefix, it.Host, it.Log, it.Name, it.End)
		res, err := u.upload(ctx, it, key)
		if err != nil {
			t.Fatalf("upload %s: %v", it.Name, err)
		}
		if res.Already || res.Multipart != (it.Size > minPartSize) {
			t.Errorf("%s: result %+v", it.Name, res)
		}
		want, _ := os.ReadFile(it.Path)
		if got := st.Get(t, "fleet-logs", key); !bytes.Equal(got, want) {
			t.Fatalf("%s: stored %d bytes differ from the file's %d", it.Name, len(got), len(want))
		}
		// Again (a crash before the journal line): recognised as done.
		res, err = u.upload(ctx, it, key)
		if err != nil || !res.Already {
			t.Fatalf("second upload of %s: %+v, %v; want already there", it.Name, res, err)
		}
	}
	// Other bytes under a key: a conflict, never an overwrite.
	other := realFile(t, dir, "small2.old", 100_000, 9)
	key, _ := Key(target.Prefix, small.Host, small.Log, small.Name, small.End)
	_, err := u.upload(ctx, other, key)
	var f *Failure
	if !errors.As(err, &f) || f.Kind != KindConflict || !f.Kind.Permanent() {
		t.Fatalf("other bytes under the key: %v, want a permanent conflict", err)
	}
	want, _ := os.ReadFile(small.Path)
	if got := st.Get(t, "fleet-logs", key); !bytes.Equal(got, want) {
		t.Fatalf("the conflicting upload changed the object")
	}
	if n := len(st.List(t, "fleet-logs", "prod/web01/access.log/2026/11/21/")); n != 2 {
		t.Errorf("%d objects, want 2", n)
	}

	// Faults through a proxy.
	px := s3test.NewProxy(t, st.URL)
	pu := testUploader(t, Target{Bucket: "fleet-logs", Endpoint: px.URL, Region: s3test.Region})
	for _, tc := range []struct {
		fault s3test.Fault
		kind  Kind
	}{
		{s3test.Fault{Status: 403, Code: "AccessDenied"}, KindRefused},
		{s3test.Fault{Status: 400, Code: "InvalidRequest"}, KindRefused},
		{s3test.Fault{Status: 503, Code: "SlowDown"}, KindServer},
		{s3test.Fault{Status: 500, Code: "InternalError"}, KindServer},
		{s3test.Fault{Status: 400, Code: "RequestTimeout"}, KindServer},
		{s3test.Fault{Status: 403, Code: "RequestTimeTooSkewed"}, KindServer},
	} {
		px.SetFault(func(*http.Request) s3test.Fault { return tc.fault })
		_, err := pu.upload(ctx, small, "faults/"+small.Name)
		if !errors.As(err, &f) || f.Kind != tc.kind || f.Status != tc.fault.Status || f.Code != tc.fault.Code {
			t.Errorf("%d %s: %v (%+v), want kind %s", tc.fault.Status, tc.fault.Code, err, f, tc.kind)
		}
	}
	// A multipart file the store has (a retry after a lost answer to
	// CompleteMultipartUpload) is found by a HEAD, and no part is sent.
	var methods []string
	var mu sync.Mutex
	px.SetFault(func(r *http.Request) s3test.Fault {
		mu.Lock()
		methods = append(methods, r.Method)
		mu.Unlock()
		return s3test.Fault{}
	})
	ppu := testUploader(t, Target{Bucket: "fleet-logs", Prefix: "prod", Endpoint: px.URL, Region: s3test.Region})
	bigKey, _ := Key(target.Prefix, big.Host, big.Log, big.Name, big.End)
	if res, err := ppu.upload(ctx, big, bigKey); err != nil || !res.Already {
		t.Errorf("multipart file already stored: %+v, %v; want already there", res, err)
	}
	// Other bytes under its key: a conflict found by the HEAD, no part sent.
	big2 := realFile(t, dir, "big2.old", 2*minPartSize+12345, 7)
	if _, err := ppu.upload(ctx, big2, bigKey); !errors.As(err, &f) || f.Kind != KindConflict {
		t.Errorf("multipart file, other bytes under the key: %v, want a conflict", err)
	}
	if mu.Lock(); !slices.Equal(methods, []string{http.MethodHead, http.MethodHead}) {
		t.Errorf("requests %v, want a HEAD for each upload and nothing else", methods)
	}
	mu.Unlock()
	px.SetFault(nil)
	st.Stop()
	_, err = pu.upload(ctx, small, "faults/"+small.Name)
	if !errors.As(err, &f) || f.Kind != KindServer && f.Kind != KindNetwork {
		t.Errorf("store down: %v, want transient", err)
	}
	_, err = u.upload(ctx, small, "faults/"+small.Name)
	if !errors.As(err, &f) || f.Kind != KindNetwork {
		t.Errorf("store down, no proxy: %v, want network", err)
	}
}

// TestUploaderStall: a store that accepts the connection and never answers
// (a hung proxy, a half-open connection) fails the attempt as a network
// failure once no byte moved for the stall timeout, instead of holding the
// upload for ever.
func TestUploaderStall(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c) // accepted, never read nor answered
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	}()
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	u, err := newUploader(context.Background(), Target{Bucket: "b", Endpoint: "http://" + l.Addr().String(), Region: "us-east-1"}, minPartSize, 2, 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	it := realFile(t, t.TempDir(), "access.log.web01.x.old", 1000, 1)
	done := make(chan error, 1)
	go func() { _, err := u.upload(context.Background(), it, "k/x"); done <- err }()
	select {
	case err := <-done:
		var f *Failure
		if !errors.As(err, &f) || f.Kind != KindNetwork {
			t.Errorf("stalled upload: %v, want a network failure", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the upload to a store that never answers did not end")
	}
}

// slowListener accepts connections with a small receive buffer, so that a
// client writing a body waits for the server to read it.
type slowListener struct{ net.Listener }

func (l slowListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetReadBuffer(16 << 10)
	}
	return c, err
}

// TestUploaderSlowStore: a store that takes a body slowly but steadily —
// a slow link — is not cut by the stall guard, however long the whole
// request takes: bytes move, in one direction or the other.
func TestUploaderSlowStore(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var got atomic.Int64
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		buf := make([]byte, 16<<10)
		for {
			n, err := r.Body.Read(buf)
			got.Add(int64(n))
			if err != nil {
				break
			}
			time.Sleep(40 * time.Millisecond) // about 400 KB/s
		}
		w.Header().Set("ETag", `"x"`)
	})}
	go srv.Serve(slowListener{l})
	defer srv.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	const stall = time.Second // well above a loaded machine's scheduling delays; the upload takes about 2.6 s
	u, err := newUploader(context.Background(), Target{Bucket: "b", Endpoint: "http://" + l.Addr().String(), Region: "us-east-1"}, minPartSize, 2, stall)
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	it := realFile(t, t.TempDir(), "access.log.web01.x.old", 1<<20, 1)
	start := time.Now()
	if _, err := u.upload(context.Background(), it, "k/x"); err != nil {
		t.Fatalf("upload to a slow store (%d bytes taken in %v): %v", got.Load(), time.Since(start), err)
	}
	if d := time.Since(start); d < 3*stall {
		t.Logf("the upload took %v only: the test did not slow it past the stall timeout", d)
	}
}

// TestUploaderNotAStore: an endpoint that answers 200 to anything, with no
// ETag (a ship_endpoint typo reaching a web server), stores nothing: a
// small file's PutObject (no ETag) and a large file's multipart upload (its
// HEAD first, then no upload id) both fail as refused, saying so; neither
// is taken as shipped.
func TestUploaderNotAStore(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusOK)
	}))
	defer fake.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "k")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "s")
	u, err := newUploader(context.Background(), Target{Bucket: "b", Endpoint: fake.URL, Region: "us-east-1"}, minPartSize, 2, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer u.close()
	dir := t.TempDir()
	for _, it := range []Item{
		realFile(t, dir, "access.log.web01.small.old", 1000, 1),
		realFile(t, dir, "access.log.web01.large.old", int(minPartSize)+1000, 2),
	} {
		_, err := u.upload(context.Background(), it, "k/"+it.Name)
		var f *Failure
		if !errors.As(err, &f) || f.Kind != KindRefused || !strings.Contains(err.Error(), "which every S3 store sends") {
			t.Errorf("%s (%d bytes): %v, want a refused failure: not an S3 store", it.Name, it.Size, err)
		}
	}
}
