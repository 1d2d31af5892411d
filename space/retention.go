package space

import (
	"fmt"
	"slices"
	"time"
)

// Rule names why a rolled file is deleted. Every deletion of the daemon is
// the space manager's, and is logged and counted with its rule.
type Rule string

// The rules.
const (
	// RuleMaxAge: rolling_max_age_sec, a log's rolled files are deleted once
	// their END is that old (BeyondMaxAge).
	RuleMaxAge Rule = "max_age"
	// RuleMaxCount: rolling_max_count, the newest N rolled files of a log
	// are kept (BeyondMaxCount).
	RuleMaxCount Rule = "max_count"
	// RuleMaxTotal: rolling_max_total_mb, the newest rolled files of a log
	// are kept while their total stays within it (BeyondMaxTotal).
	RuleMaxTotal Rule = "max_total"
	// RuleBudget: the disk budget or the partition's free space (Plan).
	RuleBudget Rule = "budget"
)

// Rules lists the rules, in the order the manager applies them: a file that
// several retention rules delete is counted under the first.
var Rules = []Rule{RuleMaxAge, RuleMaxCount, RuleMaxTotal, RuleBudget}

// Victim is a rolled file a retention rule deletes, and why.
type Victim struct {
	File
	Rule Rule
	// Why says what the rule is and how far the log is past it, for the
	// deletion's log line: "rolling_max_count = 3: 5 rolled files".
	Why string
}

// The retention rules are pure functions side by side, each given the
// rolled files and the configured logs and returning the files it deletes,
// oldest first (OldestFirst), like Prometheus tsdb's BeyondTimeRetention and
// BeyondSizeRetention feeding one deletion. Retain combines them; the
// manager runs it when the rolled files or the configuration changed, and
// when the oldest file reaches its log's maximum age (a timer), before the
// budget's Plan.
//
// Each rule deletes, per log, a run of oldest files in the one order: the
// files before some point. So their union is the longest of those runs,
// whichever rule is applied first, and a file is counted under the first
// rule of Rules that deletes it.

// Retain returns the rolled files the retention rules delete — those of
// BeyondMaxAge, BeyondMaxCount and BeyondMaxTotal, each once, under the
// first rule of Rules that names it — oldest first, and the instant the
// next of the files it keeps reaches its log's maximum age (NextExpiry;
// zero when none will).
func Retain(files []File, logs []Log, now time.Time) ([]Victim, time.Time) {
	chosen := map[string]bool{}
	var out []Victim
	for _, vs := range [][]Victim{BeyondMaxAge(files, logs, now), BeyondMaxCount(files, logs), BeyondMaxTotal(files, logs)} {
		for _, v := range vs {
			if !chosen[v.Name] {
				chosen[v.Name] = true
				out = append(out, v)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Victim) int { return OldestFirst(a.File, b.File) })
	kept := make([]File, 0, len(files)-len(out))
	for _, f := range files {
		if !chosen[f.Name] {
			kept = append(kept, f)
		}
	}
	return out, NextExpiry(kept, logs)
}

// byLog returns the files of the configured logs that want selects,
// grouped by log, each oldest first, with the selected logs in
// configuration order. Files of logs that are not configured are left to
// the budget.
func byLog(files []File, logs []Log, want func(Log) bool) ([]Log, map[string][]File) {
	var sel []Log
	set := map[string]bool{}
	for _, l := range logs {
		if want(l) {
			sel = append(sel, l)
			set[l.Name] = true
		}
	}
	if len(sel) == 0 {
		return nil, nil
	}
	groups := map[string][]File{}
	for _, f := range files {
		if set[f.Log] {
			groups[f.Log] = append(groups[f.Log], f)
		}
	}
	for _, fs := range groups {
		slices.SortFunc(fs, OldestFirst)
	}
	return sel, groups
}

// BeyondMaxCount returns, for every configured log with MaxCount > 0, its
// rolled files beyond the newest MaxCount: the oldest first.
func BeyondMaxCount(files []File, logs []Log) []Victim {
	sel, groups := byLog(files, logs, func(l Log) bool { return l.MaxCount > 0 })
	var out []Victim
	for _, l := range sel { // configuration order: deterministic
		fs := groups[l.Name]
		if len(fs) <= l.MaxCount {
			continue
		}
		why := fmt.Sprintf("rolling_max_count = %d: %d rolled files", l.MaxCount, len(fs))
		for _, f := range fs[:len(fs)-l.MaxCount] {
			out = append(out, Victim{File: f, Rule: RuleMaxCount, Why: why})
		}
	}
	return out
}

// BeyondMaxAge returns, for every configured log with MaxAge > 0, its
// rolled files whose END is MaxAge old or older at now: At (the END
// instant, see OrderKey) + MaxAge ≤ now. The oldest first.
func BeyondMaxAge(files []File, logs []Log, now time.Time) []Victim {
	sel, groups := byLog(files, logs, func(l Log) bool { return l.MaxAge > 0 })
	var out []Victim
	for _, l := range sel {
		for _, f := range groups[l.Name] {
			if now.Before(f.At.Add(l.MaxAge)) {
				break // oldest first: the rest are younger
			}
			why := fmt.Sprintf("rolling_max_age_sec = %d: END %s is %s old",
				int64(l.MaxAge/time.Second), f.At.Format(time.RFC3339), now.Sub(f.At).Truncate(time.Second))
			out = append(out, Victim{File: f, Rule: RuleMaxAge, Why: why})
		}
	}
	return out
}

// BeyondMaxTotal returns, for every configured log with MaxTotal > 0, its
// rolled files beyond the newest ones whose sizes add up to at most
// MaxTotal bytes: the oldest first. A newest file larger than MaxTotal on
// its own goes too.
func BeyondMaxTotal(files []File, logs []Log) []Victim {
	sel, groups := byLog(files, logs, func(l Log) bool { return l.MaxTotal > 0 })
	var out []Victim
	for _, l := range sel {
		fs := groups[l.Name]
		var total, sum int64
		for _, f := range fs {
			total += f.Size
		}
		keep := len(fs)
		for keep > 0 && sum+fs[keep-1].Size <= l.MaxTotal {
			keep--
			sum += fs[keep].Size
		}
		if keep == 0 {
			continue
		}
		limit := fmt.Sprintf("rolling_max_total_mb = %d", l.MaxTotal>>20)
		if l.MaxTotal%(1<<20) != 0 { // from Go, not from records.toml
			limit = "max total " + mib(l.MaxTotal)
		}
		why := fmt.Sprintf("%s: %s in %d rolled files", limit, mib(total), len(fs))
		for _, f := range fs[:keep] {
			out = append(out, Victim{File: f, Rule: RuleMaxTotal, Why: why})
		}
	}
	return out
}

// NextExpiry returns the earliest instant at which one of files reaches its
// log's maximum age (At + MaxAge), for the configured logs with MaxAge > 0;
// zero when no such file exists. The manager sets a timer to it: files age
// without any event.
func NextExpiry(files []File, logs []Log) time.Time {
	maxAge := map[string]time.Duration{}
	for _, l := range logs {
		if l.MaxAge > 0 {
			maxAge[l.Name] = l.MaxAge
		}
	}
	var next time.Time
	for _, f := range files {
		if a, ok := maxAge[f.Log]; ok {
			if e := f.At.Add(a); next.IsZero() || e.Before(next) {
				next = e
			}
		}
	}
	return next
}
