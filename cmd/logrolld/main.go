// Command logrolld is logroll's daemon: it receives log records over HTTP,
// appends them to log files, rolls the files on a clock schedule and on size,
// and serves logrollctl on its admin socket (DESIGN §2).
//
// Usage:
//
//	logrolld [-config records.toml]
//
// Without -config it runs on the embedded defaults: logs in ./logs, ingest
// on 127.0.0.1:8480, admin socket ./run/logrolld.sock, one log "access".
//
// Signals: SIGHUP reloads the config file; SIGTERM and SIGINT stop gracefully
// (stop accepting, write and sync every accepted record, close; no roll), and
// a second one during that stop exits at once with 1; SIGUSR2 reopens active
// files moved away by an external tool.
//
// Exit codes: 0 after a graceful stop, 1 when the daemon cannot run (another
// daemon on the socket or the folder, a listener that fails), 2 for a usage
// error or an invalid configuration (every problem as FILE:LINE:COL).
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
	os.Exit(run(os.Args[1:], os.Stderr))
}

// run is logrolld without the process: it returns the exit code.
func run(args []string, stderr io.Writer) int {
	fl := flag.NewFlagSet("logrolld", flag.ContinueOnError)
	fl.SetOutput(stderr)
	config := fl.String("config", "", "`records.toml` to load (default: the embedded defaults: ./logs, 127.0.0.1:8480, ./run/logrolld.sock)")
	fl.Usage = func() {
		fmt.Fprintln(stderr, "usage: logrolld [-config FILE]")
		fl.PrintDefaults()
	}
	if err := fl.Parse(args); err != nil {
		return 2
	}
	if fl.NArg() > 0 {
		fmt.Fprintf(stderr, "logrolld: unexpected argument %q\n", fl.Arg(0))
		fl.Usage()
		return 2
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
		switch {
		case errors.As(err, &le):
			fmt.Fprintf(stderr, "logrolld: invalid configuration:\n%s\n", le.Error())
			return 2
		case errors.As(err, &che):
			fmt.Fprintf(stderr, "logrolld: the configuration cannot run here:\n%s\n", che.Error())
			return 2
		case errors.As(err, &ce), errors.Is(err, fs.ErrNotExist) && *config != "":
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
				log.Info("stopped: every accepted record written")
				return 0
			}
		case err := <-d.Failed():
			log.Error("stopping after a server failure", "err", err)
			_ = d.Shutdown()
			return 1
		}
	}
}
