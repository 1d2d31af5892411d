// Package logging is logroll's collator: per-log buffers, the writer token
// and goroutine of each log file (Write calls write their groups themselves;
// the goroutine rolls, reopens and keeps time), the roll policy, rolled names
// and the roll sequence.
//
// It knows nothing of HTTP or TOML: it is configured by a plain [Config] and can
// be used directly from Go programs.
package logging
