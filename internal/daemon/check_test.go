package daemon

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/logroll/logroll/records"
)

// checkFixture is a folder holding what the check cases point at: a
// regular file, a symbolic link, a folder, and the config file.
func checkFixture(t *testing.T) string {
	t.Helper()
	dir := shortDir(t)
	if err := os.WriteFile(filepath.Join(dir, "afile"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"alink", "link.log"} {
		if err := os.Symlink("afile", filepath.Join(dir, l)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"logs", "logs/access.log", "badrun", "badrun/logrolld.sock"} {
		if err := os.Mkdir(filepath.Join(dir, p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// loadIn loads text as dir/records.toml.
func loadIn(t *testing.T, dir, text string) *records.Config {
	t.Helper()
	path := filepath.Join(dir, "records.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, _, err := records.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestCheck table-tests Check on configurations the records package
// accepts: each problem is named with its record and FILE:LINE:COL, every
// problem is reported at once, and nothing is created.
func TestCheck(t *testing.T) {
	dir := checkFixture(t)
	long := strings.Repeat("s", 110)
	for _, tc := range []struct {
		name string
		text string
		want []string // "RECORD: substring", in order; none: no problem
	}{
		{"fine", "[proxy.config]\nlocal_state_dir = \"fresh/run\"\n[proxy.config.log]\nlogfile_dir = \"fresh/logs\"\n[[logs]]\nfilename = \"other\"\n", nil},
		{"log folder is a file", "[proxy.config.log]\nlogfile_dir = \"afile\"\n",
			[]string{"proxy.config.log.logfile_dir: " + dir + "/afile is not a folder (a regular file)"}},
		{"log folder below a file", "[proxy.config.log]\nlogfile_dir = \"afile/logs\"\n",
			[]string{"proxy.config.log.logfile_dir: " + dir + "/afile/logs cannot be a folder"}},
		{"log folder is a link to a file", "[proxy.config.log]\nlogfile_dir = \"alink\"\n",
			[]string{"proxy.config.log.logfile_dir: " + dir + "/alink is not a folder"}},
		{"state folder is a file", "[proxy.config]\nlocal_state_dir = \"afile\"\n",
			[]string{"proxy.config.local_state_dir: " + dir + "/afile is not a folder"}},
		{"socket path is a folder", "[proxy.config]\nlocal_state_dir = \"badrun\"\n",
			[]string{"proxy.config.local_state_dir: " + dir + "/badrun/logrolld.sock exists and is not a socket (a folder)"}},
		{"socket path too long", "[proxy.config]\nlocal_state_dir = \"" + long + "\"\n",
			[]string{"proxy.config.local_state_dir: socket path " + dir + "/" + long + "/logrolld.sock is"}},
		{"active file is a folder", "[proxy.config.log]\nlogfile_dir = \"logs\"\n[[logs]]\nfilename = \"x\"\n\n[[logs]]\nfilename = \"access\"\n",
			[]string{"logs[2].filename: the active file " + dir + "/logs/access.log is a folder, not a regular file"}},
		{"active file is a link", "[proxy.config.log]\nlogfile_dir = \".\"\n[[logs]]\nfilename = \"link\"\n",
			[]string{"logs[1].filename: the active file " + dir + "/link.log is a symbolic link, not a regular file"}},
		{"every problem at once", "[proxy.config]\nlocal_state_dir = \"afile\"\n[proxy.config.log]\nlogfile_dir = \"logs\"\n[[logs]]\nfilename = \"access\"\n",
			[]string{"proxy.config.local_state_dir: ", "logs[1].filename: "}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadIn(t, dir, tc.text)
			err := Check(cfg)
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Check = %v, want nil", err)
				}
				return
			}
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("Check = %v, want a *CheckError", err)
			}
			if len(ce.Problems) != len(tc.want) {
				t.Fatalf("Check found %d problems, want %d:\n%v", len(ce.Problems), len(tc.want), err)
			}
			for i, w := range tc.want {
				p := ce.Problems[i]
				rec, _, _ := strings.Cut(w, ": ")
				where := cfg.Where(p.Record)
				if strings.HasPrefix(rec, "logs[") {
					where = cfg.Logs[0].Where()
					if rec == "logs[2].filename" {
						where = cfg.Logs[1].Where()
					}
				}
				if !strings.HasPrefix(where, filepath.Join(dir, "records.toml")+":") {
					t.Errorf("problem %d is at %q, want a place in the file", i, where)
				}
				if got := p.Error(); !strings.HasPrefix(got, where+": "+w) {
					t.Errorf("problem %d = %q, want %q", i, got, where+": "+w)
				}
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "fresh")); err == nil {
		t.Error("Check created a folder")
	}
}

// TestCheckLockNotAFile: a log folder whose lock file is not a regular file
// cannot be locked; Check says so, at logfile_dir.
func TestCheckLockNotAFile(t *testing.T) {
	dir := checkFixture(t)
	if err := os.Symlink("../afile", filepath.Join(dir, "logs", LockName)); err != nil {
		t.Fatal(err)
	}
	cfg := loadIn(t, dir, "[proxy.config.log]\nlogfile_dir = \"logs\"\n[[logs]]\nfilename = \"other\"\n")
	err := Check(cfg)
	if err == nil || !strings.Contains(err.Error(), "proxy.config.log.logfile_dir: the log folder's lock "+filepath.Join(dir, "logs", LockName)+" is a symbolic link") {
		t.Fatalf("Check = %v, want the lock refused", err)
	}
	var stderr syncBuffer
	if _, err := Start(Options{ConfigPath: cfg.Source, Stderr: &stderr}); !errors.As(err, new(*CheckError)) {
		t.Fatalf("Start = %v, want the same *CheckError", err)
	}
}

// TestReloadChecksNewLogs: a reload adding a log whose active path is a
// folder is refused with the log's FILE:LINE:COL; the logs already running
// are not checked again.
func TestReloadChecksNewLogs(t *testing.T) {
	d, path, _ := start(t, baseConfig)
	dir := filepath.Dir(path)
	if err := os.Mkdir(filepath.Join(dir, "logs", "bad.log"), 0o755); err != nil {
		t.Fatal(err)
	}
	text := baseConfig + "\n[[logs]]\nfilename = \"bad\"\n"
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	res := d.ReloadFrom(TriggerSIGHUP)
	line := strings.Count(text[:strings.Index(text, `"bad"`)], "\n") + 1
	want := path + ":" + strconv.Itoa(line) + ":12: logs[2].filename: the active file " + filepath.Join(dir, "logs", "bad.log") + " is a folder"
	if res.OK || !strings.HasPrefix(res.Error, want) {
		t.Fatalf("reload = %+v, want refused with %q", res, want)
	}
	if code := post(t, d, "access", "still served\n"); code != 200 {
		t.Errorf("post after the refused reload: %d", code)
	}
}
