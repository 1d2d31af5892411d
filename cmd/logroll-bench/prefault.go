package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Prefaulting the page cache before a throughput run.
//
// On the VM these benchmarks run on (Firecracker, virtio_balloon with free
// page reporting), memory the guest freed is handed back to the host about
// two seconds later, and the next first touch of it faults in the host. A
// file written into such memory costs several times more kernel time per
// byte than one written into memory freed just before (docs/performance.md,
// "The machine"). Which server of a pair got the fresh memory then decided
// the ratio. A
// long-running log server on a busy machine writes into page cache it
// reclaims from older files, never into fresh memory; so, just before each
// measured run (after the warm-up, outside its time and CPU), the bench
// writes and deletes as many bytes as the run will send, in the bench's
// temporary folder (the file system of the run's folder), for both servers
// alike. -no-prefault turns it off.
//
// That helps only as far as the kernel hands the freed pages out again
// before reporting them; with a low reporting order (5 on the machine these
// figures come from: every free block of 128 KiB or more is reported) runs
// still vary widely, and the report says so. The figures in
// docs/performance.md were taken with the order raised as root (echo 10 >
// /sys/module/page_reporting/parameters/page_reporting_order; the
// machine's setting is restored at its next boot).

// pageReportingParam is where the guest kernel shows its reporting order.
const pageReportingParam = "/sys/module/page_reporting/parameters/page_reporting_order"

// pageReportingQuiet is the order from which reporting stops mattering for
// the measurement: only blocks of 2 MiB and more are reported.
const pageReportingQuiet = 9

// pageReportingOrder returns the free page reporting order, or -1 when the
// machine does not report free pages.
func pageReportingOrder() int {
	data, err := os.ReadFile(pageReportingParam)
	if err != nil {
		return -1
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return -1
	}
	return n
}

// prefaultChunk is the size of one write of prefault.
const prefaultChunk = 1 << 20

// prefault writes n bytes to a new temporary file in dir and deletes it.
func prefault(dir string, n int64) error {
	f, err := os.CreateTemp(dir, ".prefault")
	if err != nil {
		return fmt.Errorf("prefault %s: %w", dir, err)
	}
	path := f.Name()
	defer os.Remove(path)
	defer f.Close()
	buf := make([]byte, prefaultChunk)
	for i := range buf {
		buf[i] = byte(i)
	}
	for n > 0 {
		m := min(n, int64(len(buf)))
		if _, err := f.Write(buf[:m]); err != nil {
			return fmt.Errorf("prefault %s: %w", path, err)
		}
		n -= m
	}
	return nil
}

// runBytes is the body bytes of a run of requests requests, each sending
// body number (i mod len(bodies)), as the load generator does.
func runBytes(bodies []batch, requests int) int64 {
	var n int64
	for i := range requests {
		n += int64(len(bodies[i%len(bodies)].body))
	}
	return n
}
