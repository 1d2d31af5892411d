package daemon

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReloadRefusesFileAsFolder checks that a reload changing logfile_dir
// or local_state_dir to a file, or to a path below one, is refused with the
// record's FILE:LINE:COL (the restart it needs would fail), while a change
// to a folder that does not exist yet is accepted as "restart required"
// and creates nothing.
func TestReloadRefusesFileAsFolder(t *testing.T) {
	d, path, _ := start(t, baseConfig)
	dir := filepath.Dir(path)
	if err := os.WriteFile(filepath.Join(dir, "afile"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		record, value string
		ok            bool
	}{
		{"logfile_dir", "afile", false},
		{"logfile_dir", "afile/logs", false},
		{"local_state_dir", "afile", false},
		{"logfile_dir", "later", true},
	} {
		t.Run(tc.record+"="+tc.value, func(t *testing.T) {
			text := strings.Replace(baseConfig, "[proxy.config.log]", "[proxy.config.log]\nlogfile_dir = \""+tc.value+"\"", 1)
			rec := "proxy.config.log.logfile_dir"
			if tc.record == "local_state_dir" {
				text = "[proxy.config]\nlocal_state_dir = \"" + tc.value + "\"\n" + baseConfig
				rec = "proxy.config.local_state_dir"
			}
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			res := d.ReloadFrom(TriggerSIGHUP)
			if tc.ok {
				if !res.OK || len(res.RestartRequired) == 0 {
					t.Errorf("reload = %+v, want ok with a restart required", res)
				}
				if _, err := os.Stat(filepath.Join(dir, tc.value)); err == nil {
					t.Errorf("the reload created %s", tc.value)
				}
				return
			}
			line := strings.Count(text[:strings.Index(text, tc.record+" =")], "\n") + 1
			want := fmt.Sprintf("%s:%d:%d: %s: ", path, line, len(tc.record)+4, rec)
			if res.OK || !strings.HasPrefix(res.Error, want) {
				t.Errorf("reload = %+v, want refused with %q", res, want)
			}
			if code := post(t, d, "access", "still served\n"); code != 200 {
				t.Errorf("post after the refused reload: %d", code)
			}
		})
	}
}
