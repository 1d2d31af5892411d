package logging

import (
	"bytes"
	"fmt"
	"io/fs"
	"sync"
	"unicode/utf8"
)

// MaxLine is the longest line a [LogWriter] writes as one record, in bytes:
// a longer line is cut into lines of at most MaxLine bytes, as logrollctl
// pipe cuts one (its default max_line), so that what a LogWriter holds of a
// partial line is bounded and no byte written to it is dropped.
const MaxLine = 256 << 10

// LogWriter is an [io.WriteCloser] that appends to one log of a [Collator]:
// what is written to it becomes the log's records, one per line. It is
// what log.SetOutput, [log.New] or [slog.NewJSONHandler] take:
//
//	w, err := c.Writer("app.log")
//	...
//	logger := slog.New(slog.NewJSONHandler(w, nil))
//
// Write writes every whole line in p as one block of records (one
// [Collator.WriteBlock]: all of them or none, contiguous, in one file) and
// returns once they are written, at the collator's [Durability]. The
// trailing partial line, what follows p's last newline, is kept until a
// later Write completes it or Close writes it with a newline added.
// Bytes are written as they are (no UTF-8 check; a '\r' is kept), with two
// exceptions. An empty line is dropped, as the daemon's inputs drop one: a
// log file's lines are its records. A line longer than [MaxLine] is cut
// into lines of at most MaxLine bytes, never inside a valid UTF-8 sequence
// (the last piece of a partial line stays held).
//
// A Write that fails wrote nothing of p and changed nothing, and returns
// n = 0 with the error: the collator's, wrapped with the log's name, such
// as a [*SpaceError] (matching [ErrSpaceExhausted]) while the space manager
// refuses writes, [ErrUnknownLog] once the log is removed, [ErrClosed]
// once the collator is closed; or one matching [fs.ErrClosed] once the
// LogWriter is closed. Writing p again is then a correct retry. A Write
// that neither completes nor cuts a line writes nothing, and fails only on
// a closed LogWriter.
//
// A LogWriter is safe for concurrent use: its calls are serialised, a
// Write holding the LogWriter until its lines are written. Several
// LogWriters of one log (one per goroutine, say) share the log's writes
// (group commit) instead; each has its own partial line.
type LogWriter struct {
	c   *Collator
	log string

	mu      sync.Mutex // serialises Write and Close; guards the fields below
	partial []byte     // the trailing partial line: no '\n', at most MaxLine bytes
	block   []byte     // where a block is laid out when p cannot be written as it is
	closed  bool
}

// maxKeptBlock bounds the block memory a LogWriter keeps between calls.
const maxKeptBlock = 4 * MaxLine

// Writer returns a new [LogWriter] for the log named log (its active name,
// e.g. "app.log"), or an error wrapping [ErrUnknownLog] if no such log is
// declared. Closing the LogWriter does not close the collator; the
// collator's Close must come after the LogWriter's, which writes the
// partial line it holds.
func (c *Collator) Writer(log string) (*LogWriter, error) {
	if (*c.logs.Load())[log] == nil {
		return nil, fmt.Errorf("logging: writer %q: %w", log, ErrUnknownLog)
	}
	return &LogWriter{c: c, log: log}, nil
}

// Write implements [io.Writer]: see [LogWriter].
func (w *LogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return 0, fmt.Errorf("logging: write %s: %w", w.log, fs.ErrClosed)
	}
	last := bytes.LastIndexByte(p, '\n') // -1: no whole line
	tail := p[last+1:]
	if last < 0 && len(w.partial)+len(p) <= MaxLine {
		w.partial = append(w.partial, p...)
		return len(p), nil
	}
	if len(w.partial) == 0 && len(tail) <= MaxLine {
		// The common case (log and slog write whole lines): p's lines
		// are the block as they are, not copied.
		if n, ok := blockLines(p[:last+1]); ok {
			if err := w.writeBlock(p[:last+1], n); err != nil {
				return 0, err
			}
			w.partial = append(w.partial, tail...)
			return len(p), nil
		}
	}
	// Lay the block out: the held partial line completed, empty lines
	// dropped, long lines cut, and the pieces of an over-long tail.
	// Appending to w.partial leaves w.partial itself as it was, for a
	// failed write.
	b, n := w.block[:0], 0
	whole, rest := p[:last+1], tail
	switch {
	case last < 0:
		rest = append(w.partial, p...)
	case len(w.partial) > 0:
		i := bytes.IndexByte(p, '\n')
		b, n = appendLine(b, n, append(w.partial, p[:i]...))
		whole = p[i+1 : last+1]
	}
	for line := range bytes.Lines(whole) {
		b, n = appendLine(b, n, line[:len(line)-1])
	}
	for len(rest) > MaxLine {
		k := lineCut(rest)
		b, n = appendLine(b, n, rest[:k])
		rest = rest[k:]
	}
	if cap(b) <= maxKeptBlock {
		w.block = b
	}
	if err := w.writeBlock(b, n); err != nil {
		return 0, err
	}
	w.partial = append(w.partial[:0], rest...) // rest may lie in w.partial's memory: copy moves it
	return len(p), nil
}

// Close implements [io.Closer]: it writes the partial line held, with a
// newline added, and closes the LogWriter (Write then fails with an error
// matching [fs.ErrClosed]); the collator stays open. If that last write
// fails, the line is lost and its error returned. Later calls return nil.
func (w *LogWriter) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	b, n := appendLine(nil, 0, w.partial) // none after the first call
	w.partial, w.block = nil, nil
	return w.writeBlock(b, n)
}

// writeBlock writes block, n whole lines, to the log; nothing when n is 0.
func (w *LogWriter) writeBlock(block []byte, n int) error {
	if n == 0 {
		return nil
	}
	return w.c.WriteBlock(w.log, block, n)
}

// blockLines returns the number of lines in b, whole lines, and whether b
// can be written as a block as it is: no line empty, none longer than
// MaxLine.
func blockLines(b []byte) (n int, ok bool) {
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i == 0 || i > MaxLine {
			return 0, false
		}
		n++
		b = b[i+1:]
	}
	return n, true
}

// appendLine appends line (without its newline) to the block b of n lines
// as lines of at most MaxLine bytes, none if it is empty, and returns the
// block and its number of lines.
func appendLine(b []byte, n int, line []byte) ([]byte, int) {
	for len(line) > 0 {
		k := lineCut(line)
		b = append(append(b, line[:k]...), '\n')
		n++
		line = line[k:]
	}
	return b, n
}

// lineCut returns the length of the first piece of line: all of it up to
// MaxLine bytes, else MaxLine moved back to the start of the UTF-8
// sequence it would cut (at most three bytes back; bytes that are not
// UTF-8 are cut anywhere).
func lineCut(line []byte) int {
	if len(line) <= MaxLine {
		return len(line)
	}
	k := MaxLine
	for k > MaxLine-(utf8.UTFMax-1) && !utf8.RuneStart(line[k]) {
		k--
	}
	return k
}
