package ingest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// Encoding is the content coding of a request body.
type Encoding int

// The content codings ingest accepts, selected with [EncodingFor].
const (
	Identity Encoding = iota // no coding: read with ReadBody
	Gzip                     // gzip (RFC 1952): read with Decompress
)

// EncodingFor returns the coding for a Content-Encoding header value: "" or
// identity → Identity; gzip or x-gzip → Gzip (case-insensitive). Anything
// else, including a list of several codings, is an [*UnsupportedError] (HTTP
// 415).
func EncodingFor(contentEncoding string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "", "identity":
		return Identity, nil
	case "gzip", "x-gzip":
		return Gzip, nil
	}
	return 0, &UnsupportedError{What: "content encoding", Value: contentEncoding, Reason: "use gzip or none"}
}

// TooLargeError reports a body longer than the limit, counted after
// decompression (HTTP 413).
type TooLargeError struct {
	Limit int64 // the limit, in bytes
}

// Error implements error.
func (e *TooLargeError) Error() string {
	return "body too large: more than " + strconv.FormatInt(e.Limit, 10) + " bytes"
}

// CorruptError reports a gzip body that is not a valid gzip stream: bad
// header, bad deflate data, bad checksum, or a stream cut short (HTTP 400),
// and where it was found.
type CorruptError struct {
	Err error // what the gzip reader found
	// Read is how many bytes of the compressed body the reader had taken
	// when it found the fault (the decompressor reads a few bytes ahead:
	// the fault is at most that many bytes before), and Out how many
	// bytes it had decompressed.
	Read, Out int64
}

// Error implements error: "corrupt gzip body: WHAT (at compressed byte
// READ, after OUT bytes decompressed)".
func (e *CorruptError) Error() string {
	return "corrupt gzip body: " + e.Err.Error() + " (at compressed byte " + strconv.FormatInt(e.Read, 10) +
		", after " + strconv.FormatInt(e.Out, 10) + " bytes decompressed)"
}

// Unwrap returns the underlying error.
func (e *CorruptError) Unwrap() error { return e.Err }

// ReadBody reads r to its end into dst, which it resets first. It reads at
// most limit+1 bytes: a longer body is a [*TooLargeError] and the rest of it
// is left unread. dst grows by doubling from 32 KiB but never beyond limit+1
// bytes, so memory stays within about twice the limit (a caller that knows
// the length, from Content-Length, may dst.Grow it first). An error of r
// other than io.EOF is returned wrapped. On error dst holds nothing usable.
//
// limit must be >= 0. ReadBody is safe for concurrent use with distinct dst.
func ReadBody(r io.Reader, limit int64, dst *bytes.Buffer) error {
	return readBody(r, limit, dst, nil)
}

// readBody is ReadBody taking dst's growth from h (errNoMemory when refused).
func readBody(r io.Reader, limit int64, dst *bytes.Buffer, h *hold) error {
	if err := readLimited(r, limit, dst, h); err != nil {
		if _, ok := err.(*TooLargeError); ok || err == errNoMemory {
			return err
		}
		return fmt.Errorf("read body: %w", err)
	}
	return nil
}

// Decompress reads the gzip stream r to its end and writes the decompressed
// body into dst, which it resets first. Concatenated gzip members are one
// body (RFC 1952). Like [ReadBody] it produces at most limit+1 bytes: a body
// that decompresses to more than limit bytes is a [*TooLargeError], found
// after decompressing only limit+1 bytes, so a gzip bomb costs no more memory
// than an honest body of the limit's size. A malformed stream is a
// [*CorruptError]; a failure of r itself is returned wrapped. On error dst
// holds nothing usable.
//
// Decompressors are pooled: in steady state a call allocates only what dst
// needs to grow. limit must be >= 0. Decompress is safe for concurrent use
// with distinct dst.
func Decompress(r io.Reader, limit int64, dst *bytes.Buffer) error {
	return decompress(r, limit, dst, nil)
}

// decompress is Decompress taking dst's growth from h (errNoMemory when
// refused).
func decompress(r io.Reader, limit int64, dst *bytes.Buffer, h *hold) error {
	g := gzPool.Get().(*gzState)
	defer g.release()
	g.src.r = r
	g.br.Reset(&g.src)
	var err error
	if g.zr == nil {
		g.zr, err = gzip.NewReader(g.br)
	} else {
		err = g.zr.Reset(g.br)
	}
	if err == nil {
		g.zr.Multistream(false) // members are read by g.Read
		err = readLimited(g, limit, dst, h)
	}
	if err == nil {
		return nil
	}
	if g.src.err != nil {
		return fmt.Errorf("read body: %w", g.src.err)
	}
	if _, ok := err.(*TooLargeError); ok || err == errNoMemory {
		return err
	}
	read := g.src.n - int64(g.br.Buffered())
	if errors.Is(err, gzip.ErrHeader) {
		read = g.member // a header is read whole before it is checked
	}
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return &CorruptError{Err: io.ErrUnexpectedEOF, Read: read, Out: g.out}
	}
	return &CorruptError{Err: err, Read: read, Out: g.out}
}

// gzState is a pooled decompressor: the gzip reader and its input buffer.
type gzState struct {
	src srcReader
	br  *bufio.Reader
	zr  *gzip.Reader
	out int64 // bytes decompressed
	// member is where the member being read began in the compressed body.
	member int64
}

var gzPool = sync.Pool{New: func() any { return &gzState{br: bufio.NewReaderSize(nil, 16<<10)} }}

// release drops the references to the request and returns g to the pool.
func (g *gzState) release() {
	g.src, g.out, g.member = srcReader{}, 0, 0
	g.br.Reset(nil)
	gzPool.Put(g)
}

// Read reads the decompressed body: the gzip members of the stream one
// after the other (RFC 1952). The gzip reader's own multistream mode takes
// a next member cut short inside its file name or comment for the end of
// the body (its header read then ends with a bare io.EOF), which would
// accept a truncated body; here any byte after a member must start a whole
// member, or the body is corrupt.
func (g *gzState) Read(p []byte) (int, error) {
	for {
		n, err := g.zr.Read(p)
		g.out += int64(n)
		if err != io.EOF || n > 0 {
			if err == io.EOF {
				err = nil // the end of the member; the next call looks further
			}
			return n, err
		}
		if _, err := g.br.Peek(1); err != nil {
			return 0, err // io.EOF: the body ends after a whole member
		}
		g.member = g.src.n - int64(g.br.Buffered())
		if err := g.zr.Reset(g.br); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		g.zr.Multistream(false)
	}
}

// srcReader remembers the first failure of the body's own reader, so that a
// client that went away is not reported as corrupt gzip.
type srcReader struct {
	r   io.Reader
	err error
	n   int64 // bytes read
}

func (s *srcReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

// readLimited reads r to its end into dst (reset first), reading at most
// limit+1 bytes and growing dst by doubling, from 32 KiB, up to limit+1 at
// most. It returns a TooLargeError past the limit, else r's error other than
// io.EOF, or errNoMemory when h refuses the memory to grow dst.
func readLimited(r io.Reader, limit int64, dst *bytes.Buffer, h *hold) error {
	dst.Reset()
	most := int(min(limit, math.MaxInt-1)) + 1
	for dst.Len() < most {
		if dst.Available() == 0 {
			c := min(max(2*dst.Cap(), 32<<10), most)
			if !h.add(int64(c - dst.Cap())) {
				dst.Reset()
				return errNoMemory
			}
			grow(dst, c)
		}
		b := dst.AvailableBuffer()
		b = b[:min(cap(b), most-dst.Len())]
		n, err := r.Read(b)
		dst.Write(b[:n]) // in place: b is dst's own free space
		if err == io.EOF && dst.Len() < most {
			return nil
		}
		if err != nil && err != io.EOF {
			dst.Reset()
			return err
		}
	}
	dst.Reset()
	return &TooLargeError{Limit: limit}
}

// grow moves dst's bytes to a new buffer of capacity c.
func grow(dst *bytes.Buffer, c int) {
	nb := make([]byte, dst.Len(), c)
	copy(nb, dst.Bytes())
	*dst = *bytes.NewBuffer(nb)
}
