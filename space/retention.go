package space

import (
	"fmt"
	"slices"
)

// Rule names why a rolled file is deleted. Every deletion of the daemon is
// the space manager's, and is logged and counted with its rule.
type Rule string

// The rules.
const (
	// RuleMaxCount: rolling_max_count, the newest N rolled files of a log
	// are kept (BeyondMaxCount).
	RuleMaxCount Rule = "max_count"
	// RuleBudget: the disk budget or the partition's free space (Plan).
	RuleBudget Rule = "budget"
)

// Rules lists the rules, in the order the manager applies them.
var Rules = []Rule{RuleMaxCount, RuleBudget, RuleShipped}

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
// BeyondSizeRetention feeding one deletion. The manager runs them when the
// rolled files or the configuration changed, before the budget's Plan.

// BeyondMaxCount returns, for every configured log with MaxCount > 0, its
// rolled files beyond the newest MaxCount: the oldest first. Files of logs
// that are not configured are left to the budget.
func BeyondMaxCount(files []File, logs []Log) []Victim {
	maxCount := make(map[string]int, len(logs))
	for _, l := range logs {
		if l.MaxCount > 0 {
			maxCount[l.Name] = l.MaxCount
		}
	}
	if len(maxCount) == 0 {
		return nil
	}
	byLog := map[string][]File{}
	for _, f := range files {
		if _, ok := maxCount[f.Log]; ok {
			byLog[f.Log] = append(byLog[f.Log], f)
		}
	}
	var out []Victim
	for _, l := range logs { // configuration order: deterministic
		fs := byLog[l.Name]
		n := maxCount[l.Name]
		if len(fs) <= n {
			continue
		}
		slices.SortFunc(fs, OldestFirst)
		why := fmt.Sprintf("rolling_max_count = %d: %d rolled files", n, len(fs))
		for _, f := range fs[:len(fs)-n] {
			out = append(out, Victim{File: f, Rule: RuleMaxCount, Why: why})
		}
		byLog[l.Name] = nil
	}
	return out
}
