package daemon

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"

	"github.com/logroll/logroll/logging/ingest"
)

// TestSecurityChanges: what a reload reports of the files' content.
func TestSecurityChanges(t *testing.T) {
	tokens := func(lines ...string) *ingest.Tokens {
		var data []byte
		for _, l := range lines {
			data = append(data, l...)
			data = append(data, '\n')
		}
		ts, _, err := ingest.ParseTokens(data, "tokens", nil)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	line := func(name, secret, logs string) string {
		sum := sha256.Sum256([]byte(secret))
		return fmt.Sprintf("%s %s %s", name, hex.EncodeToString(sum[:]), logs)
	}
	web := line("web", "s1", "access")
	ops := line("ops", "s2", "*") + " admin"
	base := &security{cert: "CN=a", ca: "SHA-256 01", tokens: tokens(web, ops)}
	for _, tc := range []struct {
		name string
		old  *security
		new  *security
		want []string
	}{
		{"start", nil, base, nil},
		{"nothing changed", base, &security{cert: "CN=a", ca: "SHA-256 01", tokens: tokens(ops, web)}, nil},
		{"certificate and CA", base, &security{cert: "CN=b", ca: "SHA-256 02", tokens: base.tokens}, []string{
			"proxy.config.ingest.tls_cert_file (certificate): CN=a -> CN=b",
			"proxy.config.ingest.tls_client_ca_file (content): SHA-256 01 -> SHA-256 02",
		}},
		{"intermediates only", &security{cert: "CN=a", chain: "SHA-256 01", ca: "SHA-256 01", tokens: base.tokens},
			&security{cert: "CN=a", chain: "SHA-256 02", ca: "SHA-256 01", tokens: base.tokens}, []string{
				"proxy.config.ingest.tls_cert_file (intermediate certificates): SHA-256 01 -> SHA-256 02",
			}},
		{"TLS off", base, &security{tokens: base.tokens}, []string{
			"proxy.config.ingest.tls_cert_file (certificate): CN=a -> ",
			"proxy.config.ingest.tls_client_ca_file (content): SHA-256 01 -> ",
		}},
		{"token revoked, one added, one given another secret", base,
			&security{cert: "CN=a", ca: "SHA-256 01", tokens: tokens(line("ops", "s3", "*")+" admin", line("ci", "s4", "errors"))}, []string{
				"proxy.config.ingest.auth_tokens_file[ci]:  -> errors.log; SHA-256 ",
				"proxy.config.ingest.auth_tokens_file[ops]: every log; admin; SHA-256 ",
				"proxy.config.ingest.auth_tokens_file[web]: access.log; SHA-256 ",
			}},
		{"tokens off", base, &security{cert: "CN=a", ca: "SHA-256 01"}, []string{
			"proxy.config.ingest.auth_tokens_file[ops]: every log; admin; SHA-256 ",
			"proxy.config.ingest.auth_tokens_file[web]: access.log; SHA-256 ",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range securityChanges(tc.old, tc.new) {
				got = append(got, fmt.Sprintf("%s: %s -> %s", c.Name, c.Old, c.New))
			}
			if len(got) != len(tc.want) {
				t.Fatalf("changes %q, want %q", got, tc.want)
			}
			for i, w := range tc.want {
				if len(got[i]) < len(w) || got[i][:len(w)] != w {
					t.Errorf("change %d: %q, want it to start with %q", i, got[i], w)
				}
			}
			if !slices.IsSorted(got) {
				t.Errorf("changes not in order: %q", got)
			}
		})
	}
}
