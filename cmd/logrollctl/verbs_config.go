package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/daemon"
	"github.com/logroll/logroll/records"
)

// configReload: `config reload`. Prints each applied change as
// "NAME: OLD -> NEW" (" (restart required)" appended to those that wait for a
// restart), then the changes since start that still wait for a restart, or
// "no changes"; warnings go to stderr. A refused config prints its problems
// to stderr, one FILE:LINE:COL: key: message a line, and exits 1.
func configReload(e *env, _ []string) error {
	res, err := e.client().Reload(e.ctx)
	var re *ctl.RemoteError
	if errors.As(err, &re) && re.Status == http.StatusUnprocessableEntity {
		if e.json {
			if err := e.printJSON(res); err != nil {
				return err
			}
		}
		fmt.Fprintln(e.stderr, "logrollctl: config reload refused; the running configuration is kept:")
		for _, line := range strings.Split(strings.TrimSpace(re.Msg), "\n") {
			fmt.Fprintln(e.stderr, line)
		}
		e.warnings(res.Warnings)
		return errReported
	}
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(res)
	}
	printed := map[string]bool{}
	for _, c := range res.Changes {
		fmt.Fprintln(e.stdout, formatChange(c))
		printed[c.Name] = true
	}
	for _, c := range res.RestartRequired {
		if !printed[c.Name] {
			c.Restart = true
			fmt.Fprintln(e.stdout, formatChange(c))
			printed[c.Name] = true
		}
	}
	if len(printed) == 0 {
		fmt.Fprintln(e.stdout, "no changes")
	}
	e.warnings(res.Warnings)
	return nil
}

// warnings writes load warnings to stderr, "warning: " before each.
func (e *env) warnings(ws []string) {
	for _, w := range ws {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
}

// checkResult is `config check --json`'s output.
type checkResult struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
	Warnings []string `json:"warnings"`
}

// configCheck: `config check [FILE]`, without a daemon. Prints "ok" on
// stdout for a file logrolld would start on; every problem (FILE:LINE:COL:
// key: message) goes to stderr and exits 1 for an invalid or unreadable one,
// or for one the daemon could not run here (daemon.Check: the folders, the
// socket path, the active files, as logrolld's start checks them). Warnings
// (values adjusted as Traffic Server would) go to stderr as "warning: …"
// lines either way.
func configCheck(e *env, args []string) error {
	path := e.configFile
	if len(args) == 1 {
		path = args[0]
	}
	if path == "" {
		return usagef("config check: no file to check: give FILE or -config FILE")
	}
	out := checkResult{Problems: []string{}, Warnings: []string{}}
	cfg, warns, err := records.LoadFile(path)
	var le *records.LoadError
	switch {
	case errors.As(err, &le):
		for _, p := range le.Problems {
			out.Problems = append(out.Problems, p.String())
		}
		warns = le.Warnings
	case err != nil:
		out.Problems = append(out.Problems, err.Error())
	default:
		var ce *daemon.CheckError
		if err := daemon.Check(cfg); errors.As(err, &ce) {
			for _, p := range ce.Problems {
				out.Problems = append(out.Problems, p.Error())
			}
		}
		// The files it names (TLS, tokens), as the daemon reads them.
		fileWarns, ferr := daemon.CheckFiles(cfg)
		out.Warnings = append(out.Warnings, fileWarns...)
		var fce *daemon.CheckError
		switch {
		case errors.As(ferr, &fce):
			for _, p := range fce.Problems {
				out.Problems = append(out.Problems, p.Error())
			}
		case ferr != nil:
			out.Problems = append(out.Problems, ferr.Error())
		}
	}
	for _, w := range warns {
		out.Warnings = append(out.Warnings, w.String())
	}
	out.OK = len(out.Problems) == 0
	if e.json {
		if err := e.printJSON(out); err != nil {
			return err
		}
	} else {
		if out.OK {
			fmt.Fprintln(e.stdout, "ok")
		}
		for _, p := range out.Problems {
			fmt.Fprintln(e.stderr, p)
		}
		e.warnings(out.Warnings)
	}
	if !out.OK {
		return errReported
	}
	return nil
}

// diffOutput is `config diff --json`'s output.
type diffOutput struct {
	Running string       `json:"running"` // the daemon's config file, "" for embedded defaults
	File    string       `json:"file"`    // the file compared with
	Changes []ctl.Change `json:"changes"`
}

// configDiff: `config diff`. Compares the running configuration with the
// config file on disk (-config, else the daemon's file) and prints what a
// reload would change, one "NAME: OLD -> NEW" a line, or "no differences".
func configDiff(e *env, _ []string) error {
	cfg, err := e.client().Config(e.ctx)
	if err != nil {
		return err
	}
	running, _, err := records.Load([]byte(cfg.TOML), "running configuration")
	if err != nil {
		return fmt.Errorf("config diff: the daemon's running configuration does not load: %w", err)
	}
	path := e.configFile
	if path == "" {
		path = cfg.Source
	}
	if path == "" {
		return errors.New("config diff: the daemon runs on its embedded defaults; give -config FILE to compare with")
	}
	disk, _, err := records.LoadFile(path)
	var le *records.LoadError
	if errors.As(err, &le) {
		pe := &problemsError{msg: fmt.Sprintf("config diff: %s is invalid", path)}
		for _, p := range le.Problems {
			pe.problems = append(pe.problems, p.String())
		}
		return pe
	}
	if err != nil {
		return fmt.Errorf("config diff: %w", err)
	}
	out := diffOutput{Running: cfg.Source, File: path, Changes: []ctl.Change{}}
	for _, c := range records.Diff(running, disk) {
		out.Changes = append(out.Changes, ctl.Change{Name: c.Name, Old: c.Old, New: c.New, Restart: c.Restart})
	}
	if e.json {
		return e.printJSON(out)
	}
	for _, c := range out.Changes {
		fmt.Fprintln(e.stdout, formatChange(c))
	}
	if len(out.Changes) == 0 {
		fmt.Fprintln(e.stdout, "no differences")
	}
	return nil
}

// configStatus: `config status`. Prints the last reload attempt, one
// "key: value" a line (time, trigger, source, result), then the error,
// warnings, changes and restart-required changes, each an indented list.
// It exits 0 even when that reload was refused: the status was read.
func configStatus(e *env, _ []string) error {
	cfg, err := e.client().Config(e.ctx)
	if err != nil {
		return err
	}
	r := cfg.LastReload
	if e.json {
		return e.printJSON(r)
	}
	w := e.stdout
	field(w, "time", formatTime(r.Time))
	field(w, "trigger", orDash(r.Trigger))
	field(w, "source", orDefaults(r.Source))
	result := "ok"
	if !r.OK {
		result = "refused"
	}
	field(w, "result", result)
	if r.Error != "" {
		list(w, "error", strings.Split(strings.TrimSpace(r.Error), "\n"))
	}
	if len(r.Warnings) > 0 {
		list(w, "warnings", r.Warnings)
	}
	list(w, "changes", changeLines(r.Changes))
	list(w, "restart required", changeLines(r.RestartRequired))
	return nil
}

func changeLines(cs []ctl.Change) []string {
	var out []string
	for _, c := range cs {
		out = append(out, formatChange(c))
	}
	return out
}

// list writes "key:" and the items indented below it, or "key: none".
func list(w io.Writer, key string, items []string) {
	if len(items) == 0 {
		field(w, key, "none")
		return
	}
	fmt.Fprintf(w, "%s:\n", key)
	for _, it := range items {
		fmt.Fprintf(w, "  %s\n", it)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func orDefaults(s string) string {
	if s == "" {
		return "(embedded defaults)"
	}
	return s
}
