package ctl_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
)

var t0 = time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)

func rolledFile(log string) ctl.RolledFile {
	return ctl.RolledFile{
		Log: log, Host: "web01", Start: t0, End: t0.Add(time.Hour), Bytes: 42, Configured: true,
		Path: "/var/log/logroll/" + log + ".web01.20261121.06h00m00s-20261121.07h00m00s.old",
	}
}

// rawGet does a request over the socket without the Client, as curl would.
func raw(t *testing.T, socket, method, target, body string) (int, string, http.Header) {
	t.Helper()
	hc := &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		},
		DisableKeepAlives: true,
	}}
	req, err := http.NewRequest(method, "http://logrolld"+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, target, ct)
	}
	if !json.Valid(data) {
		t.Errorf("%s %s: body is not JSON: %q", method, target, data)
	}
	return resp.StatusCode, string(data), resp.Header
}

func TestRoll(t *testing.T) {
	f := &ctltest.Fake{RollFunc: func(_ context.Context, logs []string) (ctl.RollResponse, error) {
		if len(logs) == 0 {
			logs = []string{"access.log", "error.log"}
		}
		var r ctl.RollResponse
		for _, l := range logs {
			if l == "bad" {
				return ctl.RollResponse{}, fmt.Errorf("roll %s: %w", l, ctl.ErrUnknownLog)
			}
			r.Rolled = append(r.Rolled, rolledFile(l))
		}
		return r, nil
	}}
	sock := ctltest.Serve(t, f)
	c := ctl.NewClient(sock)
	ctx := context.Background()

	got, err := c.Roll(ctx, []string{"access.log"})
	if err != nil || len(got.Rolled) != 1 || got.Rolled[0] != rolledFile("access.log") {
		t.Fatalf("Roll = %+v, %v", got, err)
	}
	got, err = c.Roll(ctx, nil)
	if err != nil || len(got.Rolled) != 2 {
		t.Fatalf("Roll(all) = %+v, %v", got, err)
	}
	_, err = c.Roll(ctx, []string{"bad"})
	var re *ctl.RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusNotFound || !strings.Contains(re.Msg, "unknown log") {
		t.Fatalf("Roll(bad) = %v, want a 404 RemoteError", err)
	}

	// curl: an empty body is every log; a bad body is 400.
	if code, body, _ := raw(t, sock, "POST", ctl.PathRoll, ""); code != 200 || !strings.Contains(body, "error.log") {
		t.Errorf("empty body: %d %s", code, body)
	}
	for _, body := range []string{"{", `{"log":["a"]}`, `{"logs":"a"}`, `{} {}`} {
		if code, b, _ := raw(t, sock, "POST", ctl.PathRoll, body); code != 400 {
			t.Errorf("body %q: %d %s, want 400", body, code, b)
		}
	}
	want := [][]string{{"access.log"}, nil, {"bad"}, nil}
	var calls [][]string
	for _, c := range f.Calls() {
		calls = append(calls, c.Logs)
	}
	if len(calls) != len(want) {
		t.Fatalf("calls = %v, want %v", calls, want)
	}
	for i := range want {
		if !slices.Equal(calls[i], want[i]) {
			t.Errorf("call %d logs = %v, want %v", i, calls[i], want[i])
		}
	}
}

func TestRollPartialAndEmpty(t *testing.T) {
	f := &ctltest.Fake{RollFunc: func(context.Context, []string) (ctl.RollResponse, error) {
		return ctl.RollResponse{Rolled: []ctl.RolledFile{rolledFile("a.log")}, Errors: []string{"roll b.log: rename: permission denied"}}, nil
	}}
	sock := ctltest.Serve(t, f)
	got, err := ctl.NewClient(sock).Roll(context.Background(), nil)
	if err != nil || len(got.Rolled) != 1 || len(got.Errors) != 1 {
		t.Fatalf("partial roll = %+v, %v", got, err)
	}

	sock = ctltest.Serve(t, &ctltest.Fake{})
	if code, body, _ := raw(t, sock, "POST", ctl.PathRoll, ""); code != 200 || !strings.Contains(body, `"rolled": []`) {
		t.Errorf("nothing rolled: %d %s, want an empty list", code, body)
	}
}

func TestReload(t *testing.T) {
	res := ctl.ReloadResult{
		Time: t0, Trigger: "ctl", Source: "/etc/logroll/records.toml", OK: true,
		Changes: []ctl.Change{{Name: "proxy.config.log.rolling_size_mb", Old: "10", New: "20"}},
	}
	f := &ctltest.Fake{ReloadFunc: func(context.Context) (ctl.ReloadResult, error) { return res, nil }}
	sock := ctltest.Serve(t, f)
	c := ctl.NewClient(sock)
	got, err := c.Reload(context.Background())
	if err != nil || !got.OK || len(got.Changes) != 1 || !got.Time.Equal(t0) {
		t.Fatalf("Reload = %+v, %v", got, err)
	}

	res = ctl.ReloadResult{Trigger: "ctl", Error: "records.toml:3:19: proxy.config.log.rolling_size_mb: must be at least 1"}
	got, err = c.Reload(context.Background())
	var re *ctl.RemoteError
	if !errors.As(err, &re) || re.Status != http.StatusUnprocessableEntity || re.Msg != res.Error {
		t.Fatalf("refused Reload error = %v, want a 422 RemoteError with the problems", err)
	}
	if got.OK || got.Error != res.Error {
		t.Errorf("refused Reload result = %+v", got)
	}
	if code, body, _ := raw(t, sock, "POST", ctl.PathReload, ""); code != 422 || !strings.Contains(body, "must be at least 1") {
		t.Errorf("curl reload: %d %s", code, body)
	}
}

func TestBackendErrors(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
	}{
		{fmt.Errorf("rolled: %w", ctl.ErrUnknownLog), 404},
		{fmt.Errorf("rolled: %w", ctl.ErrUnavailable), 503},
		{errors.New("rolled: read folder: permission denied"), 500},
	} {
		f := &ctltest.Fake{
			RolledFunc: func([]string) ([]ctl.RolledFile, error) { return nil, tc.err },
			ReloadFunc: func(context.Context) (ctl.ReloadResult, error) { return ctl.ReloadResult{}, tc.err },
		}
		sock := ctltest.Serve(t, f)
		c := ctl.NewClient(sock)
		_, err := c.Rolled(context.Background(), []string{"x"})
		var re *ctl.RemoteError
		if !errors.As(err, &re) || re.Status != tc.code || re.Msg != tc.err.Error() {
			t.Errorf("Rolled with %v = %v, want status %d", tc.err, err, tc.code)
		}
		_, err = c.Reload(context.Background())
		if !errors.As(err, &re) || re.Status != tc.code {
			t.Errorf("Reload with %v = %v, want status %d", tc.err, err, tc.code)
		}
	}
}

func TestMethodsAndPaths(t *testing.T) {
	sock := ctltest.Serve(t, &ctltest.Fake{})
	for _, tc := range []struct {
		method, target string
		code           int
	}{
		{"GET", ctl.PathRoll, 405},
		{"GET", ctl.PathReload, 405},
		{"POST", ctl.PathConfig, 405},
		{"DELETE", ctl.PathStatus, 405},
		{"PUT", ctl.PathMetrics, 405},
		{"POST", ctl.PathRolled, 405},
		{"GET", "/v1/nothing", 404},
		{"GET", "/", 404},
		{"GET", ctl.PathConfig, 200},
		{"GET", ctl.PathStatus, 200},
		{"GET", ctl.PathStatus + "?x=1", 400},
		{"GET", ctl.PathMetrics, 200},
		{"GET", ctl.PathMetrics + "?nam=x", 400},
		{"GET", ctl.PathRolled, 200},
		{"GET", ctl.PathRolled + "?logs=x", 400},
	} {
		code, body, h := raw(t, sock, tc.method, tc.target, "")
		if code != tc.code {
			t.Errorf("%s %s = %d %s, want %d", tc.method, tc.target, code, body, tc.code)
		}
		if code == 405 && h.Get("Allow") == "" {
			t.Errorf("%s %s: 405 without Allow", tc.method, tc.target)
		}
		if code >= 400 {
			var e ctl.ErrorResponse
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Errorf("%s %s: error body %q is not an ErrorResponse", tc.method, tc.target, body)
			}
		}
	}
	if code, body, _ := raw(t, sock, "POST", ctl.PathRoll, `{"logs":["`+strings.Repeat("a", 1<<20)+`"]}`); code != 413 {
		t.Errorf("a roll body over 1 MiB: %d %.80s, want 413", code, body)
	}
}

func TestMetricsFilter(t *testing.T) {
	f := &ctltest.Fake{MetricList: []ctl.Metric{
		{Name: "proxy.process.log.records_written", Labels: map[string]string{"log": "error.log"}, Type: "counter", Value: 3},
		{Name: "proxy.process.log.records_written", Type: "counter", Value: 10},
		{Name: "proxy.process.log.records_written", Labels: map[string]string{"log": "access.log"}, Type: "counter", Value: 7},
		{Name: "proxy.process.log.rolls", Labels: map[string]string{"cause": "time", "log": "access.log"}, Type: "counter", Value: 1},
		{Name: "proxy.process.log.log_files_space_used", Type: "gauge", Value: 123456789},
	}}
	sock := ctltest.Serve(t, f)
	c := ctl.NewClient(sock)
	ctx := context.Background()
	series := func(ms []ctl.Metric) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.String())
		}
		return out
	}
	for _, tc := range []struct {
		names []string
		match string
		want  []string
	}{
		{nil, "", []string{
			"proxy.process.log.log_files_space_used 123456789",
			"proxy.process.log.records_written 10",
			`proxy.process.log.records_written{log="access.log"} 7`,
			`proxy.process.log.records_written{log="error.log"} 3`,
			`proxy.process.log.rolls{cause="time",log="access.log"} 1`,
		}},
		{[]string{"proxy.process.log.rolls"}, "", []string{`proxy.process.log.rolls{cause="time",log="access.log"} 1`}},
		{[]string{"proxy.process.log.roll"}, "", nil},
		{nil, "space", []string{"proxy.process.log.log_files_space_used 123456789"}},
		{nil, "^proxy.process.log.r", []string{
			"proxy.process.log.records_written 10",
			`proxy.process.log.records_written{log="access.log"} 7`,
			`proxy.process.log.records_written{log="error.log"} 3`,
			`proxy.process.log.rolls{cause="time",log="access.log"} 1`,
		}},
		{nil, `log="error`, []string{`proxy.process.log.records_written{log="error.log"} 3`}}, // the labels too
		{[]string{"proxy.process.log.log_files_space_used"}, "rolls$", []string{
			"proxy.process.log.log_files_space_used 123456789",
			`proxy.process.log.rolls{cause="time",log="access.log"} 1`,
		}},
	} {
		got, err := c.Metrics(ctx, tc.names, tc.match)
		if err != nil {
			t.Fatalf("Metrics(%v, %q): %v", tc.names, tc.match, err)
		}
		if !slices.Equal(series(got), tc.want) {
			t.Errorf("Metrics(%v, %q) = %q, want %q", tc.names, tc.match, series(got), tc.want)
		}
	}
	_, err := c.Metrics(ctx, nil, "(")
	var re *ctl.RemoteError
	if !errors.As(err, &re) || re.Status != 400 || !strings.Contains(re.Msg, "bad match expression") {
		t.Errorf("bad regex = %v, want 400", err)
	}
}

func TestMetricString(t *testing.T) {
	for _, tc := range []struct {
		m    ctl.Metric
		want string
	}{
		{ctl.Metric{Name: "a", Value: 1e15}, "a 1000000000000000"},
		{ctl.Metric{Name: "a", Value: 0.25}, "a 0.25"},
		{ctl.Metric{Name: "a", Value: -3}, "a -3"},
		{ctl.Metric{Name: "a", Labels: map[string]string{"z": "1", "b": `q"\`}, Value: 0}, `a{b="q\"\\",z="1"} 0`},
	} {
		if got := tc.m.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestConfigStatusRolled(t *testing.T) {
	f := &ctltest.Fake{
		ConfigResp: ctl.ConfigResponse{Source: "/etc/records.toml", TOML: "[proxy]\n", Records: []ctl.RecordValue{{Name: "proxy.config.log.rolling_size_mb", Value: "10"}}},
		StatusResp: ctl.Status{PID: 42, Space: &ctl.SpaceStatus{State: "low"}, Logs: []ctl.LogStatus{{Name: "access.log", Start: t0}}},
		RolledFunc: func(logs []string) ([]ctl.RolledFile, error) {
			var out []ctl.RolledFile
			for _, l := range logs {
				out = append(out, rolledFile(l))
			}
			return out, nil
		},
	}
	sock := ctltest.Serve(t, f)
	c := ctl.NewClient(sock)
	ctx := context.Background()
	cfg, err := c.Config(ctx)
	if err != nil || cfg.Source != "/etc/records.toml" || len(cfg.Records) != 1 {
		t.Errorf("Config = %+v, %v", cfg, err)
	}
	st, err := c.Status(ctx)
	if err != nil || st.PID != 42 || st.Space == nil || st.Space.State != "low" || !st.Logs[0].Start.Equal(t0) {
		t.Errorf("Status = %+v, %v", st, err)
	}
	files, err := c.Rolled(ctx, []string{"a.log", "b.log"})
	if err != nil || len(files) != 2 || files[1].Log != "b.log" {
		t.Errorf("Rolled = %+v, %v", files, err)
	}
	if code, body, _ := raw(t, sock, "GET", ctl.PathRolled, ""); code != 200 || !strings.Contains(body, `"rolled": []`) {
		t.Errorf("no rolled files: %d %s", code, body)
	}
}

// TestShutdownAnswersCancelledRequests: a request still waiting when
// Shutdown's context ends (a roll waiting for its compression) sees its
// context end, and its answer (503) reaches the client before the
// connection is closed.
func TestShutdownAnswersCancelledRequests(t *testing.T) {
	waiting := make(chan struct{})
	f := &ctltest.Fake{RollFunc: func(ctx context.Context, _ []string) (ctl.RollResponse, error) {
		close(waiting)
		<-ctx.Done()
		return ctl.RollResponse{}, fmt.Errorf("roll: %w: still being finished", ctl.ErrUnavailable)
	}}
	dir := t.TempDir()
	sock := dir + "/" + ctl.SocketName
	l, err := ctl.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := ctl.NewServer(f, nil)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	answer := make(chan error, 1)
	go func() {
		_, err := ctl.NewClient(sock).Roll(context.Background(), nil)
		answer <- err
	}()
	<-waiting
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := srv.Shutdown(ctx); err == nil {
		t.Error("Shutdown returned nil with a request in flight past its context")
	}
	var re *ctl.RemoteError
	if err := <-answer; !errors.As(err, &re) || re.Status != http.StatusServiceUnavailable || !strings.Contains(re.Msg, "still being finished") {
		t.Errorf("client got %v, want the 503 answer", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
}
