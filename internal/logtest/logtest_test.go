package logtest_test

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/logroll/logroll/internal/logtest"
)

func TestRecorder(t *testing.T) {
	rec := &logtest.Recorder{}
	log := slog.New(rec)
	log.Info("rolled", "path", "a.old")
	log.Warn("roll failed", "err", "disk full")
	log.Error("disk full")
	if got, want := rec.Messages(), []string{"INFO rolled", "WARN roll failed", "ERROR disk full"}; !slices.Equal(got, want) {
		t.Errorf("Messages() = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		s     string
		count int
		find  []string
	}{
		{"roll", 2, []string{"INFO rolled path=a.old", "WARN roll failed err=disk full"}},
		{"disk full", 1, []string{"WARN roll failed err=disk full", "ERROR disk full"}}, // Count reads messages only
		{"path=a.old", 0, []string{"INFO rolled path=a.old"}},
		{"nothing", 0, nil},
	} {
		if n := rec.Count(tc.s); n != tc.count {
			t.Errorf("Count(%q) = %d, want %d", tc.s, n, tc.count)
		}
		if got := rec.Find(tc.s); !slices.Equal(got, tc.find) {
			t.Errorf("Find(%q) = %q, want %q", tc.s, got, tc.find)
		}
	}
}
