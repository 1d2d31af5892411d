package main

import (
	"fmt"
	"io"
	"strings"
)

// usageLine is the one line a usage error prints after the error.
const usageLine = "usage: logrollctl [-config FILE | -socket PATH] [--json] VERB [ARG…]"

// usageHeader says what the program does.
const usageHeader = `logrollctl controls a running logrolld over its admin socket: it reloads
and checks the configuration, reads records and metrics, forces rolls and
lists the rolled files, printing what a script needs.
`

// usageFooter documents the flags, the socket, the outputs and the exit
// codes; the verbs are listed from the table.
const usageFooter = `
Flags (before or after the verb and its arguments):
  -config FILE   the daemon's records.toml: the socket is
                 <local_state_dir>/logrolld.sock of that file (also when the
                 file is invalid); config check and config diff read it
  -socket PATH   the daemon's admin socket (wins over -config);
                 default ./run/logrolld.sock
  --json         print exactly one JSON document on stdout, whatever
                 happens: the response, or {"error":…, "exit_code":N} for a
                 usage error, an unreachable daemon or a failure
  -version       print logrollctl's version (as the verb version)
  -h, --help     print this help
  --             end of flags (for an argument starting with "-")

Output:
  roll           the absolute path of each rolled file, one a line, nothing else
  rolled         PATH<TAB>LOG<TAB>HOST<TAB>START<TAB>END<TAB>BYTES a line,
                 START and END in RFC 3339, oldest first per log
  config get     NAME VALUE a line (VALUE as records.toml writes it), and for
                 per-log records logs[LOG].KEY VALUE for each log
  config reload  NAME: OLD -> NEW a line, "(restart required)" appended where
                 needed, or "no changes"; problems on stderr when refused
  config diff    running -> file on disk, NAME: OLD -> NEW a line, or
                 "no differences"
  metric         NAME VALUE or NAME{label="v",...} VALUE a line
  Errors and warnings go to stderr.

Exit codes:
  0  done
  1  the daemon refused or failed (or config check found problems)
  2  usage error
  3  the daemon is not reachable

Documentation: docs/logrollctl.md in logroll's source (module
github.com/logroll/logroll); README.md for a first run; logrolld -h for
the daemon's flags and signals.
`

// usage writes the help text.
func usage(w io.Writer) {
	fmt.Fprint(w, usageHeader+"\n"+usageLine+"\n")
	fmt.Fprintln(w, "\nVerbs:")
	width := 0
	for _, v := range verbs {
		width = max(width, len(strings.TrimSpace(v.name+" "+v.args)))
	}
	for _, v := range verbs {
		fmt.Fprintf(w, "  %-*s  %s\n", width, strings.TrimSpace(v.name+" "+v.args), v.help)
	}
	fmt.Fprint(w, usageFooter)
}
