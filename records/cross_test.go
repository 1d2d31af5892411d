package records

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCrossCheck loads configurations that break a rule between records (or
// keep it) and compares every problem and warning, with its position.
func TestCrossCheck(t *testing.T) {
	const logs = "\n[[logs]]\nfilename = \"access\"\n[[logs]]\nfilename = \"syslog\"\n"
	tests := []struct {
		name, src   string
		errs, warns []string
	}{
		{name: "loopback plain is fine", src: "[proxy.config.ingest]\nhttp_listen = \"127.0.0.2:80\"\n" + logs},
		{name: "ipv6 loopback plain is fine", src: "[proxy.config.ingest]\nhttp_listen = \"[::1]:80\"\n" + logs},
		{name: "localhost plain is fine", src: "[proxy.config.ingest]\nhttp_listen = \"localhost:80\"\n" + logs},
		{name: "every interface plain", src: "[proxy.config.ingest]\nhttp_listen = \":8480\"\n" + logs, errs: []string{
			`c.toml:2:15: proxy.config.ingest.http_listen: ":8480" is not a loopback address: ingest from other hosts needs proxy.config.ingest.tls_cert_file, proxy.config.ingest.tls_key_file and proxy.config.ingest.auth_tokens_file (or allow_insecure = 1 to accept anyone's records in clear)`,
		}},
		{name: "host name plain", src: "[proxy.config.ingest]\nhttp_listen = \"web01:8480\"\n" + logs, errs: []string{
			`c.toml:2:15: proxy.config.ingest.http_listen: "web01:8480" is not a loopback address: ingest from other hosts needs proxy.config.ingest.tls_cert_file, proxy.config.ingest.tls_key_file and proxy.config.ingest.auth_tokens_file (or allow_insecure = 1 to accept anyone's records in clear)`,
		}},
		{name: "TLS without tokens", src: "[proxy.config.ingest]\nhttp_listen = \"0.0.0.0:8480\"\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"\n" + logs, errs: []string{
			`c.toml:2:15: proxy.config.ingest.http_listen: "0.0.0.0:8480" is not a loopback address: ingest from other hosts needs proxy.config.ingest.tls_cert_file, proxy.config.ingest.tls_key_file and proxy.config.ingest.auth_tokens_file (or allow_insecure = 1 to accept anyone's records in clear)`,
		}},
		{name: "insecure allowed", src: "[proxy.config.ingest]\nhttp_listen = \"0.0.0.0:8480\"\nallow_insecure = 1\n" + logs},
		{name: "secure", src: "[proxy.config.ingest]\nhttp_listen = \"0.0.0.0:8480\"\ntls_cert_file = \"c.pem\"\ntls_key_file = \"k.pem\"\nauth_tokens_file = \"t\"\n" + logs},
		{name: "cert without key", src: "[proxy.config.ingest]\ntls_cert_file = \"c.pem\"\n" + logs, errs: []string{
			`c.toml:2:17: proxy.config.ingest.tls_cert_file: is set but proxy.config.ingest.tls_key_file is not: set both, or neither`,
		}},
		{name: "key without cert", src: "[proxy.config.ingest]\ntls_key_file = \"k.pem\"\n" + logs, errs: []string{
			`c.toml:2:16: proxy.config.ingest.tls_key_file: is set but proxy.config.ingest.tls_cert_file is not: set both, or neither`,
		}},
		{name: "client CA without cert", src: "[proxy.config.ingest]\ntls_client_ca_file = \"ca.pem\"\n" + logs, errs: []string{
			`c.toml:2:22: proxy.config.ingest.tls_client_ca_file: needs proxy.config.ingest.tls_cert_file and proxy.config.ingest.tls_key_file: client certificates are asked for in the TLS handshake`,
		}},
		{name: "admin listener even on loopback needs TLS and tokens", src: "[proxy.config.admin]\nhttp_listen = \"127.0.0.1:8481\"\n[proxy.config.ingest]\nallow_insecure = 1\n" + logs, errs: []string{
			`c.toml:2:15: proxy.config.admin.http_listen: "127.0.0.1:8481" needs TLS and tokens: set proxy.config.ingest.tls_cert_file, proxy.config.ingest.tls_key_file and proxy.config.ingest.auth_tokens_file (the remote admin listener is never served in clear)`,
		}},
		{name: "syslog log not declared", src: "[proxy.config.syslog]\ntcp_listen = \"127.0.0.1:0\"\n[[logs]]\nfilename = \"access\"\n", errs: []string{
			`c.toml:2:14: proxy.config.syslog.tcp_listen: syslog messages go to the log "syslog" (proxy.config.syslog.log), which is not declared: add a [[logs]] table with filename = "syslog", or set proxy.config.syslog.log to a declared log (declared: access)`,
		}},
		{name: "syslog log set and not declared", src: "[proxy.config.syslog]\nudp_listen = \"127.0.0.1:0\"\nlog = \"messages\"\n" + logs, errs: []string{
			`c.toml:3:7: proxy.config.syslog.log: syslog messages go to the log "messages" (proxy.config.syslog.log), which is not declared: add a [[logs]] table with filename = "messages", or set proxy.config.syslog.log to a declared log (declared: access, syslog)`,
		}},
		{name: "syslog off: an undeclared log is fine", src: "[proxy.config.syslog]\nlog = \"messages\"\n" + logs},
		{name: "syslog on other hosts warns", src: "[proxy.config.syslog]\nudp_listen = \"0.0.0.0:514\"\n" + logs, warns: []string{
			`c.toml:2:14: proxy.config.syslog.udp_listen: "0.0.0.0:514" is not a loopback address: syslog has no authentication, so anyone who reaches it can write to the logs; restrict it with a firewall`,
		}},
		{name: "routes", src: "[proxy.config.syslog]\ntcp_listen = \"127.0.0.1:0\"\n" + logs +
			"[[logs]]\nfilename = \"auth\"\nsyslog_facility = [\"AUTH\", \"authpriv\", \"audit\"]\n" +
			"[[logs]]\nfilename = \"nginx\"\nsyslog_app_name = [\"nginx\", \"nginx-error\"]\n"},
		{name: "app name routed twice", src: logs +
			"[[logs]]\nfilename = \"a\"\nsyslog_app_name = [\"nginx\"]\n" +
			"[[logs]]\nfilename = \"b\"\nsyslog_app_name = [\"sshd\", \"nginx\"]\n", errs: []string{
			`c.toml:11:20: logs[4].syslog_app_name: "nginx" is already routed to logs[3] (a.log): a message goes to one log only`,
		}},
		{name: "facility routed twice through an alias", src: logs +
			"[[logs]]\nfilename = \"a\"\nsyslog_facility = [\"security\"]\n" +
			"[[logs]]\nfilename = \"b\"\nsyslog_facility = [\"audit\"]\n", errs: []string{
			`c.toml:11:20: logs[4].syslog_facility: "security" is already routed to logs[3] (a.log): a message goes to one log only`,
		}},
		{name: "bad route values", src: logs +
			"[[logs]]\nfilename = \"a\"\nsyslog_facility = [\"lcoal0\"]\nsyslog_app_name = \"nginx\"\n" +
			"[[logs]]\nfilename = \"b\"\nsyslog_app_name = [\"has space\"]\nsyslog_facility = []\n" +
			"[[logs]]\nfilename = \"c\"\nsyslog_app_name = [\"x\", \"x\"]\n", errs: []string{
			`c.toml:8:20: logs[3].syslog_facility: element 1: "lcoal0" is not a syslog facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, solaris-cron, local0…local7) (did you mean "local0"?)`,
			`c.toml:9:19: logs[3].syslog_app_name: expected an array of strings such as ["nginx"], got string "nginx"`,
			`c.toml:12:20: logs[4].syslog_app_name: element 1: "has space" holds ' ': an app name is printable US-ASCII without spaces`,
			`c.toml:13:20: logs[4].syslog_facility: must not be empty (remove the key to route nothing here)`,
			`c.toml:16:20: logs[5].syslog_app_name: element 2: "x" is listed twice`,
		}},
		{name: "a conflict names the file's entries, past one that did not decode", src: logs +
			"[[logs]]\nfilename = \"bad/name\"\n" +
			"[[logs]]\nfilename = \"b\"\nsyslog_app_name = [\"x\"]\n" +
			"[[logs]]\nfilename = \"c\"\nsyslog_app_name = [\"x\"]\n", errs: []string{
			`c.toml:7:12: logs[3].filename: "bad/name" must be one path component (no '/')`,
			`c.toml:13:20: logs[5].syslog_app_name: "x" is already routed to logs[4] (b.log): a message goes to one log only`,
		}},
		{name: "every bad element and every conflict at once", src: logs +
			"[[logs]]\nfilename = \"a\"\nsyslog_facility = [\"AUTH\", \"local8\", \"local7\"]\nsyslog_app_name = [\"x\", \"\", \"a b\"]\n" +
			"[[logs]]\nfilename = \"b\"\nsyslog_facility = [\"auth\", \"bogus\"]\nsyslog_app_name = [\"x\", 7]\n", errs: []string{
			`c.toml:8:20: logs[3].syslog_facility: element 2: "local8" is not a syslog facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, solaris-cron, local0…local7) (did you mean "local0"?)`,
			`c.toml:9:20: logs[3].syslog_app_name: element 2: "" must not be empty`,
			`c.toml:9:20: logs[3].syslog_app_name: element 3: "a b" holds ' ': an app name is printable US-ASCII without spaces`,
			`c.toml:12:20: logs[4].syslog_facility: element 2: "bogus" is not a syslog facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, solaris-cron, local0…local7)`,
			`c.toml:12:20: logs[4].syslog_facility: "auth" is already routed to logs[3] (a.log): a message goes to one log only`,
			`c.toml:13:20: logs[4].syslog_app_name: element 2: expected a string, got integer 7`,
			`c.toml:13:20: logs[4].syslog_app_name: "x" is already routed to logs[3] (a.log): a message goes to one log only`,
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, warns, err := Load([]byte(tc.src), "c.toml")
			var got []string
			var le *LoadError
			if errors.As(err, &le) {
				for _, p := range le.Problems {
					got = append(got, p.String())
				}
				warns = le.Warnings
			} else if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.errs) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.errs, "\n"))
			}
			var gotW []string
			for _, w := range warns {
				gotW = append(gotW, w.String())
			}
			if !slices.Equal(gotW, tc.warns) {
				t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(gotW, "\n"), strings.Join(tc.warns, "\n"))
			}
			if err == nil && c == nil {
				t.Fatal("no config")
			}
		})
	}
}

// TestSyslogRoutesKept checks that the routing lists are decoded in
// canonical form, survive TOML() and show in Diff.
func TestSyslogRoutesKept(t *testing.T) {
	src := "[[logs]]\nfilename = \"auth\"\nsyslog_facility = [\"AUTH\", \"audit\"]\nsyslog_app_name = [\"sshd\"]\n[[logs]]\nfilename = \"syslog\"\n"
	c, _, err := Load([]byte(src), "/x/c.toml")
	if err != nil {
		t.Fatal(err)
	}
	l, _ := c.Log("auth")
	if !slices.Equal(l.SyslogFacilities, []string{"auth", "security"}) || !slices.Equal(l.SyslogAppNames, []string{"sshd"}) {
		t.Fatalf("routes %v %v", l.SyslogFacilities, l.SyslogAppNames)
	}
	c2, _, err := Load(c.TOML(), "/x/c.toml")
	if err != nil {
		t.Fatalf("TOML() does not load back: %v\n%s", err, c.TOML())
	}
	if d := Diff(c, c2); len(d) != 0 {
		t.Errorf("TOML() round trip differs: %v", d)
	}
	c3, _, err := Load([]byte(strings.Replace(src, `["sshd"]`, `["sshd", "su"]`, 1)), "/x/c.toml")
	if err != nil {
		t.Fatal(err)
	}
	d := Diff(c, c3)
	if len(d) != 1 || d[0].String() != `logs[auth.log].syslog_app_name: ["sshd"] -> ["sshd", "su"]` {
		t.Errorf("Diff = %v", d)
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:1": true, "127.9.9.9:1": true, "[::1]:1": true, "localhost:1": true, "LOCALHOST:1": true,
		":1": false, "0.0.0.0:1": false, "[::]:1": false, "10.0.0.1:1": false, "web01:1": false, "bad": false,
	} {
		if got := IsLoopback(addr); got != want {
			t.Errorf("IsLoopback(%q) = %v", addr, got)
		}
	}
}
