package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	// Fields 3… of a real /proc/PID/stat: utime 250, stime 75 ticks.
	rest := " S 1 1234 1234 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 8 0 100 1000000 500 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
	for _, tc := range []struct {
		name string
		data string
		want time.Duration
		err  bool
	}{
		{"plain name", "1234 (logrolld)" + rest, 3250 * time.Millisecond, false},
		{"name with spaces and parens", "1234 (a) b (c)" + rest, 3250 * time.Millisecond, false},
		{"no parenthesis", "1234 logrolld" + rest, 0, true},
		{"truncated", "1234 (x) S 1 2 3", 0, true},
		{"not numbers", "1234 (x) S 1 2 3 4 5 6 7 8 9 10 u s 0", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.data))
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("parseStatCPU = %v, %v; want %v, error %v", got, err, tc.want, tc.err)
			}
		})
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tlogrolld\nVmPeak:\t  900000 kB\nVmHWM:\t   23456 kB\nVmRSS:\t   20000 kB\nThreads:\t8\n"
	for _, tc := range []struct {
		key  string
		want int64
		err  bool
	}{
		{"VmHWM", 23456 << 10, false},
		{"VmRSS", 20000 << 10, false},
		{"Threads", 0, true}, // no kB
		{"VmSwap", 0, true},  // absent
		{"VmHW", 0, true},    // prefix only
	} {
		t.Run(tc.key, func(t *testing.T) {
			got, err := parseStatusKB([]byte(status), tc.key)
			if (err != nil) != tc.err || got != tc.want {
				t.Errorf("parseStatusKB(%s) = %v, %v; want %v, error %v", tc.key, got, err, tc.want, tc.err)
			}
		})
	}
}

func TestProcSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	// Burn a little CPU so that at least one tick is counted.
	deadline := time.Now().Add(30 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	_ = strings.Repeat("x", x%2)
	if cpu, err := cpuTime(os.Getpid()); err != nil || cpu <= 0 {
		t.Errorf("cpuTime(self) = %v, %v", cpu, err)
	}
	if rss, err := peakRSS(os.Getpid()); err != nil || rss < 1<<20 {
		t.Errorf("peakRSS(self) = %v, %v", rss, err)
	}
}
