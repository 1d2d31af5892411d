package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Load generation: the same client code drives logrolld and the baseline.
//
// Each connection is one goroutine with an http.Transport of its own that
// keeps exactly one keep-alive connection. A run first sends one warm-up
// request per connection (connection set-up, server goroutines and buffers
// warm: not measured), then calls onStart, then the connections take the
// next request number from a shared counter until the fixed total is sent,
// each sending the pre-generated body number (n mod len(bodies)).
// Latency of a request is from just before Do to the last byte of the
// answer read.

// loadSpec is one load run.
type loadSpec struct {
	url         string
	contentType string
	bodies      []batch
	requests    int // measured requests (warm-up not included)
	conns       int
	// checkRecords makes every 200 answer be checked for {"records":N} with N
	// the records of the body (logrolld's acknowledgement).
	checkRecords bool
	// onStart is called after the warm-up, just before the measured requests.
	onStart func()
	// tls, when set, is the clients' TLS configuration (https URLs).
	tls *tls.Config
	// token, when set, is sent as "Authorization: Bearer token".
	token string
}

// loadResult is what a run measured.
type loadResult struct {
	requests  int
	records   int64
	bodyBytes int64         // body bytes sent in measured requests
	lineBytes int64         // log-file bytes of every request sent, warm-up included
	elapsed   time.Duration // from onStart to the last answer
	latencies []time.Duration
}

// requestTimeout bounds one request.
const requestTimeout = 60 * time.Second

// newConnClient returns a client that keeps one keep-alive connection.
func newConnClient(tlsCfg *tls.Config) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:     tlsCfg,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        1,
		MaxIdleConnsPerHost: 1,
		MaxConnsPerHost:     1,
		DisableCompression:  true,
		IdleConnTimeout:     time.Minute,
	}
	return &http.Client{Transport: tr, Timeout: requestTimeout}
}

// post sends one body and reads the whole answer.
func post(ctx context.Context, hc *http.Client, url, ctype, token string, b batch, check bool) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", ctype)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	var buf [256]byte
	n, _ := io.ReadFull(resp.Body, buf[:])
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: status %d: %s", url, resp.StatusCode, bytes.TrimSpace(buf[:n]))
	}
	if check {
		want := `{"records":` + strconv.Itoa(b.records) + `}`
		if got := string(bytes.TrimSpace(buf[:n])); got != want {
			return fmt.Errorf("POST %s: answer %q, want %q", url, got, want)
		}
	}
	return nil
}

// runLoad performs spec and returns its measurements. The first failed
// request stops the run and is returned.
func runLoad(ctx context.Context, spec loadSpec) (loadResult, error) {
	if spec.conns < 1 || len(spec.bodies) == 0 {
		return loadResult{}, errors.New("load: no connections or no bodies")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	clients := make([]*http.Client, spec.conns)
	for i := range clients {
		clients[i] = newConnClient(spec.tls)
	}
	defer func() {
		for _, c := range clients {
			c.CloseIdleConnections()
		}
	}()

	// Warm-up: one request per connection, at the same time.
	var res loadResult
	var wg sync.WaitGroup
	for _, hc := range clients {
		wg.Go(func() {
			if err := post(ctx, hc, spec.url, spec.contentType, spec.token, spec.bodies[0], spec.checkRecords); err != nil {
				cancel(fmt.Errorf("warm-up: %w", err))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	res.lineBytes = int64(spec.conns) * spec.bodies[0].lineBytes

	if spec.onStart != nil {
		spec.onStart()
	}
	var next atomic.Int64
	counts := make([]loadResult, spec.conns)
	start := time.Now()
	for i, hc := range clients {
		wg.Go(func() {
			c := &counts[i]
			c.latencies = make([]time.Duration, 0, spec.requests/spec.conns+1)
			for {
				n := int(next.Add(1)) - 1
				if n >= spec.requests || ctx.Err() != nil {
					break
				}
				b := spec.bodies[n%len(spec.bodies)]
				t0 := time.Now()
				if err := post(ctx, hc, spec.url, spec.contentType, spec.token, b, spec.checkRecords); err != nil {
					cancel(err)
					break
				}
				c.count(b, time.Since(t0))
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	res.sum(counts)
	return res, nil
}

// count adds one answered request of body b that took lat.
func (r *loadResult) count(b batch, lat time.Duration) {
	r.latencies = append(r.latencies, lat)
	r.requests++
	r.records += int64(b.records)
	r.bodyBytes += int64(len(b.body))
	r.lineBytes += b.lineBytes
}

// sum adds the connections' results parts to r.
func (r *loadResult) sum(parts []loadResult) {
	for _, p := range parts {
		r.requests += p.requests
		r.records += p.records
		r.bodyBytes += p.bodyBytes
		r.lineBytes += p.lineBytes
		r.latencies = append(r.latencies, p.latencies...)
	}
}

// pacedSpec is a paced load: requests sent on a fixed schedule rather than
// back to back, so that the server has CPU to spare (what a compression or
// a shipment running beside ingest needs to be measured at all).
type pacedSpec struct {
	url         string
	contentType string
	bodies      []batch
	conns       int
	rate        float64 // requests a second, all connections together
	requests    int     // requests in all
	// checkRecords: as in loadSpec.
	checkRecords bool
}

// runPaced performs spec: request i goes out on connection i mod conns at
// start + i/rate (each connection's requests evenly spaced, the connections
// staggered), or as soon as its connection is free when an answer came
// late. A latency is from the request's send to the last byte of its
// answer; the result's latencies are sorted. The first failed request stops
// the run and is returned.
func runPaced(ctx context.Context, spec pacedSpec) (loadResult, error) {
	var res loadResult
	if spec.conns < 1 || len(spec.bodies) == 0 || spec.rate <= 0 {
		return res, errors.New("paced load: no connections, no bodies or no rate")
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	counts := make([]loadResult, spec.conns)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range spec.conns {
		hc := newConnClient(nil)
		defer hc.CloseIdleConnections()
		wg.Go(func() {
			n := &counts[c]
			for i := c; i < spec.requests && ctx.Err() == nil; i += spec.conns {
				at := start.Add(time.Duration(float64(i) / spec.rate * float64(time.Second)))
				time.Sleep(time.Until(at))
				b := spec.bodies[i%len(spec.bodies)]
				t0 := time.Now()
				if err := post(ctx, hc, spec.url, spec.contentType, "", b, spec.checkRecords); err != nil {
					cancel(err)
					return
				}
				n.count(b, time.Since(t0))
			}
		})
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	res.sum(counts)
	slices.Sort(res.latencies)
	return res, nil
}
