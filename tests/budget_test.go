package tests

import (
	"bytes"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// budgetLine is the length of every record line of TestIngestMemoryBudget,
// newline included.
const budgetLine = 128

// budgetBody is size bytes of text records tagged tag, each budgetLine
// bytes long with its newline.
func budgetBody(tag string, size int) []byte {
	var b bytes.Buffer
	b.Grow(size)
	for i := 0; b.Len() < size; i++ {
		head := fmt.Sprintf("%s %07d ", tag, i)
		b.WriteString(head + strings.Repeat("x", budgetLine-1-len(head)) + "\n")
	}
	return b.Bytes()
}

// budgetAnswer sends r's head and body from a goroutine (the daemon may
// answer and stop reading before the body is through, so a failed write is
// not an error) and returns the daemon's answer.
func budgetAnswer(t *testing.T, r *rawRequest) rawAnswer {
	t.Helper()
	go func() { _ = r.send(append(r.head, r.body...)) }()
	return mustAnswer(t, r)
}

// TestIngestMemoryBudget drives the ingest memory budget (32 MiB of request
// buffers in flight; docs/reliability.md) end to end with raw connections:
//
//   - A and B each announce a 12 MiB text body, send 9 MiB of it and stall:
//     the daemon holds 24 MiB for them (memory_in_flight_bytes).
//   - C posts a 10 MiB body: its buffer's doubling from 4 to 8 MiB needs
//     4 MiB more, past the budget, and it is answered 429 with Retry-After and the
//     reason, while A and B go on.
//   - A completes its body (200, all its records); B gives up (connection
//     closed mid-body). The budget is all given back.
//   - C's retry succeeds.
//
// On disk: A's records, then C's, each exactly once, and nothing of B or of
// C's refused attempt.
func TestIngestMemoryBudget(t *testing.T) {

	dir := tempDir(t)
	// max_body_mb = 16 is the default; the tests' configuration lowers it.
	d := startDaemon(t, writeConfig(t, dir, conf{MaxBodyMB: 16}.toml()))
	memory := "proxy.process.log.ingest.memory_in_flight_bytes"
	if v := d.metric(t, memory); v != 0 {
		t.Fatalf("%s = %d with nothing in flight, want 0", memory, v)
	}

	bodyA, bodyB, bodyC := budgetBody("budget-a", 12*mib), budgetBody("budget-b", 12*mib), budgetBody("budget-c", 10*mib)
	a, b := dialRaw(t, d, bodyA), dialRaw(t, d, bodyB)
	for _, r := range []*rawRequest{a, b} {
		if err := r.send(append(r.head, r.body[:9*mib]...)); err != nil {
			t.Fatal(err)
		}
	}
	// Each has read 9 MiB into a buffer doubled to 16 MiB and capped at its
	// Content-Length + 1.
	eventually(t, func() string {
		if v := d.metric(t, memory); v < 24*mib {
			return fmt.Sprintf("%s = %d with A and B stalled after 9 MiB, want ≥ 24 MiB", memory, v)
		}
		return ""
	})

	c := dialRaw(t, d, bodyC)
	ans := budgetAnswer(t, c)
	if ans.status != http.StatusTooManyRequests {
		t.Fatalf("C with the budget spent: %d %s, want 429", ans.status, ans.body)
	}
	if ra := ans.header.Get("Retry-After"); ra == "" {
		t.Errorf("429 without Retry-After")
	}
	if !strings.Contains(ans.body, "too much request data in flight") || !strings.Contains(ans.body, "nothing written") {
		t.Errorf("429 body %q does not say why and that nothing was written", ans.body)
	}
	if v := d.metric(t, "proxy.process.log.ingest.requests", "status", "429"); v != 1 {
		t.Errorf("ingest requests answered 429 = %d, want 1", v)
	}

	// A completes; B gives up.
	if err := a.send(a.body[9*mib:]); err != nil {
		t.Fatalf("A: rest of the body: %v", err)
	}
	ans = mustAnswer(t, a)
	if want := fmt.Sprintf(`{"records":%d}`, len(bodyA)/budgetLine); ans.status != http.StatusOK || strings.TrimSpace(ans.body) != want {
		t.Fatalf("A: %d %s, want 200 %s", ans.status, ans.body, want)
	}
	b.conn.Close()
	eventually(t, func() string {
		if v := d.metric(t, memory); v != 0 {
			return fmt.Sprintf("%s = %d after A answered and B closed, want 0", memory, v)
		}
		return ""
	})

	retry := dialRaw(t, d, bodyC)
	ans = budgetAnswer(t, retry)
	if want := fmt.Sprintf(`{"records":%d}`, len(bodyC)/budgetLine); ans.status != http.StatusOK || strings.TrimSpace(ans.body) != want {
		t.Fatalf("C retried after the budget was given back: %d %s, want 200 %s", ans.status, ans.body, want)
	}

	got := readFile(t, filepath.Join(d.logs, "access.log"))
	if want := string(bodyA) + string(bodyC); got != want {
		t.Errorf("access.log: %d bytes, %d of B's lines, want A's then C's records (%d bytes), each once",
			len(got), strings.Count(got, "budget-b "), len(want))
	}
}

// mustAnswer reads r's answer or fails the test.
func mustAnswer(t *testing.T, r *rawRequest) rawAnswer {
	t.Helper()
	a := r.answer()
	if a.err != nil {
		t.Fatalf("no answer: %v", a.err)
	}
	return a
}
