package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/logroll/logroll/ctl"
)

// printJSON writes v to stdout as one indented JSON document.
func (e *env) printJSON(v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode output: %w", err)
	}
	_, err = e.stdout.Write(append(data, '\n'))
	return err
}

// formatChange writes a change as records.Change does: "NAME: OLD -> NEW",
// with " (restart required)" when it waits for a restart.
func formatChange(c ctl.Change) string {
	s := fmt.Sprintf("%s: %s -> %s", c.Name, orNone(c.Old), orNone(c.New))
	if c.Restart {
		s += " (restart required)"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
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

// didYouMean returns ` (did you mean "x"?)` for the candidate nearest to s,
// when it is near enough to be a typo, else "".
func didYouMean(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(s)/3) {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
