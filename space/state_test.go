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

// TestClassifySmallPartition: on a partition smaller than the headroom can
// cover, the partition's headroom is PartitionShare of its size (rolled files
// are kept until then), and free inodes count like free bytes.
func TestClassifySmallPartition(t *testing.T) {
	const mb = 1 << 20
	small := func(free, freeInodes int64) figures {
		return figures{limit: 25000 * mb, headroom: 1000 * mb, minFree: mb, free: free, size: 16 * mb,
			freeInodes: freeInodes, inodes: 16, minFreeInodes: 3, headroomInodes: 1000}
	}
	tests := []struct {
		name string
		f    figures
		want State
		why  string
	}{
		{"10 MiB free of 16: normal", small(10*mb, 12), Normal, ""},
		{"2 MiB free: low at 15 % of 16 MiB", small(2*mb, 12), Low, "≤ headroom 2.4 MiB"},
		{"below MinFree", small(mb-1, 12), Exhausted, "too little to write"},
		{"5 inodes free: normal", small(10*mb, 5), Normal, ""},
		{"4 inodes free: low", small(10*mb, 4), Low, "free inodes 4 ≤ headroom 4"},
		{"2 inodes free: exhausted", small(10*mb, 2), Exhausted, "free inodes 2 < 3"},
		{"inodes not limited", figures{limit: 100, headroom: 10, minFree: 1, free: 1000, freeInodes: 0, inodes: 0, minFreeInodes: 3}, Normal, ""},
		{"tiny partition: never below MinFree", figures{limit: 100 * mb, headroom: 50 * mb, minFree: mb, free: mb, size: 2 * mb}, Low, "≤ headroom 1.0 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, why := classify(tt.f)
			if got != tt.want || !strings.Contains(why, tt.why) || (tt.want == Normal) != (why == "") {
				t.Errorf("classify = %v %q, want %v with %q", got, why, tt.want, tt.why)
			}
		})
	}
	if ws := warnings(small(10*mb, 12)); len(ws) != 1 || !strings.Contains(ws[0], "max_space_mb_headroom 1000.0 MiB is more than 15% of the log partition's 16.0 MiB") {
		t.Errorf("warnings = %q", ws)
	}
	if ws := warnings(figures{headroom: 1000 * mb, size: 100000 * mb}); len(ws) != 0 {
		t.Errorf("warnings on a large partition: %q", ws)
	}
	if _, why := next(Exhausted, small(2*mb, 12)); !strings.Contains(why, "resumes when more than 2.4 MiB of the partition is free") {
		t.Errorf("held exhaustion says %q", why)
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
	if _, why := next(Exhausted, fig(M-1)); !strings.Contains(why, "resumes when used is below 900 B") {
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

// TestInodesResumeWithoutHysteresis: exhaustion by inodes ends as soon as
// MinFreeInodes are free, even at or below the inode headroom (records take
// no inode), while exhaustion by the budget waits for the headroom.
func TestInodesResumeWithoutHysteresis(t *testing.T) {
	f := figures{limit: 1 << 30, headroom: 1 << 20, minFree: 1, free: 1 << 30, inodes: 8, freeInodes: 2, minFreeInodes: 2, headroomInodes: 1000}
	if st, why := next(Exhausted, f); st != Low || !strings.Contains(why, "inodes 2 ≤ headroom 3") {
		t.Errorf("next(exhausted, 2 free inodes) = %v %q, want low", st, why)
	}
	f.freeInodes = 1
	if st, why := next(Low, f); st != Exhausted || !strings.Contains(why, "logging resumes when 2 are free") {
		t.Errorf("next(low, 1 free inode) = %v %q, want exhausted", st, why)
	}
}
