package logging

import (
	"bytes"
	"fmt"
	"os"
	"sync"
	"testing"
)

// wbProbe records the writeback requests of a collator.
type wbProbe struct {
	mu    sync.Mutex
	spans [][2]int64 // off, n
	got   []string   // spans as "off+n"
}

// writeback records the range, merged with the previous one when it
// continues it: the flusher coalesces requests it has not handled yet,
// so how a contiguous run is cut depends on timing.
func (p *wbProbe) writeback(_ *os.File, off, n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if k := len(p.spans); k > 0 && p.spans[k-1][0]+p.spans[k-1][1] == off {
		p.spans[k-1][1] += n
	} else {
		p.spans = append(p.spans, [2]int64{off, n})
	}
	p.got = p.got[:0]
	for _, s := range p.spans {
		p.got = append(p.got, fmt.Sprintf("%d+%d", s[0], s[1]))
	}
}

// TestWriteback writes 2.5 MiB in 256 KiB calls and checks which ranges
// had their writeback started early: at DurabilityRoll, the whole MiBs
// once, in order, contiguous from the start of the file (2 MiB), and again
// from 0 in the file after a roll; at the other levels, none.
func TestWriteback(t *testing.T) {
	rec := bytes.Repeat([]byte("x"), 256<<10-1) // 256 KiB with its newline
	for _, tc := range []struct {
		d    Durability
		want []string
	}{
		{DurabilityRoll, []string{"0+2097152", "0+1048576"}},
		{DurabilityWrite, nil},
		{DurabilitySync, nil},
	} {
		t.Run(fmt.Sprint(tc.d), func(t *testing.T) {
			cfg := testCfg(t.TempDir(), Policy{})
			cfg.Durability = tc.d
			p := &wbProbe{}
			c, err := open(cfg, testOpts(), fsOps{writeback: p.writeback})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for range 10 { // 2.5 MiB: two requests, half a MiB pending
				if err := c.Write(testLog, [][]byte{rec}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := c.Roll(testLog); err != nil {
				t.Fatal(err)
			}
			for range 4 { // 1 MiB into the new file
				if err := c.Write(testLog, [][]byte{rec}); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if fmt.Sprint(p.got) != fmt.Sprint(tc.want) {
				t.Errorf("writeback started for %v, want %v", p.got, tc.want)
			}
		})
	}
}
