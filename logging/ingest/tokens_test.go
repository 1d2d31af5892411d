package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestParseTokens(t *testing.T) {
	good := "# comment\n\nweb01\t" + sum("s3cret") + "  access,errors.log   # trailing comment\n" +
		"conveyer " + strings.ToUpper(sum("other")) + " * admin\n"
	ts, warns, err := ParseTokens([]byte(good), "tokens", func(l string) bool { return l != "errors.log" })
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 1 || warns[0] != `tokens:3:80: token "web01" allows log "errors.log", which is not declared in [[logs]]` {
		t.Errorf("warnings %q", warns)
	}
	tok := ts.Authenticate("s3cret")
	if tok == nil || tok.Name != "web01" || tok.Admin || !tok.MayWrite("access.log") || !tok.MayWrite("errors.log") || tok.MayWrite("other.log") {
		t.Errorf("web01 = %+v", tok)
	}
	tok = ts.Authenticate("other")
	if tok == nil || tok.Name != "conveyer" || !tok.Admin || !tok.MayWrite("anything.log") {
		t.Errorf("conveyer = %+v", tok)
	}
	for _, bad := range []string{"", "s3cre", "s3crett", "S3CRET", sum("s3cret")} {
		if tok := ts.Authenticate(bad); tok != nil {
			t.Errorf("Authenticate(%q) = %s", bad, tok.Name)
		}
	}

	// A byte order mark is skipped, with a warning.
	ts, warns, err = ParseTokens([]byte("\uFEFFweb01 "+sum("s3cret")+" access\n"), "bom", nil)
	if err != nil || ts.Authenticate("s3cret") == nil || len(warns) != 1 || !strings.Contains(warns[0], "bom:1:1: a UTF-8 byte order mark") {
		t.Errorf("a file with a byte order mark: %v, warnings %q", err, warns)
	}

	h := sum("x")
	tests := []struct{ in, want string }{
		{"a " + h + "\n", "f:1:1: want NAME SHA256 LOGS [admin], got 2 fields"},
		{"a " + h + " access admin extra\n", "f:1:1: want NAME SHA256 LOGS [admin], got 5 fields"},
		{"a/b " + h + " access\n", `f:1:1: token name "a/b" holds '/': use letters, digits, '.', '_', '-' and '@'`},
		{"a 1234 access\n", `f:1:3: "1234" is not a SHA-256 (64 hexadecimal digits): store the hash of the token, e.g. printf %s "$TOKEN" | sha256sum`},
		{"a " + h + " ../x\n", `f:1:68: log "../x" is not a log name (letters, digits, '.', '_' and '-')`},
		{"a " + h + " access,\n", `f:1:75: an empty log name in the list (a ',' too many?)`},
		{"a " + h + " access,../x\n", `f:1:75: log "../x" is not a log name (letters, digits, '.', '_' and '-')`},
		{"a " + h + " access root\n", `f:1:75: unknown field "root": the fourth field may only be "admin"`},
		{"a " + h + " access\na " + sum("y") + " access\n", `f:2:1: token name "a" is already used on line 1`},
		{"a " + h + " access\nb " + h + " access\n", `f:2:3: the same token is already listed on line 1`},
		{"# nothing\n", "f:1:1: no token: the file must list at least one (unset auth_tokens_file to accept requests without a token)"},
		{"a 1 x\nb 2 y\n", "f:1:3: \"1\" is not a SHA-256 (64 hexadecimal digits): store the hash of the token, e.g. printf %s \"$TOKEN\" | sha256sum\nf:2:3: \"2\" is not a SHA-256 (64 hexadecimal digits): store the hash of the token, e.g. printf %s \"$TOKEN\" | sha256sum"},
	}
	for _, tc := range tests {
		_, _, err := ParseTokens([]byte(tc.in), "f", nil)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q:\n got %v\nwant %s", tc.in, err, tc.want)
		}
	}
}

func TestBearerToken(t *testing.T) {
	for h, want := range map[string]string{"Bearer abc": "abc", "bearer  abc ": "abc", "Basic abc": "", "Bearer": "", "Bearer ": "", "": ""} {
		got, ok := BearerToken(h)
		if got != want || ok != (want != "") {
			t.Errorf("BearerToken(%q) = %q, %v", h, got, ok)
		}
	}
}

// TestAuthAnswers checks the ingest port's answers with tokens set: 401
// without or with a wrong token (before the body or the log name is looked
// at), 403 for another log's, 200 for the right one; nothing written but
// the last. /healthz needs no token, /metrics does; the trusted handler
// (the admin socket's) needs none.
func TestAuthAnswers(t *testing.T) {
	w := &fakeWriter{}
	s := NewServer(w, ServerConfig{Logger: slog.New(slog.DiscardHandler), Metrics: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("m 1\n")) })})
	ts, _, err := ParseTokens([]byte("web "+sum("tok")+" access\n"), "tokens", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetTokens(ts)
	do := func(h http.Handler, method, path, auth string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, path, strings.NewReader("line\n"))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec
	}
	public := http.HandlerFunc(s.servePublic)
	for _, c := range []struct {
		method, path, auth string
		code               int
		body, wwwAuth      string
	}{
		{"POST", "/v1/logs/access", "", 401, `{"error":"missing bearer token: send Authorization: Bearer TOKEN (proxy.config.ingest.auth_tokens_file is set)"}`, `Bearer realm="logroll"`},
		{"POST", "/v1/logs/nosuch", "", 401, "", `Bearer realm="logroll"`},
		{"POST", "/v1/logs/access", "Basic dG9rOg==", 401, `{"error":"Authorization is not a bearer token: send Authorization: Bearer TOKEN"}`, `Bearer realm="logroll"`},
		{"POST", "/v1/logs/access", "Bearer wrong", 401, `{"error":"invalid bearer token: its SHA-256 is not in the tokens file"}`, `Bearer realm="logroll", error="invalid_token"`},
		{"POST", "/v1/logs/errors", "Bearer tok", 403, `{"error":"token \"web\" may not write to log \"errors.log\" (it may write to: access.log)"}`, ""},
		{"GET", "/metrics", "", 401, "", `Bearer realm="logroll"`},
		{"GET", "/metrics", "Bearer tok", 200, "m 1\n", ""},
		{"GET", "/healthz", "", 200, "ok", ""},
		{"POST", "/v1/logs/access", "Bearer tok", 200, `{"records":1}`, ""},
	} {
		rec := do(public, c.method, c.path, c.auth)
		if rec.Code != c.code || (c.body != "" && rec.Body.String() != c.body) || rec.Header().Get("WWW-Authenticate") != c.wwwAuth {
			t.Errorf("%s %s (%q): %d %s (WWW-Authenticate %q), want %d %s (%q)", c.method, c.path, c.auth, rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"), c.code, c.body, c.wwwAuth)
		}
	}
	if got := w.written(); len(got) != 1 || got[0].log != "access.log" {
		t.Errorf("written %+v, want the one authorised request", got)
	}
	if rec := do(s.Handler(), "POST", "/v1/logs/errors", ""); rec.Code != 200 {
		t.Errorf("trusted handler: %d %s", rec.Code, rec.Body)
	}
	s.SetTokens(nil)
	if rec := do(public, "POST", "/v1/logs/errors", ""); rec.Code != 200 {
		t.Errorf("no tokens: %d %s", rec.Code, rec.Body)
	}
}
