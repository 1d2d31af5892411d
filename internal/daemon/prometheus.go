package daemon

import (
	"net/http"
	"sort"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/logroll/logroll/ctl"
)

// promCollector exports Daemon.Metrics to Prometheus: dots become
// underscores and counters get the _total suffix
// (proxy.process.log.records_written{log="access.log"} →
// proxy_process_log_records_written_total{log="access.log"}). Of each family
// only the series with the most labels are exported: the aggregates that
// logrollctl shows (the unlabelled total, totals per cause) are sums
// Prometheus computes itself, and exporting them too would double every sum.
type promCollector struct{ d *Daemon }

// Describe sends nothing: the collector is unchecked, since the set of logs
// changes on reload.
func (promCollector) Describe(chan<- *prometheus.Desc) {}

// Collect implements prometheus.Collector.
func (c promCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range promSeries(c.d.Metrics()) {
		keys := make([]string, 0, len(m.Labels))
		for k := range m.Labels {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = m.Labels[k]
		}
		name := strings.ReplaceAll(m.Name, ".", "_")
		typ := prometheus.GaugeValue
		if m.Type == "counter" {
			name += "_total"
			typ = prometheus.CounterValue
		}
		desc := prometheus.NewDesc(name, m.Help, keys, nil)
		ch <- prometheus.MustNewConstMetric(desc, typ, m.Value, vals...)
	}
}

// promSeries keeps, per name, the series with the most labels.
func promSeries(all []ctl.Metric) []ctl.Metric {
	most := map[string]int{}
	for _, m := range all {
		if len(m.Labels) > most[m.Name] {
			most[m.Name] = len(m.Labels)
		}
	}
	out := all[:0:0]
	for _, m := range all {
		if len(m.Labels) == most[m.Name] {
			out = append(out, m)
		}
	}
	return out
}

// metricsHandler serves GET /metrics on the ingest port: logroll's metrics,
// the Go runtime's and the process's, as Prometheus text or OpenMetrics when
// the scraper asks for it.
func (d *Daemon) metricsHandler() http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(promCollector{d}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
}
