package space

import "fmt"

// Hold says whether the rules may delete a rolled file that waits to be
// handed on (docs/design.md §11: shipped to object storage, or its on_roll_command
// not yet exited 0). The daemon answers it through Options.Hold; the space
// manager knows nothing of shipping.
type Hold int

// The holds.
const (
	// Free: nothing waits on the file (handed on, or its log hands nothing
	// on); the rules may delete it.
	Free Hold = iota
	// Unhanded: the file waits to be handed on, but ship_before_delete = 0
	// lets the rules delete it: each such deletion is logged as an error
	// and counted (Status.UnhandedDeleted).
	Unhanded
	// Held: the file waits to be handed on and ship_before_delete = 1: no
	// rule deletes it. When the budget could only be kept by deleting held
	// files, the state goes on to Exhausted and logging refuses (503), and
	// the reason says how much is held.
	Held
)

// String returns "free", "unhanded" or "held".
func (h Hold) String() string {
	switch h {
	case Free:
		return "free"
	case Unhanded:
		return "unhanded"
	case Held:
		return "held"
	}
	return fmt.Sprintf("Hold(%d)", int(h))
}

// RuleShipped: ship_delete_after, a file handed on is deleted (HandedOn
// with del). It is not a pure rule like the others: the daemon's shipper
// asks for each file once it is handed on, and the executor deletes it.
const RuleShipped Rule = "shipped"

// hold returns f's hold (Free without Options.Hold).
func (m *Manager) hold(f File) Hold {
	if m.opts.Hold == nil {
		return Free
	}
	return m.opts.Hold(f)
}

// HandedOn reports that the rolled file name (a base name in the log
// folder, or a path in it or a rolled folder) was handed on: its hold ended, so the rules run again at the
// goroutine's next step (a rolling_max_count it kept, a budget it held);
// with del (ship_delete_after = 1) the executor also deletes it by rule
// RuleShipped, logged and counted like every deletion. Like Removed it never
// blocks for long; it is safe on a nil *Manager and after Close.
func (m *Manager) HandedOn(name string, del bool) {
	if m == nil {
		return
	}
	path, ok := m.pathOf(name)
	if !ok {
		return
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	if del {
		if len(m.shipped) < maxQueued {
			m.shipped = append(m.shipped, path)
		}
	}
	m.mu.Unlock()
	m.enqueue(event{path: path}) // reconcile: the rules run again
}

// deleteShipped deletes the handed-on files HandedOn asked for (on the
// manager's goroutine), by path. A path that is no longer a rolled file the
// accounting knows is skipped.
func (m *Manager) deleteShipped(paths []string) {
	for _, path := range paths {
		if m.closing() {
			return
		}
		e := m.acct.files[path]
		if e == nil || !e.isRolled() || e.failed {
			continue
		}
		m.deleteFile(e.rolled, RuleShipped, "ship_delete_after = 1: handed on", m.figures())
	}
}

// heldWhy appends to a not-Normal reason what the holds kept from the
// rules, when they kept anything.
func heldWhy(why string, files, bytes int64) string {
	if files == 0 || why == "" {
		return why
	}
	return fmt.Sprintf("%s; %d rolled files (%s) are not yet handed on and are kept (ship_before_delete = 1): logging resumes as they are handed on (shipped, on_roll_command exited 0; the last failure is in logrollctl status, ship section)", why, files, mib(bytes))
}
