package ctl_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/logroll/logroll/ctl"
	"github.com/logroll/logroll/ctl/ctltest"
)

// A Client forces a roll over the daemon's admin socket and gets the
// finished files, as `logrollctl roll` prints them for a cron script.
// Here the daemon is a fake Backend served by ctl.Server.
func ExampleClient_Roll() {
	dir, _ := os.MkdirTemp("", "ctl-example")
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, ctl.SocketName)

	end := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	backend := &ctltest.Fake{RollFunc: func(ctx context.Context, logs []string) (ctl.RollResponse, error) {
		return ctl.RollResponse{Rolled: []ctl.RolledFile{{
			Log: "access.log", Host: "web01", Start: end.Add(-6 * time.Hour), End: end,
			Path: "/var/log/logroll/access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old",
		}}}, nil
	}}
	l, err := ctl.Listen(socket)
	if err != nil {
		fmt.Println(err)
		return
	}
	srv := ctl.NewServer(backend, slog.New(slog.DiscardHandler))
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	defer func() { srv.Shutdown(context.Background()); <-done }()

	resp, err := ctl.NewClient(socket).Roll(context.Background(), []string{"access"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range resp.Rolled {
		fmt.Println(f.Path)
	}
	// Output: /var/log/logroll/access.log.web01.20261121.06h00m00s-20261121.12h00m00s.old
}
