package ship

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/logroll/logroll/internal/logtest"
	"github.com/logroll/logroll/space"
)

// fakeStore is a settable Options.upload.
type fakeStore struct {
	mu     sync.Mutex
	fail   map[string][]*Failure // name → failures to answer first, in order
	block  bool                  // wait for ctx (an upload in flight at Close)
	keys   map[string]string     // name → key uploaded
	calls  []string
	handed []string // HandedOn calls, "path del"
}

func newFakeStore() *fakeStore {
	return &fakeStore{fail: map[string][]*Failure{}, keys: map[string]string{}}
}

func (s *fakeStore) upload(ctx context.Context, _ Target, it Item, key string) (Result, error) {
	s.mu.Lock()
	s.calls = append(s.calls, it.Name)
	block := s.block
	var f *Failure
	if fs := s.fail[it.Name]; len(fs) > 0 {
		f, s.fail[it.Name] = fs[0], fs[1:]
	}
	s.mu.Unlock()
	if block {
		<-ctx.Done()
		return Result{}, &Failure{Kind: KindNetwork, Err: ctx.Err()}
	}
	if f != nil {
		return Result{}, f
	}
	s.mu.Lock()
	s.keys[it.Name] = key
	s.mu.Unlock()
	return Result{Key: key}, nil
}

func (s *fakeStore) handedOn(path string, del bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handed = append(s.handed, fmt.Sprintf("%s %v", filepath.Base(path), del))
}

func (s *fakeStore) get() (calls, handed []string, keys map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := map[string]string{}
	for n, v := range s.keys {
		k[n] = v
	}
	return slices.Clone(s.calls), slices.Clone(s.handed), k
}

// files creates n rolled files of log in dir: END at hours 1..n.
func files(t *testing.T, dir, log string, n int) []Item {
	var out []Item
	for i := 1; i <= n; i++ {
		name := fmt.Sprintf("%s.web01.h%02d.old", log, i)
		it := item(log, name, i)
		it.Path = filepath.Join(dir, name)
		if err := os.WriteFile(it.Path, []byte(name+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, it)
	}
	return out
}

// newTest makes a manager over dir for log a.log (shipping, hold, delete
// after) with the fake store; existing are the files found at start.
func newTest(t *testing.T, dir string, st *fakeStore, logs *logtest.Recorder, existing []Item) *Manager {
	t.Helper()
	return newTestKnown(t, dir, st, logs, existing, existing)
}

// newTestKnown is newTest where Rolled knows the files of known.
func newTestKnown(t *testing.T, dir string, st *fakeStore, logs *logtest.Recorder, existing, known []Item) *Manager {
	t.Helper()
	byPath := map[string]Item{}
	for _, it := range known {
		byPath[it.Path] = it
	}
	cfg := Config{Host: "web01", Logs: []Log{{Name: "a.log", Ship: &Target{Bucket: "b", Prefix: "p", Region: "r"}, DeleteAfter: true, HoldBeforeDelete: true}}}
	m, err := New(cfg, Options{
		Journal:         filepath.Join(dir, JournalName),
		Item:            func(p string) (Item, bool) { it, ok := byPath[p]; return it, ok },
		HandedOn:        st.handedOn,
		Logger:          slog.New(logs),
		MinBackoff:      time.Second,
		ShipConcurrency: 1, // one at a time: the order of events is the test's
		MaxBackoff:      time.Minute,
		Jitter:          func() float64 { return 0.5 },
		upload:          st.upload,
	}, existing)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestManagerShipsRetriesAndSurvivesRestart: pending files found at start
// and rolled later ship, oldest first; a transient failure is retried with
// backoff and logged once per streak; a permanent one is parked until a
// reload; the journal makes a restart ship only what was not done; Hold
// holds until a file is handed on.
func TestManagerShipsRetriesAndSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		all := files(t, dir, "a.log", 4)
		st, logs := newFakeStore(), &logtest.Recorder{}
		st.fail[all[1].Name] = []*Failure{{Kind: KindServer, Status: 503}, {Kind: KindServer, Status: 503}, {Kind: KindNetwork}}
		st.fail[all[2].Name] = []*Failure{{Kind: KindRefused, Status: 403, Code: "AccessDenied"}}
		m := newTestKnown(t, dir, st, logs, all[:3], all)
		if h := m.Hold(all[0].File); h != space.Held {
			t.Fatalf("Hold before shipping = %v, want held", h)
		}
		if h := m.Hold(space.File{Name: "x", Log: "other.log"}); h != space.Free {
			t.Fatalf("Hold of a log that ships nothing = %v", h)
		}
		m.Start()
		synctest.Wait()
		calls, handed, keys := st.get()
		if !slices.Equal(calls, []string{all[0].Name, all[1].Name, all[2].Name}) {
			t.Fatalf("calls %v, want oldest first", calls)
		}
		if keys[all[0].Name] != "p/web01/a.log/2026/11/21/"+all[0].Name {
			t.Errorf("key %q", keys[all[0].Name])
		}
		if !slices.Equal(handed, []string{all[0].Name + " true"}) {
			t.Errorf("handed on %v, want the first with delete", handed)
		}
		if m.Hold(all[0].File) != space.Free || m.Hold(all[1].File) != space.Held {
			t.Errorf("holds after the first round wrong")
		}
		s := m.Status()
		if s.Pending != 2 || s.Parked != 1 || s.Shipped != 1 || s.Failures[KindServer] != 1 || s.Failures[KindRefused] != 1 || !s.Oldest.Equal(all[1].At) {
			t.Errorf("status %+v", s)
		}
		if logs.Count("shipping failed") != 1 || logs.Count("refused for good") != 1 {
			t.Errorf("log lines %q", logs.Messages())
		}
		// The next file rolls and ships (the store works again: the streak
		// ends); the failing one is retried after 1 s, 2 s and 4 s, a new
		// streak logged once.
		m.Rolled(all[3].Path)
		time.Sleep(7*time.Second + time.Millisecond)
		synctest.Wait()
		calls, handed, _ = st.get()
		if n := strings.Count(strings.Join(calls, " "), all[1].Name); n != 4 {
			t.Errorf("%s tried %d times, want 4 (3 failures)", all[1].Name, n)
		}
		if logs.Count("shipping failed") != 2 || logs.Count("shipping works again") != 2 {
			t.Errorf("streaks logged wrong: %q", logs.Messages())
		}
		if len(handed) != 3 {
			t.Errorf("handed %v", handed)
		}
		// The parked file waits for a reload.
		time.Sleep(time.Hour)
		synctest.Wait()
		if c, _, _ := st.get(); strings.Count(strings.Join(c, " "), all[2].Name) != 1 {
			t.Errorf("a parked file was retried")
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		// Restart: only the parked file is pending (the journal knows the rest).
		st2 := newFakeStore()
		m2 := newTest(t, dir, st2, logs, all)
		if s := m2.Status(); s.Pending != 1 {
			t.Errorf("after restart %d pending, want 1", s.Pending)
		}
		m2.Start()
		synctest.Wait()
		calls, handed, _ = st2.get()
		if !slices.Equal(calls, []string{all[2].Name}) {
			t.Errorf("after restart uploaded %v, want only %s", calls, all[2].Name)
		}
		// Handed on before the restart and not yet deleted: told again, with delete.
		if len(handed) != 4 {
			t.Errorf("after restart handed on %v, want the 3 done before and the new one", handed)
		}
		if err := m2.Close(); err != nil {
			t.Fatal(err)
		}
		if err := m2.Close(); err != nil {
			t.Fatal("second Close:", err)
		}
	})
}

// TestManagerCloseInFlight: Close cancels an upload in flight; it is not
// recorded, so the next start uploads it again.
func TestManagerCloseInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		all := files(t, dir, "a.log", 1)
		st, logs := newFakeStore(), &logtest.Recorder{}
		st.block = true
		m := newTest(t, dir, st, logs, all)
		m.Start()
		synctest.Wait()
		if s := m.Status(); s.Running != 1 {
			t.Fatalf("running %d", s.Running)
		}
		if err := m.Close(); err != nil {
			t.Fatal(err)
		}
		st2 := newFakeStore()
		m2 := newTest(t, dir, st2, logs, all)
		m2.Start()
		synctest.Wait()
		if c, _, _ := st2.get(); len(c) != 1 {
			t.Errorf("after restart %v, want the file again", c)
		}
		m2.Close()
		data, _ := os.ReadFile(filepath.Join(dir, JournalName))
		if strings.Count(string(data), "ship ") != 1 {
			t.Errorf("journal:\n%s", data)
		}
	})
}

// TestManagerApplyUnparks: a reload retries what was refused for good, and
// a log that stops shipping drops its pending steps and holds nothing.
func TestManagerApplyUnparks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dir := t.TempDir()
		all := files(t, dir, "a.log", 2)
		st, logs := newFakeStore(), &logtest.Recorder{}
		st.fail[all[0].Name] = []*Failure{{Kind: KindRefused, Status: 403}}
		st.fail[all[1].Name] = []*Failure{{Kind: KindRefused, Status: 403}}
		m := newTest(t, dir, st, logs, all)
		defer m.Close()
		m.Start()
		synctest.Wait()
		if m.Status().Parked != 2 {
			t.Fatalf("parked %d", m.Status().Parked)
		}
		if s := m.State(all[0].File); s.Ship != "failed" {
			t.Errorf("state %+v", s)
		}
		cfg := Config{Host: "web01", Logs: []Log{{Name: "a.log", Ship: &Target{Bucket: "b", Region: "r"}, DeleteAfter: true, HoldBeforeDelete: true}}}
		if err := m.Apply(cfg); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if s := m.Status(); s.Pending != 0 || s.Shipped != 2 {
			t.Errorf("after reload %+v", s)
		}
		if s := m.State(all[0].File); s.Ship != "done" || s.Key == "" {
			t.Errorf("state %+v", s)
		}
		if err := m.Apply(Config{Host: "web01", Logs: []Log{{Name: "a.log"}}}); err != nil {
			t.Fatal(err)
		}
		if h := m.Hold(all[0].File); h != space.Free {
			t.Errorf("hold after shipping stopped: %v", h)
		}
	})
}

// TestHook runs a real on-roll command: the environment and the argument,
// a failure retried, a timeout killing the process group.
func TestHook(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	script := filepath.Join(dir, "hook.sh")
	body := "#!/bin/sh\n[ -e " + dir + "/fail ] && { echo nope >&2; exit 3; }\n[ -e " + dir + "/hang ] && { sleep 60 & sleep 60; }\nprintf '%s|%s|%s|%s|%s|%s|%s\\n' \"$1\" \"$LOGROLL_PATH\" \"$LOGROLL_LOG\" \"$LOGROLL_HOST\" \"$LOGROLL_START\" \"$LOGROLL_END\" \"$LOGROLL_BYTES\" >> " + out + "\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	it := files(t, dir, "a.log", 1)[0]
	ctx := context.Background()
	if err := runHook(ctx, []string{script}, it, "h", time.Minute); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	want := fmt.Sprintf("%s|%s|a.log|web01|2026-11-21T00:00:00Z|2026-11-21T01:00:00Z|10\n", it.Path, it.Path)
	if string(data) != want {
		t.Errorf("hook saw %q, want %q", data, want)
	}
	os.WriteFile(filepath.Join(dir, "fail"), nil, 0o644)
	err := runHook(ctx, []string{script}, it, "h", time.Minute)
	if f, ok := err.(*Failure); !ok || f.Kind != KindExit || !strings.Contains(f.Error(), "exit status 3: nope") {
		t.Errorf("failing hook: %v", err)
	}
	os.Remove(filepath.Join(dir, "fail"))
	os.WriteFile(filepath.Join(dir, "hang"), nil, 0o644)
	start := time.Now()
	err = runHook(ctx, []string{script}, it, "h", 300*time.Millisecond)
	if f, ok := err.(*Failure); !ok || f.Kind != KindTimeout {
		t.Errorf("hanging hook: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("timeout took %v: the process group was not killed", d)
	}
	err = runHook(ctx, []string{filepath.Join(dir, "missing")}, it, "h", time.Minute)
	if f, ok := err.(*Failure); !ok || f.Kind != KindStart {
		t.Errorf("missing program: %v", err)
	}
	// postrotate's "indexer &": the command exits 0 and leaves a program
	// holding its output; the exit decides.
	bg := filepath.Join(dir, "bg.sh")
	if err := os.WriteFile(bg, []byte("#!/bin/sh\nsleep 4 &\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := runHook(ctx, []string{bg}, it, "h", time.Minute); err != nil {
		t.Errorf("a command that exits 0 leaving a program in the background: %v", err)
	}
}

// TestJournalKeptWhileNothingShips: a start with no log handing anything on
// leaves the journal alone (shipping turned off for a while must not forget
// what was shipped); a start that ships compacts it to the files present.
func TestJournalKeptWhileNothingShips(t *testing.T) {
	dir := t.TempDir()
	all := files(t, dir, "a.log", 2)
	j, data := journalWithGone(t, dir, all[0].Name)
	opts := Options{Journal: j, Item: func(string) (Item, bool) { return Item{}, false }}
	m, err := New(Config{Host: "h", Logs: []Log{{Name: "a.log"}}}, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if got, _ := os.ReadFile(j); string(got) != data {
		t.Errorf("journal changed while nothing ships:\n%s", got)
	}
	m, err = New(Config{Host: "h", Logs: []Log{{Name: "a.log", Ship: &Target{Bucket: "b", Region: "r"}}}}, opts, all)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got, _ := os.ReadFile(j); string(got) != "ship "+all[0].Name+" k/"+all[0].Name+"\n" {
		t.Errorf("journal after a start that ships:\n%s", got)
	}
	if s := m.Status(); s.Pending != 1 {
		t.Errorf("pending %d, want the file not in the journal", s.Pending)
	}
}
