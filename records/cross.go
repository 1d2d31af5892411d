package records

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Rules between records, checked once every record and log has decoded
// without error: the listeners' exposure (docs/design.md §12), the TLS files that
// go together, and syslog routing. Each problem is reported at the value it
// is about.

// crossRules returns the problems and warnings of the rules between records
// of docs/design.md §12.
func crossRules(c *Config) (errs, warns []Problem) {
	errs = append(errs, Exposure(c)...)
	cert, key := c.Str(TLSCertFile), c.Str(TLSKeyFile)
	switch {
	case cert != "" && key == "":
		errs = append(errs, c.problemAt(TLSCertFile, "is set but "+TLSKeyFile+" is not: set both, or neither"))
	case key != "" && cert == "":
		errs = append(errs, c.problemAt(TLSKeyFile, "is set but "+TLSCertFile+" is not: set both, or neither"))
	}
	if c.Str(TLSClientCAFile) != "" && cert == "" {
		errs = append(errs, c.problemAt(TLSClientCAFile, "needs "+TLSCertFile+" and "+TLSKeyFile+": client certificates are asked for in the TLS handshake"))
	}
	errs = append(errs, c.checkSyslogLog()...)
	for _, rec := range []string{SyslogUDPListen, SyslogTCPListen} {
		if addr := c.Str(rec); addr != "" && !IsLoopback(addr) {
			warns = append(warns, c.problemAt(rec, fmt.Sprintf("%q is not a loopback address: syslog has no authentication, so anyone who reaches it can write to the logs; restrict it with a firewall", addr)))
		}
	}
	return errs, warns
}

// Exposure returns the problems of the listeners that a client on another
// host could reach without TLS and a token (docs/design.md §12): a non-loopback
// proxy.config.ingest.http_listen needs tls_cert_file, tls_key_file and
// auth_tokens_file unless allow_insecure = 1; proxy.config.admin.http_listen
// always needs them. The daemon checks it again on the configuration it
// runs after a reload, whose listen addresses are those it started with.
func Exposure(c *Config) []Problem {
	var out []Problem
	secure := c.Str(TLSCertFile) != "" && c.Str(TLSKeyFile) != "" && c.Str(AuthTokensFile) != ""
	if addr := c.Str(HTTPListen); addr != "" && !IsLoopback(addr) && !secure && c.Int(AllowInsecure) == 0 {
		out = append(out, c.problemAt(HTTPListen, fmt.Sprintf(
			"%q is not a loopback address: ingest from other hosts needs %s, %s and %s (or allow_insecure = 1 to accept anyone's records in clear)",
			addr, TLSCertFile, TLSKeyFile, AuthTokensFile)))
	}
	if addr := c.Str(AdminHTTPListen); addr != "" && !secure {
		out = append(out, c.problemAt(AdminHTTPListen, fmt.Sprintf(
			"%q needs TLS and tokens: set %s, %s and %s (the remote admin listener is never served in clear)",
			addr, TLSCertFile, TLSKeyFile, AuthTokensFile)))
	}
	return out
}

// IsLoopback reports whether a listen address host:port is on the loopback
// interface only: "localhost", 127.0.0.0/8 or ::1. An empty host (every
// interface) or any other name is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSyslogLog checks, when a syslog listener is on, that the default
// syslog log is declared.
func (c *Config) checkSyslogLog() []Problem {
	var out []Problem
	if c.Str(SyslogUDPListen) != "" || c.Str(SyslogTCPListen) != "" {
		if name := c.Str(SyslogLog); func() bool { _, ok := c.Log(name); return !ok }() {
			rec := SyslogLog
			if c.Where(SyslogLog) == "default" {
				rec = SyslogTCPListen
				if c.Str(SyslogTCPListen) == "" {
					rec = SyslogUDPListen
				}
			}
			out = append(out, c.problemAt(rec, fmt.Sprintf("syslog messages go to the log %q (%s), which is not declared: add a [[logs]] table with filename = %q, or set %s to a declared log (%s)",
				name, SyslogLog, name, SyslogLog, declaredNames(c))))
		}
	}
	return out
}

// checkRouteConflicts reports an app name or facility routed to two logs.
// It needs only the routing values that decoded, so Load runs it beside
// the checks of single records: a file's errors come all together.
func (c *Config) checkRouteConflicts() []Problem {
	var out []Problem
	apps, facs := map[string]int{}, map[string]int{}
	for i := range c.Logs {
		l := &c.Logs[i]
		for _, k := range []struct {
			key  string
			vals []string
			seen map[string]int
		}{{keySyslogAppName, l.SyslogAppNames, apps}, {keySyslogFacility, l.SyslogFacilities, facs}} {
			for _, v := range k.vals {
				if prev, dup := k.seen[v]; dup {
					p := c.logKeyProblem(l, k.key)
					p.Msg = fmt.Sprintf("%q is already routed to logs[%d] (%s): a message goes to one log only", v, c.Logs[prev].index+1, c.Logs[prev].Filename)
					out = append(out, p)
					continue
				}
				k.seen[v] = i
			}
		}
	}
	return out
}

// declaredNames lists the declared logs for messages.
func declaredNames(c *Config) string {
	names := make([]string, len(c.Logs))
	for i := range c.Logs {
		names[i] = c.Logs[i].Declared
	}
	if len(names) == 0 {
		return "none declared"
	}
	return "declared: " + strings.Join(names, ", ")
}

// problemAt returns a problem about record name, at the position its value
// was written (or "default" as the file when the value is the default).
func (c *Config) problemAt(name, msg string) Problem {
	p := Problem{Key: name, Msg: msg}
	p.File, p.Line, p.Col = splitWhere(c.Where(name))
	if p.File == "default" && c.Source != "" {
		p.File = c.Source
	}
	return p
}

// logKeyProblem returns a problem about a key of a [[logs]] table, at its
// position.
func (c *Config) logKeyProblem(l *Log, key string) Problem {
	p := Problem{File: l.file, Key: fmt.Sprintf("logs[%d].%s", l.index+1, key)}
	if l.pos != nil {
		pos := l.pos.at(l.index, key)
		p.Line, p.Col = pos.Line, pos.Col
	}
	return p
}

// splitWhere splits "file:line:col" (as Config.Where returns it) into its
// parts; anything else is returned as the file.
func splitWhere(w string) (file string, line, col int) {
	j := strings.LastIndexByte(w, ':')
	if j < 0 {
		return w, 0, 0
	}
	i := strings.LastIndexByte(w[:j], ':')
	if i < 0 {
		return w, 0, 0
	}
	l, err1 := strconv.Atoi(w[i+1 : j])
	cl, err2 := strconv.Atoi(w[j+1:])
	if err1 != nil || err2 != nil {
		return w, 0, 0
	}
	return w[:i], l, cl
}
