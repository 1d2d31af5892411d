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
// several retention rules delete is counted under the first. RuleShipped is
// not a retention rule: it deletes a file once handed on (HandedOn).
var Rules = []Rule{RuleMaxAge, RuleMaxCount, RuleMaxTotal, RuleBudget, RuleShipped}

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
// zero when none will). Each log's files are sorted once for all rules.
func Retain(files []File, logs []Log, now time.Time) ([]Victim, time.Time) {
	groups := byLog(files, logs, Log.retains)
	chosen := map[string]bool{}
	var out []Victim
	for _, vs := range [][]Victim{beyondMaxAge(groups, now), beyondMaxCount(groups), beyondMaxTotal(groups)} {
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

// logFiles is a configured log and its rolled files, oldest first.
type logFiles struct {
	Log
	files []File
}

// byLog returns, for the configured logs that want selects, in
// configuration order, their files oldest first. Files of logs that are
// not configured are left to the budget.
func byLog(files []File, logs []Log, want func(Log) bool) []logFiles {
	var out []logFiles
	index := map[string]int{}
	for _, l := range logs {
		if want(l) {
			index[l.Name] = len(out)
			out = append(out, logFiles{Log: l})
		}
	}
	if len(out) == 0 {
		return nil
	}
	for _, f := range files {
		if i, ok := index[f.Log]; ok {
			out[i].files = append(out[i].files, f)
		}
	}
	for i := range out {
		slices.SortFunc(out[i].files, OldestFirst)
	}
	return out
}

// BeyondMaxCount returns, for every configured log with MaxCount > 0, its
// rolled files beyond the newest MaxCount: the oldest first.
func BeyondMaxCount(files []File, logs []Log) []Victim {
	return beyondMaxCount(byLog(files, logs, func(l Log) bool { return l.MaxCount > 0 }))
}

func beyondMaxCount(groups []logFiles) []Victim {
	var out []Victim
	for _, g := range groups { // configuration order: deterministic
		if g.MaxCount <= 0 || len(g.files) <= g.MaxCount {
			continue
		}
		why := fmt.Sprintf("rolling_max_count = %d: %d rolled files", g.MaxCount, len(g.files))
		for _, f := range g.files[:len(g.files)-g.MaxCount] {
			out = append(out, Victim{File: f, Rule: RuleMaxCount, Why: why})
		}
	}
	return out
}

// BeyondMaxAge returns, for every configured log with MaxAge > 0, its
// rolled files whose END is MaxAge old or older at now: At (the END
// instant, see OrderKey) + MaxAge ≤ now. The oldest first.
func BeyondMaxAge(files []File, logs []Log, now time.Time) []Victim {
	return beyondMaxAge(byLog(files, logs, func(l Log) bool { return l.MaxAge > 0 }), now)
}

func beyondMaxAge(groups []logFiles, now time.Time) []Victim {
	var out []Victim
	for _, g := range groups {
		if g.MaxAge <= 0 {
			continue
		}
		for _, f := range g.files {
			if now.Before(f.At.Add(g.MaxAge)) {
				break // oldest first: the rest are younger
			}
			why := fmt.Sprintf("rolling_max_age_sec = %d: END %s is %s old",
				int64(g.MaxAge/time.Second), f.At.Format(time.RFC3339), now.Sub(f.At).Truncate(time.Second))
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
	return beyondMaxTotal(byLog(files, logs, func(l Log) bool { return l.MaxTotal > 0 }))
}

func beyondMaxTotal(groups []logFiles) []Victim {
	var out []Victim
	for _, g := range groups {
		if g.MaxTotal <= 0 {
			continue
		}
		fs := g.files
		var total, sum int64
		for _, f := range fs {
			total += f.Size
		}
		keep := len(fs)
		for keep > 0 && sum+fs[keep-1].Size <= g.MaxTotal {
			keep--
			sum += fs[keep].Size
		}
		if keep == 0 {
			continue
		}
		limit := fmt.Sprintf("rolling_max_total_mb = %d", g.MaxTotal>>20)
		if g.MaxTotal%(1<<20) != 0 { // from Go, not from records.toml
			limit = "max total " + mib(g.MaxTotal)
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
