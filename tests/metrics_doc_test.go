package tests

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// metricRow is one row of docs/daemon.md's metrics table.
type metricRow struct {
	name, prom, typ string
	labels          []string // sorted
}

// docMetrics reads the metrics table of docs/daemon.md ("## Metrics"): one
// row per series name, `dotted name` | `Prometheus name` | type | labels.
func docMetrics(t *testing.T) map[string]metricRow {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(root, "docs", "daemon.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Metrics\n")
	if !ok {
		t.Fatal(`docs/daemon.md has no "## Metrics" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	rows := map[string]metricRow{}
	for _, l := range strings.Split(section, "\n") {
		if !strings.HasPrefix(l, "| `proxy.") {
			continue
		}
		cells := strings.Split(l, "|")
		if len(cells) < 6 {
			t.Fatalf("docs/daemon.md metrics row %q: want name, /metrics name, type, labels, what", l)
		}
		r := metricRow{
			name: strings.Trim(strings.TrimSpace(cells[1]), "`"),
			prom: strings.Trim(strings.TrimSpace(cells[2]), "`"),
			typ:  strings.TrimSpace(cells[3]),
		}
		for _, lb := range strings.Split(cells[4], ",") {
			if lb = strings.TrimSpace(lb); lb != "" {
				r.labels = append(r.labels, lb)
			}
		}
		sort.Strings(r.labels)
		if _, dup := rows[r.name]; dup {
			t.Errorf("docs/daemon.md lists %s twice", r.name)
		}
		rows[r.name] = r
	}
	if len(rows) == 0 {
		t.Fatal("docs/daemon.md's metrics table has no rows")
	}
	return rows
}

// TestMetricsDocumented keeps docs/daemon.md's metrics table equal to what
// the daemon serves: every family on /metrics (but the Go runtime's go_* and
// the process's process_*, which the doc names as such) has a row with its
// Prometheus name, type and labels; every row is served; every name
// logrollctl metric lists has a row, and the other way round. Then
// `promtool check metrics` (Debian's prometheus package) must accept the
// text format: it is what Prometheus scrapes.
func TestMetricsDocumented(t *testing.T) {
	rows := docMetrics(t)
	// With the syslog input on: its series are served only then.
	d := startDaemon(t, writeConfig(t, tempDir(t), conf{Extra: "\n[proxy.config.syslog]\nudp_listen = \"127.0.0.1:0\"\nlog = \"access\"\n"}.toml()))
	d.postText(t, "access", "a record, so that per-status series exist")
	d.roll(t, "access")

	status, body := d.get(t, "/metrics")
	if status != 200 {
		t.Fatalf("GET /metrics: %d", status)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("/metrics does not parse as the Prometheus text format: %v", err)
	}
	byProm := map[string]metricRow{}
	for _, r := range rows {
		want := strings.ReplaceAll(r.name, ".", "_")
		if r.typ == "counter" {
			want += "_total"
		}
		if r.prom != want {
			t.Errorf("docs: %s is exported as %s, not %s", r.name, want, r.prom)
		}
		byProm[r.prom] = r
	}
	var runtime, process bool
	for name, f := range families {
		switch {
		case strings.HasPrefix(name, "go_"):
			runtime = true
			continue
		case strings.HasPrefix(name, "process_"):
			process = true
			continue
		}
		r, ok := byProm[name]
		if !ok {
			t.Errorf("/metrics serves %s, which docs/daemon.md does not list", name)
			continue
		}
		if typ := strings.ToLower(f.GetType().String()); typ != r.typ {
			t.Errorf("%s is a %s on /metrics, a %s in the docs", name, typ, r.typ)
		}
		for _, m := range f.GetMetric() {
			if got := labelNames(m); !slices.Equal(got, r.labels) {
				t.Errorf("%s has labels %q on /metrics, %q in the docs", name, got, r.labels)
				break
			}
		}
	}
	for _, r := range rows {
		if _, ok := families[r.prom]; !ok {
			t.Errorf("docs/daemon.md lists %s (%s), which /metrics does not serve", r.name, r.prom)
		}
	}
	if !runtime || !process {
		t.Errorf("/metrics lacks the Go runtime's (%v) or the process's (%v) series the docs mention", runtime, process)
	}

	served := map[string]bool{}
	for _, l := range lines(d.ctl(t, "metric", "match", ".").stdout) {
		name, _, _ := strings.Cut(l, " ")
		name, _, _ = strings.Cut(name, "{")
		served[name] = true
	}
	for name := range served {
		if _, ok := rows[name]; !ok {
			t.Errorf("logrollctl metric lists %s, which docs/daemon.md does not", name)
		}
	}
	for name := range rows {
		if !served[name] {
			t.Errorf("docs/daemon.md lists %s, which logrollctl metric does not", name)
		}
	}

	t.Run("promtool", func(t *testing.T) {
		promtool, err := exec.LookPath("promtool")
		if err != nil {
			t.Skip("promtool is not installed (Debian package prometheus; .ci/run installs it): /metrics is not linted here")
		}
		ctx, cancel := context.WithTimeout(context.Background(), ctlLimit)
		defer cancel()
		cmd := exec.CommandContext(ctx, promtool, "check", "metrics")
		cmd.Stdin = strings.NewReader(body)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil || out.Len() > 0 {
			t.Errorf("promtool check metrics: %v\n%s", err, out.String())
		}
	})
}

// labelNames returns a series' label names, sorted.
func labelNames(m *dto.Metric) []string {
	var names []string
	for _, lp := range m.GetLabel() {
		names = append(names, lp.GetName())
	}
	sort.Strings(names)
	return names
}
