package logging

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// BenchmarkCompressVsStock compresses the same file of access-log lines
// (LOGROLL_BENCH_MB MiB, default 64) with logroll's encoder (what a
// compression worker runs: klauspost/compress, one goroutine) and with the
// stock command (gzip -1, gzip -6, zstd -3, into a file as well), in turn
// within every iteration, and reports both throughputs, their ratio
// (logroll ÷ stock: the goal is ≥ 1) and the compression ratios. The file
// is read from the page cache by both; neither fsyncs.
//
//	go test -run XXX -bench CompressVsStock -benchtime 5x ./logging/
func BenchmarkCompressVsStock(b *testing.B) {
	mb := 64
	if s := os.Getenv("LOGROLL_BENCH_MB"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			mb = n
		}
	}
	dir := b.TempDir()
	if d := os.Getenv("LOGROLL_BENCH_DIR"); d != "" {
		var err error
		if dir, err = os.MkdirTemp(d, "czbench"); err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}
	src := filepath.Join(dir, "access.log")
	size := writeAccessLog(b, src, int64(mb)<<20)
	for _, tc := range []struct {
		name  string
		s     Storage
		stock []string
	}{
		{"gzip-1", Storage{Compression: CompressionGzip, Level: 1}, []string{"gzip", "-1", "-c"}},
		{"gzip-6", Storage{Compression: CompressionGzip, Level: 6}, []string{"gzip", "-6", "-c"}},
		{"zstd-3", Storage{Compression: CompressionZstd, Level: 3}, []string{"zstd", "-3", "-c", "-q"}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if _, err := exec.LookPath(tc.stock[0]); err != nil {
				b.Skipf("%s is not installed", tc.stock[0])
			}
			// At normal priority, as the stock command: this compares the
			// encoders, not the machine's other load.
			pool := newChunkPool(runtime.GOMAXPROCS(0), true, func(err error) { b.Log(err) })
			defer pool.close()
			var ours, theirs time.Duration
			var oursOut, theirsOut int64
			b.SetBytes(size)
			for b.Loop() {
				d, n := timeOurs(b, pool, tc.s, src, filepath.Join(dir, "ours"))
				ours += d
				oursOut = n
				d, n = timeStock(b, tc.stock, src, filepath.Join(dir, "theirs"))
				theirs += d
				theirsOut = n
			}
			mbps := func(d time.Duration) float64 { return float64(size) * float64(b.N) / d.Seconds() / 1e6 }
			b.ReportMetric(mbps(ours), "logroll-MB/s")
			b.ReportMetric(mbps(theirs), "stock-MB/s")
			b.ReportMetric(theirs.Seconds()/ours.Seconds(), "speed-ratio")
			b.ReportMetric(float64(size)/float64(oursOut), "logroll-x")
			b.ReportMetric(float64(size)/float64(theirsOut), "stock-x")
		})
	}
}

// timeOurs compresses src into dst with logroll's encoder and returns the
// time it took and the size written.
func timeOurs(b *testing.B, pool *chunkPool, s Storage, src, dst string) (time.Duration, int64) {
	in, err := os.Open(src)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	t0 := time.Now()
	bw := bufio.NewWriterSize(out, 256<<10)
	n, err := pool.encodeFile(bw, in, s, "access.log", t0, nil, nil)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(t0), n
}

// timeStock runs the stock command on src into dst and returns the time
// until it exited and the size written.
func timeStock(b *testing.B, argv []string, src, dst string) (time.Duration, int64) {
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(argv[0], append(argv[1:], src)...)
	cmd.Stdout = out
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		b.Fatalf("%v: %v", argv, err)
	}
	d := time.Since(t0)
	fi, err := out.Stat()
	if err != nil {
		b.Fatal(err)
	}
	return d, fi.Size()
}

// writeAccessLog writes about size bytes of combined-log-format lines to
// path (client addresses, paths, statuses, sizes and agents drawn from a
// fixed seed) and returns the size written.
func writeAccessLog(b *testing.B, path string, size int64) int64 {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	rnd := rand.New(rand.NewPCG(1, 2))
	agents := []string{
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		"curl/8.5.0", "Go-http-client/1.1", "Prometheus/2.53.0",
	}
	paths := []string{"/", "/index.html", "/api/v1/items", "/api/v1/items/%d", "/static/app.%x.js", "/login", "/search?q=%x"}
	statuses := []int{200, 200, 200, 200, 304, 301, 404, 500}
	t := time.Date(2026, 11, 21, 6, 0, 0, 0, time.UTC)
	var n int64
	for n < size {
		t = t.Add(time.Duration(rnd.IntN(20)) * time.Millisecond)
		p := paths[rnd.IntN(len(paths))]
		if p[len(p)-1] == 'd' || p[len(p)-1] == 'x' {
			p = fmt.Sprintf(p, rnd.IntN(1_000_000))
		}
		k, _ := fmt.Fprintf(w, "10.%d.%d.%d - - [%s] \"GET %s HTTP/1.1\" %d %d \"-\" \"%s\"\n",
			rnd.IntN(4), rnd.IntN(256), rnd.IntN(256), t.Format("02/Jan/2006:15:04:05 -0700"),
			p, statuses[rnd.IntN(len(statuses))], rnd.IntN(100_000), agents[rnd.IntN(len(agents))])
		n += int64(k)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	return n
}
