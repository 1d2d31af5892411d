package records

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestTableSane checks every record of the table: unique names under
// proxy.config., a description, and a default that passes its own validation.
func TestTableSane(t *testing.T) {
	seen := map[string]bool{}
	for i := range table {
		r := &table[i]
		t.Run(r.Name, func(t *testing.T) {
			if seen[r.Name] {
				t.Errorf("duplicate record")
			}
			seen[r.Name] = true
			if !strings.HasPrefix(r.Name, "proxy.config.") {
				t.Errorf("name outside proxy.config.")
			}
			if r.Description == "" {
				t.Errorf("no description")
			}
			v, warn, msg := convert(r, r.Default)
			if r.Kind == KindPerm {
				v, warn, msg = convert(r, formatPerm(r.Default.(int64)))
			}
			if msg != "" || warn != "" {
				t.Errorf("default %v does not validate: %s%s", r.Default, msg, warn)
			}
			if !sameValue(v, r.Default) {
				t.Errorf("default %v converts to %v", r.Default, v)
			}
		})
	}
	for _, name := range []string{LocalStateDir, HTTPListen, MaxBodyMB} { // fixed by docs/design.md §4
		if lookup(name) == nil {
			t.Errorf("record %s missing", name)
		}
	}
}

// TestEtcRecordsInStep keeps etc/records.toml equal to the embedded defaults,
// setting every record of the table, each after a comment.
func TestEtcRecordsInStep(t *testing.T) {
	const path = "../etc/records.toml"
	c, warns, err := LoadFile(path)
	if err != nil {
		t.Fatalf("%s does not load: %v", path, err)
	}
	if len(warns) != 0 {
		t.Errorf("%s has warnings: %v", path, warns)
	}
	etc, _ := filepath.Abs("../etc")
	for _, ch := range Diff(Defaults(), c) {
		switch ch.Name {
		case LogfileDir, LocalStateDir: // relative to the file's folder, not the working directory
			want := filepath.Join(etc, lookup(ch.Name).Default.(string))
			if c.Str(ch.Name) != want {
				t.Errorf("%s = %q, want %q", ch.Name, c.Str(ch.Name), want)
			}
		default:
			t.Errorf("%s differs from the defaults: %v", path, ch)
		}
	}
	data, _ := os.ReadFile(path)
	for i := range table {
		r := &table[i]
		if c.Where(r.Name) == "default" {
			t.Errorf("%s does not set %s", path, r.Name)
			continue
		}
		// The line before the record's line is a comment.
		re := regexp.MustCompile(`(?m)^#.*\n` + regexp.QuoteMeta(r.Short()) + ` = `)
		if !re.Match(data) {
			t.Errorf("%s: %s has no comment line right above it", path, r.Short())
		}
	}
}

func TestDefaults(t *testing.T) {
	c := Defaults()
	if c.Source != "" {
		t.Errorf("Source = %q", c.Source)
	}
	if len(c.Logs) != 1 || c.Logs[0].Filename != "access.log" || c.Logs[0].Declared != "access" {
		t.Fatalf("logs = %+v, want access.log", c.Logs)
	}
	wd, _ := os.Getwd()
	if c.Str(LogfileDir) != filepath.Join(wd, "logs") || c.Str(LocalStateDir) != filepath.Join(wd, "run") {
		t.Errorf("paths = %q %q, want under %q", c.Str(LogfileDir), c.Str(LocalStateDir), wd)
	}
	if c.Str(HTTPListen) != "127.0.0.1:8480" || c.Int(MaxBodyMB) != 16 {
		t.Errorf("ingest defaults wrong")
	}
	if c.Logs[0].Int(RollingEnabled) != 1 || c.Logs[0].Int(RollingIntervalSec) != 86400 || c.Logs[0].Int(RollingSizeMB) != 10 {
		t.Errorf("log defaults not inherited")
	}
	if c.Where(RollingSizeMB) != "default" {
		t.Errorf("Where = %q", c.Where(RollingSizeMB))
	}
}

func TestActiveName(t *testing.T) {
	for in, want := range map[string]string{
		"access": "access.log", "access.log": "access.log", "error.txt": "error.txt", "a.b": "a.b", "squid": "squid.log",
		// Traffic Server's LogObject::generate_filenames: a final dot means
		// no extension, and is removed; "name.." keeps one.
		"debug.": "debug", "debug..": "debug.", "a.b.": "a.b",
	} {
		if got := ActiveName(in); got != want {
			t.Errorf("ActiveName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDocsTableInStep keeps the record table of docs/configuration.md in step
// with the record table: every record has a row with its default and reload
// column, and no row names a record that does not exist.
func TestDocsTableInStep(t *testing.T) {
	data, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(proxy\\.config\\.[a-z_.]+)`( \\*)? \\| `([^`]*)` \\| [^|]* \\| (live|restart) \\|$")
	rows := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		rows[m[1]] = m
	}
	for i := range table {
		r := &table[i]
		m, ok := rows[r.Name]
		if !ok {
			t.Errorf("docs/configuration.md has no row for %s", r.Name)
			continue
		}
		delete(rows, r.Name)
		if want := r.FormatValue(r.Default); m[3] != want && m[3] != fmt.Sprint(r.Default) {
			t.Errorf("%s: docs say default %s, the table %s", r.Name, m[3], want)
		}
		if (m[4] == "live") != r.Reloadable {
			t.Errorf("%s: docs say %s, the table reloadable=%v", r.Name, m[4], r.Reloadable)
		}
		if (m[2] != "") != r.PerLog {
			t.Errorf("%s: docs per-log mark %q, the table PerLog=%v", r.Name, m[2], r.PerLog)
		}
	}
	for name := range rows {
		t.Errorf("docs/configuration.md has a row for %s, which is not a record", name)
	}
}

// TestCheckFilename: the active name is what must not end in ".old", so a
// final dot cannot sneak one in, and what must fit in 100 bytes.
func TestCheckFilename(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"access", ""},
		{"debug.", ""},
		{"access.old", `must not end in ".old"`},
		{"access.old.", `names the file "access.old", which must not end in ".old"`},
		{"access.old..", ""}, // access.old.
		{"app.log.web01.20200101.00h00m00s-20200101.00h00m00s.old.gz", `must not end in ".old.gz"`},
		{"app.old.zst", `must not end in ".old.zst"`},
		{"app.old.zst.", `names the file "app.old.zst", which must not end in ".old.zst"`},
		{"app.old.gzip", ""},
		{strings.Repeat("a", 100) + ".", ""},
		{strings.Repeat("a", 101) + ".", "longer than 100 bytes"},
		{strings.Repeat("a", 97), "longer than 100 bytes"}, // + ".log"
	} {
		got := checkFilename(tc.in)
		if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
			t.Errorf("checkFilename(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
