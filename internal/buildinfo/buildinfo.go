// Package buildinfo says which build of logroll a binary is, from what the
// Go toolchain embeds in it (runtime/debug.ReadBuildInfo): the module
// version, the commit it was built from and the Go version.
//
//	info := buildinfo.Read("logrollctl")
//	fmt.Println(info) // logrollctl v0.0.0-20261121093500-0123456789ab+dirty (commit 0123456789ab…, 2026-11-21T09:35:00Z, modified; go1.26.8)
//
// `go build` in a git checkout stamps the version and commit; a binary
// built without version control information (go build -buildvcs=false, or
// from a tarball) says "(devel)" and no commit.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Info is one binary's build.
type Info struct {
	Program string `json:"program"`
	// Version is the main module's version: a tag (v1.2.0), a pseudo-version
	// from the commit (v0.0.0-20261121093500-0123456789ab, "+dirty" when the
	// work tree had changes), or "(devel)" when the toolchain knew none.
	Version string `json:"version"`
	// Revision is the commit the binary was built from, Time its commit
	// time (RFC 3339) and Modified whether the work tree had uncommitted
	// changes; empty without version control information.
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	// Go is the Go version the binary was built with.
	Go string `json:"go"`
}

// Read returns the build of the running binary, named program.
func Read(program string) Info {
	info := Info{Program: program, Version: "(devel)", Go: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return info
	}
	if v := bi.Main.Version; v != "" {
		info.Version = v
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Revision = s.Value
		case "vcs.time":
			info.Time = s.Value
		case "vcs.modified":
			info.Modified = s.Value == "true"
		}
	}
	return info
}

// String is one line: the program and Describe.
func (i Info) String() string {
	return i.Program + " " + i.Describe()
}

// Describe is the version, then, in parentheses, the commit, its time and
// "modified" when known, and the Go version.
func (i Info) Describe() string {
	var extra []string
	if i.Revision != "" {
		extra = append(extra, "commit "+i.Revision)
	}
	if i.Time != "" {
		extra = append(extra, i.Time)
	}
	if i.Modified {
		extra = append(extra, "modified")
	}
	detail := i.Go
	if len(extra) > 0 {
		detail = strings.Join(extra, ", ") + "; " + i.Go
	}
	return fmt.Sprintf("%s (%s)", i.Version, detail)
}
