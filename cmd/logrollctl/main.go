// Command logrollctl controls a running logrolld over its admin socket:
// reload and check the configuration, read records and metrics, force rolls
// and list rolled files (docs/design.md §2). Run `logrollctl help` for the verbs and
// what each prints, `logrollctl version` for the build.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/buildinfo"
)

// Exit codes (docs/design.md §2).
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
	// printed is set once a JSON document is on stdout: exit adds one for
	// a failure only when none was printed, so that --json always prints
	// exactly one.
	printed bool
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
		{"rolled", "[LOG…]", 0, -1, "list the rolled files (.old, .old.gz, .old.zst; log folder and rolled_dir)", rolled},
		{"metric get", "NAME…", 1, -1, "print metrics by exact name", metricGet},
		{"metric match", "REGEX", 1, 1, "print metrics whose name or NAME{labels} matches REGEX", metricMatch},
		{"status", "", 0, 0, "print the daemon's state, space and logs", status},
		{"pipe", "LOG", 1, 1, "write standard input's lines to LOG, waiting for the daemon across restarts", pipe},
		{"version", "", 0, 0, "print logrollctl's version (no daemon needed)", version},
		{"help", "", 0, 0, "print this help", help},
	}
}

// usageError is a command line that cannot be run: exit 2 with the error
// and one usage line (the verb's, when known), not the whole help, so that
// the error stays in sight.
type usageError struct {
	msg  string
	line string // "usage: logrollctl VERB ARGS"; "" for the general one
}

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error {
	return &usageError{msg: fmt.Sprintf(format, a...)}
}

// problemsError is a failure with a list of problems (an invalid config
// file): the message, then one problem a line on stderr; in --json's
// error document, "problems".
type problemsError struct {
	msg      string
	problems []string
}

func (e *problemsError) Error() string { return e.msg + ":\n" + strings.Join(e.problems, "\n") }

// help: `help`, -h, --help: the whole help on stdout, exit 0.
func help(e *env, _ []string) error {
	if e.json {
		var b strings.Builder
		usage(&b)
		return e.printJSON(map[string]string{"help": b.String()})
	}
	usage(e.stdout)
	return nil
}

// version: `version`, -version: the build of this logrollctl, from what the
// Go toolchain embedded (buildinfo). `status` shows the daemon's.
func version(e *env, _ []string) error {
	info := buildinfo.Read("logrollctl")
	if e.json {
		return e.printJSON(info)
	}
	_, err := fmt.Fprintln(e.stdout, info)
	return err
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
	showVersion := fs.Bool("version", false, "")
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		e.json = wantsJSON(args)
		return e.exit(help(e, nil))
	}
	if err != nil {
		// The parse stopped where it failed: look for --json in the whole
		// line, so that it still gets its JSON document.
		e.json = wantsJSON(args)
		return e.exit(&usageError{msg: err.Error()})
	}
	if *showVersion {
		return e.exit(version(e, nil))
	}
	v, rest, err := findVerb(pos)
	if err != nil {
		return e.exit(err)
	}
	if len(rest) < v.min || (v.max >= 0 && len(rest) > v.max) {
		return e.exit(&usageError{msg: v.name + ": wrong number of arguments", line: strings.TrimSpace("usage: logrollctl " + v.name + " " + v.args)})
	}
	return e.exit(v.run(e, rest))
}

// wantsJSON reports whether args, a command line that does not parse, ask
// for --json (-json, --json=true, …) before a "--" that ends the flags; a
// value that is not a boolean (--json=maybe) counts as asking.
func wantsJSON(args []string) bool {
	on := false
	for _, a := range args {
		if a == "--" {
			break
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "json" {
			continue
		}
		on = true
		if hasVal {
			b, err := strconv.ParseBool(val)
			on = err != nil || b
		}
	}
	return on
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

// exit reports err on stderr and returns the exit code it means. With
// --json, a failure that printed no document of its own prints the error
// document (errorOutput) on stdout.
func (e *env) exit(err error) int {
	code, msg := e.report(err)
	if e.json && !e.printed && code != exitOK {
		out := errorOutput{Error: msg, Exit: code}
		var pe *problemsError
		if errors.As(err, &pe) {
			out.Problems = pe.problems
		}
		_ = e.printJSON(out)
	}
	return code
}

// errorOutput is the --json document of a failure that has none of its
// own: a usage error (exit 2), an unreachable daemon (3), a refusal or
// failure (1). Error is the message stderr shows, without "logrollctl: ".
type errorOutput struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
	Exit     int      `json:"exit_code"`
}

// report writes err to stderr and returns the exit code and the message.
func (e *env) report(err error) (int, string) {
	var ue *usageError
	var unreach *ctl.UnreachableError
	var pe *problemsError
	var re *ctl.RemoteError
	switch {
	case err == nil:
		return exitOK, ""
	case errors.As(err, &ue):
		line := ue.line
		if line == "" {
			line = usageLine
		}
		fmt.Fprintf(e.stderr, "logrollctl: %s\n%s\nRun 'logrollctl help' for the verbs, flags and exit codes.\n", ue.msg, line)
		return exitUsage, ue.msg
	case errors.As(err, &unreach):
		msg := fmt.Sprintf("logrolld is not reachable on %s%s: %s", unreach.Socket, e.socketOrigin(), cause(unreach.Err))
		fmt.Fprintf(e.stderr, "logrollctl: %s\n", msg)
		return exitUnreachable, msg
	case errors.Is(err, errReported):
		return exitFailed, "failed (see stderr)"
	case errors.As(err, &pe):
		fmt.Fprintf(e.stderr, "logrollctl: %s\n", pe.Error())
		return exitFailed, pe.msg
	case errors.As(err, &re):
		fmt.Fprintf(e.stderr, "logrollctl: %s\n", re.Msg)
		return exitFailed, re.Msg
	}
	fmt.Fprintf(e.stderr, "logrollctl: %v\n", err)
	return exitFailed, err.Error()
}

// client returns a Client for the daemon's socket.
func (e *env) client() *ctl.Client {
	return ctl.NewClient(e.socket())
}
