// Package logging is logroll's collator: per-log buffers, the writer token
// and goroutine of each log file (Write calls write their groups themselves;
// the goroutine rolls, reopens and keeps time, and does a durable roll's
// last fsyncs after passing the token on), the roll policy (the interval
// grid of policy.go, or the weekly and monthly calendar of calendar.go),
// rolled names
// and the roll sequence. [Collator.WriteBlock] writes a caller's block of
// lines as it is.
//
// It knows nothing of HTTP or TOML: it is configured by a plain [Config] and can
// be used directly from Go programs.
package logging
