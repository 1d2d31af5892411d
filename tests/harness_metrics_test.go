package tests

import (
	"fmt"
	"maps"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/logroll/logroll/ctl"
)

// metrics returns every series of the named metrics, read with `logrollctl
// metric get --json NAMES…` over the admin socket, which serves next to
// each labelled counter its unlabelled sum (Prometheus' /metrics does not).
// A name without any series fails the test (logrollctl exits 1).
func (d *daemon) metrics(t *testing.T, names ...string) []ctl.Metric {
	t.Helper()
	var resp ctl.MetricsResponse
	d.ctlJSON(t, &resp, append([]string{"metric", "get", "--json"}, names...)...)
	return resp.Metrics
}

// metric returns the series of name with exactly labels (key, value
// pairs; none: the unlabelled series), a whole number (every count and
// gauge; metricFloat reads a fraction).
//
// A missing series fails the test. A missing metric is a bug (a metric
// renamed, a label the daemon never sets), and reading it as 0 would hide
// it behind every check that wants 0: "nothing refused" would pass against
// a metric that does not exist. metricOr0 is for the series that are only
// created by their first count.
func (d *daemon) metric(t *testing.T, name string, labels ...string) int64 {
	t.Helper()
	v, ok := d.series(t, name, labels...)
	if !ok {
		t.Fatalf("metric get %s: no series %s", name, seriesName(name, labels))
	}
	return whole(t, name, labels, v)
}

// metricOr0 is metric for a labelled series the daemon creates at its
// first count (ingest.requests by status, syslog.messages_refused by
// reason): 0 until then. The metric itself must exist.
func (d *daemon) metricOr0(t *testing.T, name string, labels ...string) int64 {
	t.Helper()
	v, ok := d.series(t, name, labels...)
	if !ok {
		return 0
	}
	return whole(t, name, labels, v)
}

// metricFloat is metric for a value that may be a fraction (a ratio, a
// duration in seconds).
func (d *daemon) metricFloat(t *testing.T, name string, labels ...string) float64 {
	t.Helper()
	v, ok := d.series(t, name, labels...)
	if !ok {
		t.Fatalf("metric get %s: no series %s", name, seriesName(name, labels))
	}
	return v
}

// series finds the series of name with exactly labels.
func (d *daemon) series(t *testing.T, name string, labels ...string) (float64, bool) {
	t.Helper()
	if len(labels)%2 != 0 {
		t.Fatalf("metric %s: labels %q are not key, value pairs", name, labels)
	}
	want := map[string]string{}
	for i := 0; i < len(labels); i += 2 {
		want[labels[i]] = labels[i+1]
	}
	for _, m := range d.metrics(t, name) {
		if m.Name == name && maps.Equal(m.Labels, want) {
			return m.Value, true
		}
	}
	return 0, false
}

// whole returns v, the value of a series, as an integer.
func whole(t *testing.T, name string, labels []string, v float64) int64 {
	t.Helper()
	if v != math.Trunc(v) || math.IsInf(v, 0) {
		t.Fatalf("metric %s = %v is not a whole number", seriesName(name, labels), v)
	}
	return int64(v)
}

// seriesName writes name{k="v",…} for messages.
func seriesName(name string, labels []string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	return name + "{" + b.String() + "}"
}

// goMetric reads a series of the Go runtime (go_goroutines,
// go_memstats_heap_inuse_bytes), which only the ingest port's Prometheus
// /metrics serves.
func (d *daemon) goMetric(t *testing.T, name string) float64 {
	t.Helper()
	code, body := d.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("GET /metrics: %d", code)
	}
	return promValue(t, body, name)
}

// promValue reads one series, written as it appears (name{labels}), of a
// Prometheus text exposition; a missing series fails the test, as in
// metric.
func promValue(t *testing.T, body, series string) float64 {
	t.Helper()
	for _, l := range lines(body) {
		if v, ok := strings.CutPrefix(l, series+" "); ok {
			f, err := strconv.ParseFloat(strings.Fields(v)[0], 64)
			if err != nil {
				t.Fatalf("/metrics %s: %v", l, err)
			}
			return f
		}
	}
	t.Fatalf("/metrics has no series %s", series)
	return 0
}

// written is the records written to log (its active name).
func (d *daemon) written(t *testing.T, log string) int64 {
	t.Helper()
	return d.metric(t, "proxy.process.log.records_written", "log", log)
}

// waitWritten waits up to limit until at least n records are written to
// log: the daemon's count is the point from which they are in the file.
func (d *daemon) waitWritten(t *testing.T, log string, n int64, limit time.Duration) {
	t.Helper()
	eventuallyWithin(t, limit, func() string {
		if got := d.written(t, log); got < n {
			return fmt.Sprintf("%d of %d records written to %s", got, n, log)
		}
		return ""
	})
}
