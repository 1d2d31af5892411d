package ctl

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// String formats the series as one `name value` line without the newline,
// with labels sorted by key as in Prometheus' text format:
// `proxy.process.log.records_written{log="access.log"} 42`. The value is
// written in decimal without exponent (integers as integers).
func (m Metric) String() string {
	return m.Series() + " " + FormatValue(m.Value)
}

// Series returns the series' name with its labels, sorted by key:
// `name{cause="size",log="access.log"}`, or the bare name without labels.
func (m Metric) Series() string {
	if len(m.Labels) == 0 {
		return m.Name
	}
	var b strings.Builder
	b.WriteString(m.Name)
	b.WriteByte('{')
	for i, k := range slices.Sorted(maps.Keys(m.Labels)) {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(k)
		b.WriteString(`="`)
		b.WriteString(labelEscaper.Replace(m.Labels[k]))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// FormatValue writes a metric value in decimal without exponent: 1234567,
// 0.25, NaN, +Inf.
func FormatValue(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// SortMetrics sorts series by name, then by their labels.
func SortMetrics(ms []Metric) {
	slices.SortStableFunc(ms, func(a, b Metric) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Series(), b.Series()))
	})
}
