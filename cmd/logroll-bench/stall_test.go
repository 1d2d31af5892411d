package main

import (
	"testing"
	"time"
)

func TestAnalyzeStall(t *testing.T) {
	t0 := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	at := func(fromMs, toMs float64) span {
		return span{t0.Add(time.Duration(fromMs * float64(time.Millisecond))), t0.Add(time.Duration(toMs * float64(time.Millisecond)))}
	}
	// Requests of 1 ms back to back, one of 4 ms and one of 9 ms.
	var reqs []span
	for i := 0; i < 100; i++ {
		reqs = append(reqs, at(float64(i), float64(i)+1))
	}
	reqs = append(reqs, at(200, 204), at(300, 309))

	for _, tc := range []struct {
		name                string
		rolls               []span
		during, outside     int
		stall, maxOut, nois float64 // ms
	}{
		{"no rolls", nil, 0, 102, 0, 9, 8},
		{"a roll over the slow request", []span{at(302, 303)}, 1, 101, 8, 4, 3},
		{"a roll over the 4 ms request", []span{at(201, 202)}, 1, 101, 3, 9, 8},
		{"a roll between requests", []span{at(150, 160)}, 0, 102, 0, 9, 8},
		{"a roll touching requests 10 and 11", []span{at(10.5, 11.5)}, 2, 100, 0, 9, 8},
		{"two rolls", []span{at(201, 202), at(305, 306)}, 2, 100, 8, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := analyzeStall(reqs, tc.rolls)
			if r.During != tc.during || r.Outside != tc.outside {
				t.Errorf("during %d outside %d, want %d and %d", r.During, r.Outside, tc.during, tc.outside)
			}
			if r.StallMs != tc.stall || r.MaxOutsideMs != tc.maxOut || r.NoiseMs != tc.nois {
				t.Errorf("stall %v max outside %v noise %v, want %v %v %v", r.StallMs, r.MaxOutsideMs, r.NoiseMs, tc.stall, tc.maxOut, tc.nois)
			}
			if r.Rolls != len(tc.rolls) {
				t.Errorf("rolls %d, want %d", r.Rolls, len(tc.rolls))
			}
			if r.P50OutsideMs != 1 {
				t.Errorf("p50 outside %v, want 1", r.P50OutsideMs)
			}
		})
	}
}

func TestSpanOverlaps(t *testing.T) {
	t0 := time.Now()
	s := func(a, b int) span { return span{t0.Add(time.Duration(a)), t0.Add(time.Duration(b))} }
	for _, tc := range []struct {
		a, b span
		want bool
	}{
		{s(0, 10), s(5, 15), true},
		{s(5, 15), s(0, 10), true},
		{s(0, 10), s(10, 20), false}, // touching ends do not overlap
		{s(0, 10), s(2, 3), true},
		{s(0, 10), s(11, 12), false},
	} {
		if got := tc.a.overlaps(tc.b); got != tc.want {
			t.Errorf("%v overlaps %v = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
