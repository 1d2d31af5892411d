package logging

import (
	"errors"
	"log/slog"
	"slices"
	"testing"

	"github.com/logroll/logroll/internal/logtest"
)

// TestErrLatch logs a repeated failure once when it starts and once when it
// clears.
func TestErrLatch(t *testing.T) {
	rec := &logtest.Recorder{}
	log := slog.New(rec)
	var e errLatch
	e.ok(log, "fine again")
	for range 5 {
		e.fail(log, "disk full", errors.New("no space left on device"))
	}
	e.ok(log, "fine again")
	e.ok(log, "fine again")
	e.fail(log, "disk full", errors.New("no space left on device"))
	if got, want := rec.Messages(), []string{"ERROR disk full", "INFO fine again", "ERROR disk full"}; !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
}
