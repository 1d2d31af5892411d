package ctl

import (
	"bytes"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// The pipe's reader. Input is read straight into an arena, the buffer the
// queued chunks are slices of, and checked a whole read at a time: when
// every line of it is valid UTF-8 without NUL and at most MaxLine bytes
// long (the common case), its lines are queued as they were read, with no
// per-line work and no copy. Only a read holding a line that needs repair
// or a split is rewritten, line by line (repairLines).
//
// Lines are queued as soon as nothing more is waiting to be read (so that
// a quiet writer's lines go at once) or the sender is idle (so that it is
// never kept waiting while lines are held); otherwise reads accumulate up
// to a full arena, so that a fast writer's lines go in requests of about
// Batch bytes, the next one read while the last is being posted.

// pipeMaxPipeBuffer is the size asked for a pipe on standard input (F_SETPIPE_SZ;
// /proc/sys/fs/pipe-max-size, 1 MiB by default, is the most an unprivileged
// process gets): a fast writer fills it while the pipe is posting, and
// each read takes up to that much at once.
const pipeMaxPipeBuffer = 1 << 20

// lineReader is the state of read: the arena being filled and what of it
// is checked.
type lineReader struct {
	p     *pipe
	src   *pipeSource
	a     *pipeArena
	start int   // a.buf[start:done]: checked whole lines, not queued yet
	done  int   // a.buf[done:]: read, not checked (it ends inside a line)
	lines int64 // lines in a.buf[start:done]
}

// read reads r until EOF, an error, or the queue closes, and queues its
// lines.
func (p *pipe) read(r io.Reader) error {
	l := &lineReader{p: p, src: newPipeSource(r), a: p.q.arena(p.cfg.Batch)}
	defer func() { p.q.release(l.a) }()
	for {
		if len(l.a.buf) == cap(l.a.buf) && !l.makeRoom() {
			return nil
		}
		b := l.a.buf
		n, err := r.Read(b[len(b):cap(b)])
		l.a.buf = b[:len(b)+n]
		if !l.scan() {
			return nil
		}
		if err != nil {
			// The end, or reading stopped (a stop's read deadline): a
			// partial line read is delivered too, with a newline.
			if err == io.EOF {
				err = nil
			}
			if l.finish() {
				l.push()
			}
			p.q.close()
			return err
		}
		if l.done > l.start && (l.src.waiting() == 0 || p.q.idle()) && !l.push() {
			return nil
		}
	}
}

// finish checks the last line, one without a final newline, with one
// added.
func (l *lineReader) finish() bool {
	if l.done == len(l.a.buf) {
		return true
	}
	if len(l.a.buf) == cap(l.a.buf) && !l.makeRoom() {
		return false
	}
	l.a.buf = append(l.a.buf, '\n')
	return l.scan()
}

// scan checks what was read since the last scan: its whole lines become
// checked, in place when they need nothing, rewritten by repairLines
// otherwise. A partial line longer than MaxLine is split at once. It
// reports false when the queue closed.
func (l *lineReader) scan() bool {
	region := l.a.buf[l.done:]
	last := bytes.LastIndexByte(region, '\n')
	maxLine := l.p.cfg.MaxLine
	if last < 0 {
		if len(region) > maxLine {
			return l.repairLines(true)
		}
		return true
	}
	whole := region[:last+1]
	if len(region)-len(whole) <= maxLine && bytes.IndexByte(whole, 0) < 0 && utf8.Valid(whole) && linesFit(whole, maxLine) {
		l.lines += int64(bytes.Count(whole, newline))
		l.done += len(whole)
		return true
	}
	return l.repairLines(len(region)-len(whole) > maxLine)
}

var newline = []byte{'\n'}

// linesFit reports whether every line of b (whole lines) is at most max
// bytes long, newline excluded: every window of max+1 bytes holds a
// newline.
func linesFit(b []byte, max int) bool {
	for len(b) > max+1 {
		i := bytes.LastIndexByte(b[:max+1], '\n')
		if i < 0 {
			return false
		}
		b = b[i+1:]
	}
	return true
}

// repairLines rewrites what was read since the last scan line by line:
// invalid UTF-8 and NUL bytes become U+FFFD, and a line longer than
// MaxLine is split into lines of at most MaxLine bytes (a UTF-8 sequence
// is never cut); with splitTail, the partial line at the end (longer than
// MaxLine) is split too, its last piece left unchecked for the next read.
// Lines that no longer fit in the arena go on in a new one.
func (l *lineReader) repairLines(splitTail bool) bool {
	raw := bytes.Clone(l.a.buf[l.done:])
	l.a.buf = l.a.buf[:l.done]
	maxLine := l.p.cfg.MaxLine
	for len(raw) > 0 {
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			if !l.emit(raw[:i]) {
				return false
			}
			raw = raw[i+1:]
			continue
		}
		if !splitTail || len(raw) <= maxLine {
			break
		}
		// The partial line: a piece of MaxLine bytes goes now.
		cut := runeCut(raw, maxLine)
		l.p.count(func(st *PipeStats) { st.Split++ })
		if !l.emit(raw[:cut]) {
			return false
		}
		raw = raw[cut:]
	}
	// The rest is the partial line, unchecked.
	if cap(l.a.buf)-len(l.a.buf) < len(raw) && !l.makeRoom() {
		return false
	}
	l.a.buf = append(l.a.buf, raw...)
	return true
}

// emit appends one line (without its newline) as checked lines: repaired
// when it holds invalid UTF-8 or NUL, cut into pieces of at most MaxLine
// bytes when longer.
func (l *lineReader) emit(line []byte) bool {
	maxLine := l.p.cfg.MaxLine
	if bytes.IndexByte(line, 0) >= 0 || !utf8.Valid(line) {
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
		line = bytes.ReplaceAll(line, []byte{0}, []byte("\uFFFD"))
		l.p.count(func(st *PipeStats) { st.Repaired++ })
	}
	for {
		piece := line
		if len(piece) > maxLine {
			piece = line[:runeCut(line, maxLine)]
			l.p.count(func(st *PipeStats) { st.Split++ })
		}
		if cap(l.a.buf)-len(l.a.buf) < len(piece)+1 && !l.makeRoom() {
			return false
		}
		l.a.buf = append(append(l.a.buf, piece...), '\n')
		l.done = len(l.a.buf)
		l.lines++
		line = line[len(piece):]
		if len(line) == 0 {
			return true
		}
	}
}

// runeCut returns where to cut b to keep at most max bytes without
// cutting a UTF-8 sequence: max, moved back to the start of the sequence
// it would cut (by at most 3 bytes; invalid bytes are cut anywhere).
func runeCut(b []byte, max int) int {
	if len(b) <= max {
		return len(b)
	}
	for k := 0; k < utf8.UTFMax && max-k > 0; k++ {
		if utf8.RuneStart(b[max-k]) {
			return max - k
		}
	}
	return max
}

// push queues the checked lines; false once the queue is closed.
func (l *lineReader) push() bool {
	if l.done == l.start {
		return true
	}
	ok := l.p.q.push(l.a, l.a.buf[l.start:l.done:l.done], l.lines)
	l.start, l.lines = l.done, 0
	return ok
}

// makeRoom queues the checked lines and moves the unchecked rest (a
// partial line, at most MaxLine bytes) to a new arena when the arena is
// full; false once the queue is closed.
func (l *lineReader) makeRoom() bool {
	if !l.push() {
		return false
	}
	old := l.a
	l.a = l.p.q.arena(l.p.cfg.Batch)
	l.a.buf = append(l.a.buf, old.buf[l.done:]...)
	l.start, l.done = 0, 0
	l.p.q.release(old)
	return true
}

// count updates the stats the reader keeps.
func (p *pipe) count(f func(*PipeStats)) {
	p.mu.Lock()
	f(&p.st)
	p.mu.Unlock()
}

// pipeSource is what RunPipe knows of its input beyond io.Reader: when it
// is a file (standard input), how many bytes are waiting to be read.
type pipeSource struct {
	f *os.File
}

// newPipeSource returns the source of r; for a pipe, it asks for a
// pipeMaxPipeBuffer buffer (failing quietly: the pipe keeps its size).
func newPipeSource(r io.Reader) *pipeSource {
	f, ok := r.(*os.File)
	if !ok {
		return nil
	}
	s := &pipeSource{f: f}
	if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeNamedPipe != 0 {
		s.control(func(fd int) { unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeMaxPipeBuffer) })
	}
	return s
}

// control runs fn on the file's descriptor without changing its mode
// (File.Fd would make it blocking and its read deadline useless).
func (s *pipeSource) control(fn func(fd int)) {
	if rc, err := s.f.SyscallConn(); err == nil {
		rc.Control(func(fd uintptr) { fn(int(fd)) })
	}
}

// waiting returns the bytes that can be read at once (FIONREAD, alias TIOCINQ), 0 when
// unknown.
func (s *pipeSource) waiting() int {
	if s == nil {
		return 0
	}
	n := 0
	s.control(func(fd int) {
		if v, err := unix.IoctlGetInt(fd, unix.TIOCINQ); err == nil {
			n = v
		}
	})
	return n
}
