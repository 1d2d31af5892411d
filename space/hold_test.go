package space

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
)

// holds is a settable Options.Hold: a hold per file name, Free by default.
type holds struct {
	mu sync.Mutex
	m  map[string]Hold
}

func (h *holds) set(name string, v Hold) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.m == nil {
		h.m = map[string]Hold{}
	}
	h.m[name] = v
}

func (h *holds) Hold(f File) Hold {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[f.Name]
}

// TestHeldFilesAreNeverDeleted: autodelete skips held files; when only they
// could free the budget, logging is refused with a reason that says so; a
// file handed on with del is deleted by rule shipped, and logging resumes.
func TestHeldFilesAreNeverDeleted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &holds{}
		for i := 2; i < 4; i++ {
			h.set(rolled("a.log", i), Held)
		}
		cfg := Config{Limit: 5_000, Headroom: 1_000, AutoDelete: true, Logs: []Log{{Name: "a.log", MinCount: 1}}}
		e := startHold(t, cfg, plenty, func(dir string) {
			fill(t, dir, "a.log", 4, 1000)
			mkfile(t, dir, "a.log", 0)
		}, nil, h.Hold)
		synctest.Wait()
		// U 4000 + H ≥ M: the oldest file goes.
		st := e.m.Status()
		if st.State != Normal || st.DeletedFiles != 1 || exists(e.dir, rolled("a.log", 0)) || !exists(e.dir, rolled("a.log", 1)) {
			t.Fatalf("after start: %v, %d deleted; want normal after deleting hour 0", st.State, st.DeletedFiles)
		}
		e.m.Wrote(3500) // U 6500 ≥ M: hour 1 goes, and only held files are left
		synctest.Wait()
		st = e.m.Status()
		if st.State != Exhausted || st.HeldFiles != 2 || st.HeldBytes != 2000 || st.DeletedFiles != 2 {
			t.Fatalf("%v held %d/%d deleted %d; want exhausted, 2 files 2000 bytes held, none deleted", st.State, st.HeldFiles, st.HeldBytes, st.DeletedFiles)
		}
		if !strings.Contains(st.Reason, "2 rolled files (2000 B) are not yet handed on") || !strings.Contains(e.accept.last(), "not yet handed on") {
			t.Errorf("reason %q, accept %q: want the held files named", st.Reason, e.accept.last())
		}
		for i := 2; i < 4; i++ {
			if !exists(e.dir, rolled("a.log", i)) {
				t.Fatalf("held file %d deleted", i)
			}
		}
		// Shipped: the hold ends, and ship_delete_after deletes them.
		for i := 2; i < 4; i++ {
			h.set(rolled("a.log", i), Free)
			e.m.HandedOn(rolled("a.log", i), true)
		}
		synctest.Wait()
		// The manager may run between two releases: a file already free
		// but not yet reported handed on can go by the budget instead
		// (it was shipped: either rule is right); at least one goes by shipped.
		st = e.m.Status()
		shipped, budget := st.Deleted[RuleShipped].Files, st.Deleted[RuleBudget].Files
		if st.State != Normal || shipped < 1 || shipped+budget != 4 || st.HeldFiles != 0 || exists(e.dir, rolled("a.log", 2)) || exists(e.dir, rolled("a.log", 3)) {
			t.Fatalf("%v deleted %v held %d; want normal, the two handed-on files deleted (at least one by rule shipped)", st.State, st.Deleted, st.HeldFiles)
		}
		if got := e.accept.get(); len(got) != 2 || got[1] != "true" {
			t.Errorf("Accept calls %v, want false then true", got)
		}
		if n := int64(len(e.logs.Find("rule=shipped"))); n != shipped {
			t.Errorf("%d deletions logged with rule=shipped, %d counted", n, shipped)
		}
	})
}

// TestHoldAppliesToEveryRule: rolling_max_count skips held files too, and
// deletes them once handed on (without del); an Unhanded file is deleted
// with an error and counted.
func TestHoldAppliesToEveryRule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := &holds{}
		h.set(rolled("a.log", 0), Held)
		h.set(rolled("a.log", 1), Unhanded)
		cfg := Config{Limit: 1 << 30, AutoDelete: true, Logs: []Log{{Name: "a.log", MaxCount: 1}}}
		e := startHold(t, cfg, plenty, func(dir string) { fill(t, dir, "a.log", 3, 100) }, nil, h.Hold)
		synctest.Wait()
		st := e.m.Status()
		if !exists(e.dir, rolled("a.log", 0)) || exists(e.dir, rolled("a.log", 1)) || !exists(e.dir, rolled("a.log", 2)) {
			t.Fatalf("max_count with holds: want hour 0 kept (held), 1 deleted (unhanded), 2 kept (newest)")
		}
		if st.UnhandedDeleted != 1 || len(e.logs.Find("ERROR deleted rolled file not yet handed on")) != 1 {
			t.Errorf("unhanded deletions %d, logged %q", st.UnhandedDeleted, e.logs.Find("not yet handed on"))
		}
		h.set(rolled("a.log", 0), Free)
		e.m.HandedOn(rolled("a.log", 0), false)
		synctest.Wait()
		if exists(e.dir, rolled("a.log", 0)) {
			t.Errorf("handed on, still beyond rolling_max_count: want it deleted")
		}
		if n := e.m.Status().Deleted[RuleMaxCount].Files; n != 2 {
			t.Errorf("max_count deletions %d, want 2", n)
		}
	})
}
