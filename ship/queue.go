package ship

import (
	"cmp"
	"slices"
	"time"

	"github.com/logroll/logroll/space"
)

// Item is one finished file to hand on: its path and the fields parsed
// from its name (space.RolledFile, the one parser of rolled names).
type Item struct {
	// Path is the file's absolute path.
	Path string
	space.File
}

// taskID names one step of one file.
type taskID struct {
	step step
	name string
}

// task is one step (ship or hook) of one file, waiting or running.
type task struct {
	id       taskID
	item     Item
	due      time.Time // not before: the backoff after a failure
	failures int       // failures in a row
	parked   bool      // a permanent failure: not retried until unpark
	running  bool
	last     *Failure // the last failure, for status
}

// queue is the pending set: every step not yet done, by file. It is pure
// data (no I/O, no clock of its own), owned by the manager's goroutine, and
// tested with tables.
type queue struct {
	tasks map[taskID]*task
}

func newQueue() *queue { return &queue{tasks: map[taskID]*task{}} }

// add queues step s of it, due now; false if it is queued already.
func (q *queue) add(s step, it Item, now time.Time) bool {
	id := taskID{s, it.Name}
	if _, ok := q.tasks[id]; ok {
		return false
	}
	q.tasks[id] = &task{id: id, item: it, due: now}
	return true
}

// ready returns up to limit tasks of step s that may start at now: not
// running, not parked, due. The oldest files go first (space.OldestFirst),
// so that after an outage the files closest to a retention rule ship first.
func (q *queue) ready(s step, now time.Time, limit int) []*task {
	if limit <= 0 {
		return nil
	}
	var out []*task
	for _, t := range q.tasks {
		if t.id.step == s && !t.running && !t.parked && !t.due.After(now) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b *task) int { return space.OldestFirst(a.item.File, b.item.File) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out
}

// nextDue returns the earliest due time of a task waiting for its backoff;
// zero when none waits.
func (q *queue) nextDue() time.Time {
	var next time.Time
	for _, t := range q.tasks {
		if t.running || t.parked {
			continue
		}
		if next.IsZero() || t.due.Before(next) {
			next = t.due
		}
	}
	return next
}

// finish removes a task that is done (or whose file is gone).
func (q *queue) finish(id taskID) { delete(q.tasks, id) }

// fail records a failure of a running task: a permanent kind parks it,
// anything else makes it due again after wait.
func (q *queue) fail(id taskID, f *Failure, now time.Time, wait time.Duration) {
	t := q.tasks[id]
	if t == nil {
		return
	}
	t.running = false
	t.failures++
	t.last = f
	if f.Kind.Permanent() {
		t.parked = true
		return
	}
	t.due = now.Add(wait)
}

// unpark makes every parked task due now (a reload: the operator may have
// fixed what refused them). It returns how many.
func (q *queue) unpark(now time.Time) int {
	n := 0
	for _, t := range q.tasks {
		if t.parked {
			t.parked, t.due, t.failures = false, now, 0
			n++
		}
	}
	return n
}

// drop removes the tasks of files for which keep is false (their log no
// longer hands that step on), except running ones, and returns how many.
func (q *queue) drop(keep func(s step, it Item) bool) int {
	n := 0
	for id, t := range q.tasks {
		if !t.running && !keep(id.step, t.item) {
			delete(q.tasks, id)
			n++
		}
	}
	return n
}

// pendingFile is one file with steps left, for status.
type pendingFile struct {
	item   Item
	steps  step
	parked bool
}

// files returns the files with steps left, oldest first.
func (q *queue) files() []pendingFile {
	byName := map[string]*pendingFile{}
	for _, t := range q.tasks {
		p := byName[t.id.name]
		if p == nil {
			p = &pendingFile{item: t.item}
			byName[t.id.name] = p
		}
		p.steps |= t.id.step
		p.parked = p.parked || t.parked
	}
	out := make([]pendingFile, 0, len(byName))
	for _, p := range byName {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b pendingFile) int {
		if c := space.OldestFirst(a.item.File, b.item.File); c != 0 {
			return c
		}
		return cmp.Compare(a.item.Path, b.item.Path)
	})
	return out
}
