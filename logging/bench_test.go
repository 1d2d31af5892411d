package logging

import (
	"bufio"
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// Benchmark shapes: 240-byte records (plus the newline), written in batches
// of benchBatch records per Write call, the way an ingest request arrives.
const (
	benchRecord     = 240
	benchBatch      = 100
	benchBufferSize = 64 << 10
	// benchCallers is the number of concurrent callers per GOMAXPROCS for the
	// collator: an ingest server has a few requests in flight at once.
	benchCallers = 4
	// benchRotate bounds the bytes on file: both variants start over every
	// benchRotate bytes (the collator by a size roll deleting the previous
	// file, bufio by truncating), so that a long run measures the write path
	// and the page cache, not the disk's writeback or the first touch of
	// fresh memory in a VM.
	benchRotate = 256 << 20
)

// benchDir returns the folder benchmarks write into: $LOGROLL_BENCH_DIR if
// set (e.g. a tmpfs, to measure the code rather than the disk), else a
// temporary folder.
func benchDir(b *testing.B) string {
	if d := os.Getenv("LOGROLL_BENCH_DIR"); d != "" {
		d, err := os.MkdirTemp(d, "bench")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(d) })
		return d
	}
	return b.TempDir()
}

// benchRecords returns one batch of distinct 240-byte records.
func benchRecords() [][]byte {
	recs := make([][]byte, benchBatch)
	for i := range recs {
		r := bytes.Repeat([]byte{'a' + byte(i%26)}, benchRecord)
		copy(r, "record ")
		recs[i] = r
	}
	return recs
}

// BenchmarkWrite compares the collator's write path with a bare bufio.Writer
// writing the same records to a file. One op is one record; bytes/s counts
// the record and its newline.
//
//   - collator: Write calls of benchBatch records from benchCallers×GOMAXPROCS
//     goroutines (RunParallel), DurabilityWrite, size rolls every benchRotate bytes with
//     rolling_max_count 1.
//   - bufio: one goroutine, a bufio.Writer of the same buffer size, its file
//     truncated every benchRotate bytes.
func BenchmarkWrite(b *testing.B) {
	// The rolled files are deleted off the writers, as the space manager
	// does with rolling_max_count, so that the disk does not fill.
	recs := benchRecords()
	b.Run("collator", func(b *testing.B) {
		dir := benchDir(b)
		del, stopDel := benchDeleter()
		c, err := Open(Config{
			Dir:        dir,
			Hostname:   "bench",
			BufferSize: benchBufferSize,
			Durability: DurabilityWrite,
			Logs: []LogConfig{{Name: "bench.log", Policy: Policy{
				Mode: ModeSize, SizeBytes: benchRotate,
			}}},
		}, Options{Logger: slog.New(slog.DiscardHandler), OnRoll: del})
		if err != nil {
			b.Fatal(err)
		}
		defer stopDel()
		defer c.Close()
		b.SetBytes(benchRecord + 1)
		b.ReportAllocs()
		b.SetParallelism(benchCallers)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			n := 0
			for pb.Next() {
				// One Write call per benchBatch iterations (records).
				if n++; n == benchBatch {
					n = 0
					if err := c.Write("bench.log", recs); err != nil {
						b.Error(err)
						return
					}
				}
			}
			if n > 0 {
				if err := c.Write("bench.log", recs[:n]); err != nil {
					b.Error(err)
				}
			}
		})
		b.StopTimer()
		st := c.Stats().Total
		b.ReportMetric(float64(st.Bytes)/float64(max(st.WriteCalls, 1)), "B/write(2)")
	})
	b.Run("bufio", func(b *testing.B) {
		f, err := os.Create(filepath.Join(benchDir(b), "bench.log"))
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		w := bufio.NewWriterSize(f, benchBufferSize)
		b.SetBytes(benchRecord + 1)
		b.ReportAllocs()
		b.ResetTimer()
		written := 0
		for i := 0; i < b.N; i++ {
			if written >= benchRotate {
				written = 0
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
				if err := f.Truncate(0); err != nil {
					b.Fatal(err)
				}
				if _, err := f.Seek(0, 0); err != nil {
					b.Fatal(err)
				}
			}
			written += benchRecord + 1
			r := recs[i%benchBatch]
			if _, err := w.Write(r); err != nil {
				b.Fatal(err)
			}
			if err := w.WriteByte('\n'); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkRoll measures forced-roll latency (one op is one Roll of a log
// holding one small batch, written before the timer runs) and reports its
// p50 and p99 in microseconds. plain uses DurabilityWrite (no fsync); durable
// uses DurabilityRoll (the .meta and the folder fsynced after the token is
// passed on, then the rolled file fsynced, published and the folder
// fsynced again, before Roll returns).
func BenchmarkRoll(b *testing.B) {
	for _, bc := range []struct {
		name string
		dur  Durability
	}{{"plain", DurabilityWrite}, {"durable", DurabilityRoll}} {
		b.Run(bc.name, func(b *testing.B) {
			dir := benchDir(b)
			c, err := Open(Config{
				Dir:        dir,
				Hostname:   "bench",
				Durability: bc.dur,
				Logs:       []LogConfig{{Name: "bench.log"}},
			}, Options{Logger: slog.New(slog.DiscardHandler)})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			recs := benchRecords()[:10]
			lat := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if err := c.Write("bench.log", recs); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				t0 := time.Now()
				r, err := c.Roll("bench.log")
				lat = append(lat, time.Since(t0))
				if err != nil || len(r) != 1 {
					b.Fatalf("roll: %v, %d files", err, len(r))
				}
				// Keep the folder small: the rename target search stats it.
				b.StopTimer()
				if err := os.Remove(r[0].Path); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2])/1e3, "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100])/1e3, "p99-µs")
		})
	}
}

// BenchmarkFileWrite measures the kernel's buffered write(2) alone, by the
// size of each write, with no collator: the file starts over every
// benchRotate bytes like BenchmarkWrite's. It shows why the collator makes
// its writes large (lead.go, docs/performance.md "Write size"): sizes that
// are not a power of two, and small ones, cost more per byte, because each
// write allocates page-cache folios no larger than itself and its offset's
// alignment.
func BenchmarkFileWrite(b *testing.B) {
	for _, size := range []int{24100, 65000, 65536, 180000, 1 << 20} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			f, err := os.Create(filepath.Join(benchDir(b), "bench.log"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			buf := bytes.Repeat([]byte{'a'}, size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			var off int64
			for i := 0; i < b.N; i++ {
				if off >= benchRotate {
					if err := f.Truncate(0); err != nil {
						b.Fatal(err)
					}
					off = 0
				}
				n, err := f.WriteAt(buf, off)
				if err != nil {
					b.Fatal(err)
				}
				off += int64(n)
			}
		})
	}
}

// benchDeleter returns an OnRoll hook that deletes every rolled file on a
// goroutine of its own (as the space manager would, off the writers), and
// the function that stops that goroutine once the collator is closed.
func benchDeleter() (onRoll func(Rolled), stop func()) {
	paths := make(chan string, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range paths {
			_ = os.Remove(p)
		}
	}()
	return func(r Rolled) { paths <- r.Path }, func() { close(paths); <-done }
}
