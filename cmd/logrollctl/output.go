package main

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/records"
)

// printJSON writes v to stdout as one indented JSON document.
func (e *env) printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	e.printed = true
	_, err = e.stdout.Write(append(data, '\n'))
	return err
}

// formatChange writes a change as records.Change does: "NAME: OLD -> NEW",
// with " (restart required)" when it waits for a restart.
func formatChange(c ctl.Change) string {
	return records.Change{Name: c.Name, Old: c.Old, New: c.New, Restart: c.Restart}.String()
}

// formatTime writes t as RFC 3339 in the zone it came with; "-" for zero.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Format(time.RFC3339)
}

// formatBytes writes a size for people: "512 B", "1.5 KiB", "40.0 MiB".
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	v := float64(n)
	for _, u := range []string{"KiB", "MiB", "GiB", "TiB"} {
		v /= unit
		if v < unit && v > -unit || u == "TiB" {
			return fmt.Sprintf("%.1f %s", v, u)
		}
	}
	panic("unreachable")
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// field writes one "key: value" line with the values aligned.
func field(w io.Writer, key, value string) {
	fmt.Fprintf(w, "%-12s %s\n", key+":", value)
}
