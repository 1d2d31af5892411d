package main

import (
	"fmt"
	"slices"
	"strconv"
	"text/tabwriter"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

// metricGet: `metric get NAME…`. Prints "NAME VALUE" a line for each series of
// each name, labelled series as NAME{label="value",…} VALUE (labels sorted),
// values in decimal without exponent. A name without any series is
// reported on stderr and exits 1 after the others are printed.
func metricGet(e *env, names []string) error {
	c := e.client()
	ms, err := c.Metrics(e.ctx, names, "")
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range names {
		if !slices.ContainsFunc(ms, func(m ctl.Metric) bool { return m.Name == n }) && !slices.Contains(missing, n) {
			missing = append(missing, n)
		}
	}
	if e.json {
		if ms == nil {
			ms = []ctl.Metric{}
		}
		if err := e.printJSON(ctl.MetricsResponse{Metrics: ms}); err != nil {
			return err
		}
	} else {
		var seen []string
		for _, n := range names {
			if slices.Contains(seen, n) {
				continue
			}
			seen = append(seen, n)
			for _, m := range ms {
				if m.Name == n {
					fmt.Fprintln(e.stdout, m.String())
				}
			}
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var known []string
	if all, err := c.Metrics(e.ctx, nil, ""); err == nil {
		for _, m := range all {
			known = append(known, m.Name)
		}
	}
	for _, n := range missing {
		fmt.Fprintf(e.stderr, "logrollctl: metric get: no metric %q%s\n", n, records.DidYouMean(n, known))
	}
	return errReported
}

// metricMatch: `metric match REGEX`. Prints every series whose name matches
// REGEX (Go syntax, unanchored), sorted, in metric get's form. No match prints
// nothing and exits 0; a bad expression exits 1.
func metricMatch(e *env, args []string) error {
	ms, err := e.client().Metrics(e.ctx, nil, args[0])
	if err != nil {
		return err
	}
	if e.json {
		if ms == nil {
			ms = []ctl.Metric{}
		}
		return e.printJSON(ctl.MetricsResponse{Metrics: ms})
	}
	for _, m := range ms {
		fmt.Fprintln(e.stdout, m.String())
	}
	return nil
}

// status: `status`. Prints "key: value" lines (version, pid, started, config, dir,
// host, listen, socket, accepting), the space section when the daemon has
// one, and a table of the logs: NAME ACTIVE START ROLLED BYTES (sizes for
// people; --json has the byte counts).
func status(e *env, _ []string) error {
	st, err := e.client().Status(e.ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(st)
	}
	w := e.stdout
	if st.Version != "" {
		field(w, "version", st.Version)
	}
	field(w, "pid", strconv.Itoa(st.PID))
	field(w, "started", formatTime(st.Started))
	field(w, "config", orDefaults(st.Config))
	field(w, "dir", st.Dir)
	field(w, "host", st.Host)
	listen := st.Listen
	if listen == "" {
		listen = "(disabled)"
	}
	field(w, "listen", listen)
	field(w, "socket", st.Socket)
	field(w, "accepting", yesNo(st.Accepting))
	if sp := st.Space; sp != nil {
		fmt.Fprintln(w, "space:")
		tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
		fmt.Fprintf(tw, "  state:\t%s\n", sp.State)
		if sp.Reason != "" {
			fmt.Fprintf(tw, "  reason:\t%s\n", sp.Reason)
		}
		fmt.Fprintf(tw, "  used:\t%s\n", formatBytes(sp.Used))
		fmt.Fprintf(tw, "  limit:\t%s\n", formatBytes(sp.Limit))
		fmt.Fprintf(tw, "  headroom:\t%s\n", formatBytes(sp.Headroom))
		fmt.Fprintf(tw, "  partition free:\t%s (headroom kept: %s)\n", formatBytes(sp.PartitionFree), formatBytes(sp.PartitionHeadroom))
		if sp.PartitionFreeInodes >= 0 {
			fmt.Fprintf(tw, "  partition free inodes:\t%d\n", sp.PartitionFreeInodes)
		}
		fmt.Fprintf(tw, "  auto delete:\t%s\n", yesNo(sp.AutoDelete))
		fmt.Fprintf(tw, "  deleted:\t%d files, %s (budget %d, max_count %d, max_age %d, max_total %d, shipped %d)\n", sp.DeletedFiles, formatBytes(sp.DeletedBytes),
			sp.DeletedByRule["budget"], sp.DeletedByRule["max_count"], sp.DeletedByRule["max_age"], sp.DeletedByRule["max_total"], sp.DeletedByRule["shipped"])
		for _, w := range sp.Warnings {
			fmt.Fprintf(tw, "  warning:\t%s\n", w)
		}
		tw.Flush()
	}
	if sh := st.Ship; sh != nil {
		shipSection(w, sh)
	}
	fmt.Fprintln(w, "logs:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tACTIVE\tSTART\tROLLED\tROLLED BYTES")
	for _, l := range st.Logs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%d\t%s\n", l.Name, formatBytes(l.ActiveBytes), formatTime(l.Start), l.Rolled, formatBytes(l.RolledBytes))
	}
	return tw.Flush()
}
