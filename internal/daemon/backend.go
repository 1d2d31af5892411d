package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/internal/buildinfo"
	"github.com/logroll/logroll/logging"
	"github.com/logroll/logroll/records"
	"github.com/logroll/logroll/space"
)

// The daemon implements ctl.Backend: what the admin socket serves.
var _ ctl.Backend = (*Daemon)(nil)

// Roll implements ctl.Backend: roll the named logs (declared or active
// names; all when none) and wait until done.
func (d *Daemon) Roll(ctx context.Context, logs []string) (ctl.RollResponse, error) {
	select {
	case <-d.stopping:
		return ctl.RollResponse{}, ctl.ErrUnavailable
	default:
	}
	names, err := d.activeNames(logs)
	if err != nil {
		return ctl.RollResponse{}, err
	}
	// The roll waits for its files to be published (compressed first,
	// when stored so); a stop cutting the wait short answers 503 rather
	// than closing the connection on the client. The roll goes on: the
	// collator's Close finishes it.
	type result struct {
		rolled []logging.Rolled
		err    error
	}
	done := make(chan result, 1)
	go func() {
		r, err := d.coll.Roll(names...)
		done <- result{r, err}
	}()
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		return ctl.RollResponse{}, fmt.Errorf("roll: %w: the rolled files are still being finished (compressed or published); they appear under their names when done (logrollctl rolled)", ctl.ErrUnavailable)
	}
	rolled, err := res.rolled, res.err
	resp := ctl.RollResponse{Rolled: []ctl.RolledFile{}}
	host := d.config().Hostname()
	for _, r := range rolled {
		resp.Rolled = append(resp.Rolled, ctl.RolledFile{
			Log: r.Log, Host: host, Path: r.Path, Dir: r.Dir, Compression: r.Compression.String(),
			Start: r.Start, End: r.End, Bytes: r.Bytes, RawBytes: r.RawBytes,
			Records: r.Records, Cause: r.Cause.String(), Configured: true,
		})
	}
	if err != nil {
		switch {
		case errors.Is(err, logging.ErrClosed):
			return ctl.RollResponse{}, fmt.Errorf("roll: %w", ctl.ErrUnavailable)
		case errors.Is(err, logging.ErrUnknownLog):
			return ctl.RollResponse{}, fmt.Errorf("roll: %w: %w", ctl.ErrUnknownLog, err)
		}
		for _, e := range unjoin(err) {
			resp.Errors = append(resp.Errors, e.Error())
		}
	}
	return resp, nil
}

// activeNames maps declared ("access") or active ("access.log") names onto
// the collator's active names; an undeclared one is ctl.ErrUnknownLog.
func (d *Daemon) activeNames(logs []string) ([]string, error) {
	cfg := d.config()
	out := make([]string, 0, len(logs))
	for _, n := range logs {
		l, ok := cfg.Log(n)
		if !ok {
			return nil, fmt.Errorf("%w %q (declared: %s)", ctl.ErrUnknownLog, n, declared(cfg))
		}
		out = append(out, l.Filename)
	}
	return out, nil
}

func declared(cfg *records.Config) string {
	s := ""
	for i, l := range cfg.Logs {
		if i > 0 {
			s += ", "
		}
		s += l.Filename
	}
	return s
}

// unjoin splits an errors.Join result into its parts.
func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// Config implements ctl.Backend: the running configuration.
func (d *Daemon) Config() ctl.ConfigResponse {
	d.mu.Lock()
	cfg, last := d.cfg, d.last
	d.mu.Unlock()
	return ctl.ConfigFrom(cfg, last)
}

// Status implements ctl.Backend.
func (d *Daemon) Status() ctl.Status {
	cfg := d.config()
	st := d.coll.Stats()
	sp := d.space.Status()
	dir := d.initial.Str(records.LogfileDir)
	s := ctl.Status{
		PID: os.Getpid(), Started: d.started, Config: cfg.Source, Dir: dir,
		Host: cfg.Hostname(), Listen: d.listen, Socket: d.socket,
		Accepting: !d.isStopping() && sp.State != space.Exhausted, Logs: []ctl.LogStatus{},
		Space: &ctl.SpaceStatus{
			State: sp.State.String(), Reason: sp.Reason, Warnings: sp.Warnings,
			Used: sp.Used, Limit: sp.Limit, Headroom: sp.Headroom,
			PartitionFree: sp.Free, PartitionHeadroom: sp.PartitionHeadroom, PartitionFreeInodes: sp.FreeInodes,
			AutoDelete:   sp.AutoDelete,
			DeletedFiles: sp.DeletedFiles, DeletedBytes: sp.DeletedBytes,
			DeletedByRule: map[string]int64{},
		},
		Version: buildinfo.Read("logrolld").Describe(),
	}
	for _, r := range space.Rules {
		s.Space.DeletedByRule[string(r)] = sp.Deleted[r].Files
	}
	s.Ship = d.shipStatus(sp)
	rolled := map[string]space.LogUsage{}
	for _, u := range sp.Logs {
		rolled[u.Name] = u
	}
	for i := range cfg.Logs {
		l := &cfg.Logs[i]
		ls := st.Logs[l.Filename]
		s.Logs = append(s.Logs, ctl.LogStatus{
			Name: l.Filename, Path: filepath.Join(dir, l.Filename),
			ActiveBytes: ls.Size, Start: ls.Start,
			Rolled: rolled[l.Filename].Rolled, RolledBytes: rolled[l.Filename].RolledBytes,
			MinCount: int(l.Int(records.RollingMinCount)), MaxCount: int(l.Int(records.RollingMaxCount)),
			RolledDir: cfg.RolledDir(l), Compression: storage(cfg, l).Compression.String(),
		})
	}
	return s
}

func (d *Daemon) isStopping() bool {
	select {
	case <-d.stopping:
		return true
	default:
		return false
	}
}

// Rolled implements ctl.Backend: the rolled files in the log folder, of the
// named logs (declared, active, or the active name of a log no longer
// configured that still has rolled files), all when none is named.
func (d *Daemon) Rolled(logs []string) ([]ctl.RolledFile, error) {
	cfg := d.config()
	files, err := d.scanRolled(cfg)
	if err != nil {
		return nil, err
	}
	if len(logs) == 0 {
		return files, nil
	}
	want := map[string]bool{}
	for _, n := range logs {
		if l, ok := cfg.Log(n); ok {
			want[l.Filename] = true
			continue
		}
		found := false
		for _, f := range files {
			if f.Log == n || f.Log == records.ActiveName(n) {
				want[f.Log] = true
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("%w %q: not declared, and no rolled file of it in %s", ctl.ErrUnknownLog, n, d.initial.Str(records.LogfileDir))
		}
	}
	out := []ctl.RolledFile{}
	for _, f := range files {
		if want[f.Log] {
			out = append(out, f)
		}
	}
	return out, nil
}
