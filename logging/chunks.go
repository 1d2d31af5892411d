package logging

import (
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"golang.org/x/sys/unix"
)

// Parallel compression at idle CPU priority.
//
// A rolled file is compressed in chunks of chunkSize bytes, each an
// independent gzip member or zstd frame, on a few threads at once; the
// members (frames) are written in order, one after the other. Concatenated
// members and frames are one valid file for both formats (RFC 1952 §2.2,
// RFC 8878 §3): gzip -d and zstd -d read the file whole, byte-identical to
// the raw file, and so does every library reader. That is how pigz and
// pzstd compress on several cores; a chunk of 1 MiB costs little ratio
// on logs (gzip's window is 32 KiB anyway; zstd -3's 8 MiB window finds a
// few more matches across chunks).
//
// The threads are OS threads of their own (runtime.LockOSThread, never
// unlocked: they end with their goroutine) at the lowest priority, nice
// 19: the kernel gives them a CPU nothing else wants, and under full load
// next to none, so that compression takes next to no CPU from ingest
// and the write path (docs/design.md §10: "off the write path") and still
// progresses on a machine that is never idle (SCHED_IDLE would let a busy
// machine starve it, and hidden raw files pile up). A thread compressing
// holds a Go P, though, which the kernel may then not run for a while; so
// the compressor raises GOMAXPROCS by the number of threads while it
// compresses (raiseProcs), and the write path keeps its Ps.

// chunkSize is the size of the parts compressed independently.
const chunkSize = 1 << 20

// chunk is one part of a file to compress, and its result.
type chunk struct {
	in    []byte
	out   []byte
	s     Storage
	name  string    // gzip: the original name, in the first member only
	mtime time.Time // gzip: the modification time, in every member
	err   error
	done  chan struct{}
}

// Yielding to a busy machine. Even at the lowest priority, compressing
// while the CPUs are busy costs the write path (caches, memory bandwidth,
// the Go scheduler; docs/performance.md, "Compression off the write
// path"); so before each chunk the compressor looks whether
// less than half a CPU was idle over the last 50 ms (/proc/stat, idle.go),
// and while so, it waits yieldStep, at most yieldMax in a row: on a
// saturated machine it compresses about one chunk per yieldMax, on one
// with a CPU to spare at full speed. A backlog that grows is bounded by
// maxCompressBacklog (compress.go).
const (
	yieldStep = 10 * time.Millisecond
	yieldMax  = 100 * time.Millisecond
)

// chunkPool is the compression threads.
type chunkPool struct {
	work chan *chunk
	wg   sync.WaitGroup
	bufs sync.Pool // *[]byte of capacity chunkSize: a chunk's input
	outs sync.Pool // *[]byte: a chunk's compressed output, reused (no garbage to collect on the write path's Ps)
	n    int
}

// newChunkPool starts n threads (at least one), at the lowest priority
// unless normal is set (benchmarks against a command at normal priority). warn
// receives a failure to lower their priority, once.
func newChunkPool(n int, normal bool, warn func(err error)) *chunkPool {
	p := &chunkPool{work: make(chan *chunk), n: max(n, 1)}
	var once sync.Once
	for range p.n {
		p.wg.Go(func() { p.thread(normal, func(err error) { once.Do(func() { warn(err) }) }) })
	}
	return p
}

// close stops the threads and waits for them.
func (p *chunkPool) close() {
	close(p.work)
	p.wg.Wait()
}

// thread compresses chunks until work is closed, on an OS thread of its
// own at the lowest priority; the thread ends with it (it stays locked).
func (p *chunkPool) thread(normal bool, warn func(err error)) {
	runtime.LockOSThread()
	if normal {
		runtime.UnlockOSThread() // an ordinary goroutine
	} else if err := lowPriority(); err != nil {
		warn(err)
	}
	var enc chunkEncoders
	defer enc.close()
	for c := range p.work {
		c.out, c.err = enc.encode(c, p.getOut())
		close(c.done)
	}
}

// lowPriority gives the calling thread the lowest priority, nice 19
// (Linux's setpriority on a thread ID sets that thread's).
func lowPriority() error {
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19); err != nil {
		return fmt.Errorf("compression threads at the lowest priority (nice 19): %w", err)
	}
	return nil
}

// procs counts the threads of every collator's compressions in progress,
// for raiseProcs.
var procs struct {
	mu    sync.Mutex
	extra int
}

// raiseProcs adds n to GOMAXPROCS while a file is compressed on n threads
// (see above); the returned function takes them back.
func raiseProcs(n int) func() {
	procs.mu.Lock()
	procs.extra += n
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + n)
	procs.mu.Unlock()
	return func() {
		procs.mu.Lock()
		procs.extra -= n
		runtime.GOMAXPROCS(max(runtime.GOMAXPROCS(0)-n, 1))
		procs.mu.Unlock()
	}
}

// encodeFile compresses all of in into out as s says, in chunks on the
// pool's threads, and returns the bytes written to out. name and mtime go
// into the gzip header (gzip -N restores them). Before each chunk it calls
// pace, when set, which waits while the writers are busy (see yieldStep).
// It stops with errAborted when abort is closed (checked between chunks).
func (p *chunkPool) encodeFile(out io.Writer, in io.Reader, s Storage, name string, mtime time.Time, pace func(), abort <-chan struct{}) (int64, error) {
	if s.Compression != CompressionGzip && s.Compression != CompressionZstd {
		return 0, fmt.Errorf("compression %v: nothing to encode", s.Compression)
	}
	restore := raiseProcs(p.n)
	defer restore()
	var (
		inflight []*chunk
		written  int64
		eof      bool
		first    = true
	)
	defer func() {
		for _, c := range inflight { // on an error: wait for the threads, free the buffers
			<-c.done
			p.putBuf(c.in)
			p.putOut(c.out)
		}
	}()
	flush := func() error {
		c := inflight[0]
		<-c.done
		inflight = inflight[1:]
		p.putBuf(c.in)
		if c.err != nil {
			return c.err
		}
		n, err := out.Write(c.out)
		written += int64(n)
		p.putOut(c.out)
		return err
	}
	for !eof || len(inflight) > 0 {
		select {
		case <-abort:
			return 0, errAborted
		default:
		}
		if !eof && len(inflight) < 2*p.n {
			if pace != nil {
				pace()
			}
			buf := p.getBuf()
			n, err := io.ReadFull(in, buf)
			switch {
			case err == io.EOF || err == io.ErrUnexpectedEOF:
				eof = true
			case err != nil:
				p.putBuf(buf)
				return 0, err
			}
			if n == 0 && !first {
				p.putBuf(buf)
				continue
			}
			c := &chunk{in: buf[:n], s: s, mtime: mtime, done: make(chan struct{})}
			if first {
				c.name = name // an empty file is one empty member or frame
			}
			first = false
			inflight = append(inflight, c)
			p.work <- c
			continue
		}
		if err := flush(); err != nil {
			return 0, err
		}
	}
	return written, nil
}

func (p *chunkPool) getBuf() []byte {
	if b, ok := p.bufs.Get().(*[]byte); ok {
		return (*b)[:chunkSize]
	}
	return make([]byte, chunkSize)
}

func (p *chunkPool) putBuf(b []byte) {
	b = b[:0]
	p.bufs.Put(&b)
}

func (p *chunkPool) getOut() []byte {
	if b, ok := p.outs.Get().(*[]byte); ok {
		return (*b)[:0]
	}
	return make([]byte, 0, chunkSize/2)
}

func (p *chunkPool) putOut(b []byte) {
	if cap(b) == 0 {
		return
	}
	b = b[:0]
	p.outs.Put(&b)
}

// chunkEncoders are one thread's encoders, made again only when the level
// changes (a zstd encoder's tables are costly to make).
type chunkEncoders struct {
	gz    *gzip.Writer
	gzLvl int
	gzOut appendWriter
	zs    *zstd.Encoder
	zsLvl int
}

// appendWriter appends what is written to b.
type appendWriter struct{ b []byte }

func (a *appendWriter) Write(p []byte) (int, error) {
	a.b = append(a.b, p...)
	return len(p), nil
}

// encode compresses c.in into a new member (gzip) or frame (zstd),
// appended to out (empty, reused), and returns it.
func (e *chunkEncoders) encode(c *chunk, out []byte) ([]byte, error) {
	lvl := c.s.level()
	switch c.s.Compression {
	case CompressionGzip:
		e.gzOut.b = out
		if e.gz == nil || e.gzLvl != lvl {
			gz, err := gzip.NewWriterLevel(&e.gzOut, lvl)
			if err != nil {
				return nil, err
			}
			e.gz, e.gzLvl = gz, lvl
		} else {
			e.gz.Reset(&e.gzOut)
		}
		e.gz.Name, e.gz.ModTime = c.name, c.mtime
		if _, err := e.gz.Write(c.in); err != nil {
			return nil, err
		}
		if err := e.gz.Close(); err != nil {
			return nil, err
		}
		out, e.gzOut.b = e.gzOut.b, nil
		return out, nil
	case CompressionZstd:
		if e.zs == nil || e.zsLvl != lvl {
			if e.zs != nil {
				_ = e.zs.Close()
			}
			zs, err := zstd.NewWriter(nil,
				zstd.WithEncoderLevel(zstd.EncoderLevelFromZstd(lvl)),
				zstd.WithEncoderConcurrency(1), // the pool's threads are the parallelism
				zstd.WithEncoderCRC(true),
				zstd.WithZeroFrames(true)) // an empty file is one empty frame, which zstd -d reads
			if err != nil {
				return nil, err
			}
			e.zs, e.zsLvl = zs, lvl
		}
		return e.zs.EncodeAll(c.in, out), nil
	}
	return nil, fmt.Errorf("compression %v: nothing to encode", c.s.Compression)
}

// close releases the encoders.
func (e *chunkEncoders) close() {
	if e.zs != nil {
		_ = e.zs.Close()
	}
}
