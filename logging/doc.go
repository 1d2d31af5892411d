// Package logging writes log files and rolls them: a [Collator] owns a folder
// of logs, appends records (lines) to each log's active file, and at a time
// boundary or a size limit renames the file to a rolled name that carries the
// host and the time range it covers
// (app.log.web01.20261121.06h00m00s-20261121.07h00m00s.old), optionally
// compressed. It is the core of the logrolld daemon, and a library for Go
// programs; it knows nothing of HTTP or TOML.
//
// A collator is opened on a folder with its logs declared:
//
//	c, err := logging.Open(logging.Config{
//		Dir:      "/var/log/app", // absolute; created if missing
//		Hostname: "web01",
//		Logs: []logging.LogConfig{{
//			Name:   "app.log",
//			Policy: logging.Policy{Mode: logging.ModeTime, Interval: time.Hour},
//		}},
//	}, logging.Options{})
//	if err != nil {
//		...
//	}
//	defer c.Close()
//
// Each log has an [io.WriteCloser], a [LogWriter], for log, slog or anything
// else that writes lines:
//
//	w, err := c.Writer("app.log")
//	if err != nil {
//		...
//	}
//	defer w.Close() // before c.Close: it writes a partial line left
//	slog.SetDefault(slog.New(slog.NewJSONHandler(w, nil)))
//
// Each Write returns once its whole lines are in the file (fsynced too with
// [DurabilitySync]). The file rolls by itself at every boundary of its
// [Policy] (here every hour, on the hour), and at once with [Collator.Roll],
// which returns the files rolled; [Options.OnRoll] hears of every roll.
// [ParseRolledName] reads a rolled file's name back. A file left by an
// earlier run is continued, and rolled first if it missed a boundary.
//
// Records can also be written without a LogWriter: [Collator.Write] takes
// records without their newlines, and [Collator.WriteBlock] a block of whole
// lines as it goes into the file (the daemon's ingest server uses both).
//
// The collator deletes no rolled file: retention and the disk budget belong
// to the space package (space.Manager), which hears of every roll through
// Options.OnRoll.
//
// # Design
//
// Every log has its buffers, a writer token and a writer goroutine (lead.go,
// writer.go): a Write call that finds the token free writes the queued
// buffers itself (group commit); the goroutine rolls, reopens and keeps time,
// and does a durable roll's last fsyncs after passing the token on. The roll
// policy is the interval grid of policy.go or the weekly and monthly calendar
// of calendar.go; rolled names are name.go and namestate.go; the meta file
// next to each active file (meta.go) keeps its START across restarts.
// docs/design.md §5 and §8 and docs/rolling.md give the reasons.
package logging
