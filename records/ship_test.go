package records

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestShipChecks(t *testing.T) {
	exe := filepath.Join(t.TempDir(), "hook")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(plain, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		msg  string
		good bool
	}{
		{"url empty", checkShipURL(""), true},
		{"url bucket only", checkShipURL("s3://logs-bucket"), true},
		{"url prefix", checkShipURL("s3://logs.bucket/fleet/prod/"), true},
		{"url scheme", checkShipURL("https://b/x"), false},
		{"url short bucket", checkShipURL("s3://ab/x"), false},
		{"url upper bucket", checkShipURL("s3://Logs/x"), false},
		{"url dot dot", checkShipURL("s3://logs/a/../b"), false},
		{"url empty segment", checkShipURL("s3://logs/a//b"), false},
		{"url space", checkShipURL("s3://logs/a b"), false},
		{"endpoint empty", checkEndpoint(""), true},
		{"endpoint local", checkEndpoint("http://127.0.0.1:7070"), true},
		{"endpoint path", checkEndpoint("http://127.0.0.1:7070/x"), false},
		{"endpoint scheme", checkEndpoint("ftp://h"), false},
		{"endpoint creds", checkEndpoint("http://a:b@h"), false},
		{"region", checkRegion("eu-west-3"), true},
		{"region empty", checkRegion(""), false},
		{"region upper", checkRegion("EU"), false},
		{"argv empty", checkCommand(nil), true},
		{"argv abs", checkCommand([]string{exe, "-x"}), true},
		{"argv bare", checkCommand([]string{"gzip"}), false},
		{"argv missing", checkCommand([]string{"/nonexistent/prog"}), false},
		{"argv not exec", checkCommand([]string{plain}), false},
		{"argv dir", checkCommand([]string{t.TempDir()}), false},
	}
	for _, tc := range tests {
		if (tc.msg == "") != tc.good {
			t.Errorf("%s: message %q, want good=%v", tc.name, tc.msg, tc.good)
		}
	}
}

// TestLoadShipRecords loads the records of docs/design.md §11 globally and per log,
// and reports a bad argv with its place.
func TestLoadShipRecords(t *testing.T) {
	dir := t.TempDir()
	exe := filepath.Join(dir, "hook")
	if err := os.WriteFile(exe, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := `[proxy.config.log]
ship_url = "s3://fleet-logs/prod"
ship_endpoint = "http://127.0.0.1:7070"
on_roll_command = ["` + exe + `", "--index"]

[[logs]]
filename = "access"

[[logs]]
filename = "audit"
ship_url = "s3://audit-logs"
ship_delete_after = 0
on_roll_command = []
`
	c, _, err := Load([]byte(src), filepath.Join(dir, "records.toml"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.Log("access")
	b, _ := c.Log("audit")
	if got := a.Argv(OnRollCommand); !slices.Equal(got, []string{exe, "--index"}) {
		t.Errorf("access on_roll_command = %q", got)
	}
	if got := b.Argv(OnRollCommand); len(got) != 0 {
		t.Errorf("audit on_roll_command = %q, want []", got)
	}
	if a.Str(ShipURL) != "s3://fleet-logs/prod" || b.Str(ShipURL) != "s3://audit-logs" {
		t.Errorf("ship_url = %q, %q", a.Str(ShipURL), b.Str(ShipURL))
	}
	if a.Int(ShipDeleteAfter) != 1 || b.Int(ShipDeleteAfter) != 0 || b.Int(ShipBeforeDelete) != 1 {
		t.Errorf("ship_delete_after/before_delete not inherited and overridden")
	}
	if b.Str(ShipEndpoint) != "http://127.0.0.1:7070" || b.Str(ShipRegion) != "us-east-1" {
		t.Errorf("endpoint/region not inherited")
	}
	// The configuration writes itself back and diffs.
	again, _, err := Load(c.TOML(), filepath.Join(dir, "records.toml"))
	if err != nil {
		t.Fatalf("TOML() does not load back: %v\n%s", err, c.TOML())
	}
	if d := Diff(c, again); len(d) != 0 {
		t.Errorf("reloaded TOML differs: %v", d)
	}
	changed := strings.Replace(src, `"--index"`, `"--full"`, 1)
	c2, _, err := Load([]byte(changed), filepath.Join(dir, "records.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ch := range Diff(c, c2) {
		names = append(names, ch.String())
	}
	if len(names) != 2 || !strings.Contains(names[0], `"--full"]`) {
		t.Errorf("diff = %q, want the global record and access's", names)
	}

	bad := "[proxy.config.log]\non_roll_command = [\"hook\", 3]\n\n[[logs]]\nfilename = \"a\"\non_roll_command = \"/bin/true\"\nship_url = \"s3://X\"\n"
	_, _, err = Load([]byte(bad), "bad.toml")
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v, want a LoadError", err)
	}
	want := []string{
		`bad.toml:2:20: proxy.config.log.on_roll_command: element 1: expected a string, got integer 3`,
		`bad.toml:6:19: logs[1].on_roll_command: expected an array of strings such as ["/usr/local/bin/prog", "arg"], got string "/bin/true"`,
		`bad.toml:7:12: logs[1].ship_url: "s3://X" bucket "X" must be 3 to 63 characters`,
	}
	var got []string
	for _, p := range le.Problems {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
