package s3test

import (
	"bytes"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// Fault is what the proxy answers instead of passing a request on: an
// HTTP status and an S3 error code ("AccessDenied"). Status 0 passes.
type Fault struct {
	Status int
	Code   string
}

// Proxy is a loopback HTTP proxy in front of a store that can answer
// requests with a fault instead of passing them on. It keeps the Host
// header, so that the clients' signatures stay valid.
type Proxy struct {
	// URL is the proxy's endpoint, to give clients instead of the store's.
	URL string

	mu      sync.Mutex
	fault   func(r *http.Request) Fault
	faulted atomic.Int64
	passed  atomic.Int64
	srv     *http.Server
}

// NewProxy starts a proxy to target (a store's URL), stopped when the
// test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{URL: "http://" + l.Addr().String()}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a stopped store: 502, as a load balancer answers
	p.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		f := p.fault
		p.mu.Unlock()
		if f != nil {
			if ft := f(r); ft.Status != 0 {
				p.faulted.Add(1)
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(ft.Status)
				fmt.Fprintf(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>injected by the test's proxy</Message></Error>", ft.Code)
				return
			}
		}
		p.passed.Add(1)
		rp.ServeHTTP(w, r)
	})}
	go func() { _ = p.srv.Serve(l) }()
	t.Cleanup(func() { _ = p.srv.Close() })
	return p
}

// SetFault sets the function that decides each request's fault; nil
// passes everything.
func (p *Proxy) SetFault(f func(r *http.Request) Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Faulted and Passed count the requests answered with a fault and passed on.
func (p *Proxy) Faulted() int64 { return p.faulted.Load() }
func (p *Proxy) Passed() int64  { return p.passed.Load() }
