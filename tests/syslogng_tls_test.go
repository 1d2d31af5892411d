package tests

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// syslog-ng's http() destination over TLS, with a bearer token and a
// client certificate: etc/shippers/syslog-ng-tls.conf against a logrolld
// with TLS, mutual TLS and tokens (docs/security.md).

// TestSyslogNGTLS delivers 10,000 messages from four senders through
// syslog-ng over TLS: every message arrives once, in order per sender.
func TestSyslogNGTLS(t *testing.T) {
	syslogNGBinary(t) // skips when syslog-ng is not installed
	s := tlsStart(t, func(ca *tlsCA) string { return fmt.Sprintf("tls_client_ca_file = %q\n", ca.pem) })
	// A token for the syslog log.
	const token = "syslog-3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
	tokens := readFile(t, s.tokens) + tokenLine("web01", token, "syslog", false)
	writeTokens(t, s.tokens, tokens)
	text := strings.Replace(readFile(t, s.d.config), "\n[[logs]]\nfilename = \"errors\"", "\n[[logs]]\nfilename = \"errors\"\n\n[[logs]]\nfilename = \"syslog\"", 1)
	writeConfig(t, s.dir, text)
	s.d.ctl(t, "config", "reload")
	cert, key := s.ca.valid(t, "syslog-ng", false)

	recipe := readFile(t, repoFile(t, "etc/shippers/syslog-ng-tls.conf"))
	for old, new := range map[string]string{
		"https://logroll.example.net:8443/": "https://" + s.d.addr + "/",
		"REPLACE-WITH-THE-TOKEN":            token,
		"/etc/syslog-ng/logroll-ca.pem":     s.ca.pem,
		"/etc/syslog-ng/logroll-client.crt": cert,
		"/etc/syslog-ng/logroll-client.key": key,
	} {
		if n := strings.Count(recipe, old); n != 1 {
			t.Fatalf("etc/shippers/syslog-ng-tls.conf holds %q %d times, want once", old, n)
		}
		recipe = strings.Replace(recipe, old, new, 1)
	}
	sng := startSyslogNGWith(t, s.dir, recipe)
	sng.send(t, 0, messagesPerSender)
	want := int64(syslogSenders * messagesPerSender)
	s.d.waitWritten(t, "syslog.log", want, deliverLimit)
	sng.stop(t)
	checkDelivered(t, s.d, messagesPerSender)
}

// writeTokens replaces the tokens file.
func writeTokens(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
