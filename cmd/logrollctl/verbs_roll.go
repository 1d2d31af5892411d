package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/logroll/logroll/ctl"
)

// roll: `roll [LOG…]`. Prints the absolute path of each rolled file, one a
// line, and nothing else on stdout (nothing for a log that had nothing to
// roll): cron scripts read this. Logs that failed to roll are reported on
// stderr, one "logrollctl: roll: …" line each, and exit 1 after the paths of
// the others are printed.
func roll(e *env, logs []string) error {
	resp, err := e.client().Roll(e.ctx, logs)
	if err != nil {
		return err
	}
	if e.json {
		if err := e.printJSON(resp); err != nil {
			return err
		}
	} else {
		for _, f := range resp.Rolled {
			fmt.Fprintln(e.stdout, f.Path)
		}
	}
	for _, msg := range resp.Errors {
		fmt.Fprintf(e.stderr, "logrollctl: roll: %s\n", msg)
	}
	if len(resp.Errors) > 0 {
		return errReported
	}
	return nil
}

// rolled: `rolled [LOG…]`. Prints one line per rolled file, oldest first per
// log, fields separated by tabs: PATH LOG HOST START END BYTES, the times in
// RFC 3339 and the size in bytes. --json prints the RolledResponse.
func rolled(e *env, logs []string) error {
	files, err := e.client().Rolled(e.ctx, logs)
	if err != nil {
		return err
	}
	if e.json {
		if files == nil {
			files = []ctl.RolledFile{}
		}
		return e.printJSON(ctl.RolledResponse{Rolled: files})
	}
	for _, f := range files {
		fmt.Fprintln(e.stdout, strings.Join([]string{
			f.Path, f.Log, f.Host, formatTime(f.Start), formatTime(f.End), strconv.FormatInt(f.Bytes, 10),
		}, "\t"))
	}
	return nil
}
