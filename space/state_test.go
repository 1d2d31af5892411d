package space

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	const M, H, F = 1000, 100, 10
	fig := func(used, free int64) figures {
		return figures{used: used, limit: M, headroom: H, minFree: F, free: free}
	}
	tests := []struct {
		name string
		f    figures
		want State
		why  string // part of the reason
	}{
		{"all fine", fig(0, 1e9), Normal, ""},
		{"just below the headroom line", fig(M-H-1, 1e9), Normal, ""},
		{"U + H = M", fig(M-H, 1e9), Low, "+ headroom"},
		{"U just below M", fig(M-1, 1e9), Low, "+ headroom"},
		{"U = M", fig(M, 1e9), Exhausted, "≥ limit"},
		{"U > M", fig(M+5, 1e9), Exhausted, "≥ limit"},
		{"P = H", fig(0, H), Low, "≤ headroom"},
		{"P just above H", fig(0, H+1), Normal, ""},
		{"P = MinFree", fig(0, F), Low, "≤ headroom"},
		{"P below MinFree", fig(0, F-1), Exhausted, "partition free"},
		{"P zero", fig(0, 0), Exhausted, "partition free"},
		{"P unknown counts for nothing", fig(0, -1), Normal, ""},
		{"P unknown, U low", fig(M-H, -1), Low, "+ headroom"},
		{"U exhausted wins over P low", fig(M, H), Exhausted, "≥ limit"},
		{"H = 0: low only at U ≥ M, which is exhausted", figures{used: M - 1, limit: M, minFree: F, free: 1e9}, Normal, ""},
		{"H ≥ M: always low", figures{used: 0, limit: M, headroom: M, minFree: F, free: 1e9}, Low, "+ headroom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := classify(tt.f)
			if got != tt.want || !strings.Contains(why, tt.why) || (tt.want == Normal) != (why == "") {
				t.Errorf("classify(%+v) = %v %q, want %v with %q", tt.f, got, why, tt.want, tt.why)
			}
		})
	}
}

func TestNextHysteresis(t *testing.T) {
	const M, H = 1000, 100
	fig := func(used int64) figures { return figures{used: used, limit: M, headroom: H, minFree: 1, free: -1} }
	tests := []struct {
		cur  State
		used int64
		want State
	}{
		{Normal, 0, Normal},
		{Normal, M - H, Low},
		{Normal, M, Exhausted},
		{Low, M, Exhausted},
		{Low, 0, Normal},
		{Exhausted, M, Exhausted},
		{Exhausted, M - 1, Exhausted}, // low: not resumed yet
		{Exhausted, M - H, Exhausted}, // still low
		{Exhausted, M - H - 1, Normal},
	}
	for _, tt := range tests {
		if got, why := next(tt.cur, fig(tt.used)); got != tt.want {
			t.Errorf("next(%v, U=%d) = %v (%s), want %v", tt.cur, tt.used, got, why, tt.want)
		}
	}
	if _, why := next(Exhausted, fig(M-1)); !strings.Contains(why, "resumes once below the headroom") {
		t.Errorf("sticky exhaustion reason %q does not say when it resumes", why)
	}
}

func TestStateString(t *testing.T) {
	for s, want := range map[State]string{Normal: "normal", Low: "low", Exhausted: "exhausted", State(7): "State(7)"} {
		if got := s.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(s), got, want)
		}
	}
}

func TestMiB(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1 << 20: "1.0 MiB", 12 << 20: "12.0 MiB", 3 << 19: "1.5 MiB"} {
		if got := mib(n); got != want {
			t.Errorf("mib(%d) = %q, want %q", n, got, want)
		}
	}
}
