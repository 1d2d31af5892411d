package daemon

import (
	"errors"
	"slices"
	"testing"
)

// TestByPlace: problems in the file's order, by line then column; those
// without a place after, in their order.
func TestByPlace(t *testing.T) {
	mk := func(where ...string) []*ConfigError {
		var out []*ConfigError
		for _, w := range where {
			out = append(out, &ConfigError{Where: w, Err: errors.New("x")})
		}
		return out
	}
	ps := mk("/a:b/records.toml:7:22", "default", "/a:b/records.toml:5:17", "/a:b/records.toml:5:3", "other", "/a:b/records.toml:10:1")
	byPlace(ps)
	var got []string
	for _, p := range ps {
		got = append(got, p.Where)
	}
	want := []string{"/a:b/records.toml:5:3", "/a:b/records.toml:5:17", "/a:b/records.toml:7:22", "/a:b/records.toml:10:1", "default", "other"}
	if !slices.Equal(got, want) {
		t.Errorf("byPlace = %q, want %q", got, want)
	}
}
