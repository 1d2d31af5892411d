package logging

import (
	"fmt"
	"testing"
)

// TestTokenTransitions checks every row of the token's state table
// (token.go): each state against each event.
func TestTokenTransitions(t *testing.T) {
	var (
		nobody  = token{}
		nobodyW = token{toWriter: true}
		caller  = token{owner: ownerCaller}
		callerW = token{owner: ownerCaller, toWriter: true}
		writer  = token{owner: ownerWriter}
		writerW = token{owner: ownerWriter, toWriter: true}
	)
	type row struct {
		from token
		want token // the state after the event
		ok   bool  // acquire: granted; release: handed over (keep or hand on), see below
	}
	states := map[string]token{"nobody": nobody, "nobody+w": nobodyW, "caller": caller, "caller+w": callerW, "writer": writer, "writer+w": writerW}
	name := func(tk token) string {
		for n, s := range states {
			if s == tk {
				return n
			}
		}
		return fmt.Sprintf("%+v", tk)
	}
	events := []struct {
		event string
		do    func(*token) bool
		rows  []row
	}{
		{"a Write call acquires", func(tk *token) bool { return tk.acquire(ownerCaller) }, []row{
			{nobody, caller, true},
			{nobodyW, nobodyW, false},
			{caller, caller, false},
			{callerW, callerW, false},
			{writer, writer, false},
			{writerW, writerW, false},
		}},
		{"the writer goroutine acquires", func(tk *token) bool { return tk.acquire(ownerWriter) }, []row{
			{nobody, writer, true},
			{nobodyW, writerW, true},
			{caller, callerW, false},
			{callerW, callerW, false},
			{writer, writer, true},
			{writerW, writerW, true},
		}},
		{"want", func(tk *token) bool { tk.want(); return false }, []row{
			{nobody, nobodyW, false},
			{nobodyW, nobodyW, false},
			{caller, callerW, false},
			{callerW, callerW, false},
			{writer, writerW, false},
			{writerW, writerW, false},
		}},
		{"served", func(tk *token) bool { tk.served(); return false }, []row{
			{writer, writer, false},
			{writerW, writer, false},
		}},
		// ok: the next holder is not nobody.
		{"release, a call waiting", func(tk *token) bool { return tk.release(true) != ownerNone }, []row{
			{caller, caller, true},
			{callerW, writerW, true},
			{writer, caller, true},
			{writerW, writerW, true},
		}},
		{"release, no call waiting", func(tk *token) bool { return tk.release(false) != ownerNone }, []row{
			{caller, nobody, false},
			{callerW, writerW, true},
			{writer, nobody, false},
			{writerW, writerW, true},
		}},
	}
	for _, e := range events {
		for _, r := range e.rows {
			tk := r.from
			ok := e.do(&tk)
			if tk != r.want || ok != r.ok {
				t.Errorf("%s in state %s: state %s, %v; want %s, %v", e.event, name(r.from), name(tk), ok, name(r.want), r.ok)
			}
		}
	}
}

// TestTokenHandOver checks what a released token's delivery does: a Write
// call gets errLead, the writer goroutine a wake-up, or keeps the token
// when it released it itself.
func TestTokenHandOver(t *testing.T) {
	for _, tc := range []struct {
		by, to          owner
		keep, lead, wok bool
	}{
		{ownerCaller, ownerCaller, false, true, false},
		{ownerCaller, ownerWriter, false, false, true},
		{ownerCaller, ownerNone, false, false, false},
		{ownerWriter, ownerCaller, false, true, false},
		{ownerWriter, ownerWriter, true, false, false},
		{ownerWriter, ownerNone, false, false, false},
	} {
		l := &logFile{work: make(chan struct{}, 1)}
		next := make(chan error, 1)
		keep := l.handOver(tc.by, tc.to, next)
		lead := len(next) == 1 && <-next == errLead
		woken := len(l.work) == 1
		if keep != tc.keep || lead != tc.lead || woken != tc.wok {
			t.Errorf("hand-over from %d to %d: keep %v, errLead %v, wake-up %v; want %v, %v, %v",
				tc.by, tc.to, keep, lead, woken, tc.keep, tc.lead, tc.wok)
		}
	}
}

// TestTokenInvariant explores every state a log's token can reach as the
// Write calls, the ops and the writer goroutine drive it — a model of
// accept, enqueue, run and lead, with counts in place of buffers, around the
// real acquireWriter, needWriterLocked and release — and checks the
// token's invariant (token.go) in each: a call waits only while the token
// is held or while it is wanted with the writer goroutine woken; a wanted
// token is never left free without a wake-up, nor handed to a sleeping
// writer goroutine without one; a queued op always has the token wanted or
// the writer goroutine holding it.
func TestTokenInvariant(t *testing.T) {
	type model struct {
		tok     token
		waiting int  // Write calls waiting, not holding the token
		woken   bool // a wake-up of the writer goroutine is pending
		ops     bool // an op is queued
		took    bool // the holder has taken its queue and may release
		running bool // the writer goroutine is in its turn (else it sleeps)
		leading bool // a Write call knows it holds the token (it leads)
	}
	// real runs f on a log holding m's token, waiting calls and wake-up,
	// and copies the outcome back into m; it returns how many waiting
	// calls were handed the token.
	real := func(m *model, f func(l *logFile)) (led int) {
		l := &logFile{work: make(chan struct{}, 1)}
		l.acc.tok = m.tok
		if m.woken {
			l.work <- struct{}{}
		}
		var waiters []chan error
		if m.waiting > 0 {
			for range m.waiting {
				waiters = append(waiters, make(chan error, 1))
			}
			l.acc.cur = &buffer{waiters: waiters}
		}
		f(l)
		m.tok, m.woken = l.acc.tok, len(l.work) == 1
		for _, ch := range waiters {
			if len(ch) == 1 && <-ch == errLead {
				led++
			}
		}
		return led
	}
	events := []struct {
		name string
		do   func(m *model) bool // applies the event; false: it cannot happen now
	}{
		{"a Write call", func(m *model) bool {
			if m.waiting == 3 {
				return false // enough to tell
			}
			wanted := m.tok.toWriter
			switch {
			case !m.tok.acquire(ownerCaller):
				m.waiting++
			case wanted:
				t.Errorf("a Write call acquired a wanted token")
			default:
				m.leading = true
			}
			return true
		}},
		{"an op queued", func(m *model) bool {
			real(m, func(l *logFile) { l.needWriterLocked() })
			m.ops = true
			return true
		}},
		{"the writer goroutine wakes up", func(m *model) bool {
			if !m.woken || m.running {
				return false
			}
			real(m, func(l *logFile) { <-l.work; m.running = l.acquireWriter() })
			return true
		}},
		{"its timer fires", func(m *model) bool {
			if m.running {
				return false
			}
			real(m, func(l *logFile) { m.running = l.acquireWriter() })
			return true
		}},
		{"the holder takes its queue", func(m *model) bool {
			switch {
			case m.took:
				return false
			case m.tok.owner == ownerWriter && m.running:
				m.tok.served()
				m.waiting, m.ops = 0, false
			case m.tok.owner == ownerCaller && m.leading:
				if !m.ops {
					m.waiting = 0
				} // else calls behind the op wait for the writer goroutine
			default:
				return false
			}
			m.took = true
			return true
		}},
		{"the holder releases", func(m *model) bool {
			if !m.took {
				return false
			}
			by := m.tok.owner
			keep := false
			led := real(m, func(l *logFile) { keep = l.release(by) })
			m.waiting -= led
			m.leading = led > 0
			m.took = false
			m.running = by == ownerWriter && keep
			return true
		}},
	}
	check := func(m model) string {
		switch {
		case m.waiting > 0 && m.tok.owner == ownerNone && !(m.tok.toWriter && m.woken):
			return "calls wait, the token free and the writer goroutine not on its way"
		case m.tok.toWriter && m.tok.owner == ownerNone && !m.woken:
			return "the token is wanted and free, the writer goroutine not woken"
		case m.ops && !m.tok.toWriter && m.tok.owner != ownerWriter:
			return "an op is queued and the token neither wanted nor with the writer goroutine"
		case m.tok.owner == ownerWriter && !m.running && !m.woken:
			return "the writer goroutine holds the token asleep, with no wake-up"
		case m.tok.owner == ownerCaller && !m.leading:
			return "a Write call holds the token without knowing it"
		}
		return ""
	}
	paths := map[model][]string{{}: nil} // every state reached, by one path to it
	for todo := []model{{}}; len(todo) > 0; {
		m := todo[0]
		todo = todo[1:]
		if bad := check(m); bad != "" {
			t.Fatalf("after %q: %s (%+v)", paths[m], bad, m)
		}
		for _, e := range events {
			n := m
			if !e.do(&n) {
				continue
			}
			if _, seen := paths[n]; !seen {
				paths[n] = append(paths[m][:len(paths[m]):len(paths[m])], e.name)
				todo = append(todo, n)
			}
		}
	}
	t.Logf("%d states", len(paths))
}
