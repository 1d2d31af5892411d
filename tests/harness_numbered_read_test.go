package tests

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/logroll/logroll/logging"
)

// Readers of numbered records (harness_numbered_test.go): readLog, a plain
// read of a log that is not being written, and lookNumbered, a consistent
// look at a log being written, rolled and deleted meanwhile.

// logOnDisk is what the folder holds of one log.
type logOnDisk struct {
	rolled []string    // rolled file names, sorted
	ids    map[int]int // record id → copies
	bytes  int64       // bytes of its active and rolled files
}

// readLog reads every file of log (its active name) in dir, whose records
// must all be lines of stream tag.
func readLog(t *testing.T, dir, log, tag string) logOnDisk {
	t.Helper()
	active, rolled := logNames(t, dir, log)
	return readNames(t, dir, append(rolled, active...), tag)
}

// logNames lists the files of log in dir: its active file (if any), and its
// rolled files, sorted by name.
func logNames(t *testing.T, dir, log string) (active, rolled []string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		n := e.Name()
		if n == log {
			active = append(active, n)
		} else if m := rolledName.FindStringSubmatch(n); m != nil && m[1] == log {
			rolled = append(rolled, n)
		}
	}
	sort.Strings(rolled)
	return active, rolled
}

// readNames reads the files names of dir, whose records must all be lines of
// stream tag (readNumberedFile).
func readNames(t *testing.T, dir string, names []string, tag string) logOnDisk {
	t.Helper()
	l := logOnDisk{ids: map[int]int{}}
	for _, n := range names {
		if rolledName.MatchString(n) {
			l.rolled = append(l.rolled, n)
		}
		f, err := readNumberedFile(filepath.Join(dir, n), tag, false)
		if errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
		if err != nil {
			t.Error(err)
		}
		l.bytes += f.bytes
		for _, id := range f.ids {
			l.ids[id]++
		}
	}
	sort.Strings(l.rolled)
	return l
}

// plus returns the records of l and o together.
func (l logOnDisk) plus(o logOnDisk) logOnDisk {
	r := logOnDisk{ids: map[int]int{}, bytes: l.bytes + o.bytes}
	r.rolled = append(append(r.rolled, l.rolled...), o.rolled...)
	for id, n := range l.ids {
		r.ids[id] += n
	}
	for id, n := range o.ids {
		r.ids[id] += n
	}
	return r
}

// checkNewest checks that the records of a log on disk are each there once,
// and are the ids lo..last with no gap: the newest were kept. It returns lo.
func checkNewest(t *testing.T, what string, l logOnDisk, last int) int {
	t.Helper()
	lo := last + 1
	for id, n := range l.ids {
		if n != 1 {
			t.Errorf("%s: record %d is on disk %d times", what, id, n)
		}
		if id > last || id < 0 {
			t.Errorf("%s: record %d was never posted (last %d)", what, id, last)
		}
		lo = min(lo, id)
	}
	if len(l.ids) == 0 {
		t.Errorf("%s: no record on disk", what)
		return lo
	}
	if want := last - lo + 1; len(l.ids) != want {
		var missing []int
		for id := lo; id <= last && len(missing) < 10; id++ {
			if l.ids[id] == 0 {
				missing = append(missing, id)
			}
		}
		t.Errorf("%s: %d records on disk from %d to %d, want %d contiguous ones; missing (first 10): %v",
			what, len(l.ids), lo, last, want, missing)
	}
	return lo
}

// numberedFile is one file of a log and the records of one tag it holds.
type numberedFile struct {
	name   string
	ino    uint64
	bytes  int64
	lo, hi int // lowest and highest record id; lo > hi when empty
	ids    []int
}

// readNumberedFile reads path's whole records of tag. With partial, a last line
// without its newline is ignored (the active file may be read in the middle
// of a write); otherwise it is an error, as is any line that is not a
// record of tag.
func readNumberedFile(path, tag string, partial bool) (numberedFile, error) {
	f := numberedFile{name: filepath.Base(path), lo: 1 << 62, hi: -1}
	data, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	f.bytes = int64(len(data))
	if i := strings.LastIndexByte(string(data), '\n'); i+1 < len(data) {
		if !partial {
			return f, fmt.Errorf("%s: last line torn (no newline)", f.name)
		}
		data = data[:i+1]
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		m := numberedLineRE.FindStringSubmatch(sc.Text())
		if m == nil || m[1] != tag || len(sc.Text()) != numberedLineLen-1 {
			return f, fmt.Errorf("%s line %d is not a record of %q: %.60q", f.name, n, tag, sc.Text())
		}
		id, _ := strconv.Atoi(m[2])
		f.ids = append(f.ids, id)
		f.lo, f.hi = min(f.lo, id), max(f.hi, id)
	}
	return f, nil
}

// numberedFolder is one consistent look at a log's files: its rolled files (in
// no particular order) and its active file.
type numberedFolder struct {
	rolled []numberedFile
	active numberedFile
}

// lookNumbered reads the files of log (active name) in dir, all records of tag,
// until the folder's rolled files and the active file's inode were the same
// before and after the reading (a roll or a deletion may happen in
// between). cache keeps rolled files already read (they never change) by
// name, inode, size and modification time; it may be nil.
func lookNumbered(t *testing.T, dir, log, tag string, cache map[string]numberedFile) numberedFolder {
	t.Helper()
	// listing identifies each file: the active file by its inode (it grows
	// while it is read), a rolled file by its inode, size and modification
	// time (an inode number can be reused at once for a new file).
	type id struct {
		ino        uint64
		size, time int64
	}
	listing := func() (map[string]id, error) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return nil, err
		}
		m := map[string]id{}
		for _, e := range ents {
			n := e.Name()
			// A rolled file waiting, hidden, for its publication or its
			// compression (.<name>.raw) holds records too: until it is
			// renamed, they are in no visible file.
			shown := n
			if logging.IsPending(n) {
				shown = strings.TrimSuffix(n[1:], ".raw")
			}
			if rm := rolledName.FindStringSubmatch(shown); n != log && (rm == nil || rm[1] != log) {
				continue
			}
			fi, err := e.Info()
			if err != nil {
				return nil, err // gone since the listing
			}
			m[n] = id{ino: fi.Sys().(*syscall.Stat_t).Ino}
			if n != log {
				m[n] = id{m[n].ino, fi.Size(), fi.ModTime().UnixNano()}
			}
		}
		return m, nil
	}
	deadline := time.Now().Add(waitLimit)
	for {
		before, err := listing()
		var f numberedFolder
		for n, fid := range before {
			if err != nil {
				break
			}
			if n == log {
				f.active, err = readNumberedFile(filepath.Join(dir, n), tag, true)
				f.active.ino = fid.ino
				continue
			}
			key := fmt.Sprint(n, fid)
			r, ok := cache[key]
			if !ok {
				if r, err = readNumberedFile(filepath.Join(dir, n), tag, false); err != nil {
					break
				}
				r.ino = fid.ino
				if cache != nil {
					cache[key] = r
				}
			}
			f.rolled = append(f.rolled, r)
		}
		if err == nil {
			after, err2 := listing()
			if err2 == nil && fmt.Sprint(after) == fmt.Sprint(before) {
				return f
			}
			err = err2
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log folder kept changing while it was read for %v (%v)", waitLimit, err)
		}
		time.Sleep(pollStep)
	}
}

// checkContiguous checks that the records in f are each there once and
// are lo..hi with no gap, and returns lo and hi: whatever was deleted was
// older (lower ids) than everything kept. It returns a description of what
// is wrong, "" when nothing.
func checkContiguous(f numberedFolder) (lo, hi int, problem string) {
	seen := map[int]string{}
	lo, hi = 1<<62, -1
	var dup []string
	for _, file := range append([]numberedFile{f.active}, f.rolled...) {
		for _, id := range file.ids {
			if prev, ok := seen[id]; ok && len(dup) < 5 {
				dup = append(dup, fmt.Sprintf("record %d in %s and %s", id, prev, file.name))
			}
			seen[id] = file.name
			lo, hi = min(lo, id), max(hi, id)
		}
	}
	if len(dup) > 0 {
		return lo, hi, "records on disk twice: " + strings.Join(dup, "; ")
	}
	if len(seen) == 0 || len(seen) == hi-lo+1 {
		return lo, hi, ""
	}
	// Describe the files around the first gap.
	files := append([]numberedFile{}, f.rolled...)
	sort.Slice(files, func(i, j int) bool { return files[i].lo < files[j].lo })
	var b strings.Builder
	for _, file := range append(files, f.active) {
		fmt.Fprintf(&b, "\n  %s: records %d..%d", file.name, file.lo, file.hi)
	}
	for id := lo; id <= hi; id++ {
		if _, ok := seen[id]; !ok {
			return lo, hi, fmt.Sprintf("records %d..%d on disk with a gap at %d: a newer file was deleted while an older one was kept; files:%s", lo, hi, id, b.String())
		}
	}
	return lo, hi, ""
}
