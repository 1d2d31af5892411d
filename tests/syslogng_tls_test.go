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
	ecoSyslogNGBinary(t) // skips when syslog-ng is not installed
	s := tlsStart(t, func(ca *tlsCA) string { return fmt.Sprintf("tls_client_ca_file = %q\n", ca.pem) })
	// A token for the syslog log.
	const token = "syslog-3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b"
	tokens := readFile(t, s.tokens) + tlsTokenLine("web01", token, "syslog", false)
	writeTokens(t, s.tokens, tokens)
	text := strings.Replace(readFile(t, s.d.config), "\n[[logs]]\nfilename = \"errors\"", "\n[[logs]]\nfilename = \"errors\"\n\n[[logs]]\nfilename = \"syslog\"", 1)
	writeConfig(t, s.dir, text)
	s.d.mustCtl("config", "reload")
	cert, key := s.ca.valid(t, "syslog-ng", false)

	recipe := readFile(t, ecoRepoFile(t, "etc/shippers/syslog-ng-tls.conf"))
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
	sng := ecoStartSyslogNGWith(t, s.dir, recipe)
	sng.send(0, ecoPerSender)
	want := int64(ecoSenders * ecoPerSender)
	ecoWait(t, ecoDeliverLimit, func() string {
		if n := s.d.tlsWritten("syslog.log"); n < want {
			return fmt.Sprintf("%d of %d messages written", n, want)
		}
		return ""
	})
	sng.stop()
	ecoCheckDelivered(t, s.d, ecoPerSender)
}

// writeTokens replaces the tokens file.
func writeTokens(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// tlsWritten is the records written to log, read with logrollctl (the
// ingest port's /metrics wants a token).
func (d *daemon) tlsWritten(log string) int64 {
	d.t.Helper()
	r := d.mustCtl("metric", "get", "proxy.process.log.records_written")
	for _, l := range lines(r.stdout) {
		if v, ok := strings.CutPrefix(l, fmt.Sprintf("proxy.process.log.records_written{log=%q} ", log)); ok {
			var n int64
			fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}
