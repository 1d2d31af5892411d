package tests

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
)

// Bad configuration (issue 7, docs/reliability.md "Bad configuration"): a
// records.toml with a mistake is refused with every problem as
// FILE:LINE:COL: key: message, at start (exit 2, nothing served) and on
// reload through logrollctl and SIGHUP (exit 1 / a refused status; the
// running configuration stays and keeps serving). docs/design.md §4,
// docs/configuration.md "Errors and warnings", docs/daemon.md "Start-up".

// badConf is one invalid configuration: base's text edited, and the
// problems it must report.
type badConf struct {
	name string
	edit func(text string) string
	// want are the problems: the text at whose first byte each must point
	// (plus delta columns), and what the message must hold after it.
	want []wantProblem
}

// wantProblem is one expected problem.
type wantProblem struct {
	at    string // a unique substring of the edited text
	delta int    // columns after at's first byte; anyCol: the line only
	holds string // "key: message" text that follows FILE:LINE:COL:
}

// anyCol in wantProblem.delta checks the line only: the TOML library's
// position of a table header is on its line but at no fixed column (the
// key, the start or the end of the line).
const anyCol = -1

// confPos returns the line and column of the first byte of sub in text,
// plus delta columns.
func confPos(t *testing.T, text, sub string, delta int) (int, int) {
	t.Helper()
	if strings.Count(text, sub) != 1 {
		t.Fatalf("%q occurs %d times in the config, want once:\n%s", sub, strings.Count(text, sub), text)
	}
	line, col := position(t, text, sub)
	return line, col + delta
}

// replaceEdit returns an edit replacing old (which must occur) with new.
func replaceEdit(old, new string) func(string) string {
	return func(s string) string {
		if !strings.Contains(s, old) {
			panic(fmt.Sprintf("%q not in the config", old))
		}
		return strings.Replace(s, old, new, 1)
	}
}

// appendLogEdit returns an edit appending lines to [proxy.config.log] (before
// the first [[logs]] table).
func appendLogEdit(lines string) func(string) string {
	return replaceEdit("\n[[logs]]", lines+"\n[[logs]]")
}

// badConfs are the invalid configurations, edits of conf{SizeMB: 20}
// (which holds rolling_size_mb = 20, max_body_mb = 1, hostname e2ehost,
// one log access). dir/afile is a regular file.
var badConfs = []badConf{
	// Syntax.
	{"syntax unclosed string", appendLogEdit(`rolling_max_count = "abc`),
		[]wantProblem{{`"abc`, 4, "syntax: strings cannot contain newlines"}}},
	{"syntax unclosed table header", replaceEdit("[proxy.config.ingest]", "[proxy.config.ingest"),
		[]wantProblem{{"[proxy.config.ingest\n", len("[proxy.config.ingest"), "syntax: "}}},
	{"syntax value with a unit", replaceEdit("rolling_size_mb = 20", "rolling_size_mb = 20MB"),
		[]wantProblem{{"MB\n", 0, "syntax: "}}},
	{"syntax key defined twice", appendLogEdit(`hostname = "again"`),
		[]wantProblem{{`hostname = "again"`, 0, "syntax: Key 'proxy.config.log.hostname' has already been defined"}}},
	{"syntax integer too large", replaceEdit("rolling_size_mb = 20", "rolling_size_mb = 99999999999999999999"),
		[]wantProblem{{"99999999999999999999", 0, "syntax: "}}},
	// Unknown keys.
	{"unknown key", appendLogEdit(`hostnam = "typo"`),
		[]wantProblem{{"hostnam =", 0, `proxy.config.log.hostnam: unknown key (did you mean "hostname"?)`}}},
	{"unknown key in logs", replaceEdit(`filename = "access"`, "filename = \"access\"\nrolling_sise_mb = 5"),
		[]wantProblem{{"rolling_sise_mb", 0, `logs[1].rolling_sise_mb: unknown key`}}},
	{"unknown table", replaceEdit("[proxy.config.ingest]", "[proxy.config.ingest]\n[proxy.config.ingress]\nx = 1"),
		[]wantProblem{{"[proxy.config.ingress]", anyCol, `proxy.config.ingress: unknown key (did you mean "ingest"?)`}}},
	{"record in the wrong table", appendLogEdit("max_body_mb = 2"),
		[]wantProblem{{"max_body_mb = 2", 0, "proxy.config.log.max_body_mb: unknown key (it belongs in [proxy.config.ingest]"}}},
	{"quoted dotted key", appendLogEdit(`"proxy.config.log.rolling_size_mb" = 5`),
		[]wantProblem{{`"proxy.config.log.rolling_size_mb" = 5`, 1, `proxy.config.log."proxy.config.log.rolling_size_mb": a quoted key with dots is one key`}}},
	// Wrong types.
	{"string for an integer", replaceEdit("rolling_size_mb = 20", `rolling_size_mb = "big"`),
		[]wantProblem{{`"big"`, 0, `proxy.config.log.rolling_size_mb: expected an integer, got string "big"`}}},
	{"float for an integer", replaceEdit("max_body_mb = 1", "max_body_mb = 1.5"),
		[]wantProblem{{"1.5", 0, "proxy.config.ingest.max_body_mb: expected an integer, got float 1.5"}}},
	{"array for a string", appendLogEdit(`durability = ["write"]`),
		[]wantProblem{{`"write"`, 0, "proxy.config.log.durability: expected an integer or a name, got an array"}}},
	{"boolean for an enum", replaceEdit(`rolling_enabled = "none"`, "rolling_enabled = true"),
		[]wantProblem{{"true", 0, "proxy.config.log.rolling_enabled: expected an integer or a name, got boolean true"}}},
	{"decimal file mode", appendLogEdit("logfile_perm = 644"),
		[]wantProblem{{"644", 0, "proxy.config.log.logfile_perm: 644 is a decimal number"}}},
	{"logs not an array of tables", func(s string) string {
		return "logs = \"access\"\n" + replaceEdit("[[logs]]\nfilename = \"access\"", "")(s)
	}, []wantProblem{{`logs = "access"`, 7, "logs: must be an array of tables"}}},
	// Out of range.
	{"budget zero", appendLogEdit("max_space_mb_for_logs = 0"),
		[]wantProblem{{"max_space_mb_for_logs = 0", 24, "proxy.config.log.max_space_mb_for_logs: 0 is out of range"}}},
	{"body limit zero", replaceEdit("max_body_mb = 1", "max_body_mb = 0"),
		[]wantProblem{{"max_body_mb = 0", 14, "proxy.config.ingest.max_body_mb: 0 is out of range"}}},
	{"body limit too large", replaceEdit("max_body_mb = 1", "max_body_mb = 5000"),
		[]wantProblem{{"5000", 0, "proxy.config.ingest.max_body_mb: 5000 is out of range"}}},
	{"rolling_enabled 7", replaceEdit(`rolling_enabled = "none"`, "rolling_enabled = 7"),
		[]wantProblem{{"rolling_enabled = 7", 18, "proxy.config.log.rolling_enabled: 7 is out of range"}}},
	{"negative count", appendLogEdit("rolling_max_count = -1"),
		[]wantProblem{{"-1", 0, "proxy.config.log.rolling_max_count: -1 is out of range"}}},
	// Retention and calendar (issue 19).
	{"negative max age", appendLogEdit("rolling_max_age_sec = -86400"),
		[]wantProblem{{"-86400", 0, "proxy.config.log.rolling_max_age_sec: -86400 is out of range"}}},
	{"negative max total in a log", replaceEdit(`filename = "access"`, "filename = \"access\"\nrolling_max_total_mb = -1"),
		[]wantProblem{{"-1", 0, "logs[1].rolling_max_total_mb: -1 is out of range"}}},
	{"max age as a duration", appendLogEdit(`rolling_max_age_sec = "7d"`),
		[]wantProblem{{`"7d"`, 0, `proxy.config.log.rolling_max_age_sec: expected an integer, got string "7d"`}}},
	{"unknown calendar", appendLogEdit(`rolling_calendar = "fortnightly"`),
		[]wantProblem{{`"fortnightly"`, 0, `proxy.config.log.rolling_calendar: unknown value "fortnightly": expected none (0), weekly (1), monthly (2)`}}},
	{"max total a size roll fills", replaceEdit(`rolling_enabled = "none"`, "rolling_enabled = \"size\"\nrolling_max_total_mb = 20"),
		[]wantProblem{{"rolling_max_total_mb = 20", len("rolling_max_total_mb = "),
			"proxy.config.log.rolling_max_total_mb: rolling_max_total_mb (20 MiB) must be more than rolling_size_mb (20 MiB) for a log that rolls on size (access.log)"}}},
	{"unknown durability", appendLogEdit(`durability = "sometimes"`),
		[]wantProblem{{`"sometimes"`, 0, `proxy.config.log.durability: unknown value "sometimes"`}}},
	{"host name with a slash", replaceEdit(`hostname = "e2ehost"`, `hostname = "a/b"`),
		[]wantProblem{{`"a/b"`, 0, "proxy.config.log.hostname: "}}},
	{"buffer too small", appendLogEdit("log_buffer_size = 100"),
		[]wantProblem{{"100", 0, "proxy.config.log.log_buffer_size: 100 is out of range"}}},
	// Logs.
	{"duplicate log", replaceEdit(`filename = "access"`, "filename = \"access\"\n\n[[logs]]\nfilename = \"access.log\""),
		[]wantProblem{{`"access.log"`, 0, `logs[2].filename: "access.log" is already declared by logs[1]`}}},
	{"log name with dot dot", replaceEdit(`filename = "access"`, `filename = "../access"`),
		[]wantProblem{{`"../access"`, 0, "logs[1].filename: "}}},
	{"hidden log name", replaceEdit(`filename = "access"`, `filename = ".access"`),
		[]wantProblem{{`".access"`, 0, "logs[1].filename: \".access\" must not start with a dot"}}},
	{"log named stdout", replaceEdit(`filename = "access"`, `filename = "stdout"`),
		[]wantProblem{{`"stdout"`, 0, `logs[1].filename: "stdout" is Traffic Server's name for its standard stream, which logroll does not write`}}},
	{"log named stderr", replaceEdit(`filename = "access"`, `filename = "access"`+"\n\n[[logs]]\nfilename = \"stderr\""),
		[]wantProblem{{`"stderr"`, 0, `logs[2].filename: "stderr" is Traffic Server's name`}}},
	{"log name ending in .old", replaceEdit(`filename = "access"`, `filename = "access.old"`),
		[]wantProblem{{`"access.old"`, 0, `logs[1].filename: "access.old" must not end in ".old"`}}},
	{"log without filename", replaceEdit(`filename = "access"`, "rolling_size_mb = 5"),
		[]wantProblem{{"rolling_size_mb = 5", 0, "logs[1]: missing filename"}}},
	{"global record in a log", replaceEdit(`filename = "access"`, "filename = \"access\"\nmax_space_mb_for_logs = 5"),
		[]wantProblem{{"max_space_mb_for_logs = 5", 0, "logs[1].max_space_mb_for_logs: not a per-log record"}}},
	// Every problem at once.
	{"three problems", func(s string) string {
		s = appendLogEdit("hostnam = \"typo\"\nrolling_max_count = -1")(s)
		return replaceEdit("max_body_mb = 1", "max_body_mb = 1.5")(s)
	}, []wantProblem{
		{"1.5", 0, "proxy.config.ingest.max_body_mb: expected an integer"},
		{"hostnam =", 0, "proxy.config.log.hostnam: unknown key"},
		{"-1", 0, "proxy.config.log.rolling_max_count: -1 is out of range"},
	}},
	// Rules between records (docs/design.md §12).
	{"ingest on every interface without TLS and tokens", replaceEdit(`http_listen = "127.0.0.1:0"`, `http_listen = "0.0.0.0:0"`),
		[]wantProblem{{`"0.0.0.0:0"`, 0, `proxy.config.ingest.http_listen: "0.0.0.0:0" is not a loopback address: ingest from other hosts needs`}}},
	{"certificate without key", replaceEdit("max_body_mb = 1", "max_body_mb = 1\ntls_cert_file = \"cert.pem\""),
		[]wantProblem{{`"cert.pem"`, 0, "proxy.config.ingest.tls_cert_file: is set but proxy.config.ingest.tls_key_file is not"}}},
	{"remote admin without TLS", replaceEdit("[proxy.config.ingest]", "[proxy.config.admin]\nhttp_listen = \"127.0.0.1:0\"\n\n[proxy.config.ingest]"),
		[]wantProblem{{`http_listen = "127.0.0.1:0"` + "\n\n[proxy.config.ingest]", len(`http_listen = `), "proxy.config.admin.http_listen: \"127.0.0.1:0\" needs TLS and tokens"}}},
	{"syslog to an undeclared log", replaceEdit("[proxy.config.ingest]", "[proxy.config.syslog]\ntcp_listen = \"127.0.0.1:0\"\n\n[proxy.config.ingest]"),
		[]wantProblem{{`tcp_listen = "127.0.0.1:0"`, len(`tcp_listen = `), `proxy.config.syslog.tcp_listen: syslog messages go to the log "syslog" (proxy.config.syslog.log), which is not declared`}}},
	{"syslog facility unknown", replaceEdit(`filename = "access"`, "filename = \"access\"\nsyslog_facility = [\"local9\"]"),
		[]wantProblem{{`"local9"`, 0, `logs[1].syslog_facility: element 1: "local9" is not a syslog facility`}}},
	// Folders that are files (found when the daemon starts, or, for a
	// changed value, when it reloads).
	{"logfile_dir is a file", replaceEdit(`logfile_dir = "logs"`, `logfile_dir = "afile"`),
		[]wantProblem{{`"afile"`, 0, "proxy.config.log.logfile_dir: "}}},
	{"logfile_dir below a file", replaceEdit(`logfile_dir = "logs"`, `logfile_dir = "afile/logs"`),
		[]wantProblem{{`"afile/logs"`, 0, "proxy.config.log.logfile_dir: "}}},
	{"local_state_dir is a file", replaceEdit(`local_state_dir = "run"`, `local_state_dir = "afile"`),
		[]wantProblem{{`"afile"`, 0, "proxy.config.local_state_dir: "}}},
	{"socket path too long", replaceEdit(`local_state_dir = "run"`, `local_state_dir = "`+longName+`"`),
		[]wantProblem{{`"` + longName, 0, "proxy.config.local_state_dir: socket path "}}},
}

// longName is a folder name that makes the socket path inside it longer
// than a Unix socket allows.
var longName = strings.Repeat("s", 110)

// badConfBase is the valid configuration the bad ones are edits of.
func badConfBase() string { return conf{SizeMB: 20}.toml() }

// checkProblems checks that out (a stderr) names every problem of c in
// text at its FILE:LINE:COL, with path the config file's absolute path.
func checkProblems(t *testing.T, out, path, text string, c badConf) {
	t.Helper()
	for _, w := range c.want {
		line, col := confPos(t, text, w.at, max(w.delta, 0))
		want := fmt.Sprintf("%s:%d:%d: %s", path, line, col, w.holds)
		if w.delta == anyCol {
			re := regexp.MustCompile(regexp.QuoteMeta(fmt.Sprintf("%s:%d:", path, line)) + `\d+: ` + regexp.QuoteMeta(w.holds))
			if !re.MatchString(out) {
				t.Errorf("output does not hold %s:\n%s", re, out)
			}
			continue
		}
		if !strings.Contains(out, want) {
			t.Errorf("output does not hold %q:\n%s", want, out)
		}
	}
}

// writeBadConf writes c's configuration into a new folder holding afile, and
// returns the folder, the text and the file's path.
func writeBadConf(t *testing.T, c badConf) (dir, text, path string) {
	t.Helper()
	dir = tempDir(t)
	makeAfile(t, dir)
	text = c.edit(badConfBase())
	return dir, text, writeConfig(t, dir, text)
}

// makeAfile creates dir/afile, the regular file the folder cases point at.
func makeAfile(t *testing.T, dir string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "afile"), []byte("a file, not a folder\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestBadConfigAtStart starts logrolld on each invalid configuration and
// checks that it exits 2 at once, with every problem on stderr as
// FILE:LINE:COL: key: message, serving nothing, and that it created
// nothing: no log folder, log file, socket or socket folder.
func TestBadConfigAtStart(t *testing.T) {
	for _, c := range badConfs {
		t.Run(c.name, func(t *testing.T) {
			dir, text, path := writeBadConf(t, c)
			d := launch(t, path)
			if code := d.wait(t, waitLimit); code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			out := d.stderr.String()
			checkProblems(t, out, path, text, c)
			if strings.Contains(out, "listening") || strings.Contains(out, "writing logs") {
				t.Errorf("the daemon announced endpoints:\n%s", out)
			}
			var left []string
			filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
				if err == nil && p != dir {
					rel, _ := filepath.Rel(dir, p)
					left = append(left, rel)
				}
				return nil
			})
			sort.Strings(left)
			allowed := map[string]bool{"records.toml": true, "afile": true}
			for _, l := range left {
				// Every problem is found before anything is created.
				if !allowed[l] {
					t.Errorf("left behind: %s (all: %q)", l, left)
				}
			}
		})
	}
}

// TestBadConfigReload runs a daemon on a valid configuration, then for each
// invalid one: `logrollctl config reload` exits 1 naming every problem at
// its FILE:LINE:COL, and so does a SIGHUP reload (in `config status`); the
// daemon keeps its configuration (`config get` shows the old values) and
// keeps taking records into the same file. logrollctl is pointed at the
// socket: with -config it would look for the socket where the edited
// file's local_state_dir says.
func TestBadConfigReload(t *testing.T) {
	dir := tempDir(t)
	makeAfile(t, dir)
	good := badConfBase()
	path := writeConfig(t, dir, good)
	d := startDaemon(t, path)
	keep := []string{"proxy.config.log.rolling_size_mb", "proxy.config.ingest.max_body_mb",
		"proxy.config.log.hostname", "proxy.config.log.logfile_dir", "proxy.config.local_state_dir",
		"proxy.config.log.rolling_enabled", "proxy.config.log.durability", "proxy.config.log.logfile_perm"}
	values := d.configValues(t, keep...)
	if len(values) != len(keep) {
		t.Fatalf("config get %q: %v", keep, values)
	}
	status := func(t *testing.T) string {
		t.Helper()
		r := runCtl(t, "-socket", d.socket, "config", "status")
		if r.code != 0 {
			t.Fatalf("want exit 0: %v", r)
		}
		return r.stdout
	}
	var want strings.Builder
	for i, c := range badConfs {
		t.Run(c.name, func(t *testing.T) {
			text := c.edit(good)
			writeConfig(t, dir, text)

			r := runCtl(t, "-socket", d.socket, "config", "reload")
			if r.code != 1 || !strings.Contains(r.stderr, "config reload refused; the running configuration is kept:") {
				t.Errorf("config reload: want exit 1 and \"refused\": %v", r)
			}
			checkProblems(t, r.stderr, path, text, c)

			d.signal(t, syscall.SIGHUP)
			var st string
			eventually(t, func() string {
				st = status(t)
				if statusField(st, "trigger") != "sighup" || statusField(st, "result") != "refused" {
					return "config status after SIGHUP:\n" + st
				}
				return ""
			})
			checkProblems(t, st, path, text, c)

			if got := d.configValues(t, keep...); fmt.Sprint(got) != fmt.Sprint(values) {
				t.Errorf("config get after the refused reload: %v, want the running %v", got, values)
			}
			rec := fmt.Sprintf("record %d after %s", i, c.name)
			d.postText(t, "access", rec)
			want.WriteString(rec + "\n")
		})
		// Put the good file back, so that the next case's SIGHUP status is
		// told apart from this one's.
		writeConfig(t, dir, good)
		d.signal(t, syscall.SIGHUP)
		eventually(t, func() string {
			if st := status(t); statusField(st, "result") != "ok" {
				return "config status after the good file's SIGHUP:\n" + st
			}
			return ""
		})
	}
	if got := readFile(t, filepath.Join(d.logs, "access.log")); got != want.String() {
		t.Errorf("access.log holds %q, want every record posted after a refused reload", got)
	}
	if v := d.metric(t, "proxy.process.log.config.reload_failures"); v != int64(2*len(badConfs)) {
		t.Errorf("config.reload_failures %d, want %d", v, 2*len(badConfs))
	}
	if _, err := os.Stat(filepath.Join(dir, "afile", "logs")); err == nil {
		t.Errorf("a refused reload created afile/logs")
	}
}

// TestBadConfigCheck runs `logrollctl config check FILE` (no daemon) on
// each invalid configuration: it must find every problem the daemon's start
// and reload find (exit 1, each at its FILE:LINE:COL, nothing on stdout),
// and create nothing.
func TestBadConfigCheck(t *testing.T) {
	for _, c := range badConfs {
		t.Run(c.name, func(t *testing.T) {
			dir, text, path := writeBadConf(t, c)
			r := runCtl(t, "config", "check", path)
			if r.code != 1 || r.stdout != "" {
				t.Errorf("want exit 1 and nothing on stdout: %v", r)
			}
			checkProblems(t, r.stderr, path, text, c)
			if left, _ := os.ReadDir(dir); len(left) != 2 {
				t.Errorf("config check left %d entries in the folder, want records.toml and afile only", len(left))
			}
		})
	}
}

// TestConfigCheckAgreesWithStart: what is in the folders, not in the file,
// can make a valid configuration impossible to run: a log's active file that
// is a folder or a symbolic link, a log folder that is a symbolic link to a
// file, a regular file where the socket goes, a lock file that is a
// symbolic link. For each, `config check` exits 1 naming the record (or
// the log) at its FILE:LINE:COL, logrolld exits 2 with the same line, and
// after the obstacle is removed both accept the file.
func TestConfigCheckAgreesWithStart(t *testing.T) {
	symlink := func(target string) func(string) error {
		return func(p string) error { return os.Symlink(target, p) }
	}
	for _, tc := range []struct {
		name     string
		obstacle string                  // its path, relative to the config's folder (parents are created)
		make     func(path string) error // puts it there
		at       string                  // the text the problem points at
		holds    string
	}{
		{"active file is a folder", "logs/access.log", func(p string) error { return os.Mkdir(p, 0o755) },
			`"access"`, "logs[1].filename: the active file "},
		{"active file is a symbolic link", "logs/access.log", symlink("../afile"),
			`"access"`, "logs[1].filename: the active file "},
		{"log folder is a link to a file", "logs", symlink("afile"),
			`"logs"`, "proxy.config.log.logfile_dir: "},
		{"a file where the socket goes", "run/logrolld.sock", func(p string) error { return os.WriteFile(p, nil, 0o644) },
			`"run"`, "proxy.config.local_state_dir: "},
		{"lock file is a symbolic link", "logs/.logrolld.lock", symlink("../afile"),
			`"logs"`, "proxy.config.log.logfile_dir: the log folder's lock "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := tempDir(t)
			makeAfile(t, dir)
			text := badConfBase()
			path := writeConfig(t, dir, text)
			obstacle := filepath.Join(dir, tc.obstacle)
			if err := os.MkdirAll(filepath.Dir(obstacle), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(obstacle); err != nil {
				t.Fatal(err)
			}
			line, col := confPos(t, text, tc.at, 0)
			want := fmt.Sprintf("%s:%d:%d: %s", path, line, col, tc.holds)
			r := runCtl(t, "config", "check", path)
			if r.code != 1 || !strings.Contains(r.stderr, want) {
				t.Errorf("config check: want exit 1 and %q: %v", want, r)
			}
			d := launch(t, path)
			if code := d.wait(t, waitLimit); code != 2 || !strings.Contains(d.stderr.String(), want) {
				t.Errorf("logrolld: exit %d, want 2 and %q:\n%s", code, want, d.stderr.String())
			}
			if err := os.Remove(obstacle); err != nil {
				t.Fatal(err)
			}
			if r := runCtl(t, "config", "check", path); r.code != 0 || r.stdout != "ok\n" {
				t.Errorf("config check once the obstacle is gone: want exit 0 and ok: %v", r)
			}
			startDaemon(t, path).postText(t, "access", "runs now")
		})
	}
}

// TestReloadRolledDirUnderImmutableFolder: a reload naming a rolled folder
// that cannot be created (the log folder made immutable, which root's
// permission bits do not show) is refused at the value's FILE:LINE:COL by
// the reload's checks, and nothing changes; it used to pass them and fail
// while applying, without a place.
func TestReloadRolledDirUnderImmutableFolder(t *testing.T) {
	needRoot(t, "chattr +i")
	t.Parallel()
	dir := tempDir(t)
	d := startDaemon(t, writeConfig(t, dir, conf{}.toml()))
	if out, err := exec.Command("chattr", "+i", d.logs).CombinedOutput(); err != nil {
		t.Skipf("chattr +i %s: %v %s (a filesystem without the flag)", d.logs, err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", d.logs).Run() })
	writeConfig(t, dir, conf{Extra: "rolled_dir = \"newarchive\"\n"}.toml())
	r := d.tryCtl(t, "config", "reload")
	want := "proxy.config.log.rolled_dir: unusable rolled folder " + filepath.Join(d.logs, "newarchive") + ": cannot be created: " + d.logs + " is not writable"
	if r.code != 1 || !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, d.config+":") {
		t.Errorf("reload: %v\nwant exit 1 and %q at %s:LINE:COL", r, want, d.config)
	}
	if got := d.configValues(t, "proxy.config.log.rolled_dir"); got["proxy.config.log.rolled_dir"] != `""` {
		t.Errorf("rolled_dir after the refused reload: %v, want the running \"\"", got)
	}
	exec.Command("chattr", "-i", d.logs).Run()
	d.postText(t, "access", "still logging")
	if got := d.roll(t, "access"); len(got) != 1 || filepath.Dir(got[0]) != d.logs {
		t.Errorf("rolled %q, want one file in the log folder (the running rolled_dir)", got)
	}
}
