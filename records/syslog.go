package records

import (
	"fmt"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// Syslog routing keys of a [[logs]] table: which syslog messages the log
// receives instead of proxy.config.syslog.log. They are lists, not records
// of the table (which hold one number or string each).
const (
	keySyslogAppName  = "syslog_app_name"
	keySyslogFacility = "syslog_facility"
)

// LogKey is a key of [[logs]] tables that is not a record: the log's name
// and its syslog routes. `logrollctl config describe` describes them too.
type LogKey struct {
	Key, Kind, Default, Description string
}

// LogKeys returns the keys of [[logs]] tables that are not records.
func LogKeys() []LogKey {
	return []LogKey{
		{"filename", "string", "(required)", `the log's name: the active file is logfile_dir/NAME, with ".log" appended when NAME has no dot ("access" → access.log); letters, digits, '.', '_' and '-'; not ending in ".old", ".old.gz" or ".old.zst"`},
		{keySyslogAppName, "array of strings", "[]", "syslog messages whose APP-NAME (RFC 5424) or TAG (RFC 3164, without its [pid]) is one of these, case-sensitive, go to this log instead of proxy.config.syslog.log; a name may route to one log only"},
		{keySyslogFacility, "array of strings", "[]", `syslog messages of these facilities ("auth", "local0", … as syslog-ng names them) go to this log, unless their app name routes them elsewhere; a facility may route to one log only`},
	}
}

// maxAppName is RFC 5424's limit for APP-NAME (RFC 3164's TAG is shorter).
const maxAppName = 48

// facilityNames are the syslog facility names (RFC 5424 §6.2.1), as
// syslog-ng and rsyslog spell them; the first name of a code is its
// canonical name, later ones are aliases.
var facilityNames = []struct {
	name string
	code int
}{
	{"kern", 0}, {"user", 1}, {"mail", 2}, {"daemon", 3}, {"auth", 4}, {"syslog", 5},
	{"lpr", 6}, {"news", 7}, {"uucp", 8}, {"cron", 9}, {"authpriv", 10}, {"ftp", 11},
	{"ntp", 12}, {"security", 13}, {"console", 14}, {"solaris-cron", 15},
	{"local0", 16}, {"local1", 17}, {"local2", 18}, {"local3", 19},
	{"local4", 20}, {"local5", 21}, {"local6", 22}, {"local7", 23},
	{"audit", 13}, {"clock", 15},
}

// SyslogFacility returns the code of a facility name ("auth" → 4), and
// whether the name is known. Names are matched case-insensitively.
func SyslogFacility(name string) (int, bool) {
	for _, f := range facilityNames {
		if strings.EqualFold(f.name, name) {
			return f.code, true
		}
	}
	return 0, false
}

// SyslogFacilityName returns the canonical name of a facility code (0–23),
// or its number for any other value.
func SyslogFacilityName(code int) string {
	for _, f := range facilityNames {
		if f.code == code {
			return f.name
		}
	}
	return fmt.Sprint(code)
}

// syslogList decodes a [[logs]] syslog routing key: an array of strings,
// each checked by check (which returns the canonical form, or "" and why
// not); example is a value for the message of a value that is no array. It returns the canonical values of the valid elements, and a
// message for each problem: every bad element is reported at once, and the
// valid ones still take part in the check of routes between logs.
func (d *decoder) syslogList(prim toml.Primitive, check func(string) (string, string), example string) ([]string, []string) {
	var raw any
	_ = d.md.PrimitiveDecode(prim, &raw)
	arr, ok := raw.([]any)
	if !ok {
		return nil, []string{"expected an array of strings such as " + example + ", got " + describe(raw)}
	}
	if len(arr) == 0 {
		return nil, []string{"must not be empty (remove the key to route nothing here)"}
	}
	var out, msgs []string
	for i, v := range arr {
		s, ok := v.(string)
		if !ok {
			msgs = append(msgs, fmt.Sprintf("element %d: expected a string, got %s", i+1, describe(v)))
			continue
		}
		c, why := check(s)
		switch {
		case why != "":
			msgs = append(msgs, fmt.Sprintf("element %d: %q %s", i+1, s, why))
		case slices.Contains(out, c):
			msgs = append(msgs, fmt.Sprintf("element %d: %q is listed twice", i+1, s))
		default:
			out = append(out, c)
		}
	}
	return out, msgs
}

// checkAppName accepts an RFC 5424 APP-NAME: 1 to 48 printable US-ASCII
// characters, no space.
func checkAppName(s string) (string, string) {
	if s == "" {
		return "", "must not be empty"
	}
	if len(s) > maxAppName {
		return "", fmt.Sprintf("is longer than %d bytes (RFC 5424's APP-NAME limit)", maxAppName)
	}
	for _, c := range []byte(s) {
		if c < 33 || c > 126 {
			return "", fmt.Sprintf("holds %q: an app name is printable US-ASCII without spaces", rune(c))
		}
	}
	return s, ""
}

// checkFacility accepts a facility name and returns its canonical name.
func checkFacility(s string) (string, string) {
	code, ok := SyslogFacility(s)
	if !ok {
		var names []string
		for _, f := range facilityNames {
			names = append(names, f.name)
		}
		return "", "is not a syslog facility (kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, solaris-cron, local0…local7)" + didYouMean(s, names)
	}
	return SyslogFacilityName(code), ""
}
