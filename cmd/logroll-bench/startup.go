package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/logroll/logroll/logging"
)

// Start-up time with many rolled files in the log folder.
//
// The folder gets n rolled files of the access log, named by
// logging.RolledName (host benchhost, one minute each, consecutive, ending
// an hour ago, in the local zone as the daemon writes them), each holding one
// record. logrolld is then started `starts` times on that folder (stopped
// with SIGTERM in between; the first start is not discarded, the page cache
// being warm from the creation anyway). For each start:
//
//	line:    from just before exec to the arrival of the
//	         `msg="logrolld ingest listening"` line on its stderr;
//	healthz: from just before exec to the first 200 answer of GET /healthz,
//	         polled as fast as possible once the line gave the port. This is
//	         the start-up time: the daemon is serving.

// startupRow is the start-up time with RolledFiles rolled files.
type startupRow struct {
	RolledFiles  int     `json:"rolled_files"`
	Starts       int     `json:"starts"`
	LineMs       float64 `json:"line_ms"`    // median
	HealthzMs    float64 `json:"healthz_ms"` // median
	HealthzMaxMs float64 `json:"healthz_max_ms"`
}

// makeRolledFiles creates n rolled files of access.log in dir.
func makeRolledFiles(dir string, n int) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	content := makeBatches(FormatText, 7, 1, 1)[0].body
	end := time.Now().Add(-time.Hour).Truncate(time.Minute)
	start := end.Add(-time.Duration(n) * time.Minute)
	for i := 0; i < n; i++ {
		s := start.Add(time.Duration(i) * time.Minute)
		name := logging.RolledName{Active: "access.log", Host: benchHost, Start: s, End: s.Add(time.Minute)}.String()
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// countRolled returns the number of .old files in dir.
func countRolled(dir string) (int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".old") {
			n++
		}
	}
	return n, nil
}

// measureStartup times `starts` starts of logrolld on a folder holding n
// rolled files.
func measureStartup(ctx context.Context, e *env, n, starts int) (startupRow, error) {
	dir, err := e.tempDir("startup")
	if err != nil {
		return startupRow{}, err
	}
	defer os.RemoveAll(dir)
	if _, err := writeDaemonConfig(dir, e.daemonOpts("")); err != nil {
		return startupRow{}, err
	}
	if err := makeRolledFiles(filepath.Join(dir, "logs"), n); err != nil {
		return startupRow{}, fmt.Errorf("create %d rolled files: %w", n, err)
	}
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	var lines, healthz []float64
	for i := 0; i < starts; i++ {
		d, err := startDaemon(e.logrolld, dir, e.daemonOpts(""))
		if err != nil {
			return startupRow{}, err
		}
		var ready time.Time
		for ready.IsZero() {
			if err := ctx.Err(); err != nil {
				d.kill()
				return startupRow{}, err
			}
			resp, err := hc.Get("http://" + d.addr + "/healthz")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					ready = time.Now()
				}
			}
			if ready.IsZero() {
				if time.Since(d.started) > 30*time.Second {
					d.kill()
					return startupRow{}, fmt.Errorf("logrolld: /healthz not 200 within 30 s (last error %v)", err)
				}
				time.Sleep(100 * time.Microsecond)
			}
		}
		lines = append(lines, ms(d.lineAt.Sub(d.started)))
		healthz = append(healthz, ms(ready.Sub(d.started)))
		if err := d.stop(30 * time.Second); err != nil {
			return startupRow{}, fmt.Errorf("logrolld stop: %w; stderr:\n%s", err, d.output())
		}
	}
	if got, err := countRolled(filepath.Join(dir, "logs")); err != nil || got != n {
		return startupRow{}, fmt.Errorf("after the starts the folder holds %d rolled files (%v), want %d", got, err, n)
	}
	return startupRow{RolledFiles: n, Starts: starts, LineMs: median(lines), HealthzMs: median(healthz), HealthzMaxMs: slices.Max(healthz)}, nil
}
