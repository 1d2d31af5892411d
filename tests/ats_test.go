package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/logroll/logroll/ctl"
)

// TestTrafficServerAdjustments: values Traffic Server adjusts silently are
// adjusted the same way, with a warning at their FILE:LINE:COL
// (docs/traffic-server.md, "What logroll does differently"): an interval
// above a day is a day, and a headroom of 0 is Traffic Server's built-in
// 10 MiB. config check says ok with the warnings; the daemon starts, says
// them, and runs on the adjusted values.
func TestTrafficServerAdjustments(t *testing.T) {
	dir := tempDir(t)
	text := conf{Extra: "rolling_interval_sec = 172800\nmax_space_mb_headroom = 0\n"}.toml()
	path := writeConfig(t, dir, text)
	iLine, iCol := position(t, text, "172800")
	hLine, hCol := position(t, text, "max_space_mb_headroom = 0")
	hCol += len("max_space_mb_headroom = ")
	warnings := []string{
		fmt.Sprintf("%s:%d:%d: proxy.config.log.rolling_interval_sec: 172800 is above a day, the longest interval; using 86400", path, iLine, iCol),
		fmt.Sprintf("%s:%d:%d: proxy.config.log.max_space_mb_headroom: 0 means Traffic Server's built-in headroom; using 10", path, hLine, hCol),
	}

	r := runCtl(t, "config", "check", path)
	if r.code != 0 || r.stdout != "ok\n" {
		t.Errorf("config check: want exit 0 and ok: %v", r)
	}
	for _, w := range warnings {
		if !strings.Contains(r.stderr, "warning: "+w) {
			t.Errorf("config check does not warn %q: %v", w, r)
		}
	}

	d := startDaemon(t, path)
	for _, w := range warnings {
		if !strings.Contains(d.stderr.String(), w) {
			t.Errorf("the daemon does not warn %q at start:\n%s", w, d.stderr.String())
		}
	}
	if got := d.configValues(t, "proxy.config.log.rolling_interval_sec", "proxy.config.log.max_space_mb_headroom"); fmt.Sprint(got) !=
		"map[proxy.config.log.max_space_mb_headroom:10 proxy.config.log.rolling_interval_sec:86400]" {
		t.Errorf("running values %v, want interval 86400 and headroom 10", got)
	}
	var st ctl.Status
	d.ctlJSON(t, &st, "status", "--json")
	if st.Space == nil || st.Space.Headroom != 10<<20 {
		t.Errorf("status space %+v, want a headroom of 10 MiB", st.Space)
	}
}
