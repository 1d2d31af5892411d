package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/logroll/logroll/ctl"
)

// shipSection prints status's "ship:" section: what waits to be handed on,
// how old the oldest is, what was shipped, the failures by kind, and a
// line per log that hands files on.
func shipSection(w io.Writer, sh *ctl.ShipStatus) {
	fmt.Fprintln(w, "ship:")
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	pending := fmt.Sprintf("%d files, %s", sh.PendingFiles, formatBytes(sh.PendingBytes))
	if sh.OldestPending != nil {
		pending += fmt.Sprintf(" (oldest END %s, %s ago)", formatTime(*sh.OldestPending), time.Duration(sh.OldestPendingAge*float64(time.Second)).Round(time.Second))
	}
	if sh.ParkedFiles > 0 {
		pending += fmt.Sprintf("; %d refused for good, waiting for a reload", sh.ParkedFiles)
	}
	fmt.Fprintf(tw, "  pending:\t%s\n", pending)
	fmt.Fprintf(tw, "  shipped:\t%d files, %s (%d already there)\n", sh.ShippedFiles, formatBytes(sh.ShippedBytes), sh.AlreadyThere)
	fmt.Fprintf(tw, "  commands:\t%d succeeded\n", sh.HooksSucceeded)
	var kinds []string
	for k, n := range sh.Failures {
		if n > 0 {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
	}
	slices.Sort(kinds)
	if len(kinds) == 0 {
		kinds = []string{"none"}
	}
	fmt.Fprintf(tw, "  failures:\t%s\n", strings.Join(kinds, ", "))
	if sh.LastFailure != "" {
		fmt.Fprintf(tw, "  last failure:\t%s\n", sh.LastFailure)
	}
	if sh.HeldFiles > 0 {
		fmt.Fprintf(tw, "  held:\t%d files, %s kept from autodelete until handed on\n", sh.HeldFiles, formatBytes(sh.HeldBytes))
	}
	if sh.UnhandedDeleted > 0 {
		fmt.Fprintf(tw, "  deleted unhanded:\t%d files (ship_before_delete = 0)\n", sh.UnhandedDeleted)
	}
	for _, l := range sh.Logs {
		to := l.Target
		if l.Command != "" {
			if to != "" {
				to += ", "
			}
			to += "run " + l.Command
		}
		fmt.Fprintf(tw, "  %s:\t%s; %d pending, %d shipped\n", l.Name, to, l.PendingFiles, l.ShippedFiles)
	}
	tw.Flush()
}
