package tests

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// httpClient is the tests' ingest client: loopback, bounded.
var httpClient = &http.Client{Timeout: waitLimit}

// req is one ingest request.
type req struct {
	log      string // path element after /v1/logs/, sent as is (not escaped)
	ctype    string // Content-Type; "" sends none
	encoding string // Content-Encoding
	body     []byte
	chunked  bool // hide the length: the body goes chunked
	method   string
}

// answer is the daemon's answer.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// retryAfterOK reports whether a refusal's Retry-After is whole seconds ≥ 1.
func (a answer) retryAfterOK() bool {
	secs, err := strconv.Atoi(a.header.Get("Retry-After"))
	return err == nil && secs >= 1
}

// do sends r to the daemon's ingest listener. It does not touch the test:
// it may run in any goroutine.
func (d *daemon) do(r req) (answer, error) {
	var body io.Reader = bytes.NewReader(r.body)
	if r.chunked {
		body = io.MultiReader(body) // no length known: chunked
	}
	method := or(r.method, http.MethodPost)
	hr, err := http.NewRequest(method, "http://"+d.addr+"/v1/logs/"+r.log, body)
	if err != nil {
		return answer{}, err
	}
	if method == http.MethodGet {
		hr.Body, hr.ContentLength = nil, 0
	}
	if r.ctype != "" {
		hr.Header.Set("Content-Type", r.ctype)
	}
	if r.encoding != "" {
		hr.Header.Set("Content-Encoding", r.encoding)
	}
	resp, err := httpClient.Do(hr)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: data}, nil
}

// mustDo is do failing the test when no answer came.
func (d *daemon) mustDo(t *testing.T, r req) answer {
	t.Helper()
	a, err := d.do(r)
	if err != nil {
		t.Fatalf("%s /v1/logs/%s: %v", or(r.method, http.MethodPost), r.log, err)
	}
	return a
}

// post sends r and fails the test unless the answer is 200 {"records":want}.
func (d *daemon) post(t *testing.T, r req, want int) {
	t.Helper()
	a := d.mustDo(t, r)
	if a.status != http.StatusOK {
		t.Fatalf("POST /v1/logs/%s: status %d %s, want 200", r.log, a.status, a.body)
	}
	var got struct {
		Records *int `json:"records"`
	}
	if err := json.Unmarshal(a.body, &got); err != nil || got.Records == nil {
		t.Fatalf("POST /v1/logs/%s: body %q is not {\"records\":N}: %v", r.log, a.body, err)
	}
	if *got.Records != want {
		t.Fatalf("POST /v1/logs/%s: %s, want %d records", r.log, a.body, want)
	}
}

// postText posts lines as text/plain to log and expects them all accepted.
func (d *daemon) postText(t *testing.T, log string, ls ...string) {
	t.Helper()
	d.post(t, req{log: log, ctype: "text/plain", body: []byte(strings.Join(ls, "\n") + "\n")}, len(ls))
}

// get fetches path from the ingest listener.
func (d *daemon) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get("http://" + d.addr + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(data)
}
