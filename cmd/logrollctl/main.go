// Command logrollctl controls a running logrolld over its admin socket:
// reload and check the configuration, read records and metrics, force rolls
// and list rolled files (DESIGN §2). Run `logrollctl help` for the verbs and
// what each prints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/logroll/logroll/ctl"
)

// Exit codes (DESIGN §2).
const (
	exitOK          = 0 // done
	exitFailed      = 1 // the daemon refused or failed, or the config is invalid
	exitUsage       = 2 // usage error
	exitUnreachable = 3 // the daemon is not reachable
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// env is what a verb runs with: the global flags and the output streams.
type env struct {
	ctx        context.Context
	stdout     io.Writer
	stderr     io.Writer
	json       bool
	configFile string
	socketFlag string
}

// verb is one command of the table that run dispatches on and usage prints.
type verb struct {
	name     string // "config reload"
	args     string // "[LOG…]"
	min, max int    // number of arguments; max -1: any
	help     string
	run      func(e *env, args []string) error
}

// verbs is filled in init (the verbs refer to usage, which reads the table).
var verbs []verb

func init() {
	verbs = []verb{
		{"config reload", "", 0, 0, "validate and apply the daemon's config file now", configReload},
		{"config check", "[FILE]", 0, 1, "validate FILE (default: -config) without a daemon", configCheck},
		{"config get", "NAME…", 1, -1, "print records' running values", configGet},
		{"config describe", "NAME", 1, 1, "print everything about one record", configDescribe},
		{"config diff", "", 0, 0, "compare the running config with the file on disk", configDiff},
		{"config status", "", 0, 0, "print the last reload: time, result, changes", configStatus},
		{"roll", "[LOG…]", 0, -1, "roll now (every log when none named); print the rolled files", roll},
		{"rolled", "[LOG…]", 0, -1, "list the rolled (.old) files", rolled},
		{"metric get", "NAME…", 1, -1, "print metrics by exact name", metricGet},
		{"metric match", "REGEX", 1, 1, "print metrics whose name matches REGEX", metricMatch},
		{"status", "", 0, 0, "print the daemon's state, space and logs", status},
		{"help", "", 0, 0, "print this help", func(e *env, _ []string) error {
			usage(e.stdout)
			return nil
		}},
	}
}

// usageError is a command line that cannot be run: exit 2 with the usage.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// errReported is returned by a verb that has written its failure to stderr
// already: exit 1 without another message.
var errReported = errors.New("failure reported")

// run runs logrollctl with args (without the program name) and returns the
// exit code.
func run(args []string, stdout, stderr io.Writer) int {
	e := &env{ctx: context.Background(), stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet("logrollctl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&e.configFile, "config", "", "")
	fs.StringVar(&e.socketFlag, "socket", "", "")
	fs.BoolVar(&e.json, "json", false, "")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	if err != nil {
		return e.exit(&usageError{msg: err.Error()})
	}
	v, rest, err := findVerb(pos)
	if err != nil {
		return e.exit(err)
	}
	if len(rest) < v.min || (v.max >= 0 && len(rest) > v.max) {
		return e.exit(usagef("%s: wrong number of arguments: usage: logrollctl %s %s", v.name, v.name, v.args))
	}
	return e.exit(v.run(e, rest))
}

// findVerb finds the verb that pos starts with and returns its arguments.
func findVerb(pos []string) (*verb, []string, error) {
	if len(pos) == 0 {
		return nil, nil, usagef("no verb given")
	}
	for i := range verbs {
		words := strings.Fields(verbs[i].name)
		if len(pos) >= len(words) && strings.Join(pos[:len(words)], " ") == verbs[i].name {
			return &verbs[i], pos[len(words):], nil
		}
	}
	if pos[0] == "config" || pos[0] == "metric" {
		if len(pos) == 1 {
			return nil, nil, usagef("%s: missing sub-command", pos[0])
		}
		return nil, nil, usagef("unknown verb %q", pos[0]+" "+pos[1])
	}
	return nil, nil, usagef("unknown verb %q", pos[0])
}

// exit reports err on stderr and returns the exit code it means.
func (e *env) exit(err error) int {
	var ue *usageError
	var unreach *ctl.UnreachableError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(e.stderr, "logrollctl: %s\n\n", ue.msg)
		usage(e.stderr)
		return exitUsage
	case errors.As(err, &unreach):
		fmt.Fprintf(e.stderr, "logrollctl: logrolld is not reachable on %s%s: %s\n", unreach.Socket, e.socketOrigin(), cause(unreach.Err))
		return exitUnreachable
	case errors.Is(err, errReported):
		return exitFailed
	}
	var re *ctl.RemoteError
	if errors.As(err, &re) {
		fmt.Fprintf(e.stderr, "logrollctl: %s\n", re.Msg)
		return exitFailed
	}
	fmt.Fprintf(e.stderr, "logrollctl: %v\n", err)
	return exitFailed
}

// client returns a Client for the daemon's socket.
func (e *env) client() *ctl.Client {
	return ctl.NewClient(e.socket())
}
