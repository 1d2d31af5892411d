// Command logrolld is logroll's daemon: it receives log records over HTTP,
// appends them to log files, rolls the files on a clock schedule and on size,
// and serves logrollctl on its admin socket (docs/design.md §2).
//
// Usage:
//
//	logrolld [-config records.toml] [-version]
//
// -h prints what follows, as the program's help.
//
// Without -config it runs on the embedded defaults: logs in ./logs, ingest
// on 127.0.0.1:8480, admin socket ./run/logrolld.sock, one log "access".
//
// Signals: SIGHUP reloads the config file; SIGTERM and SIGINT stop gracefully
// (stop accepting, write and sync every accepted record, close; no roll), and
// a second one during that stop exits at once with 1; SIGUSR2 reopens active
// files moved away by an external tool.
//
// Exit codes: 0 after a graceful stop (or -h, -version), 1 when the daemon
// cannot run (another daemon on the socket or the folder, a listener that
// fails), 2 for a usage error or a configuration that is invalid or cannot
// run here (every problem as FILE:LINE:COL).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // TZ works on a machine without zone files (a container)

	"github.com/logroll/logroll/internal/buildinfo"
	"github.com/logroll/logroll/internal/daemon"
	"github.com/logroll/logroll/records"
)

// forceOnSecondSignal exits at once on a second SIGTERM or SIGINT during a
// graceful stop (an operator pressing Ctrl-C twice). Records accepted but not
// yet written are then lost, so it says so.
func forceOnSecondSignal(sigs <-chan os.Signal, log *slog.Logger) {
	for sig := range sigs {
		if sig == syscall.SIGTERM || sig == syscall.SIGINT {
			log.Error("second signal: exiting without finishing the graceful stop; records accepted but not yet written are lost", "signal", sig.String())
			os.Exit(1)
		}
	}
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageLine is the one line a usage error prints after the error.
const usageLine = "usage: logrolld [-config FILE] [-version]"

// help is what -h prints: what the program does, its flags, signals, exit
// codes and where the documentation is.
const help = `logrolld is logroll's daemon. It takes log records over HTTP
(POST /v1/logs/NAME), appends them to log files, rolls the files on a clock
schedule and on size into names that carry the host and the time range they
cover, keeps the log folder within a disk budget by deleting the oldest
rolled files, and serves logrollctl on its admin socket.

` + usageLine + `

Flags:
  -config FILE  the records.toml to load; relative paths in it resolve
                against its folder. Without it: the embedded defaults, one
                log "access" (access.log) in ./logs, ingest on
                127.0.0.1:8480, admin socket ./run/logrolld.sock
  -version      print the version and exit
  -h, -help     print this help and exit

Signals:
  SIGHUP           reload the config file (as logrollctl config reload)
  SIGTERM, SIGINT  stop gracefully: new requests get 503 with Retry-After,
                   every accepted record is written and synced, no roll;
                   a second one exits at once with 1
  SIGUSR2          reopen active files moved away by another tool
                   (rolling_enabled = 0 with logrotate)

Exit codes:
  0  stopped gracefully (or -h, -version)
  1  cannot run: another logrolld on the socket or the log folder, a
     listener that cannot be bound, a server failure, a forced stop
  2  usage error, or a configuration that is invalid or cannot run here
     (every problem as FILE:LINE:COL: key: message)

Documentation: docs/daemon.md in logroll's source (module
github.com/logroll/logroll), README.md for a first run, docs/ for the
rest; logrollctl help for the control tool.
`

// run is logrolld without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	fl := flag.NewFlagSet("logrolld", flag.ContinueOnError)
	fl.SetOutput(io.Discard) // errors and help are printed below
	config := fl.String("config", "", "")
	showVersion := fl.Bool("version", false, "")
	usageErr := func(msg string) int {
		fmt.Fprintf(stderr, "logrolld: %s\n%s\nRun 'logrolld -h' for the flags, signals and exit codes.\n", msg, usageLine)
		return 2
	}
	switch err := fl.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, help)
		return 0
	case err != nil:
		return usageErr(err.Error())
	case fl.NArg() > 0:
		return usageErr(fmt.Sprintf("unexpected argument %q", fl.Arg(0)))
	case *showVersion:
		fmt.Fprintln(stdout, buildinfo.Read("logrolld"))
		return 0
	}

	// Subscribe before starting, so that no signal is missed.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGUSR2)
	defer signal.Stop(sigs)

	d, err := daemon.Start(daemon.Options{ConfigPath: *config, Stderr: stderr})
	if err != nil {
		var le *records.LoadError
		var ce *daemon.ConfigError
		var che *daemon.CheckError
		var fe *records.FileError
		switch {
		case errors.As(err, &le):
			fmt.Fprintf(stderr, "logrolld: invalid configuration:\n%s\n", le.Error())
			return 2
		case errors.As(err, &che):
			fmt.Fprintf(stderr, "logrolld: the configuration cannot run here:\n%s\n", che.Error())
			return 2
		case errors.As(err, &ce), errors.As(err, &fe), errors.Is(err, fs.ErrNotExist) && *config != "":
			fmt.Fprintf(stderr, "logrolld: %v\n", err)
			return 2
		}
		fmt.Fprintf(stderr, "logrolld: %v\n", err)
		return 1
	}
	log := d.Logger()
	for {
		select {
		case sig := <-sigs:
			switch sig {
			case syscall.SIGHUP:
				d.ReloadFrom(daemon.TriggerSIGHUP) // logs its result
			case syscall.SIGUSR2:
				_ = d.Reopen() // logs its result
			default:
				log.Info("stopping", "signal", sig.String())
				go forceOnSecondSignal(sigs, log)
				if err := d.Shutdown(); err != nil {
					log.Error("stopped with errors", "err", err)
					return 1
				}
				log.Info("stopped: every acknowledged record written") // syslog acknowledges nothing: its losses at the stop are an error above
				return 0
			}
		case err := <-d.Failed():
			log.Error("stopping after a server failure", "err", err)
			_ = d.Shutdown()
			return 1
		}
	}
}
