package records

import (
	"errors"
	"testing"
)

// TestSyntaxErrorPosition checks that a syntax error names the line and
// column where the problem is, also for those the TOML library reports on
// the next line (an unclosed table header: at the newline that ends it) or
// past the end of the line before (a key defined twice: at the key).
func TestSyntaxErrorPosition(t *testing.T) {
	for _, tc := range []struct {
		name      string
		src       string
		line, col int
	}{
		{"unclosed header, last line", "[proxy.config.log\n", 1, 18},
		{"unclosed header, no final newline", "[proxy.config.log", 1, 17},
		{"unclosed header, then more", "[proxy.config]\n[proxy.config.log\nhostname = \"x\"\n", 2, 18},
		{"unclosed header, longer line after", "[proxy.config.ingest\nhttp_listen = \"127.0.0.1:0\"\n", 1, 21},
		{"key defined twice", "[proxy.config.log]\nrolling_size_mb = 10\nrolling_size_mb = 20\n", 3, 1},
		{"key defined twice, indented", "[proxy.config.log]\nrolling_size_mb = 10\n  rolling_size_mb = 20 # x\n[proxy.config]\n", 3, 3},
		{"key defined twice, last line", "[proxy.config.log]\nrolling_size_mb = 10\nrolling_size_mb = 20", 3, 1},
		{"table defined twice", "[proxy.config.log]\n[proxy.config.log]\n", 2, 2},
		{"bad value", "[proxy.config.log]\nrolling_size_mb = 10MB\n", 2, 21},
		{"newline in string", "[proxy.config.log]\nhostname = \"abc\nrolling_size_mb = 5\n", 2, 16},
		{"unclosed array at the end", "x = [1,2\n", 1, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := Load([]byte(tc.src), "r.toml")
			var le *LoadError
			if !errors.As(err, &le) || len(le.Problems) != 1 {
				t.Fatalf("Load = %v, want one syntax problem", err)
			}
			p := le.Problems[0]
			if p.Line != tc.line || p.Col != tc.col {
				t.Errorf("%s: at %d:%d, want %d:%d", p, p.Line, p.Col, tc.line, tc.col)
			}
		})
	}
}
