// Package logtest records what code under test logs, for tests that check
// that a message was logged, and how often:
//
//	rec := &logtest.Recorder{}
//	logger := slog.New(rec)
//	… // run the code with logger
//	if n := rec.Count("roll failed"); n != 1 { … }
//	deletions := rec.Find("rule=max_count") // whole lines, attributes included
//
// A Recorder is safe for concurrent use.
package logtest

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// Recorder is a slog.Handler that keeps every record as a line
// "LEVEL message", and the same line followed by " key=value" for each
// attribute. It records every level; attributes added by With and groups
// are not kept.
type Recorder struct {
	mu    sync.Mutex
	msgs  []string // "LEVEL message"
	lines []string // "LEVEL message key=value …"
}

func (r *Recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *Recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *Recorder) WithGroup(string) slog.Handler            { return r }

func (r *Recorder) Handle(_ context.Context, rec slog.Record) error {
	msg := rec.Level.String() + " " + rec.Message
	var b strings.Builder
	b.WriteString(msg)
	rec.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
		return true
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, msg)
	r.lines = append(r.lines, b.String())
	return nil
}

// Messages returns the records logged so far as "LEVEL message" lines.
func (r *Recorder) Messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.msgs...)
}

// Count returns how many records' "LEVEL message" contains s.
func (r *Recorder) Count(s string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.msgs {
		if strings.Contains(m, s) {
			n++
		}
	}
	return n
}

// Find returns the whole lines, attributes included, that contain s.
func (r *Recorder) Find(s string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, l := range r.lines {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}
