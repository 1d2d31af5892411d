// Package logging is logroll's collator: per-log buffers, the writer goroutine
// that owns each log file, the roll policy, rolled names and the roll sequence.
//
// It knows nothing of HTTP or TOML: it is configured by a plain [Config] and can
// be used directly from Go programs.
package logging
