package records

import (
	"fmt"
	"sort"
	"strings"
)

// Problem is one error or warning found in a configuration file, with the
// position of the value (or key) it is about.
type Problem struct {
	File string // the config file's name as given to Load
	Line int    // 1-based; 0 when unknown
	Col  int    // 1-based; 0 when unknown
	Key  string // the dotted key, e.g. "proxy.config.log.rolling_size_mb" or "logs[2].filename"
	Msg  string
}

// String formats the problem as FILE:LINE:COL: key: message.
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
		if p.Col > 0 {
			fmt.Fprintf(&b, ":%d", p.Col)
		}
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Warning is an adjustment made at load time, the way Traffic Server adjusts
// some values silently (logroll says so).
type Warning = Problem

// LoadError is returned by Load when the configuration is invalid. It holds
// every problem found, in file order, not only the first.
type LoadError struct {
	// Problems are the errors, at least one.
	Problems []Problem
	// Warnings are the adjustments Load would have made, for tools that
	// show everything at once (logrollctl config check).
	Warnings []Warning
}

// Error returns every problem, one a line.
func (e *LoadError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

func sortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		if ps[i].Line != ps[j].Line {
			return ps[i].Line < ps[j].Line
		}
		return ps[i].Col < ps[j].Col
	})
}

// DidYouMean returns ` (did you mean "x"?)` for the candidate closest to key
// (ignoring case, by edit distance), when it is close enough to be a
// plausible typo, and "" otherwise. logrollctl uses it for record, log and
// metric names.
func DidYouMean(key string, candidates []string) string {
	return didYouMean(key, candidates)
}

func didYouMean(key string, candidates []string) string {
	if c := Closest(key, candidates); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	return ""
}

// Closest returns the candidate closest to key (ignoring case, by edit
// distance) when it is close enough to be a plausible typo, and "" otherwise.
func Closest(key string, candidates []string) string {
	best, bestD := "", 1<<30
	lk := strings.ToLower(key)
	for _, c := range candidates {
		if d := editDistance(lk, strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" || bestD > max(2, len(key)/3) {
		return ""
	}
	return best
}

// suggest returns a "did you mean" hint for an unknown key in the table at
// path: a near miss among the keys that table can hold, else one of them that
// the key is a part of (enabled → rolling_enabled), else the record of that
// name in another table. isTable says the unknown key holds a table, so only
// table names are candidates for it.
func suggest(path []string, key string, isTable bool) string {
	parent := strings.Join(path, ".")
	var kids []string
	seen := map[string]bool{}
	for i := range table {
		t := table[i].Table()
		switch {
		case !isTable && t == parent:
			kids = append(kids, table[i].Short())
		case isTable && (parent == "" || strings.HasPrefix(t, parent+".")):
			rest := t
			if parent != "" {
				rest = t[len(parent)+1:]
			}
			next, _, _ := strings.Cut(rest, ".")
			if !seen[next] {
				seen[next] = true
				kids = append(kids, next)
			}
		}
	}
	if c := Closest(key, kids); c != "" {
		return fmt.Sprintf(" (did you mean %q?)", c)
	}
	// A record of that exact name in another table ("level" is
	// diags.level) before a longer name of this one that ends with it
	// (rolled_compression_level).
	if !isTable {
		for i := range table {
			if table[i].Short() == key {
				return fmt.Sprintf(" (it belongs in [%s]: %s)", table[i].Table(), table[i].Name)
			}
		}
	}
	for _, k := range kids {
		if strings.HasSuffix(k, "_"+key) || strings.HasPrefix(k, key+"_") {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
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
