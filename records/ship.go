package records

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Checks of the records that hand finished files on (docs/design.md §11). Each
// returns "" when the value is valid, else what is wrong, for the
// FILE:LINE:COL message.

// checkCommand validates on_roll_command: empty (no command), or an
// absolute path to an executable regular file followed by its arguments.
// The daemon runs it without a shell and without searching PATH (a daemon
// under systemd has a minimal one), so a bare name is refused here rather
// than failing for every file later.
func checkCommand(argv []string) string {
	if len(argv) == 0 {
		return ""
	}
	for i, a := range argv {
		if strings.ContainsRune(a, 0) {
			return fmt.Sprintf("element %d must not contain a NUL byte", i)
		}
	}
	prog := argv[0]
	if !filepath.IsAbs(prog) {
		return fmt.Sprintf("program %q must be an absolute path (it runs without a shell and without searching PATH)", prog)
	}
	fi, err := os.Stat(prog)
	switch {
	case err != nil:
		return fmt.Sprintf("program %q: %v", prog, err)
	case !fi.Mode().IsRegular():
		return fmt.Sprintf("program %q is not a regular file", prog)
	case fi.Mode().Perm()&0o111 == 0:
		return fmt.Sprintf("program %q is not executable", prog)
	}
	return ""
}

// checkShipURL validates ship_url: "" or s3://BUCKET[/PREFIX], BUCKET an
// S3 bucket name (3-63 characters: lowercase letters, digits, '.' and '-',
// starting and ending with a letter or digit), PREFIX '/'-separated
// segments that are neither empty, "." nor "..", of characters safe in
// keys.
func checkShipURL(s string) string {
	if s == "" {
		return ""
	}
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return `must be "s3://BUCKET/PREFIX" or ""`
	}
	bucket, prefix, _ := strings.Cut(rest, "/")
	if m := checkBucket(bucket); m != "" {
		return "bucket " + m
	}
	prefix = strings.TrimSuffix(prefix, "/")
	if prefix == "" {
		return ""
	}
	for _, seg := range strings.Split(prefix, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Sprintf("prefix %q must not have empty, \".\" or \"..\" segments", prefix)
		}
		for _, r := range seg {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!-_.*'()=", r)) {
				return fmt.Sprintf("prefix %q: character %q is not safe in an object key (letters, digits and !-_.*'()= only)", prefix, r)
			}
		}
	}
	if len(prefix) > 512 {
		return "prefix is longer than 512 bytes"
	}
	return ""
}

// checkBucket validates an S3 bucket name (the general-purpose bucket
// rules, which every S3-compatible store accepts).
func checkBucket(b string) string {
	if len(b) < 3 || len(b) > 63 {
		return fmt.Sprintf("%q must be 3 to 63 characters", b)
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Sprintf("%q: character %q is not allowed (lowercase letters, digits, '.' and '-')", b, c)
		}
	}
	if first, last := b[0], b[len(b)-1]; first == '.' || first == '-' || last == '.' || last == '-' {
		return fmt.Sprintf("%q must start and end with a letter or a digit", b)
	}
	if strings.Contains(b, "..") {
		return fmt.Sprintf("%q must not contain \"..\"", b)
	}
	return ""
}

// checkEndpoint validates ship_endpoint: "" or an http(s) URL with a host
// and no path, query or credentials.
func checkEndpoint(s string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	switch {
	case err != nil:
		return fmt.Sprintf("is not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		return `must start with "http://" or "https://"`
	case u.Host == "":
		return "has no host"
	case u.User != nil:
		return "must not hold credentials (they come from the environment or the AWS shared files)"
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return "must be scheme://host[:port] only (no path, query or fragment)"
	}
	return ""
}

// checkRegion validates ship_region: lowercase letters, digits and '-'.
func checkRegion(s string) string {
	if s == "" {
		return "must not be empty"
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Sprintf("character %q is not allowed (lowercase letters, digits and '-')", r)
		}
	}
	return ""
}
