package ctl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"
)

// randomReader hands out its input in reads of random sizes (1 to max
// bytes), as a pipe does.
type randomReader struct {
	data []byte
	rnd  *rand.Rand
	max  int
}

func (r *randomReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rnd.IntN(r.max))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// pipeExpect is what the pipe must deliver for in when no line is longer
// than maxLine: each line (a last one without newline included) with
// invalid UTF-8 and NUL replaced by U+FFFD, cut into pieces of at most
// maxLine bytes when the repair made it longer.
func pipeExpect(in []byte, maxLine int) string {
	var out strings.Builder
	for len(in) > 0 {
		line := in
		if i := bytes.IndexByte(in, '\n'); i >= 0 {
			line, in = in[:i], in[i+1:]
		} else {
			in = nil
		}
		if bytes.IndexByte(line, 0) >= 0 || !utf8.Valid(line) {
			line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
			line = bytes.ReplaceAll(line, []byte{0}, []byte("\uFFFD"))
		}
		for {
			piece := line[:runeCut(line, maxLine)]
			out.Write(piece)
			out.WriteByte('\n')
			line = line[len(piece):]
			if len(line) == 0 {
				break
			}
		}
	}
	return out.String()
}

// runPipeOn runs RunPipe on in, read in random pieces, and returns what
// was delivered.
func runPipeOn(t *testing.T, in []byte, seed uint64, maxRead int, cfg PipeConfig) (string, PipeStats) {
	t.Helper()
	f := &fakePoster{}
	cfg.Poster, cfg.Log = f, "a"
	r := &randomReader{data: in, rnd: rand.New(rand.NewPCG(seed, 1)), max: maxRead}
	st, err := RunPipe(context.Background(), r, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return f.text(), st
}

// checkPipeOutput checks what every delivery must be: lines of at most
// maxLine bytes, valid UTF-8 without NUL, and, joined back, the input's
// text when it was valid.
func checkPipeOutput(t *testing.T, in []byte, got string, maxLine int) {
	t.Helper()
	if len(in) > 0 && !strings.HasSuffix(got, "\n") {
		t.Fatalf("delivery does not end in a newline")
	}
	for _, l := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		if len(l) > maxLine || !utf8.ValidString(l) || strings.IndexByte(l, 0) >= 0 {
			t.Fatalf("delivered line %q: longer than %d, invalid UTF-8 or NUL", l, maxLine)
		}
	}
	if bytes.IndexByte(in, 0) < 0 && utf8.Valid(in) {
		want := strings.ReplaceAll(string(in), "\n", "")
		if strings.ReplaceAll(got, "\n", "") != want {
			t.Fatalf("valid input not delivered as it was (newlines aside)")
		}
	}
}

// FuzzPipeRead feeds RunPipe's reader random input in reads of random
// sizes: whatever the sizes, lines no longer than MaxLine are delivered
// exactly as pipeExpect says (repaired when they need it), and every
// delivered line is valid and at most MaxLine bytes.
func FuzzPipeRead(f *testing.F) {
	f.Add([]byte("a\nbb\n\nccc"), uint64(1), uint8(7), uint8(5))
	f.Add([]byte("ok\n\xff\xfe\x00x\n\xe2\x82\xac\xe2\x82\n"), uint64(2), uint8(3), uint8(4))
	f.Add([]byte(strings.Repeat("é", 40)+"\nshort\n"), uint64(3), uint8(16), uint8(9))
	f.Add([]byte("\r\n\n\x00\n"), uint64(4), uint8(1), uint8(1))
	f.Fuzz(func(t *testing.T, in []byte, seed uint64, maxRead, maxLine uint8) {
		ml := 4 + int(maxLine)%60
		cfg := PipeConfig{MaxLine: ml, Batch: ml + 1 + int(seed%200), Buffer: 512}
		got, _ := runPipeOn(t, in, seed, 1+int(maxRead), cfg)
		checkPipeOutput(t, in, got, ml)
		short := true
		for _, l := range bytes.Split(in, []byte{'\n'}) {
			short = short && len(l) <= ml
		}
		if short {
			if want := pipeExpect(in, ml); got != want {
				t.Fatalf("delivered %q, want %q", got, want)
			}
		}
	})
}

// TestPipeReadSizes: the same input, read in pieces of every size from
// 1 byte to more than a batch, is delivered the same, whole requests of
// lines.
func TestPipeReadSizes(t *testing.T) {
	var in bytes.Buffer
	rnd := rand.New(rand.NewPCG(7, 7))
	for i := range 3000 {
		n := rnd.IntN(120)
		switch i % 97 {
		case 13:
			in.WriteString("bad \xff byte")
		case 31:
			in.WriteString("nul \x00 byte")
		case 50:
			in.WriteString(strings.Repeat("€", 70)) // 210 bytes: split
		default:
			in.WriteString(strings.Repeat("x", n))
		}
		in.WriteByte('\n')
	}
	in.WriteString("last, without newline")
	var first string
	for _, maxRead := range []int{1, 7, 100, 4096, 1 << 20} {
		got, st := runPipeOn(t, in.Bytes(), uint64(maxRead), maxRead, PipeConfig{MaxLine: 128, Batch: 2048})
		checkPipeOutput(t, in.Bytes(), got, 128)
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("reads of up to %d bytes: delivery differs from reads of 1 byte", maxRead)
		}
		if st.Repaired != 2*31 || st.Split != 31 {
			t.Errorf("reads of up to %d bytes: stats %+v, want 62 repaired, 31 split", maxRead, st)
		}
	}
	if !strings.HasSuffix(first, "\nlast, without newline\n") {
		t.Errorf("last line not delivered with a newline")
	}
}

// errReader returns its data, then err.
type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// TestPipeReadError: when reading fails (or stops), what was read is still
// delivered, a partial last line with a newline, and RunPipe says why it
// stopped reading.
func TestPipeReadError(t *testing.T) {
	f := &fakePoster{}
	boom := errors.New("boom")
	st, err := RunPipe(context.Background(), &errReader{data: []byte("one\ntwo\npart"), err: boom}, PipeConfig{Poster: f, Log: "a"})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the read error", err)
	}
	if got := f.text(); got != "one\ntwo\npart\n" || st.Lines != 3 || st.Undelivered != 0 {
		t.Errorf("delivered %q, stats %+v", got, st)
	}
}
