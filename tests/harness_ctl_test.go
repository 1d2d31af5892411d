package tests

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// runCtl runs logrollctl with args, whatever its exit code.
func runCtl(t *testing.T, args ...string) runResult {
	t.Helper()
	return runProgram(t, ctlBin, args...)
}

// ctl runs logrollctl -config <the daemon's config> args and fails the
// test unless it exits 0.
func (d *daemon) ctl(t *testing.T, args ...string) runResult {
	t.Helper()
	r := d.tryCtl(t, args...)
	if r.code != 0 {
		t.Fatalf("want exit 0: %v", r)
	}
	return r
}

// tryCtl is ctl whatever the exit code, for a test that checks it.
func (d *daemon) tryCtl(t *testing.T, args ...string) runResult {
	t.Helper()
	return runCtl(t, append([]string{"-config", d.config}, args...)...)
}

// ctlAsync runs logrollctl -config <the daemon's config> args in the
// background, without touching the test (it may run in any goroutine); the
// result arrives on the channel, with code -1 when logrollctl could not
// run or did not end.
func (d *daemon) ctlAsync(args ...string) <-chan runResult {
	ch := make(chan runResult, 1)
	go func() {
		r, err := execProgram(ctlBin, append([]string{"-config", d.config}, args...)...)
		if err != nil {
			r.code, r.stderr = -1, err.Error()
		}
		ch <- r
	}()
	return ch
}

// ctlJSON runs d.ctl(args…), which must exit 0, and decodes its stdout,
// which must be one JSON document with no field v lacks, into v.
func (d *daemon) ctlJSON(t *testing.T, v any, args ...string) {
	t.Helper()
	r := d.ctl(t, args...)
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output does not decode into %T: %v\n%v", v, err, r)
	}
	if dec.More() {
		t.Fatalf("output holds more than one JSON document: %v", r)
	}
}

// status runs `status --json`.
func (d *daemon) status(t *testing.T) ctl.Status {
	t.Helper()
	var st ctl.Status
	d.ctlJSON(t, &st, "status", "--json")
	return st
}

// spaceStatus is status's space section; the test fails without one.
func (d *daemon) spaceStatus(t *testing.T) ctl.SpaceStatus {
	t.Helper()
	st := d.status(t)
	if st.Space == nil {
		t.Fatalf("status --json has no space section: %+v", st)
	}
	return *st.Space
}

// shipStatus is status's ship section; the test fails without one.
func (d *daemon) shipStatus(t *testing.T) ctl.ShipStatus {
	t.Helper()
	st := d.status(t)
	if st.Ship == nil {
		t.Fatalf("status --json has no ship section: %+v", st)
	}
	return *st.Ship
}

// logStart returns the START status gives the log with active name log.
func (d *daemon) logStart(t *testing.T, log string) time.Time {
	t.Helper()
	st := d.status(t)
	for _, l := range st.Logs {
		if l.Name == log {
			return l.Start
		}
	}
	t.Fatalf("status has no log %s: %+v", log, st.Logs)
	return time.Time{}
}

// roll runs `logrollctl roll LOGS…` and returns the printed paths.
func (d *daemon) roll(t *testing.T, logs ...string) []string {
	t.Helper()
	r := d.ctl(t, append([]string{"roll"}, logs...)...)
	return lines(r.stdout)
}

// rollOne runs `roll --json LOG`, which must roll exactly one file, and
// returns it.
func (d *daemon) rollOne(t *testing.T, log string) ctl.RolledFile {
	t.Helper()
	var resp ctl.RollResponse
	d.ctlJSON(t, &resp, "roll", "--json", log)
	if len(resp.Rolled) != 1 || len(resp.Errors) != 0 {
		t.Fatalf("roll --json %s: %+v, want one file and no error", log, resp)
	}
	return resp.Rolled[0]
}

// rolled runs `rolled --json LOGS…` and returns the rolled files, oldest
// first.
func (d *daemon) rolled(t *testing.T, logs ...string) []ctl.RolledFile {
	t.Helper()
	var resp ctl.RolledResponse
	d.ctlJSON(t, &resp, append([]string{"rolled", "--json"}, logs...)...)
	return resp.Rolled
}

// configValue runs `config get NAME` and returns the global value.
func (d *daemon) configValue(t *testing.T, name string) string {
	t.Helper()
	r := d.ctl(t, "config", "get", name)
	first, _, _ := strings.Cut(r.stdout, "\n")
	full, value, ok := strings.Cut(first, " ")
	if !ok || !strings.HasSuffix(full, name) {
		t.Fatalf("config get %s: first line %q is not \"NAME VALUE\"", name, first)
	}
	return value
}

// configValues runs `config get NAMES…` on the daemon's socket (whatever
// its config file says now: a changed local_state_dir names another
// socket) and returns each full name's global value.
func (d *daemon) configValues(t *testing.T, names ...string) map[string]string {
	t.Helper()
	r := runCtl(t, append([]string{"-socket", d.socket, "config", "get"}, names...)...)
	if r.code != 0 {
		t.Fatalf("want exit 0: %v", r)
	}
	got := map[string]string{}
	for _, l := range lines(r.stdout) {
		if name, value, ok := strings.Cut(l, " "); ok && !strings.HasPrefix(name, "logs[") {
			got[name] = value
		}
	}
	return got
}
