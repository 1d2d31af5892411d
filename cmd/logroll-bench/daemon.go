package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Starting the real logrolld: a records.toml in a temporary folder, ingest
// on a free loopback port, the admin socket and the logs in that folder.

// Start-up lines of logrolld (docs/daemon.md), as the e2e tests read them.
var (
	ingestLine = regexp.MustCompile(`msg="logrolld ingest listening" addr=(\S+)`)
	socketLine = regexp.MustCompile(`msg="logrolld admin socket listening" socket=(\S+)`)
)

// benchHost is the hostname written into rolled names.
const benchHost = "benchhost"

// daemonOpts select the records that differ between measurements.
type daemonOpts struct {
	// durability is proxy.config.log.durability: "write", "roll" (the
	// default) or "sync"; "" leaves the default.
	durability string
	// rolling is proxy.config.log.rolling_enabled as TOML; "" leaves the
	// default (1: daily at midnight).
	rolling string
	// extra is TOML appended to [proxy.config.log] (-extra-records).
	extra string
	// ingest is TOML appended to [proxy.config.ingest] (TLS, tokens).
	ingest string
	// tables is TOML tables written before [[logs]] ([proxy.config.syslog]).
	tables string
}

// daemonConfig renders the records.toml of a bench daemon.
func daemonConfig(o daemonOpts) string {
	var b strings.Builder
	b.WriteString("# written by logroll-bench\n")
	b.WriteString("[proxy.config]\nlocal_state_dir = \"run\"\nconfig_file_watch = 0\n")
	b.WriteString("\n[proxy.config.diags]\nlevel = \"warn\"\n")
	b.WriteString("\n[proxy.config.ingest]\nhttp_listen = \"127.0.0.1:0\"\n")
	b.WriteString(o.ingest)
	b.WriteString("\n[proxy.config.log]\nlogfile_dir = \"logs\"\n")
	fmt.Fprintf(&b, "hostname = %q\n", benchHost)
	if o.rolling != "" {
		fmt.Fprintf(&b, "rolling_enabled = %s\n", o.rolling)
	}
	if o.durability != "" {
		fmt.Fprintf(&b, "durability = %q\n", o.durability)
	}
	if o.extra != "" {
		b.WriteString(strings.TrimSpace(o.extra) + "\n")
	}
	if o.tables != "" {
		b.WriteString("\n" + strings.TrimSpace(o.tables) + "\n")
	}
	b.WriteString("\n[[logs]]\nfilename = \"access\"\n")
	return b.String()
}

// daemonProc is a running logrolld.
type daemonProc struct {
	*child
	dir    string // the config file's folder
	config string // records.toml
	logs   string // the log folder
	addr   string // ingest host:port
	socket string // admin socket
	// lineAt is when the ingest listening line was read (child.started is
	// just before exec).
	lineAt time.Time
}

// writeDaemonConfig writes dir/records.toml for o and returns its path.
func writeDaemonConfig(dir string, o daemonOpts) (string, error) {
	path := filepath.Join(dir, "records.toml")
	return path, os.WriteFile(path, []byte(daemonConfig(o)), 0o644)
}

// startDaemon starts bin -config dir/records.toml (written for o unless it
// exists) and waits for its ingest and admin lines.
func startDaemon(bin, dir string, o daemonOpts) (*daemonProc, error) {
	config := filepath.Join(dir, "records.toml")
	if _, err := os.Stat(config); err != nil {
		if config, err = writeDaemonConfig(dir, o); err != nil {
			return nil, err
		}
	}
	c, err := startChild("logrolld", bin, []string{"-config", config}, dir)
	if err != nil {
		return nil, err
	}
	d := &daemonProc{child: c, dir: dir, config: config, logs: filepath.Join(dir, "logs")}
	m, at, err := c.waitLine(ingestLine, 30*time.Second)
	if err != nil {
		c.kill()
		return nil, err
	}
	d.addr, d.lineAt = m[1], at
	if m, _, err = c.waitLine(socketLine, 30*time.Second); err != nil {
		c.kill()
		return nil, err
	}
	d.socket = m[1]
	return d, nil
}

// url returns the POST URL of the access log.
func (d *daemonProc) url() string { return "http://" + d.addr + "/v1/logs/access" }

// activeFile returns the path of the access log's active file.
func (d *daemonProc) activeFile() string { return filepath.Join(d.logs, "access.log") }
