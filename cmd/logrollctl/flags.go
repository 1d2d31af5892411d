package main

import (
	"flag"
	"strings"
)

// parseInterspersed parses args with fs, accepting flags anywhere among the
// positional arguments (`logrollctl roll access --json` as well as
// `logrollctl --json roll access`), and returns the positional arguments in
// order. The flag package stops at the first non-flag; this parses again
// after each one. "--" ends the flags: everything after it is positional,
// so an argument starting with "-" can be passed (`metric match -- -x`).
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if endsAtTerminator(fs, args[:len(args)-len(rest)]) {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	return pos, nil
}

// endsAtTerminator reports whether the flag package stopped at a "--" that
// ends the flags, the last of the consumed arguments (and not the value of
// a flag, as in `-config --`).
func endsAtTerminator(fs *flag.FlagSet, consumed []string) bool {
	for i := 0; i < len(consumed); i++ {
		a := consumed[i]
		if a == "--" {
			return i == len(consumed)-1
		}
		name := strings.TrimPrefix(strings.TrimPrefix(a, "-"), "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil && !isBoolFlag(f) {
			i++ // its value is the next argument
		}
	}
	return false
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
