package ingest

import (
	"bytes"
	"errors"
	"hash/crc32"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/gzip"
)

func gzipped(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// zeroBomb returns one gzip member that decompresses to n MiB of zeros (n >=
// 3), built without compressing them all: after the first MiB the deflate
// output of each further MiB of zeros, flushed, is the same bytes, so they
// are repeated; the trailer is then set to the whole body's CRC and size.
func zeroBomb(t testing.TB, n int) []byte {
	t.Helper()
	zero := make([]byte, 1<<20)
	var b bytes.Buffer
	zw, err := gzip.NewWriterLevel(&b, gzip.BestCompression)
	if err != nil {
		t.Fatal(err)
	}
	chunk := func() []byte {
		start := b.Len()
		zw.Write(zero)
		zw.Flush()
		return append([]byte(nil), b.Bytes()[start:]...)
	}
	first := len(chunk())
	c2, c3 := chunk(), chunk()
	if !bytes.Equal(c2, c3) {
		t.Fatal("flushed chunks of zeros differ: cannot build the bomb this way")
	}
	zw.Close()
	tail := append([]byte(nil), b.Bytes()[first+2*len(c2):]...) // final block and trailer
	bomb := append([]byte(nil), b.Bytes()[:first]...)
	for range n - 1 {
		bomb = append(bomb, c2...)
	}
	bomb = append(bomb, tail...)
	crc := crc32.NewIEEE()
	for range n {
		crc.Write(zero)
	}
	tr := bomb[len(bomb)-8:]
	sum, size := crc.Sum32(), uint32(n<<20)
	for k := range 4 {
		tr[k], tr[4+k] = byte(sum>>(8*k)), byte(size>>(8*k))
	}
	return bomb
}

// countReader counts the bytes read from r.
type countReader struct {
	r io.Reader
	n int64
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// failReader returns data, then err.
type failReader struct {
	data []byte
	err  error
}

func (f *failReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestDecompress(t *testing.T) {
	body := bytes.Repeat([]byte("GET /index.html 200\n"), 5000) // 100000 bytes
	z := gzipped(t, body)
	badCRC := append([]byte(nil), z...)
	badCRC[len(badCRC)-8] ^= 1
	errReset := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name  string
		in    io.Reader
		limit int64
		want  []byte
		err   string
	}{
		{name: "body", in: bytes.NewReader(z), limit: 1 << 20, want: body},
		{name: "exactly the limit", in: bytes.NewReader(z), limit: 100000, want: body},
		{name: "one over the limit", in: bytes.NewReader(z), limit: 99999, err: "body too large: more than 99999 bytes"},
		{name: "limit zero, empty body", in: bytes.NewReader(gzipped(t, nil)), limit: 0, want: []byte{}},
		{name: "two members", in: io.MultiReader(bytes.NewReader(gzipped(t, []byte("a\n"))), bytes.NewReader(gzipped(t, []byte("b\n")))), limit: 10, want: []byte("a\nb\n")},
		{name: "not gzip", in: strings.NewReader("plain text, not gzip"), limit: 1 << 20, err: "corrupt gzip body: gzip: invalid header (at compressed byte 0, after 0 bytes decompressed)"},
		{name: "empty", in: strings.NewReader(""), limit: 1 << 20, err: "corrupt gzip body: unexpected EOF (at compressed byte 0, after 0 bytes decompressed)"},
		{name: "truncated", in: bytes.NewReader(z[:len(z)/2]), limit: 1 << 20, err: "corrupt gzip body: unexpected EOF (at compressed byte 161, after 44138 bytes decompressed)"},
		{name: "bad checksum", in: bytes.NewReader(badCRC), limit: 1 << 20, err: "corrupt gzip body: gzip: invalid checksum (at compressed byte 322, after 100000 bytes decompressed)"},
		{name: "garbage after member", in: bytes.NewReader(append(append([]byte(nil), z...), "junk after the member"...)), limit: 1 << 20, err: "corrupt gzip body: gzip: invalid header (at compressed byte 322, after 100000 bytes decompressed)"},
		{name: "reader fails", in: &failReader{data: z[:len(z)/2], err: errReset}, limit: 1 << 20, err: "read body: connection reset by peer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst bytes.Buffer
			dst.WriteString("stale")
			err := Decompress(tc.in, tc.limit, &dst)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("Decompress = %v, want %q", err, tc.err)
				}
				var ce *CorruptError
				var tl *TooLargeError
				switch {
				case strings.HasPrefix(tc.err, "corrupt"):
					if !errors.As(err, &ce) {
						t.Errorf("error %T is not a *CorruptError", err)
					}
				case strings.HasPrefix(tc.err, "body too large"):
					if !errors.As(err, &tl) || tl.Limit != tc.limit {
						t.Errorf("error %#v is not a *TooLargeError{%d}", err, tc.limit)
					}
				default:
					if errors.As(err, &ce) || errors.As(err, &tl) || !errors.Is(err, errReset) {
						t.Errorf("reader failure %#v: want it wrapped, not typed", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Decompress = %v", err)
			}
			if !bytes.Equal(dst.Bytes(), tc.want) {
				t.Fatalf("Decompress gave %d bytes, want %d", dst.Len(), len(tc.want))
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	errReset := errors.New("connection reset by peer")
	for _, tc := range []struct {
		name  string
		in    io.Reader
		limit int64
		want  string
		err   string
	}{
		{name: "empty", in: strings.NewReader(""), limit: 10, want: ""},
		{name: "body", in: strings.NewReader("hello\n"), limit: 10, want: "hello\n"},
		{name: "exactly the limit", in: strings.NewReader("0123456789"), limit: 10, want: "0123456789"},
		{name: "over the limit", in: strings.NewReader("0123456789x"), limit: 10, err: "body too large: more than 10 bytes"},
		{name: "over the limit with EOF", in: &failReader{data: []byte("0123456789x"), err: io.EOF}, limit: 10, err: "body too large: more than 10 bytes"},
		{name: "data with EOF", in: eofWithData{"abc"}, limit: 3, want: "abc"},
		{name: "data with EOF over", in: eofWithData{"abcd"}, limit: 3, err: "body too large: more than 3 bytes"},
		{name: "large", in: strings.NewReader(strings.Repeat("x", 1<<20)), limit: 1 << 20, want: strings.Repeat("x", 1<<20)},
		{name: "endless", in: zeroReader{}, limit: 1000, err: "body too large: more than 1000 bytes"},
		{name: "reader fails", in: &failReader{data: []byte("abc"), err: errReset}, limit: 10, err: "read body: connection reset by peer"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var dst bytes.Buffer
			dst.WriteString("stale")
			err := ReadBody(tc.in, tc.limit, &dst)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("ReadBody = %v, want %q", err, tc.err)
				}
				if tc.name == "reader fails" && !errors.Is(err, errReset) {
					t.Fatalf("ReadBody = %#v, want the reader's error wrapped", err)
				}
				return
			}
			if err != nil || dst.String() != tc.want {
				t.Fatalf("ReadBody = %v with %d bytes, want %d bytes", err, dst.Len(), len(tc.want))
			}
		})
	}
}

// eofWithData returns all its data with io.EOF in one Read.
type eofWithData struct{ s string }

func (e eofWithData) Read(p []byte) (int, error) { return copy(p, e.s), io.EOF }

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestZeroBomb checks the bomb construction on a small bomb: it must be one
// valid gzip member of exactly the zeros it claims.
func TestZeroBomb(t *testing.T) {
	var dst bytes.Buffer
	if err := Decompress(bytes.NewReader(zeroBomb(t, 5)), 5<<20, &dst); err != nil {
		t.Fatal(err)
	}
	if dst.Len() != 5<<20 || bytes.ContainsFunc(dst.Bytes(), func(r rune) bool { return r != 0 }) {
		t.Fatalf("bomb decompressed to %d bytes, want 5 MiB of zeros", dst.Len())
	}
}

// TestDecompressBomb refuses 1 GiB of zeros compressed to about 1 MB, as one
// gzip member and as 1024 concatenated members, having decompressed only
// limit+1 bytes and read little of the compressed stream, and with memory
// bounded by a few times the limit.
func TestDecompressBomb(t *testing.T) {
	const limit = 8 << 20
	one := gzipped(t, make([]byte, 1<<20))
	bombs := map[string][]byte{
		"one member":   zeroBomb(t, 1024),
		"1024 members": bytes.Repeat(one, 1024),
	}
	var dst bytes.Buffer
	Decompress(bytes.NewReader(one), limit, &dst) // warm the decompressor pool
	for name, bomb := range bombs {
		t.Run(name, func(t *testing.T) {
			t.Logf("bomb: %d compressed bytes for 1 GiB", len(bomb))
			src := &countReader{r: bytes.NewReader(bomb)}
			var dst bytes.Buffer
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			err := Decompress(src, limit, &dst)
			runtime.ReadMemStats(&after)
			var tl *TooLargeError
			if !errors.As(err, &tl) || tl.Limit != limit {
				t.Fatalf("Decompress = %v, want a *TooLargeError{%d}", err, limit)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*limit {
				t.Errorf("Decompress allocated %d bytes for a limit of %d, want < 4x", alloc, limit)
			}
			if dst.Cap() > limit+1 {
				t.Errorf("buffer grew to %d bytes, past limit+1", dst.Cap())
			}
			// limit/1 GiB of the compressed stream, plus read-ahead.
			if most := int64(len(bomb))*limit>>30 + 64<<10; src.n > most {
				t.Errorf("read %d compressed bytes, want at most %d", src.n, most)
			}
		})
	}
}

// TestReadBodyBounded checks that an endless plain body costs bounded memory.
func TestReadBodyBounded(t *testing.T) {
	const limit = 8 << 20
	var dst bytes.Buffer
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := ReadBody(zeroReader{}, limit, &dst)
	runtime.ReadMemStats(&after)
	if _, ok := err.(*TooLargeError); !ok {
		t.Fatalf("ReadBody = %v, want a *TooLargeError", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4*limit {
		t.Errorf("ReadBody allocated %d bytes for a limit of %d, want < 4x", alloc, limit)
	}
}

// TestDecompressAllocs checks that pooled decompressors make a steady-state
// call allocation-free once dst is large enough.
func TestDecompressAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under the race detector")
	}
	z := gzipped(t, bytes.Repeat([]byte("GET / 200\n"), 10000))
	var dst bytes.Buffer
	rd := bytes.NewReader(z)
	if err := Decompress(rd, 1<<20, &dst); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(20, func() {
		rd.Reset(z)
		if err := Decompress(rd, 1<<20, &dst); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Decompress steady state: %v allocations, want 0", allocs)
	}
}
