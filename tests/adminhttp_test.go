package tests

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"github.com/logroll/logroll/ctl"
)

// The remote admin listener ([proxy.config.admin] http_listen, docs/design.md §12,
// docs/security.md "Remote admin"): roll, rolled and status over TLS with
// an admin token, limited to the token's logs; nothing else.

var remoteLine = regexp.MustCompile(`msg="logrolld remote admin listening" addr=(\S+)`)

// The admin token of the tests: it may write and roll access only.
const remoteToken = "conveyer-0a1b2c3d4e5f60718293a4b5c6d7e8f9"

// remoteStart starts a daemon with TLS, tokens (web, ops as in tlsStart,
// and conveyer: admin for access) and the remote admin listener.
func remoteStart(t *testing.T) (*tlsSetup, string) {
	t.Helper()
	s := tlsStart(t, nil)
	writeTokens(t, s.tokens, readFile(t, s.tokens)+tokenLine("conveyer", remoteToken, "access", true))
	text := strings.Replace(readFile(t, s.d.config), "[proxy.config.ingest]", "[proxy.config.admin]\nhttp_listen = \"127.0.0.1:0\"\n\n[proxy.config.ingest]", 1)
	writeConfig(t, s.dir, text)
	s.d.signal(t, syscall.SIGTERM)
	if code := s.d.wait(t, waitLimit); code != 0 {
		t.Fatalf("exit %d", code)
	}
	s.d = startDaemon(t, s.d.config)
	m := remoteLine.FindStringSubmatch(s.d.stderr.String())
	if m == nil {
		t.Fatalf("no remote admin line:\n%s", s.d.stderr.String())
	}
	return s, "https://" + m[1]
}

// TestRemoteAdmin: with the admin token an agent rolls access (POST with a
// body, and GET as Conveyer does), lists its rolled files and reads the
// status, each limited to access; without a token, with a token that is
// not admin, or for a log the token may not use, it is refused; no other
// endpoint is served; plain HTTP is refused.
func TestRemoteAdmin(t *testing.T) {
	s, base := remoteStart(t)
	c := tlsClient(t, s.ca, "", "")
	ingest := "https://" + s.d.addr + "/v1/logs/"
	for _, l := range []string{"access", "errors"} {
		if code, _, _, err := tlsDo(t, c, "POST", ingest+l, tlsOpsToken, l+" line\n"); err != nil || code != 200 {
			t.Fatalf("post %s: %d %v", l, code, err)
		}
	}
	// POST /v1/roll with a body.
	code, _, body, err := tlsDo(t, c, "POST", base+"/v1/roll", remoteToken, `{"logs":["access"]}`)
	var rr ctl.RollResponse
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &rr) != nil || len(rr.Rolled) != 1 || rr.Rolled[0].Log != "access.log" {
		t.Fatalf("POST /v1/roll: %d %s %v", code, body, err)
	}
	if got := readFile(t, rr.Rolled[0].Path); got != "access line\n" {
		t.Errorf("rolled file holds %q", got)
	}
	// GET /v1/roll, every log of the token, with curl as an agent would.
	if code, _, _, err := tlsDo(t, c, "POST", ingest+"access", tlsOpsToken, "second\n"); err != nil || code != 200 {
		t.Fatal(code, err)
	}
	if _, err := exec.LookPath("curl"); err == nil {
		hdr := filepath.Join(s.dir, "auth.hdr")
		os.WriteFile(hdr, []byte("Authorization: Bearer "+remoteToken+"\n"), 0o600)
		out, err := exec.Command("curl", "--silent", "--show-error", "--fail", "--cacert", s.ca.pem, "-H", "@"+hdr, base+"/v1/roll").CombinedOutput()
		var rr2 ctl.RollResponse
		if err != nil || json.Unmarshal(out, &rr2) != nil || len(rr2.Rolled) != 1 || rr2.Rolled[0].Log != "access.log" {
			t.Errorf("curl GET /v1/roll: %v\n%s", err, out)
		}
	}
	// rolled and status: access only.
	code, _, body, err = tlsDo(t, c, "GET", base+"/v1/rolled", remoteToken, "")
	var rl ctl.RolledResponse
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &rl) != nil || len(rl.Rolled) < 1 {
		t.Fatalf("GET /v1/rolled: %d %s %v", code, body, err)
	}
	for _, f := range rl.Rolled {
		if f.Log != "access.log" {
			t.Errorf("rolled lists %s, a log the token may not use", f.Path)
		}
	}
	code, _, body, err = tlsDo(t, c, "GET", base+"/v1/status", remoteToken, "")
	var st ctl.Status
	if err != nil || code != 200 || json.Unmarshal([]byte(body), &st) != nil || len(st.Logs) != 1 || st.Logs[0].Name != "access.log" {
		t.Errorf("GET /v1/status: %d %s %v", code, body, err)
	}
	// Refusals.
	for _, tc := range []struct {
		name, method, path, token, body string
		code                            int
		msg                             string
	}{
		{"no token", "POST", "/v1/roll", "", "", 401, "missing bearer token"},
		{"unknown token", "GET", "/v1/status", "nope", "", 401, "invalid bearer token"},
		{"not an admin token", "POST", "/v1/roll", tlsWebToken, "", 403, `token "web" may not use the remote admin listener`},
		{"another log", "POST", "/v1/roll", remoteToken, `{"logs":["errors"]}`, 403, `token "conveyer" may not use log "errors.log" (it may: access.log)`},
		{"another log's files", "GET", "/v1/rolled?log=errors", remoteToken, "", 403, `may not use log "errors.log"`},
		{"undeclared log", "GET", "/v1/roll?log=nosuch", remoteToken, "", 404, `unknown log "nosuch" (token "conveyer" may use: access.log)`},
		{"reload is not served", "POST", "/v1/config/reload", tlsOpsToken, "", 404, "no endpoint POST /v1/config/reload"},
		{"config is not served", "GET", "/v1/config", tlsOpsToken, "", 404, "no endpoint"},
		{"metrics are not served", "GET", "/v1/metrics", tlsOpsToken, "", 404, "no endpoint"},
		{"records are not taken", "POST", "/v1/logs/access", tlsOpsToken, "x\n", 404, "no endpoint"},
		{"bad roll body", "POST", "/v1/roll", remoteToken, `{"log":"access"}`, 400, "bad roll request"},
		{"roll body over 1 MiB", "POST", "/v1/roll", remoteToken, `{"logs":["` + strings.Repeat("a", 1<<20) + `"]}`, 413, "request body too large"},
		{"wrong method", "DELETE", "/v1/roll", remoteToken, "", 405, "method DELETE not allowed"},
	} {
		code, _, body, err := tlsDo(t, c, tc.method, base+tc.path, tc.token, tc.body)
		var e ctl.ErrorResponse
		if err != nil || code != tc.code || json.Unmarshal([]byte(body), &e) != nil || !strings.Contains(e.Error, tc.msg) {
			t.Errorf("%s: %d %s %v, want %d with %q", tc.name, code, body, err, tc.code, tc.msg)
		}
		if strings.Contains(body, "errors.log") && tc.code == 404 {
			t.Errorf("%s: %s names a log the token may not use", tc.name, body)
		}
	}
	if resp, err := http.Get(strings.Replace(base, "https://", "http://", 1) + "/v1/status"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("plain HTTP: %d", resp.StatusCode)
		}
	}
	// Nothing rolled but access, and errors' line still in its active file.
	if got := readFile(t, filepath.Join(s.d.logs, "errors.log")); got != "errors line\n" {
		t.Errorf("errors.log = %q", got)
	}
	if n := strings.Count(s.d.stderr.String(), `msg="remote roll" token=conveyer`); n < 1 {
		t.Errorf("%d remote rolls logged with the token's name", n)
	}
}
