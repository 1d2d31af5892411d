package logging

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// deleter removes rolled files beyond rolling_max_count (Policy.MaxCount,
// with Config.AutoDelete) on its own goroutine, off the writers: unlinking a
// large rolled file is CPU work in the kernel (about 16 ms for 256 MiB on
// ext4, 48 ms on tmpfs), which the writer goroutine would otherwise spend not
// writing (docs/performance.md).
//
// Goroutine: Open starts one per Collator (run); writers hand it requests
// through request, which never blocks: a map of pending requests, one per
// log (the latest MaxCount wins), and a wake-up channel of capacity 1 that
// coalesces. Close stops it after the writers have exited, once it has
// handled every pending request, and waits for it: deletions asked for by a
// roll are done by the time Close returns.
//
// Deletions therefore follow a roll asynchronously, soon after: for a moment
// a log may have one rolled file more than MaxCount. A roll that happens while
// the deleter is busy is covered by one more pass, as the folder is listed
// afresh for each request.
type deleter struct {
	mu      sync.Mutex
	pending map[*logFile]int // log → how many rolled files to keep
	wake    chan struct{}    // capacity 1: "there are requests" (coalescing)
	stop    chan struct{}    // closed by Close once the writers have exited
	done    chan struct{}    // closed when the goroutine has exited
}

// newDeleter returns a deleter ready for requests; run runs it.
func newDeleter() *deleter {
	return &deleter{
		pending: map[*logFile]int{},
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// request asks for the rolled files of l beyond keep to be deleted. It does
// not block.
func (d *deleter) request(l *logFile, keep int) {
	d.mu.Lock()
	d.pending[l] = keep
	d.mu.Unlock()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// run is the deleter goroutine: it handles requests until stop is closed,
// then handles what is left and exits.
func (d *deleter) run(c *Collator) {
	defer close(d.done)
	for {
		select {
		case <-d.wake:
			d.handle(c)
		case <-d.stop:
			d.handle(c)
			return
		}
	}
}

// handle performs every pending request.
func (d *deleter) handle(c *Collator) {
	for {
		d.mu.Lock()
		var l *logFile
		var keep int
		for l, keep = range d.pending {
			delete(d.pending, l)
			break
		}
		d.mu.Unlock()
		if l == nil {
			return
		}
		c.deleteBeyond(l, keep)
	}
}

// shutdown stops the goroutine after its pending requests and waits for it.
// Only Close calls it, once.
func (d *deleter) shutdown() {
	close(d.stop)
	<-d.done
}

// deleteBeyond deletes the oldest rolled files of l so that at most keep
// remain, oldest by START (then END, then collision number). It runs on the
// deleter goroutine.
func (c *Collator) deleteBeyond(l *logFile, keep int) {
	ents, err := os.ReadDir(c.dir)
	if err != nil {
		c.log.Warn("cannot list log folder for rolling_max_count", "dir", c.dir, "err", err)
		return
	}
	actives := c.activeNames(l.name)
	var mine []RolledName
	var names []string
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		r, err := ParseRolledName(e.Name(), actives, c.loc)
		if err != nil || r.Active != l.name {
			continue
		}
		mine = append(mine, r)
		names = append(names, e.Name())
	}
	if len(mine) <= keep {
		return
	}
	idx := make([]int, len(mine))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		switch {
		case mine[a].Less(mine[b]):
			return -1
		case mine[b].Less(mine[a]):
			return 1
		}
		return 0
	})
	for _, i := range idx[:len(mine)-keep] {
		p := filepath.Join(c.dir, names[i])
		var size int64
		if fi, err := os.Lstat(p); err == nil {
			size = fi.Size()
		}
		if err := c.fs.remove(p); err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				c.log.Warn("cannot delete rolled file beyond rolling_max_count", "path", p, "err", err)
			}
			continue
		}
		l.count(cDeleted, 1)
		l.count(cDeletedBytes, size)
		if c.onRemove != nil {
			c.onRemove(p)
		}
		c.log.Info("deleted rolled file", "path", p, "bytes", size,
			"why", fmt.Sprintf("rolling_max_count = %d", keep))
	}
}
