package records

import (
	"fmt"
	"strings"
)

// checkLogs reports, for each declared log, what no single record's range
// can say about its effective rolling and retention records:
//
//   - an error: rolling_max_total_mb not above rolling_size_mb for a log
//     that rolls on size (modes 2, 3 and 4): every file rolled on size is
//     at least rolling_size_mb, and would be deleted the moment it rolled
//     (as a headroom at the limit is refused);
//   - warnings: a rolling_calendar for a log that does not roll on time; a
//     rolling_interval_sec that a calendar replaces; retention records
//     (rolling_max_count, rolling_max_age_sec, rolling_max_total_mb) while
//     auto_delete_rolled_files = 0, which deletes nothing.
//
// Each problem is placed at the value it is about: the log's own key when
// its [[logs]] table sets it, else [proxy.config.log]'s. A warning is given
// only where the value it is about was written at least as specifically
// as the one that makes it moot: a global interval is not reported for a
// log that sets its own calendar. Problems at one place are reported once,
// naming every log concerned.
func (d *decoder) checkLogs() {
	var probs []*logProblem
	add := func(warn bool, src valueSource, log, what string, msg func(logs string) string) {
		if src.line == 0 && src.key == "" {
			return
		}
		for _, p := range probs {
			if p.warn == warn && p.src == src && p.what == what {
				p.logs = append(p.logs, log)
				return
			}
		}
		probs = append(probs, &logProblem{warn: warn, src: src, what: what, msg: msg, logs: []string{log}})
	}
	autoDelete := d.cfg.Int(AutoDelete) == 1
	for i := range d.cfg.Logs {
		l := &d.cfg.Logs[i]
		mode := l.Int(RollingEnabled)
		timeRolls := mode == 1 || mode == 3 || mode == 4
		sizeRolls := mode == 2 || mode == 3 || mode == 4
		if total, size := l.Int(RollingMaxTotalMB), l.Int(RollingSizeMB); total > 0 && sizeRolls && total <= size {
			what := fmt.Sprintf("total %d size %d", total, size)
			add(false, d.source(l, RollingMaxTotalMB), l.Filename, what, func(logs string) string {
				return fmt.Sprintf("rolling_max_total_mb (%d MiB) must be more than rolling_size_mb (%d MiB) for a log that rolls on size (%s): a file rolled on size is at least rolling_size_mb, and would be deleted the moment it rolled",
					total, size, logs)
			})
		}
		if cal := l.Int(RollingCalendar); cal != CalendarNone {
			calName := lookup(RollingCalendar).enumName(cal)
			calSrc := d.source(l, RollingCalendar)
			if modeSrc := d.source(l, RollingEnabled); !timeRolls && calSrc.spec >= modeSrc.spec {
				modeName := lookup(RollingEnabled).enumName(mode)
				add(true, calSrc, l.Filename, "calendar mode "+modeName, func(logs string) string {
					return fmt.Sprintf("rolling_calendar = %q has no effect on %s: rolling_enabled = %q does not roll on time", calName, logs, modeName)
				})
			}
			if ivSrc := d.source(l, RollingIntervalSec); timeRolls && ivSrc.spec > specDefault && ivSrc.spec >= calSrc.spec {
				add(true, ivSrc, l.Filename, "interval "+calName, func(logs string) string {
					return fmt.Sprintf("rolling_interval_sec is not used for %s: rolling_calendar = %q sets the time boundaries", logs, calName)
				})
			}
		}
		if !autoDelete {
			for _, name := range []string{RollingMaxCount, RollingMaxAgeSec, RollingMaxTotalMB} {
				if l.Int(name) == 0 {
					continue
				}
				short := (&Record{Name: name}).Short()
				add(true, d.source(l, name), l.Filename, "autodelete "+short, func(logs string) string {
					return fmt.Sprintf("%s has no effect on %s while auto_delete_rolled_files = 0: nothing is deleted", short, logs)
				})
			}
		}
	}
	for _, p := range probs {
		pr := Problem{File: d.file, Line: p.src.line, Col: p.src.col, Key: p.src.key, Msg: p.msg(strings.Join(p.logs, ", "))}
		if p.warn {
			d.warns = append(d.warns, pr)
		} else {
			d.errs = append(d.errs, pr)
		}
	}
}

// logProblem is one problem of checkLogs and the logs it concerns.
type logProblem struct {
	warn bool
	src  valueSource
	what string // the problem without its logs: problems are merged on it
	msg  func(logs string) string
	logs []string
}

// How specifically a log's value of a record is written.
const (
	specDefault = iota // the record's default
	specGlobal         // [proxy.config.log]
	specLog            // the log's [[logs]] table
)

// valueSource is where a log's value of a per-log record comes from.
type valueSource struct {
	spec      int
	key       string // the problem key: logs[N].short or the record's name
	line, col int
}

// source returns where log l's value of the per-log record name comes from.
func (d *decoder) source(l *Log, name string) valueSource {
	if where, ok := l.Overrides(name); ok {
		line, col := wherePosition(where)
		return valueSource{spec: specLog, key: fmt.Sprintf("logs[%d].%s", l.index+1, (&Record{Name: name}).Short()), line: line, col: col}
	}
	if where, ok := d.cfg.where[name]; ok {
		line, col := wherePosition(where)
		return valueSource{spec: specGlobal, key: name, line: line, col: col}
	}
	return valueSource{spec: specDefault}
}
