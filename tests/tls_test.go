package tests

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Ingest across the network (docs/design.md §12, docs/security.md): TLS, mutual
// TLS and bearer tokens on the ingest port, refusals with nothing written,
// certificates and tokens reloaded without a restart, a slowloris on the
// TLS port bounded; curl (etc/shippers/curl-ship.sh) over TLS for real.

// tlsSetup is a daemon serving TLS with tokens, and what a client needs.
type tlsSetup struct {
	d         *daemon
	ca        *tlsCA
	dir       string
	tokens    string // the tokens file
	cert, key string // the server's
}

// The tokens of the tests: web may write access, ops every log and use
// the remote admin listener.
const (
	tlsWebToken = "web-8d3f0c2a9e7b4f61a5c2d9e0b7f3a1c4"
	tlsOpsToken = "ops-1b2c3d4e5f60718293a4b5c6d7e8f901"
)

// tlsConfText is a records.toml with TLS and tokens on the ingest port
// (and extra lines in [proxy.config.ingest]), logs access and errors.
func tlsConfText(dir, cert, key, tokens, extra string) string {
	text := conf{MaxBodyMB: 4, Logs: []string{"access", "errors"}}.toml()
	return strings.Replace(text, "max_body_mb = 4\n", fmt.Sprintf("max_body_mb = 4\ntls_cert_file = %q\ntls_key_file = %q\nauth_tokens_file = %q\n%s", cert, key, tokens, extra), 1)
}

// tlsStart starts a daemon with TLS and the two tokens; extra goes into
// [proxy.config.ingest].
func tlsStart(t *testing.T, extra func(ca *tlsCA) string) *tlsSetup {
	t.Helper()
	dir := tempDir(t)
	s := &tlsSetup{dir: dir, ca: newCA(t, dir, "ca"), tokens: filepath.Join(dir, "tokens")}
	s.cert, s.key = s.ca.valid(t, "server", true)
	tokens := "# test tokens\n" + tokenLine("web", tlsWebToken, "access", false) + tokenLine("ops", tlsOpsToken, "*", true)
	if err := os.WriteFile(s.tokens, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	more := ""
	if extra != nil {
		more = extra(s.ca)
	}
	s.d = startDaemon(t, writeConfig(t, dir, tlsConfText(dir, s.cert, s.key, s.tokens, more)))
	if !strings.Contains(s.d.stderr.String(), "post=https://") {
		t.Fatalf("the daemon does not announce https:\n%s", s.d.stderr.String())
	}
	return s
}

// tlsDo sends method path with body and the bearer token (none when "")
// through c, and returns the status and body.
func tlsDo(t *testing.T, c *http.Client, method, url, token, body string) (int, http.Header, string, error) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data), nil
}

// TestTLSIngest: over TLS, a request without a token, with an unknown one
// or with another log's is refused with a JSON error and writes nothing; a
// plain HTTP request to the TLS port is refused; /healthz needs no token,
// /metrics does; the right token writes.
func TestTLSIngest(t *testing.T) {
	s := tlsStart(t, nil)
	c := tlsClient(t, s.ca, "", "")
	base := "https://" + s.d.addr
	for _, tc := range []struct {
		name, method, path, token string
		code                      int
		msg, wwwAuth              string
	}{
		{"no token", "POST", "/v1/logs/access", "", 401, "missing bearer token", `Bearer realm="logroll"`},
		{"unknown token", "POST", "/v1/logs/access", "nope", 401, "invalid bearer token", `Bearer realm="logroll", error="invalid_token"`},
		{"unknown token, unknown log", "POST", "/v1/logs/nosuch", "nope", 401, "invalid bearer token", `Bearer realm="logroll", error="invalid_token"`},
		{"another log's token", "POST", "/v1/logs/errors", tlsWebToken, 403, `token "web" may not write to log "errors.log" (it may write to: access.log)`, ""},
		{"metrics without token", "GET", "/metrics", "", 401, "missing bearer token", `Bearer realm="logroll"`},
	} {
		code, hdr, body, err := tlsDo(t, c, tc.method, base+tc.path, tc.token, "refused line\n")
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var e struct{ Error string }
		if code != tc.code || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, tc.msg) || hdr.Get("WWW-Authenticate") != tc.wwwAuth {
			t.Errorf("%s: %d %s (WWW-Authenticate %q), want %d with %q (%q)", tc.name, code, body, hdr.Get("WWW-Authenticate"), tc.code, tc.msg, tc.wwwAuth)
		}
	}
	// Without a valid token no connection is kept alive (net/http's client
	// takes the Connection header out of the answer into Close); a client
	// that keeps its connections alive (tlsClient's does not) asks.
	tr := c.Transport.(*http.Transport).Clone()
	tr.DisableKeepAlives = false
	defer tr.CloseIdleConnections()
	c = &http.Client{Transport: tr, Timeout: waitLimit}
	for token, wantClose := range map[string]bool{"": true, "nope": true} {
		req, _ := http.NewRequest("POST", base+"/v1/logs/errors", strings.NewReader("refused line\n"))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close != wantClose {
			t.Errorf("token %q: %d with Connection: close %v, want %v", token, resp.StatusCode, resp.Close, wantClose)
		}
	}
	// Nor do requests that need none: /healthz, a wrong path.
	for _, path := range []string{"/healthz", "/nothere"} {
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if !resp.Close {
			t.Errorf("GET %s without a token: %d, connection kept alive", path, resp.StatusCode)
		}
	}
	// A health checker with a valid token keeps its connection.
	req, _ := http.NewRequest("GET", base+"/healthz", nil)
	req.Header.Set("Authorization", "Bearer "+tlsWebToken)
	if resp, err := c.Do(req); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Close {
			t.Errorf("GET /healthz with a valid token: the connection was closed")
		}
	}
	// A flood of connections that never start their handshake takes at
	// most 1024 of the daemon's descriptors; the others wait in the
	// kernel's backlog, and a shipper gets in once they go.
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.d.pid()))
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	var flood []net.Conn
	for range 1100 {
		conn, err := net.Dial("tcp", s.d.addr)
		if err != nil {
			break // the backlog is full
		}
		flood = append(flood, conn)
	}
	time.Sleep(500 * time.Millisecond)
	if n := fds() - before; n > 1024 {
		t.Errorf("%d connections open: the daemon took %d more descriptors, want at most 1024", len(flood), n)
	}
	for _, conn := range flood {
		conn.Close()
	}
	eventually(t, func() string {
		if code, _, _, err := tlsDo(t, c, "GET", base+"/healthz", "", ""); err != nil || code != 200 {
			return fmt.Sprintf("after the flood: %d %v", code, err)
		}
		return ""
	})
	// Plain HTTP on the TLS port.
	resp, err := http.Post("http://"+s.d.addr+"/v1/logs/access", "text/plain", strings.NewReader("plain line\n"))
	if err == nil {
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP to the TLS port: %d %s", resp.StatusCode, data)
		}
	}
	if code, _, _, err := tlsDo(t, c, "GET", base+"/healthz", "", ""); err != nil || code != 200 {
		t.Errorf("/healthz without token: %d %v", code, err)
	}
	if code, _, body, err := tlsDo(t, c, "GET", base+"/metrics", tlsOpsToken, ""); err != nil || code != 200 || !strings.Contains(body, "proxy_process_log_records_written_total") {
		t.Errorf("/metrics with a token: %d %v", code, err)
	}
	for _, f := range []string{"access.log", "errors.log"} {
		if data, _ := os.ReadFile(filepath.Join(s.d.logs, f)); len(data) != 0 {
			t.Errorf("%s holds %q after refused requests", f, data)
		}
	}
	if code, _, body, err := tlsDo(t, c, "POST", base+"/v1/logs/access", tlsWebToken, "good line\n"); err != nil || code != 200 || body != `{"records":1}` {
		t.Fatalf("with the token: %d %s %v", code, body, err)
	}
	if code, _, _, err := tlsDo(t, c, "POST", base+"/v1/logs/errors", tlsOpsToken, "ops line\n"); err != nil || code != 200 {
		t.Fatalf("ops token: %d %v", code, err)
	}
	if got := readFile(t, filepath.Join(s.d.logs, "access.log")); got != "good line\n" {
		t.Errorf("access.log = %q", got)
	}
}

// TestTLSCurl ships 20,000 lines with etc/shippers/curl-ship.sh over TLS
// with a token from a file, to a daemon that also asks for a client
// certificate: every line arrives once, in order.
func TestTLSCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed: the curl recipe is not tested")
	}
	s := tlsStart(t, func(ca *tlsCA) string { return fmt.Sprintf("tls_client_ca_file = %q\n", ca.pem) })
	cert, key := s.ca.valid(t, "shipper", false)
	tokenFile := filepath.Join(s.dir, "web.token")
	if err := os.WriteFile(tokenFile, []byte(tlsWebToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), deliverLimit)
	defer cancel()
	cmd, out := curlCmd(t, ctx, s.d, false)
	cmd.Args[1] = "https://" + s.d.addr + "/v1/logs/access"
	cmd.Env = append(cmd.Env, "LOGROLL_TOKEN_FILE="+tokenFile, "LOGROLL_CACERT="+s.ca.pem, "LOGROLL_CERT="+cert, "LOGROLL_KEY="+key)
	if err := cmd.Run(); err != nil {
		t.Fatalf("curl-ship.sh over TLS: %v\n%s", err, out)
	}
	checkCurlLog(t, s.d)
	if strings.Contains(strings.Join(cmd.Args, " "), tlsWebToken) {
		t.Error("the token is on curl-ship.sh's command line")
	}
	// Without the client certificate, the handshake is refused.
	cmd2, out2 := curlCmd(t, ctx, s.d, false)
	cmd2.Args[1] = "https://" + s.d.addr + "/v1/logs/access"
	cmd2.Env = append(cmd2.Env, "LOGROLL_TOKEN_FILE="+tokenFile, "LOGROLL_CACERT="+s.ca.pem)
	if err := cmd2.Run(); err == nil {
		t.Errorf("curl-ship.sh without a client certificate succeeded:\n%s", out2)
	}
	checkCurlLog(t, s.d) // nothing more written
}

// TestTLSMutual: with tls_client_ca_file, a client without a certificate,
// with one from another CA, or with an expired one is refused in the
// handshake, and nothing is written; a valid one with a token writes.
func TestTLSMutual(t *testing.T) {
	s := tlsStart(t, func(ca *tlsCA) string { return fmt.Sprintf("tls_client_ca_file = %q\n", ca.pem) })
	other := newCA(t, s.dir, "otherca")
	okCert, okKey := s.ca.valid(t, "client", false)
	otherCert, otherKey := other.valid(t, "intruder", false)
	oldCert, oldKey := s.ca.issue(t, "expired", false, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	url := "https://" + s.d.addr + "/v1/logs/access"
	for _, tc := range []struct{ name, cert, key string }{
		{"no client certificate", "", ""},
		{"another CA's certificate", otherCert, otherKey},
		{"expired certificate", oldCert, oldKey},
	} {
		code, _, body, err := tlsDo(t, tlsClient(t, s.ca, tc.cert, tc.key), "POST", url, tlsWebToken, "refused\n")
		if err == nil {
			t.Errorf("%s: answered %d %s, want a refused handshake", tc.name, code, body)
		}
	}
	if data, _ := os.ReadFile(filepath.Join(s.d.logs, "access.log")); len(data) != 0 {
		t.Errorf("access.log holds %q", data)
	}
	// Counted, and said once (at most one line every 10 s).
	eventually(t, func() string {
		if n := s.d.metric(t, "proxy.process.log.ingest.tls_handshake_errors"); n != 3 {
			return fmt.Sprintf("%d handshake errors counted, want 3", n)
		}
		return ""
	})
	if n := strings.Count(s.d.stderr.String(), "TLS handshake error"); n != 1 {
		t.Errorf("%d lines about TLS handshake errors in the daemon's log, want 1", n)
	}
	code, _, body, err := tlsDo(t, tlsClient(t, s.ca, okCert, okKey), "POST", url, tlsWebToken, "mutual\n")
	if err != nil || code != 200 {
		t.Fatalf("valid client certificate: %d %s %v", code, body, err)
	}
	// A certificate alone is not enough: the token is still asked for.
	if code, _, _, err := tlsDo(t, tlsClient(t, s.ca, okCert, okKey), "POST", url, "", "x\n"); err != nil || code != 401 {
		t.Errorf("client certificate without token: %d %v, want 401", code, err)
	}
}

// tlsPeerSerial connects to addr and returns the serial of the
// certificate it presents.
func tlsPeerSerial(t *testing.T, addr string, ca *tlsCA) string {
	t.Helper()
	c := tlsClient(t, ca, "", "")
	conn, err := tls.Dial("tcp", addr, c.Transport.(*http.Transport).TLSClientConfig)
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestTLSReload renews the server certificate and edits the tokens file,
// then reloads: new connections get the new certificate, the removed token
// is refused and the added one accepted, without a restart. A reload with
// a key that does not match its certificate is refused with the record's
// place, and the running certificate and tokens stay.
func TestTLSReload(t *testing.T) {
	s := tlsStart(t, nil)
	before := tlsPeerSerial(t, s.d.addr, s.ca)
	// Renew the certificate in place (a new key and serial) and replace
	// the web token by another.
	newCert, newKey := s.ca.valid(t, "server2", true)
	for _, p := range [][2]string{{newCert, s.cert}, {newKey, s.key}} {
		data, _ := os.ReadFile(p[0])
		if err := os.WriteFile(p[1], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const newToken = "web2-5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d"
	tokens := tokenLine("web2", newToken, "access", false) + tokenLine("ops", tlsOpsToken, "*", true)
	if err := os.WriteFile(s.tokens, []byte(tokens), 0o600); err != nil {
		t.Fatal(err)
	}
	// The reload says what it changed in the files' content: the
	// certificate, the token removed and the one added, by name.
	out := s.d.ctl(t, "config", "reload").stdout
	for _, want := range []string{
		"proxy.config.ingest.tls_cert_file (certificate): CN=server, ",
		" -> CN=server2, ",
		"proxy.config.ingest.auth_tokens_file[web]: access.log; SHA-256 ",
		"… -> (none)\n",
		"proxy.config.ingest.auth_tokens_file[web2]: (none) -> access.log; SHA-256 ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("config reload printed:\n%s\nwant a line with %q", out, want)
		}
	}
	if strings.Contains(out, "[ops]") {
		t.Errorf("config reload printed a change of the token it did not change:\n%s", out)
	}
	after := tlsPeerSerial(t, s.d.addr, s.ca)
	if after == before {
		t.Errorf("the certificate served after the reload is the old one (serial %s)", before)
	}
	c := tlsClient(t, s.ca, "", "")
	url := "https://" + s.d.addr + "/v1/logs/access"
	if code, _, _, err := tlsDo(t, c, "POST", url, tlsWebToken, "old token\n"); err != nil || code != 401 {
		t.Errorf("removed token: %d %v, want 401", code, err)
	}
	if code, _, _, err := tlsDo(t, c, "POST", url, newToken, "new token\n"); err != nil || code != 200 {
		t.Errorf("added token: %d %v, want 200", code, err)
	}
	// A broken pair: refused, everything kept.
	_, otherKey := s.ca.valid(t, "server3", true)
	data, _ := os.ReadFile(otherKey)
	if err := os.WriteFile(s.key, data, 0o600); err != nil {
		t.Fatal(err)
	}
	r := s.d.tryCtl(t, "config", "reload")
	line, col := position(t, readFile(t, s.d.config), fmt.Sprintf("%q", s.cert))
	want := fmt.Sprintf("%s:%d:%d: proxy.config.ingest.tls_cert_file: ", s.d.config, line, col)
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, "private key does not match public key") {
		t.Errorf("reload with a mismatched key: %v\nwant exit 1 and %q", r, want)
	}
	if got := tlsPeerSerial(t, s.d.addr, s.ca); got != after {
		t.Errorf("after a refused reload the certificate changed: %s, want %s", got, after)
	}
	if code, _, _, err := tlsDo(t, c, "POST", url, newToken, "still\n"); err != nil || code != 200 {
		t.Errorf("after a refused reload: %d %v", code, err)
	}
	// A tokens file that is a FIFO (its open would wait for a writer for
	// ever, and every later reload behind it) or /dev/zero (read without
	// end): refused at once, and the next reload works.
	if err := os.WriteFile(s.key, readFile2(t, newKey), 0o600); err != nil {
		t.Fatal(err)
	}
	good := readFile2(t, s.tokens)
	for _, tc := range []struct {
		make func() error
		want string
	}{
		{func() error { return syscall.Mkfifo(s.tokens, 0o600) }, "not a regular file (a FIFO)"},
		{func() error { return os.Symlink("/dev/zero", s.tokens) }, "not a regular file (a character device)"},
	} {
		if err := os.Remove(s.tokens); err != nil {
			t.Fatal(err)
		}
		if err := tc.make(); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r := s.d.tryCtl(t, "config", "reload")
		if r.code != 1 || !strings.Contains(r.stderr, "proxy.config.ingest.auth_tokens_file: ") || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("reload with the tokens file %s: %v, want exit 1 and %q", tc.want, r, tc.want)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("the refusal took %v", d)
		}
		if code, _, _, err := tlsDo(t, c, "POST", url, newToken, "kept\n"); err != nil || code != 200 {
			t.Errorf("after a refused reload: %d %v", code, err)
		}
	}
	if err := os.Remove(s.tokens); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.tokens, good, 0o600); err != nil {
		t.Fatal(err)
	}
	s.d.ctl(t, "config", "reload")
}

// readFile2 returns path's content as bytes.
func readFile2(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestTLSRefusedAtStart: an expired certificate, a key that does not match,
// or a tokens file with a mistake stop logrolld at start with exit 2 and
// the place of the problem.
func TestTLSRefusedAtStart(t *testing.T) {
	dir := tempDir(t)
	ca := newCA(t, dir, "ca")
	cert, key := ca.valid(t, "server", true)
	oldCert, oldKey := ca.issue(t, "old", true, time.Now().Add(-48*time.Hour), time.Now().Add(-time.Hour))
	_, otherKey := ca.valid(t, "other", true)
	good := filepath.Join(dir, "tokens")
	os.WriteFile(good, []byte(tokenLine("web", tlsWebToken, "access", false)), 0o600)
	bad := filepath.Join(dir, "badtokens")
	os.WriteFile(bad, []byte("web 1234 access\n"), 0o600)
	junkFile := filepath.Join(dir, "junk.pem")
	os.WriteFile(junkFile, []byte("-----BEGIN NOTHING-----\nAAAA\n-----END NOTHING-----\n"), 0o600)
	for _, tc := range []struct{ name, cert, key, tokens, want string }{
		{"expired certificate", oldCert, oldKey, good, "proxy.config.ingest.tls_cert_file: " + oldCert + ": the certificate (CN=old) expired on"},
		{"mismatched key", cert, otherKey, good, "proxy.config.ingest.tls_cert_file: certificate " + cert + " with key " + otherKey + ": tls: private key does not match public key"},
		{"missing key file", cert, filepath.Join(dir, "nokey"), good, "proxy.config.ingest.tls_key_file: open " + filepath.Join(dir, "nokey") + ": no such file or directory"},
		{"bad tokens file", cert, key, bad, "proxy.config.ingest.auth_tokens_file: tokens file refused:\n" + bad + `:1:5: "1234" is not a SHA-256`},
		// Every problem at once: the certificate's, the key's and the tokens file's.
		{"missing certificate, key and tokens files", filepath.Join(dir, "nocert"), filepath.Join(dir, "nokey"), filepath.Join(dir, "notokens"),
			"proxy.config.ingest.tls_cert_file: open " + filepath.Join(dir, "nocert") + ": no such file or directory\n" +
				"%CONFIG%:10:16: proxy.config.ingest.tls_key_file: open " + filepath.Join(dir, "nokey") + ": no such file or directory\n" +
				"%CONFIG%:11:20: proxy.config.ingest.auth_tokens_file: open " + filepath.Join(dir, "notokens") + ": no such file or directory"},
		// Files that can be read but hold nothing of their kind: each at its
		// own record (the key given where the certificate goes, and junk).
		{"junk certificate and key", key, junkFile, good,
			"proxy.config.ingest.tls_cert_file: " + key + " holds no PEM certificate\n" +
				"%CONFIG%:10:16: proxy.config.ingest.tls_key_file: " + junkFile + " holds no PEM private key"},
		{"certificate as the key", cert, cert, good, "%CONFIG%:10:16: proxy.config.ingest.tls_key_file: " + cert + " holds no PEM private key"},
		{"missing certificate and tokens files", filepath.Join(dir, "nocert"), key, filepath.Join(dir, "notokens"),
			"proxy.config.ingest.tls_cert_file: open " + filepath.Join(dir, "nocert") + ": no such file or directory\n" +
				"%CONFIG%:11:20: proxy.config.ingest.auth_tokens_file: open " + filepath.Join(dir, "notokens") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sub := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"))
			os.MkdirAll(sub, 0o755)
			d := launch(t, writeConfig(t, sub, tlsConfText(sub, tc.cert, tc.key, tc.tokens, "")))
			tc.want = strings.ReplaceAll(tc.want, "%CONFIG%", d.config)
			if code := d.wait(t, waitLimit); code != 2 {
				t.Fatalf("exit %d, want 2", code)
			}
			if !strings.Contains(d.stderr.String(), tc.want) || !strings.Contains(d.stderr.String(), d.config+":") {
				t.Errorf("stderr does not hold %q at %s:LINE:COL:\n%s", tc.want, d.config, d.stderr.String())
			}
			// logrollctl config check reads the same files.
			if r := runCtl(t, "config", "check", d.config); r.code != 1 || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("config check: %v\nwant exit 1 and %q", r, tc.want)
			}
		})
	}
	// Files that can be read but are bad: the expired certificate and a
	// client CA file holding no certificate, both at once.
	junk := filepath.Join(dir, "junk-ca.pem")
	os.WriteFile(junk, []byte("not a certificate\n"), 0o644)
	sub := filepath.Join(dir, "expired-and-junk-ca")
	os.MkdirAll(sub, 0o755)
	cfg := writeConfig(t, sub, tlsConfText(sub, oldCert, oldKey, good, fmt.Sprintf("tls_client_ca_file = %q\n", junk)))
	r := runCtl(t, "config", "check", cfg)
	for _, want := range []string{"proxy.config.ingest.tls_cert_file: " + oldCert + ": the certificate (CN=old) expired on", "proxy.config.ingest.tls_client_ca_file: " + junk + " holds no PEM certificate"} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("config check of an expired certificate and a junk client CA: %v\nwant exit 1 and %q", r, want)
		}
	}
	// A client CA file that cannot be read does not hide the certificate's
	// problem: both are said at once.
	missing := filepath.Join(dir, "no-ca.pem")
	sub = filepath.Join(dir, "expired-and-missing-ca")
	os.MkdirAll(sub, 0o755)
	cfg = writeConfig(t, sub, tlsConfText(sub, oldCert, oldKey, good, fmt.Sprintf("tls_client_ca_file = %q\n", missing)))
	r = runCtl(t, "config", "check", cfg)
	for _, want := range []string{"proxy.config.ingest.tls_cert_file: " + oldCert + ": the certificate (CN=old) expired on", "proxy.config.ingest.tls_client_ca_file: open " + missing} {
		if r.code != 1 || !strings.Contains(r.stderr, want) {
			t.Errorf("config check of an expired certificate and a missing client CA: %v\nwant exit 1 and %q", r, want)
		}
	}
}

// TestTLSSlowloris opens 300 connections to the TLS port that never finish
// their handshake (half of them send half a ClientHello): the daemon holds
// one goroutine each and closes them all within the handshake timeout
// (ReadHeaderTimeout, 10 s), while a real client is served meanwhile;
// nothing is written but its line. About 10 s.
func TestTLSSlowloris(t *testing.T) {
	s := tlsStart(t, nil)
	c := tlsClient(t, s.ca, "", "")
	baseG := s.d.goMetricTLS(t, c, tlsOpsToken, "go_goroutines")
	var conns []net.Conn
	for i := range 300 {
		conn, err := net.Dial("tcp", s.d.addr)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, conn)
		if i%2 == 1 {
			conn.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03}) // a record header and the start of a ClientHello
		}
	}
	defer func() {
		for _, conn := range conns {
			conn.Close()
		}
	}()
	start := time.Now()
	eventually(t, func() string {
		if g := s.d.goMetricTLS(t, c, tlsOpsToken, "go_goroutines"); g < baseG+300 {
			return fmt.Sprintf("%v goroutines, %v before 300 connections", g, baseG)
		}
		return ""
	})
	if g := s.d.goMetricTLS(t, c, tlsOpsToken, "go_goroutines"); g > baseG+300+20 {
		t.Errorf("%v goroutines for 300 stalled connections (%v before)", g, baseG)
	}
	if code, _, _, err := tlsDo(t, c, "POST", "https://"+s.d.addr+"/v1/logs/access", tlsWebToken, "served meanwhile\n"); err != nil || code != 200 {
		t.Errorf("a real client during the slowloris: %d %v", code, err)
	}
	// Every stalled connection is closed by the daemon within the timeout.
	deadline := time.Now().Add(20 * time.Second)
	buf := make([]byte, 1)
	for _, conn := range conns {
		conn.SetReadDeadline(deadline)
		for {
			if _, err := conn.Read(buf); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatalf("a stalled connection still open %v after it was opened", time.Since(start).Round(time.Second))
				}
				break
			}
		}
	}
	t.Logf("300 stalled connections closed by the daemon after %v; %d TLS handshake errors counted", time.Since(start).Round(100*time.Millisecond),
		s.d.metric(t, "proxy.process.log.ingest.tls_handshake_errors"))
	eventually(t, func() string {
		if g := s.d.goMetricTLS(t, c, tlsOpsToken, "go_goroutines"); g > baseG+5 {
			return fmt.Sprintf("%v goroutines after the connections closed, %v before", g, baseG)
		}
		return ""
	})
	if got := readFile(t, filepath.Join(s.d.logs, "access.log")); got != "served meanwhile\n" {
		t.Errorf("access.log = %q", got)
	}
}

// goMetricTLS is goMetric on an ingest port that wants TLS and a token.
func (d *daemon) goMetricTLS(t *testing.T, c *http.Client, token, name string) float64 {
	t.Helper()
	code, _, body, err := tlsDo(t, c, "GET", "https://"+d.addr+"/metrics", token, "")
	if err != nil || code != 200 {
		t.Fatalf("GET /metrics: %d %v", code, err)
	}
	return promValue(t, body, name)
}

// TestTLSRefusalWholeBodyClient: a client that writes its whole body
// before it reads the answer (Python's http.client, most shippers) gets
// the status of a refusal made before the body was read — a body over
// max_body_mb, no token, another log's token — rather than a reset, which
// it would retry for ever; nothing is written (docs/daemon.md "Ingest").
func TestTLSRefusalWholeBodyClient(t *testing.T) {
	s := tlsStart(t, nil)
	pool := x509.NewCertPool()
	pool.AddCert(s.ca.cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	host, _, _ := net.SplitHostPort(s.d.addr)
	cfg.ServerName = host
	big := strings.Repeat("a refused line\n", 6<<20/15) // 6 MiB: over max_body_mb = 4
	small := strings.Repeat("a refused line\n", 2<<20/15)
	for _, tc := range []struct {
		name, path, token, body string
		code                    int
	}{
		{"over max_body_mb", "/v1/logs/access", tlsWebToken, big, 413},
		{"no token", "/v1/logs/access", "", small, 401},
		{"another log's token", "/v1/logs/errors", tlsWebToken, small, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := tls.Dial("tcp", s.d.addr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(waitLimit))
			auth := ""
			if tc.token != "" {
				auth = "Authorization: Bearer " + tc.token + "\r\n"
			}
			if _, err := fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%sContent-Length: %d\r\n\r\n%s", tc.path, auth, len(tc.body), tc.body); err != nil {
				t.Fatalf("writing the body: %v (the daemon closed before reading it)", err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("reading the answer: %v", err)
			}
			data, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.code || !strings.Contains(string(data), `"error"`) {
				t.Errorf("answer %d %q, want %d with a JSON error", resp.StatusCode, data, tc.code)
			}
		})
	}
	for _, f := range []string{"access.log", "errors.log"} {
		if data, err := os.ReadFile(filepath.Join(s.d.logs, f)); err == nil && len(data) > 0 {
			t.Errorf("%s holds %d bytes after refusals", f, len(data))
		}
	}
}
