package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/logroll/logroll/records"

	"github.com/logroll/logroll/ctl"
)

// stdin is what `pipe` reads (tests replace it).
var stdin io.Reader = os.Stdin

// logName is what a log name in an ingest path may be (logging/ingest's
// rule): letters, digits, '.', '_' and '-', not starting with a dot.
var logName = regexp.MustCompile(`^[A-Za-z0-9_-][A-Za-z0-9._-]{0,99}$`)

// pipe: `pipe LOG`. Delivers the lines of standard input to LOG through
// the admin socket (ctl.RunPipe, docs/pipe.md), waiting for the daemon
// across restarts and refusals; prints nothing on stdout, diagnostics on
// stderr ("logrollctl: pipe: …"). At EOF it exits 0 once every line is
// written. SIGTERM or SIGINT stops the reading; what was read is still
// offered for 10 s; exit 1 if some of it could not be delivered (said on
// stderr with the count), as for a refusal no retry can change.
func pipe(e *env, args []string) error {
	log := args[0]
	if !logName.MatchString(log) {
		return usagef("pipe: %q is not a log name (letters, digits, '.', '_' and '-', not starting with a dot)", log)
	}
	if p := records.CheckFilename(log); p != "" {
		// Waiting for a reload that declares it would wait for ever.
		return usagef("pipe: %q %s: no configuration can declare that log", log, p)
	}
	ctx, stop := signal.NotifyContext(e.ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	signal.Ignore(syscall.SIGHUP) // an httpd reload must not cut the pipe
	// A standard error nobody reads any more (a piped ErrorLog restarted)
	// must not kill the pipe at its next warning with the lines it holds:
	// the write fails instead, and the lines are delivered all the same.
	signal.Ignore(syscall.SIGPIPE)
	conn := ctl.NewPipeConn(e.socket())
	defer conn.Close()
	st, err := ctl.RunPipe(ctx, stdin, ctl.PipeConfig{
		Poster: conn,
		Log:    log,
		Warn:   func(msg string) { fmt.Fprintf(e.stderr, "logrollctl: pipe %s: %s\n", log, msg) },
	})
	if e.json {
		if perr := e.printJSON(st); perr != nil && err == nil {
			err = perr
		}
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "logrollctl: pipe %s: %v\n", log, err)
		return errReported
	}
	return nil
}
