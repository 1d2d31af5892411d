package records

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that Load never panics, returns a config or an error but
// not both, and that a config it accepts round-trips through TOML with no Diff.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.toml")
	files = append(files, "../etc/records.toml")
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, _, err := Load(data, "/fuzz/records.toml")
		if err != nil {
			if c != nil {
				t.Fatalf("config returned with an error")
			}
			if err.Error() == "" {
				t.Fatalf("empty error message")
			}
			return
		}
		c2, _, err := Load(c.TOML(), "/fuzz/records.toml")
		if err != nil {
			t.Fatalf("re-encoded config does not load: %v\n%s", err, c.TOML())
		}
		if d := Diff(c, c2); len(d) != 0 {
			t.Fatalf("round trip changed %v", d)
		}
	})
}
