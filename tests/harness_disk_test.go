package tests

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"
)

// diskRecords is every load record found in a log's files.
type diskRecords struct {
	copies map[batchKey][]int8 // per request, copies of each record
	files  []string            // the files read, oldest first
	bytes  int64               // their total size
	// seq is, per client index, its requests in the order they were found,
	// file after file (consecutive records of one request counted once).
	seq map[int][]batchKey
	// problems are what is wrong with the files: torn lines, lines that
	// are not records.
	problems []string
}

// readLoads reads the files extra (outside the folder, say), then every
// file of the log whose active name is log in dir (logFiles: rolled files
// in time order, checked not to overlap, then the active file). Every line
// must be a whole load record and every file must end with a newline.
//
// The daemon may still be running: a size roll follows the acknowledgement
// that triggered it, a time roll comes at the next boundary, autodelete
// follows a roll; any of them may rename or remove a file between the
// listing and the reading. So the folder is listed again after the reading,
// and the whole read repeated until nothing changed in between: what is
// returned is one consistent state of the folder.
func readLoads(t *testing.T, dir, log string, extra ...string) *diskRecords {
	t.Helper()
	return readLoadsStable(t, func() string { return listing(t, dir) },
		func() []string { return append(slices.Clone(extra), logFiles(t, dir, log)...) })
}

// readLoadsIn is readLoads over the folders dirs (the log folder first,
// then rolled_dir folders: logFilesIn).
func readLoadsIn(t *testing.T, dirs []string, log string) *diskRecords {
	t.Helper()
	return readLoadsStable(t, func() string { return listing(t, dirs...) },
		func() []string { return logFilesIn(t, dirs, log) })
}

// readLoadsStable reads the files files lists (readLoadFiles) until listing,
// a description of the folders they are in, did not change during the
// reading, and reports the files' problems: readLoads for any folders.
func readLoadsStable(t *testing.T, listing func() string, files func() []string) *diskRecords {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		before := listing()
		disk, err := readLoadFiles(files())
		if err == nil && listing() == before {
			for i, p := range disk.problems {
				if i == 20 {
					t.Errorf("%d more problems not shown", len(disk.problems)-i)
					break
				}
				t.Error(p)
			}
			return disk
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log folder kept changing while it was read for %v (%v)", waitLimit, err)
		}
	}
}

// readLoadFiles reads the given files, in that order, as readLoads does,
// keeping what is wrong with them in problems. A file gone is an error.
// Compressed rolled files (.gz, .zst) are read decompressed.
func readLoadFiles(files []string) (*diskRecords, error) {
	disk := &diskRecords{copies: map[batchKey][]int8{}, files: files, seq: map[int][]batchKey{}}
	for _, f := range files {
		data, err := readRolled(f)
		if err != nil {
			return nil, err
		}
		disk.bytes += int64(len(data))
		if len(data) > 0 && data[len(data)-1] != '\n' {
			disk.problems = append(disk.problems, fmt.Sprintf("%s: last line torn (no newline): %.80q", filepath.Base(f), data[bytes.LastIndexByte(data, '\n')+1:]))
		}
		for i, line := range lines(string(data)) {
			m := loadRecordLine.FindStringSubmatch(line)
			if m == nil || len(m[5]) != len(loadRecordPad) {
				disk.problems = append(disk.problems, fmt.Sprintf("%s:%d: not a whole record: %.80q", filepath.Base(f), i+1, line))
				continue
			}
			c, _ := strconv.Atoi(m[2])
			b, _ := strconv.Atoi(m[3])
			r, _ := strconv.Atoi(m[4])
			k := batchKey{m[1], c, b}
			if disk.copies[k] == nil {
				disk.copies[k] = make([]int8, 1000)
			}
			disk.copies[k][r]++
			if seq := disk.seq[c]; len(seq) == 0 || seq[len(seq)-1] != k {
				disk.seq[c] = append(seq, k)
			}
		}
	}
	return disk, nil
}

// checkLoad checks what the disk holds of load l's requests: an
// acknowledged request's records each exactly once; an unanswered one's
// each at most once, and a prefix of the request (a crash cuts only a torn
// last line); a refused one's none. It returns the acknowledged records
// found and removes the load's requests from disk.copies, so that what is
// left at the end was never sent.
func checkLoad(t *testing.T, l *load, disk *diskRecords) (ackedOnDisk int) {
	t.Helper()
	errs := 0
	report := func(format string, args ...any) {
		if errs++; errs <= 20 {
			t.Errorf(format, args...)
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for c, rs := range l.results {
		for _, s := range rs {
			k := batchKey{l.tag, c, s.batch}
			cp := disk.copies[k]
			delete(disk.copies, k)
			n, dup, prefix := 0, 0, true
			for r := range l.batch {
				var x int8
				if cp != nil {
					x = cp[r]
				}
				if x > 0 {
					n++
					if r > 0 && cp[r-1] == 0 {
						prefix = false
					}
				}
				if x > 1 {
					dup++
				}
			}
			if cp != nil {
				for r := l.batch; r < len(cp); r++ {
					if cp[r] > 0 {
						report("load %s client %d batch %d: record r%03d on disk, but the batch has %d records", l.tag, c, s.batch, r, l.batch)
					}
				}
			}
			switch s.outcome {
			case acked:
				ackedOnDisk += n
				if n != l.batch || dup > 0 {
					report("load %s client %d batch %d acknowledged: %d of its %d records on disk, %d of them more than once", l.tag, c, s.batch, n, l.batch, dup)
				}
			case refused:
				if n > 0 {
					report("load %s client %d batch %d refused (%s): %d of its records on disk", l.tag, c, s.batch, s.detail, n)
				}
			case unknown:
				if dup > 0 || !prefix {
					report("load %s client %d batch %d unanswered (%s): %d records on disk, %d more than once, prefix %v: want each at most once, a prefix of the batch",
						l.tag, c, s.batch, s.detail, n, dup, prefix)
				}
			}
		}
	}
	if errs > 20 {
		t.Errorf("load %s: %d more problems not shown", l.tag, errs-20)
	}
	return ackedOnDisk
}

// checkNothingElse fails the test for every request on disk that no
// checked load sent (what checkLoad left in disk.copies).
func checkNothingElse(t *testing.T, disk *diskRecords) {
	t.Helper()
	n := 0
	for k := range disk.copies {
		if n++; n <= 10 {
			t.Errorf("records of load %s client %d batch %d are on disk, but no such request was sent", k.tag, k.client, k.batch)
		}
	}
}

// checkClientOrder checks that each client's requests appear on disk in the
// order they were sent, file after file: loads in the order of tags (a
// client index stands for the same sequential sender in every load), then
// batch numbers.
func checkClientOrder(t *testing.T, disk *diskRecords, tags ...string) {
	t.Helper()
	rank := map[string]int{}
	for i, tag := range tags {
		rank[tag] = i
	}
	for c, seq := range disk.seq {
		for i := 1; i < len(seq); i++ {
			a, b := seq[i-1], seq[i]
			if rank[b.tag] < rank[a.tag] || (b.tag == a.tag && b.batch < a.batch) {
				t.Errorf("client %d: load %s batch %d found after load %s batch %d: out of order", c, b.tag, b.batch, a.tag, a.batch)
				break
			}
		}
	}
}
