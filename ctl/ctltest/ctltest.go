// Package ctltest helps test code that talks to logrolld's admin socket: a
// fake Backend whose answers the test sets, and a helper that serves a
// Backend with ctl.Server on a fresh Unix socket.
package ctltest

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/logroll/logroll/ctl"
)

// Call is one call a Fake received.
type Call struct {
	Method string   // "Roll", "Reload", "Config", "Metrics", "Status" or "Rolled"
	Logs   []string // the logs of Roll and Rolled
}

// Fake is a ctl.Backend answering what its fields say. Set the fields before
// serving it; they are read concurrently afterwards. A nil func answers a
// zero value (Reload: OK true).
type Fake struct {
	RollFunc   func(ctx context.Context, logs []string) (ctl.RollResponse, error)
	ReloadFunc func(ctx context.Context) (ctl.ReloadResult, error)
	RolledFunc func(logs []string) ([]ctl.RolledFile, error)
	ConfigResp ctl.ConfigResponse
	MetricList []ctl.Metric
	StatusResp ctl.Status

	mu    sync.Mutex
	calls []Call
}

var _ ctl.Backend = (*Fake)(nil)

func (f *Fake) record(method string, logs []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, Call{Method: method, Logs: slices.Clone(logs)})
}

// Calls returns the calls received so far, in order.
func (f *Fake) Calls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// Roll implements ctl.Backend.
func (f *Fake) Roll(ctx context.Context, logs []string) (ctl.RollResponse, error) {
	f.record("Roll", logs)
	if f.RollFunc == nil {
		return ctl.RollResponse{}, nil
	}
	return f.RollFunc(ctx, logs)
}

// Reload implements ctl.Backend.
func (f *Fake) Reload(ctx context.Context) (ctl.ReloadResult, error) {
	f.record("Reload", nil)
	if f.ReloadFunc == nil {
		return ctl.ReloadResult{OK: true, Trigger: "ctl"}, nil
	}
	return f.ReloadFunc(ctx)
}

// Config implements ctl.Backend.
func (f *Fake) Config() ctl.ConfigResponse {
	f.record("Config", nil)
	return f.ConfigResp
}

// Metrics implements ctl.Backend.
func (f *Fake) Metrics() []ctl.Metric {
	f.record("Metrics", nil)
	return slices.Clone(f.MetricList)
}

// Status implements ctl.Backend.
func (f *Fake) Status() ctl.Status {
	f.record("Status", nil)
	return f.StatusResp
}

// Rolled implements ctl.Backend.
func (f *Fake) Rolled(logs []string) ([]ctl.RolledFile, error) {
	f.record("Rolled", logs)
	if f.RolledFunc == nil {
		return nil, nil
	}
	return f.RolledFunc(logs)
}

// Serve serves b with a ctl.Server on a new socket in a short temporary folder
// (socket paths are limited to 107 bytes, which t.TempDir can exceed) and
// returns the socket's path. Cleanup shuts the server down, waits for Serve to
// return and removes the folder.
func Serve(t testing.TB, b ctl.Backend) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "lr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	path := filepath.Join(dir, "logrolld.sock")
	ServeAt(t, b, path)
	return path
}

// ServeAt serves b with a ctl.Server on a new socket at path (see
// ctl.Listen). Cleanup shuts the server down and waits for Serve to return.
func ServeAt(t testing.TB, b ctl.Backend, path string) {
	t.Helper()
	l, err := ctl.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := ctl.NewServer(b, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- s.Serve(l) }()
	t.Cleanup(func() {
		if err := s.Shutdown(context.Background()); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}
