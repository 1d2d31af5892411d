package ctl_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
)

func TestUnreachable(t *testing.T) {
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	regular := filepath.Join(dir, "file")
	if err := os.WriteFile(regular, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing": filepath.Join(dir, "missing.sock"),
		"stale":   stale,
		"regular": regular,
		"folder":  dir,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ctl.NewClient(path).Status(context.Background())
			var ue *ctl.UnreachableError
			if !errors.As(err, &ue) || ue.Socket != path {
				t.Fatalf("Status = %v, want an UnreachableError for %s", err, path)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("message %q does not name the socket", err)
			}
		})
	}
}

func TestShutdown(t *testing.T) {
	started := make(chan struct{})
	f := &ctltest.Fake{RollFunc: func(ctx context.Context, _ []string) (ctl.RollResponse, error) {
		close(started)
		<-ctx.Done()
		return ctl.RollResponse{}, ctx.Err()
	}}
	path := filepath.Join(shortDir(t), "s.sock")
	l, err := ctl.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	s := ctl.NewServer(f, nil)
	served := make(chan error, 1)
	go func() { served <- s.Serve(l) }()

	rolled := make(chan error, 1)
	go func() {
		_, err := ctl.NewClient(path).Roll(context.Background(), nil)
		rolled <- err
	}()
	<-started
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // do not wait for the roll: cancel it
	if err := s.Shutdown(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Shutdown = %v, want context.Canceled", err)
	}
	if err := s.Shutdown(context.Background()); !errors.Is(err, context.Canceled) {
		t.Errorf("second Shutdown = %v, want the first result", err)
	}
	if err := <-served; err != nil {
		t.Errorf("Serve = %v, want nil after Shutdown", err)
	}
	if err := <-rolled; err == nil {
		t.Error("Roll cut by Shutdown succeeded")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after Shutdown: %v", err)
	}

	// Serve after Shutdown returns nil at once and closes the listener.
	l2, err := ctl.Listen(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Serve(l2); err != nil {
		t.Errorf("Serve after Shutdown = %v", err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("listener not closed by Serve after Shutdown: %v", err)
	}
}
