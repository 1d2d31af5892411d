package logging

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWriteGroups drives a writer (not started as a goroutine) with a queue
// of several sealed buffers: consecutive buffers go out in one writev(2), a
// group ends at the buffer that takes the file to its size limit, the size
// roll follows it, and the remaining buffers go into the new file. Every
// waiter gets its answer and the bytes are those of the buffers, in order.
//
// A leader (a Write call holding the writer token) stops after the group
// that reaches the limit: it leaves the roll and the remaining buffers to
// the writer goroutine (sizeRollAt, leftover, toWriter), whose next turn
// (work) rolls and writes them, with the same result on disk.
func TestWriteGroups(t *testing.T) {
	for _, leader := range []bool{false, true} {
		t.Run(map[bool]string{false: "writer", true: "leader"}[leader], func(t *testing.T) {
			testWriteGroups(t, leader)
		})
	}
}

func testWriteGroups(t *testing.T, leader bool) {
	dir := t.TempDir()
	c := mustOpen(t, testCfg(dir))
	const (
		bufBytes = 1000
		limit    = 2500 // reached by the third buffer
		nbuf     = 5
	)
	lc := LogConfig{Name: "g.log", Policy: Policy{Mode: ModeSize, SizeBytes: limit}}
	l, err := c.openLog(lc, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	w := l.w
	w.pol = lc.Policy
	defer w.closeFile()

	var want [2]bytes.Buffer // old file, new file
	var items []item
	var waiters []chan error
	for i := range nbuf {
		b := c.getBuffer(c.set.Load().BufferSize, bufBytes)
		for j := 0; len(b.b) < bufBytes; j++ {
			rec := fmt.Sprintf("buffer %d record %02d %s", i, j, bytes.Repeat([]byte{'a' + byte(i)}, 70))
			b.b = append(b.b, rec[:min(len(rec), bufBytes-len(b.b)-1)]...)
			b.b = append(b.b, '\n')
			b.records++
		}
		b.created = time.Now()
		b.sealed = b.created
		ch := make(chan error, 1)
		b.waiters = append(b.waiters, ch)
		waiters = append(waiters, ch)
		if i < 3 {
			want[0].Write(b.b)
		} else {
			want[1].Write(b.b)
		}
		items = append(items, item{buf: b})
	}
	if leader {
		end := items[2].buf.sealed // read now: the acknowledgement recycles the buffer
		if w.write(items, true) {
			t.Fatal("write reported stop")
		}
		for i, ch := range waiters {
			if answered := len(ch) > 0; answered != (i < 3) {
				t.Errorf("buffer %d answered %v after the leader's turn", i, answered)
			}
		}
		l.acc.mu.Lock()
		toWriter := l.acc.tok.toWriter
		l.acc.mu.Unlock()
		if !toWriter || !w.sizeRollAt.Equal(end) || len(w.leftover) != 2 {
			t.Fatalf("leader left toWriter %v, size roll at %v, %d buffers; want true, %v, 2",
				toWriter, w.sizeRollAt, len(w.leftover), end)
		}
		if stop, _ := w.work(); stop {
			t.Fatal("work reported stop")
		}
	} else if w.process(items) {
		t.Fatal("process reported stop")
	}
	for i, ch := range waiters {
		select {
		case err := <-ch:
			if err != nil {
				t.Errorf("buffer %d: %v", i, err)
			}
		default:
			t.Errorf("buffer %d: no answer", i)
		}
	}
	st := l.stats.snapshot()
	if st.WriteCalls != 2 {
		t.Errorf("%d write calls for %d buffers split by one roll, want 2", st.WriteCalls, nbuf)
	}
	if st.RollsSize != 1 {
		t.Errorf("%d size rolls, want 1", st.RollsSize)
	}
	records := int64(bytes.Count(want[0].Bytes(), []byte{'\n'}) + bytes.Count(want[1].Bytes(), []byte{'\n'}))
	if st.Bytes != nbuf*bufBytes || st.Records != records {
		t.Errorf("counted %d bytes, %d records; want %d, %d", st.Bytes, st.Records, nbuf*bufBytes, records)
	}
	ents, err := filepath.Glob(filepath.Join(dir, "g.log.*.old"))
	if err != nil || len(ents) != 1 {
		t.Fatalf("rolled files %v (%v), want one", ents, err)
	}
	for i, p := range []string{ents[0], filepath.Join(dir, "g.log")} {
		got, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want[i].Bytes()) {
			t.Errorf("%s: %d bytes, want %d (buffers %s)", p, len(got), want[i].Len(), [2]string{"0–2", "3–4"}[i])
		}
	}
}
