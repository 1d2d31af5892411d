package tests

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// rolledLife is what TestDSTRetentionKeepsNewest saw of one rolled file.
type rolledLife struct {
	end       time.Time // its modification time: the END the collator set
	lastSeen  time.Time
	firstGone time.Time
}

// TestDSTRetentionKeepsNewest runs two daemons rolling access.log every 2 s
// in zic-compiled zones whose clocks go back 25 s after the test starts,
// while a client posts numbered records to each (issue 19: retention by END,
// not by the wall time in the names, which after the jump read earlier than
// before it): one with rolling_max_age_sec = 8 (its clocks go back 3
// minutes), one with rolling_max_total_mb = 1 (20 s back, so that names
// after the jump repeat wall times of deleted files). Sampled four times a
// second until 20 s after the jump: the records on disk are always one
// contiguous range (a newer file is never deleted while an older one is
// kept), no name is given to two files, and `rolled --json` lists the files
// in the order of their records; with the maximum age, each file goes when
// its END (its modification time) is 8 s old, not before and within 1.5 s
// after — the files rolled after the jump are not taken for minutes old;
// with the maximum total, the rolled files but the newest (the deletion
// follows the roll) never hold more than 1 MiB. At the end every
// acknowledged record since the oldest kept one is on disk, older ones
// were deleted, and status counts the deletions under the rule. Takes
// about 50 s.
func TestDSTRetentionKeepsNewest(t *testing.T) {
	t.Parallel()
	const maxAge = 8 * time.Second
	jump := time.Now().Add(25 * time.Second).Truncate(time.Second)
	runs := []*dstRun{
		{name: "max_age", back: dstBack},
		{name: "max_total", back: 20 * time.Second},
	}
	extra := map[string]string{"max_age": "rolling_max_age_sec = 8\n", "max_total": "rolling_max_total_mb = 1\n"}
	for _, r := range runs {
		zone := zoneGoingBack(t, jump, r.back)
		r.d = startDaemon(t, writeConfig(t, tempDir(t), timeConf(2, "space_scan_interval_sec = 3600\n"+extra[r.name])), "TZ="+zone)
		r.cache, r.names, r.kinds = map[string]numberedFile{}, map[string]int{}, map[string]int{}
	}
	// max_age: 640 B every 50 ms; max_total: 10 KiB every 50 ms (about
	// 400 KiB a file: two or three files fit in 1 MiB).
	runs[0].p = startNumberedPoster(t, runs[0].d, "access", "d", 5, 50*time.Millisecond)
	runs[1].p = startNumberedPoster(t, runs[1].d, "access", "d", 80, 50*time.Millisecond)
	lives := map[string]*rolledLife{}
	ageRun, totalRun := runs[0], runs[1]

	// lookAge looks at the max_age daemon's folder and notes each file's END,
	// when it was seen and when it was found gone: a file in the look was
	// there at some time after the look began, one not in it was gone when
	// the look ended.
	lookAge := func(t *testing.T) {
		before := time.Now()
		f, _, _ := ageRun.look(t)
		after := time.Now()
		seen := map[string]bool{}
		for _, file := range f.rolled {
			seen[file.name] = true
			l := lives[file.name]
			if l == nil {
				fi, err := os.Stat(filepath.Join(ageRun.d.logs, file.name))
				if err != nil {
					continue // deleted since the look
				}
				l = &rolledLife{end: fi.ModTime()}
				lives[file.name] = l
			}
			l.lastSeen = before
		}
		for name, l := range lives {
			if !seen[name] && l.firstGone.IsZero() {
				l.firstGone = after
			}
		}
	}
	// lookTotal checks the max_total daemon's folder: the rolled files but
	// the newest hold at most 1 MiB.
	lookTotal := func(t *testing.T) {
		f, _, _ := totalRun.look(t)
		sort.Slice(f.rolled, func(i, j int) bool { return f.rolled[i].lo < f.rolled[j].lo })
		var older int64
		for i, file := range f.rolled {
			if i < len(f.rolled)-1 {
				older += int64(len(file.ids)) * numberedLineLen
			}
		}
		if older > 1<<20 {
			totalRun.fail("total", "%d rolled files hold %d bytes besides the newest, want at most 1 MiB", len(f.rolled), older)
		}
	}

	end := jump.Add(20 * time.Second)
	lastOrder := time.Now()
	for time.Now().Before(end) {
		for _, r := range runs {
			if _, failure := r.p.acked(); failure != "" {
				t.Fatalf("%s: %s", r.name, failure)
			}
		}
		lookAge(t)
		lookTotal(t)
		if time.Since(lastOrder) >= time.Second {
			for _, r := range runs {
				r.checkOrder(t)
			}
			lastOrder = time.Now()
		}
		time.Sleep(250 * time.Millisecond)
	}
	afterJump := 0
	for name, l := range lives {
		if l.end.After(jump) {
			afterJump++
		}
		switch {
		case !l.firstGone.IsZero() && l.firstGone.Before(l.end.Add(maxAge)):
			ageRun.fail("early", "%s (END %v) deleted %v after its END, want %v", name, l.end.UTC(), l.firstGone.Sub(l.end), maxAge)
		case l.lastSeen.After(l.end.Add(maxAge + 1500*time.Millisecond)):
			ageRun.fail("late", "%s (END %v) still there %v after its END, want deleted at %v", name, l.end.UTC(), l.lastSeen.Sub(l.end), maxAge)
		}
	}
	if afterJump < 5 {
		t.Errorf("max_age: %d files rolled after the jump seen, want about 10", afterJump)
	}
	for _, r := range runs {
		if sp := r.finish(t); sp.DeletedByRule["budget"] != 0 {
			t.Errorf("%s: status space.deleted_by_rule %v, want no deletion by the budget", r.name, sp.DeletedByRule)
		}
	}
}
