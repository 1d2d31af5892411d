package ctl_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

func TestConfigFrom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.toml")
	const src = "[proxy.config.log]\nrolling_size_mb = 10\n\n[[logs]]\nfilename = \"access\"\nrolling_size_mb = 100\n"
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := records.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	resp := ctl.ConfigFrom(cfg, ctl.ReloadResult{Trigger: "start", OK: true})
	if resp.Source != path || len(resp.Records) != len(records.All()) || resp.LastReload.Trigger != "start" {
		t.Fatalf("ConfigFrom = %+v", resp)
	}
	back, _, err := records.Load([]byte(resp.TOML), "running")
	if err != nil {
		t.Fatalf("TOML does not load back: %v", err)
	}
	if d := records.Diff(cfg, back); len(d) != 0 {
		t.Errorf("TOML loads back with differences %v", d)
	}
	var size ctl.RecordValue
	for _, rv := range resp.Records {
		if rv.Name == records.RollingSizeMB {
			size = rv
		}
	}
	if size.Value != "10" || size.Source != path+":2:19" || !size.PerLog || size.Unit != "MiB" || size.Description == "" {
		t.Errorf("rolling_size_mb = %+v", size)
	}
	if len(resp.Logs) != 1 || resp.Logs[0].Name != "access.log" || resp.Logs[0].Declared != "access" {
		t.Fatalf("logs = %+v", resp.Logs)
	}
	for _, rv := range resp.Logs[0].Records {
		switch rv.Name {
		case records.RollingSizeMB:
			if rv.Value != "100" || rv.Source != path+":6:19" {
				t.Errorf("access.log rolling_size_mb = %+v", rv)
			}
		case records.RollingEnabled:
			if rv.Value != "1" || rv.Source != "global default" {
				t.Errorf("access.log rolling_enabled = %+v", rv)
			}
		}
	}
	ch := ctl.ChangesFrom([]records.Change{{Name: "a", Old: "1", New: "2", Restart: true}})
	if len(ch) != 1 || ch[0] != (ctl.Change{Name: "a", Old: "1", New: "2", Restart: true}) {
		t.Errorf("ChangesFrom = %+v", ch)
	}
}
