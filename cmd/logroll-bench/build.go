package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// module is the module whose binaries the bench builds.
const module = "github.com/logroll/logroll"

// moduleRoot walks up from dir to logroll's go.mod.
func moduleRoot(dir string) (string, error) {
	re := regexp.MustCompile(`(?m)^module\s+` + regexp.QuoteMeta(module) + `\s*$`)
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && re.Match(data) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod of %s above the working directory", module)
		}
		dir = parent
	}
}

// buildBinaries builds ./cmd/<name> for each name into dir with `go build`,
// in the module found above the working directory, and returns their paths.
func buildBinaries(dir string, names ...string) ([]string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	root, err := moduleRoot(wd)
	if err != nil {
		return nil, fmt.Errorf("cannot build %s (%w): run inside the repository or give -logrolld and -logrollctl", strings.Join(names, ", "), err)
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	var paths []string
	for _, n := range names {
		args = append(args, "./cmd/"+n)
		paths = append(paths, filepath.Join(dir, n))
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("go %s (in %s): %v\n%s", strings.Join(args, " "), root, err, out)
	}
	return paths, nil
}
