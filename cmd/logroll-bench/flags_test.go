package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseConns(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		err  bool
	}{
		{"1,4,16", []int{1, 4, 16}, false},
		{" 4 ", []int{4}, false},
		{"0", nil, true},
		{"4,,16", nil, true},
		{"x", nil, true},
		{"2000", nil, true},
	} {
		got, err := parseConns(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("parseConns(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseSections(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"all", allSections, false},
		{"", allSections, false},
		{"roll, startup", []string{secRoll, secStartup}, false},
		{"throughput,nope", nil, true},
	} {
		got, err := parseSections(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("parseSections(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseInputs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"all", allInputs, false},
		{"syslog, pipe", []string{"syslog", "pipe"}, false},
		{"tls,https", nil, true},
	} {
		got, err := parseInputs(tc.in)
		if (err != nil) != tc.err || !slices.Equal(got, tc.want) {
			t.Errorf("parseInputs(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	full := options{}
	full.applyDefaults()
	quick := options{quick: true}
	quick.applyDefaults()
	given := options{quick: true, reps: 7, stall: time.Second}
	given.applyDefaults()
	for _, tc := range []struct {
		name string
		got  options
		reps int
		text int
		stl  time.Duration
	}{
		{"full", full, 3, 2_000_000, 10 * time.Second},
		{"quick", quick, 1, 20_000, 1700 * time.Millisecond},
		{"given values kept", given, 7, 20_000, time.Second},
	} {
		if tc.got.reps != tc.reps || tc.got.text != tc.text || tc.got.stall != tc.stl || tc.got.rolledFiles == 0 || tc.got.starts == 0 {
			t.Errorf("%s: %+v", tc.name, tc.got)
		}
	}
}
