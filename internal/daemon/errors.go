package daemon

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ConfigError is a start-up failure caused by a configured value the
// validation could not rule out: a logfile_dir that is a file, a
// local_state_dir that cannot be created. logrolld exits 2 with it, as for an
// invalid configuration.
type ConfigError struct {
	// Where is "file:line:col" of the value, or "default".
	Where string
	// Record is the record's full name.
	Record string
	// Err is the failure.
	Err error
}

// Error reads "FILE:LINE:COL: RECORD: failure".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Where, e.Record, e.Err)
}

// Unwrap returns the failure.
func (e *ConfigError) Unwrap() error { return e.Err }

// byPlace sorts problems of one file by line and column (stable: those
// without a place, "default", keep their order after the others).
func byPlace(problems []*ConfigError) {
	slices.SortStableFunc(problems, func(a, b *ConfigError) int {
		al, ac, aok := place(a.Where)
		bl, bc, bok := place(b.Where)
		switch {
		case aok != bok:
			if aok {
				return -1
			}
			return 1
		case !aok:
			return 0
		case al != bl:
			return cmp.Compare(al, bl)
		}
		return cmp.Compare(ac, bc)
	})
}

// place returns the line and column of "file:line:col".
func place(where string) (line, col int, ok bool) {
	rest, c, ok1 := cutLastNumber(where)
	_, l, ok2 := cutLastNumber(rest)
	return l, c, ok1 && ok2
}

// cutLastNumber splits "s:N" into s and N.
func cutLastNumber(s string) (string, int, bool) {
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return s, 0, false
	}
	n, err := strconv.Atoi(s[i+1:])
	return s[:i], n, err == nil
}
