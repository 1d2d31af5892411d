package daemon

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/logroll/logroll/logging/ingest"
	"github.com/logroll/logroll/records"
)

// TLS and bearer tokens of the ingest port and the remote admin listener
// (docs/design.md §12, docs/security.md). The files named by tls_cert_file,
// tls_key_file, tls_client_ca_file and auth_tokens_file are read at start
// and again on every reload (logrollctl config reload, SIGHUP, a save of
// records.toml): a renewed certificate or an edited tokens file is taken
// by the next connection, with no restart. A file that cannot be used
// refuses the start (exit 2) or the reload (the running ones stay), with
// the record's FILE:LINE:COL.

// security is what the files give: immutable, swapped whole on reload.
type security struct {
	tls    *tls.Config    // nil: plain TCP
	tokens *ingest.Tokens // nil: no token asked
	cert   string         // "subject, expiry, SHA-256" of the certificate, for the log
	chain  string         // SHA-256 of every certificate served (the intermediates too)
	ca     string         // "SHA-256 …" of the client CA file's content; "" without one
}

// securityChanges returns what a reload changed in the files' content,
// which records.Diff cannot see (their paths may stay the same): the
// certificate, the client CA file, and each token added, removed or
// changed, by name. An operator who replaces a certificate or revokes a
// token sees in the reload's answer, its log and `config status` that it
// took. old is nil at start.
func securityChanges(old, sec *security) []records.Change {
	if old == nil {
		return nil
	}
	var out []records.Change
	switch {
	case old.cert != sec.cert:
		out = append(out, records.Change{Name: records.TLSCertFile + " (certificate)", Old: old.cert, New: sec.cert})
	case old.chain != sec.chain:
		out = append(out, records.Change{Name: records.TLSCertFile + " (intermediate certificates)", Old: old.chain, New: sec.chain})
	}
	if old.ca != sec.ca {
		out = append(out, records.Change{Name: records.TLSClientCAFile + " (content)", Old: old.ca, New: sec.ca})
	}
	was, now := old.tokens.Entries(), sec.tokens.Entries()
	both := maps.Clone(was)
	maps.Copy(both, now)
	for _, n := range slices.Sorted(maps.Keys(both)) {
		if was[n] != now[n] {
			out = append(out, records.Change{Name: records.AuthTokensFile + "[" + n + "]", Old: was[n], New: now[n]})
		}
	}
	return out
}

// loadSecurity reads the files cfg names. Its warnings are the tokens
// file's (a token naming an undeclared log). Every problem of the TLS files
// and of the tokens file is reported at once (a *CheckError when several).
func loadSecurity(cfg *records.Config, now time.Time) (*security, []string, error) {
	sec := &security{}
	files, problems := readTLSFiles(cfg)
	// The files that could be read are checked too: every problem at once.
	problems = append(problems, loadTLS(cfg, now, sec, files)...)
	byPlace(problems) // the TLS records' problems in the file's order
	warns, ce := loadTokens(cfg, sec)
	if ce != nil {
		problems = append(problems, ce)
	}
	switch len(problems) {
	case 0:
		return sec, warns, nil
	case 1:
		return nil, nil, problems[0]
	}
	return nil, nil, &CheckError{Problems: problems}
}

// readTLSFiles reads the TLS files (certificate, key, client CA) by
// record, and reports every one that cannot be read, all at once.
func readTLSFiles(cfg *records.Config) (map[string][]byte, []*ConfigError) {
	if cfg.Str(records.TLSCertFile) == "" {
		return nil, nil
	}
	files := map[string][]byte{}
	var problems []*ConfigError
	for _, rec := range []string{records.TLSCertFile, records.TLSKeyFile, records.TLSClientCAFile} {
		if f := cfg.Str(rec); f != "" {
			data, err := records.ReadFile(f)
			if err != nil {
				problems = append(problems, &ConfigError{Where: cfg.Where(rec), Record: rec, Err: err})
				continue
			}
			files[rec] = data
		}
	}
	return files, problems
}

// loadTLS makes sec's TLS configuration of the files readTLSFiles read,
// and reports the certificate's and the client CA's problems together. A
// file that could not be read (not in files) is not checked again: its
// problem is readTLSFiles'; the others are.
func loadTLS(cfg *records.Config, now time.Time, sec *security, files map[string][]byte) []*ConfigError {
	certFile := cfg.Str(records.TLSCertFile)
	if certFile == "" {
		return nil
	}
	var problems []*ConfigError
	fail := func(rec string, err error) {
		problems = append(problems, &ConfigError{Where: cfg.Where(rec), Record: rec, Err: err})
	}
	var pool *x509.CertPool
	if data, ok := files[records.TLSClientCAFile]; ok {
		caFile := cfg.Str(records.TLSClientCAFile)
		pool = x509.NewCertPool()
		if pool.AppendCertsFromPEM(data) {
			sum := sha256.Sum256(data)
			sec.ca = "SHA-256 " + hex.EncodeToString(sum[:8])
		} else {
			fail(records.TLSClientCAFile, fmt.Errorf("%s holds no PEM certificate", caFile))
		}
	}
	keyFile := cfg.Str(records.TLSKeyFile)
	_, certRead := files[records.TLSCertFile]
	_, keyRead := files[records.TLSKeyFile]
	if !certRead || !keyRead {
		return problems
	}
	// Files that hold no PEM block of their kind are each said at their own
	// record, both at once; the pair's own checks (a key that does not
	// match) come after.
	certPEM, keyPEM := hasPEM(files[records.TLSCertFile], "CERTIFICATE"), hasPEM(files[records.TLSKeyFile], "PRIVATE KEY")
	if !certPEM {
		fail(records.TLSCertFile, fmt.Errorf("%s holds no PEM certificate", certFile))
	}
	if !keyPEM {
		fail(records.TLSKeyFile, fmt.Errorf("%s holds no PEM private key", keyFile))
	}
	if !certPEM || !keyPEM {
		return problems
	}
	pair, err := tls.X509KeyPair(files[records.TLSCertFile], files[records.TLSKeyFile])
	if err != nil {
		fail(records.TLSCertFile, fmt.Errorf("certificate %s with key %s: %w", certFile, keyFile, err))
		return problems
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	switch {
	case err != nil:
		fail(records.TLSCertFile, fmt.Errorf("%s: %w", certFile, err))
	case now.After(leaf.NotAfter):
		fail(records.TLSCertFile, fmt.Errorf("%s: the certificate (%s) expired on %s", certFile, leaf.Subject, leaf.NotAfter.Format(time.RFC3339)))
	case now.Before(leaf.NotBefore):
		fail(records.TLSCertFile, fmt.Errorf("%s: the certificate (%s) is not valid before %s", certFile, leaf.Subject, leaf.NotBefore.Format(time.RFC3339)))
	}
	if len(problems) > 0 {
		return problems
	}
	pair.Leaf = leaf
	all := sha256.New()
	for _, der := range pair.Certificate {
		all.Write(der)
	}
	sec.chain = "SHA-256 " + hex.EncodeToString(all.Sum(nil)[:8])
	sum := sha256.Sum256(leaf.Raw)
	sec.cert = fmt.Sprintf("%s, valid until %s, SHA-256 %s", leaf.Subject, leaf.NotAfter.Format(time.RFC3339), hex.EncodeToString(sum[:8]))
	sec.tls = &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		NextProtos:   []string{"http/1.1"},
	}
	if pool != nil {
		sec.tls.ClientCAs = pool
		sec.tls.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return nil
}

// loadTokens reads the tokens file into sec.
func loadTokens(cfg *records.Config, sec *security) ([]string, *ConfigError) {
	var warns []string
	if tokFile := cfg.Str(records.AuthTokensFile); tokFile != "" {
		data, err := records.ReadFile(tokFile)
		if err != nil {
			return nil, &ConfigError{Where: cfg.Where(records.AuthTokensFile), Record: records.AuthTokensFile, Err: err}
		}
		declared := func(l string) bool { _, ok := cfg.Log(l); return ok }
		ts, w, err := ingest.ParseTokens(data, tokFile, declared)
		if err != nil {
			return nil, &ConfigError{Where: cfg.Where(records.AuthTokensFile), Record: records.AuthTokensFile,
				Err: fmt.Errorf("tokens file refused:\n%w", err)}
		}
		sec.tokens, warns = ts, w
	}
	return warns, nil
}

// CheckFiles reads and checks the TLS and tokens files cfg names, as the
// daemon would at start and on reload: `logrollctl config check` runs it.
// It returns the tokens file's warnings.
func CheckFiles(cfg *records.Config) ([]string, error) {
	_, warns, err := loadSecurity(cfg, time.Now())
	return warns, err
}

// Connections open at once, per listener: beyond them, Accept waits (new
// connections queue in the kernel's backlog) until one closes. They bound
// the descriptors and goroutines that clients can take, so that a flood of
// connections, authenticated or not, cannot run the daemon out of file
// descriptors for its log files and folders. Each is far above what a
// fleet's shippers keep open (one or a few keep-alive connections each).
const (
	maxIngestConns = 1024
	maxAdminConns  = 64
)

// tlsListener wraps a TCP listener: every connection it accepts is served
// with the TLS configuration current at that moment (none: plain), so
// that a reload changes the certificate, the client CAs, or TLS itself,
// for the connections that follow. net/http does the handshake, bounded by
// its ReadHeaderTimeout, and answers a plain HTTP request on a TLS port
// with 400.
type tlsListener struct {
	net.Listener
	sec *atomic.Pointer[security]
}

// Accept implements net.Listener.
func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if s := l.sec.Load(); s != nil && s.tls != nil {
		return tls.Server(c, s.tls), nil
	}
	return c, nil
}

// applySecurity makes sec current: the listeners' next connections use its
// TLS configuration, the ingest port asks for its tokens. It logs what
// changed.
func (d *Daemon) applySecurity(sec *security) {
	old := d.sec.Swap(sec)
	d.ingest.SetTokens(sec.tokens)
	if old == nil || old.cert != sec.cert {
		if sec.cert != "" {
			d.log.Info("TLS certificate loaded", "certificate", sec.cert, "client_ca", sec.tls.ClientCAs != nil)
		} else if old != nil {
			d.log.Warn("TLS turned off: listeners serve plain TCP from now on")
		}
	}
	if sec.tokens != nil {
		d.log.Info("bearer tokens loaded", "file", sec.tokens.File, "tokens", sec.tokens.Len())
	}
}

// scheme is "https" or "http", for the announcements.
func (d *Daemon) scheme() string {
	if s := d.sec.Load(); s != nil && s.tls != nil {
		return "https"
	}
	return "http"
}

// hasPEM reports whether data holds a PEM block whose type ends with kind
// ("CERTIFICATE"; "PRIVATE KEY" also matches "EC PRIVATE KEY" and "RSA
// PRIVATE KEY").
func hasPEM(data []byte, kind string) bool {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return false
		}
		if strings.HasSuffix(b.Type, kind) {
			return true
		}
	}
}
