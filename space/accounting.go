package space

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/logroll/logroll/logging"
)

// Accounting: what the manager knows of the folder's files between scans.
//
// U = base + (bytes the collator wrote since the scan's mark). base is the
// sum of the last scan's sizes, moved by every event since. The bytes the
// collator writes are not attributed to a file (Manager.Wrote has no name),
// so an active file's entry keeps the size it had when it was last scanned
// (or 0 when it appeared later); its growth lives in the written counter.
//
// Events are reconciled by name with Lstat, and a rename is recognised by
// the file's device and inode: a file that left one name (fsnotify Rename)
// and appears under another is the same bytes, and U does not change. That
// is how a roll (active → rolled name) keeps U exact although the collator's
// writes to the active file were never attributed to it.
//
// The folders counted are the log folder and every log's rolled folder
// (rolled_dir): files are known by their paths, and a rename from one
// folder to another (a roll into the rolled folder) is recognised as well.
// Active files are only in the log folder.

// fileID identifies a file on its filesystem.
type fileID struct{ dev, ino uint64 }

// entry is one regular file of the folder.
type entry struct {
	size   int64 // its bytes as counted in U: for an active file, at its last scan (0 if it appeared since), its growth being Wrote's
	mtime  time.Time
	id     fileID
	hasID  bool
	active bool // the name was a configured active name: its growth is counted by Wrote
	rolled File // the rolled file it is (rolledFile); rolled.Log is "" when it is not one
	failed bool // its deletion failed: not a candidate until the next scan
	temp   bool // a compression's temporary (logging.IsCompressTemp): transient
}

// isRolled reports whether e is a rolled file.
func (e *entry) isRolled() bool { return e.rolled.Log != "" }

// departed is an entry that left its name by a rename, kept a while by its
// file ID in case it reappears under another name in the folder.
type departed struct {
	e  *entry
	at time.Time
}

// Limits on the departed entries: a rename inside the folder shows both of
// its events within microseconds, so a few seconds is plenty; a file moved
// out of the folder is never seen again.
const (
	departedTTL = 5 * time.Second
	departedMax = 10_000
)

// usage is one log's rolled files: how many, how many bytes.
type usage struct {
	files int
	bytes int64
}

// acct is the accounting state. It is owned by the manager's goroutine.
type acct struct {
	dir     string   // the log folder
	dirs    []string // the folders counted: dir, then the rolled folders
	loc     *time.Location
	actives []string
	// names are the active names rolled names are split by: actives,
	// and the logs whose .meta the log folder holds (a log removed from
	// the configuration), so that another host's file of a removed log
	// "access.log.json" is not access.log's of a host "json.web02".
	names []string
	host  string // this host's name, for logging.ParseRolledName
	isAct map[string]bool
	// alias maps a folder of dirs that the last scan found to be another
	// one of dirs (a link made while the daemon runs: configuration
	// checks catch those at load) to that one, whose path counts its
	// files: each file is counted, and a candidate, once.
	alias map[string]string
	procs int // goroutines of a scan; 0 means GOMAXPROCS

	files map[string]*entry // by path
	base  int64
	// transient is the part of base held by compressions' temporaries:
	// bytes that come back when each compression ends, whichever way. The
	// figures the rules act on leave them out (see Manager.figures).
	transient  int64
	departed   map[fileID]departed
	perLog     map[string]*usage
	candidates int  // rolled entries not failed
	dirty      bool // perLog changed since the last publish
	retain     bool // the rolled files changed since the retention rules last ran
}

// newAcct returns an empty accounting for the log folder dir and the
// rolled folders more.
func newAcct(dir string, more []string, loc *time.Location, actives []string, host string) *acct {
	a := &acct{dir: dir, loc: loc}
	a.setDirs(more)
	a.setActives(actives, host)
	a.reset(0)
	return a
}

// setDirs sets the rolled folders counted besides the log folder. Entries
// are kept until the next scan (Apply always scans).
func (a *acct) setDirs(more []string) {
	a.dirs = append([]string{a.dir}, more...)
}

// leftBehind is a folder that stops being counted and the rolled files
// still in it.
type leftBehind struct {
	dir   string
	files int
	bytes int64
	// pending counts the hidden rolled files waiting there for their
	// compression or publication (logging.IsPending).
	pending int
}

// leftBehind returns the folders of a.dirs that next no longer holds, in
// a.dirs' order, with the rolled files and pending ones a.files knows in
// each; folders with neither are left out.
func (a *acct) leftBehind(next []string) []leftBehind {
	var out []leftBehind
	for _, d := range a.dirs[1:] { // the log folder is always counted
		if slices.Contains(next, d) {
			continue
		}
		lb := leftBehind{dir: d}
		for path, e := range a.files {
			switch {
			case filepath.Dir(path) != d:
			case e.isRolled():
				lb.files++
				lb.bytes += e.size
			case logging.IsPending(filepath.Base(path)):
				lb.pending++
			}
		}
		if lb.files > 0 || lb.pending > 0 {
			out = append(out, lb)
		}
	}
	return out
}

// counts reports whether dir is one of the folders counted.
func (a *acct) counts(dir string) bool {
	return slices.Contains(a.dirs, dir)
}

// setActives sets the configured active names and the host's name.
// Entries keep their classification until the next scan (Apply always
// scans).
func (a *acct) setActives(actives []string, host string) {
	a.actives, a.host = actives, host
	a.names = actives
	a.isAct = make(map[string]bool, len(actives))
	for _, n := range actives {
		a.isAct[n] = true
	}
}

// reset empties the accounting, with room for n files.
func (a *acct) reset(n int) {
	a.files = make(map[string]*entry, n)
	a.departed = map[fileID]departed{}
	a.perLog = map[string]*usage{}
	a.base, a.candidates, a.dirty, a.retain = 0, 0, true, true
	a.transient = 0
}

// fileStat is what the accounting needs of a file's Lstat.
type fileStat struct {
	size    int64
	mtime   time.Time
	ctime   time.Time // st_ctim, zero when unknown
	id      fileID
	hasID   bool
	regular bool
}

// statOf returns the fileStat of fi (from Lstat).
func statOf(fi fs.FileInfo) fileStat {
	st := fileStat{size: fi.Size(), mtime: fi.ModTime(), ctime: ctimeOf(fi), regular: fi.Mode().IsRegular()}
	st.id, st.hasID = idOf(fi)
	return st
}

// newEntry classifies the file at path described by st.
func (a *acct) newEntry(path string, st fileStat) *entry {
	dir, name := filepath.Split(path)
	dir = filepath.Clean(dir)
	e := &entry{size: st.size, mtime: st.mtime, id: st.id, hasID: st.hasID, active: dir == a.dir && a.isAct[name]}
	e.temp = !e.active && logging.IsCompressTemp(name)
	if !e.active {
		e.rolled, _ = rolledFile(name, st.mtime, st.ctime, st.size, a.names, a.host, a.loc)
		e.rolled.Dir = dir
	}
	return e
}

// put records e under path; base is the caller's business.
func (a *acct) put(path string, e *entry) {
	a.files[path] = e
	if e.temp {
		a.transient += e.size
	}
	if !e.isRolled() {
		return
	}
	u := a.perLog[e.rolled.Log]
	if u == nil {
		u = &usage{}
		a.perLog[e.rolled.Log] = u
	}
	u.files++
	u.bytes += e.size
	if !e.failed {
		a.candidates++
	}
	a.dirty, a.retain = true, true
}

// drop removes path's entry and returns it (nil if unknown); base is the
// caller's business.
func (a *acct) drop(path string) *entry {
	e := a.files[path]
	if e == nil {
		return nil
	}
	delete(a.files, path)
	if e.temp {
		a.transient -= e.size
	}
	if e.isRolled() {
		if u := a.perLog[e.rolled.Log]; u != nil {
			u.files--
			u.bytes -= e.size
			if u.files <= 0 {
				delete(a.perLog, e.rolled.Log)
			}
		}
		if !e.failed {
			a.candidates--
		}
		a.dirty, a.retain = true, true
	}
	return e
}

// forget removes path's entry from U. With moved, the file left by a rename
// and may reappear under another name (see reconcile).
func (a *acct) forget(path string, moved bool, now time.Time) {
	e := a.drop(path)
	if e == nil {
		return
	}
	a.base -= e.size
	if moved && e.hasID {
		if len(a.departed) >= departedMax {
			clear(a.departed)
		}
		a.departed[e.id] = departed{e: e, at: now}
	}
}

// markFailed takes path's entry out of the candidates until the next scan.
func (a *acct) markFailed(path string) {
	if e := a.files[path]; e != nil && !e.failed {
		e.failed = true
		if e.isRolled() {
			a.candidates--
		}
	}
}

// reconcile brings path's entry in line with the folder: an event (or a
// caller) said something happened to it. moved says the event was a rename
// away from path. It is idempotent: a late or repeated event changes
// nothing once the entry matches the file.
func (a *acct) reconcile(path string, moved bool, now time.Time) {
	path = a.canonical(path)
	known := a.files[path]
	var st fileStat
	if fi, err := os.Lstat(path); err == nil {
		st = statOf(fi)
	}
	if known != nil {
		if st.regular && sameFile(known, st) {
			if !known.active { // an active file's growth is counted by Wrote
				a.drop(path)
				a.base += st.size - known.size
				known.size, known.mtime = st.size, st.mtime
				if known.isRolled() {
					known.rolled, _ = rolledFile(filepath.Base(path), st.mtime, st.ctime, st.size, a.names, a.host, a.loc)
					known.rolled.Dir = filepath.Dir(path)
				}
				a.put(path, known)
			}
			return
		}
		a.forget(path, moved, now)
	}
	if !st.regular {
		return
	}
	e := a.newEntry(path, st)
	if d, ok := a.departed[e.id]; ok && e.hasID {
		// The same bytes under a new name: U does not change. A file that was
		// active had only its scanned size in base; the rest is in Wrote's count.
		delete(a.departed, e.id)
		if d.e.active {
			a.base += d.e.size
		} else {
			a.base += e.size
		}
	} else if other := a.movedFrom(path, e); other != "" {
		// The same bytes, still recorded under the name they left, whose
		// rename event is not handled yet: a roll renaming the active file
		// onto a rolled name that autodelete just freed. A move, as above.
		a.forget(other, true, now)
		d := a.departed[e.id]
		delete(a.departed, e.id)
		if d.e.active {
			a.base += d.e.size
		} else {
			a.base += e.size
		}
	} else if e.active {
		// A new active file: the collator's writes into it are counted by Wrote.
		e.size = 0
	} else {
		a.base += e.size
	}
	a.put(path, e)
}

// movedFrom returns the path of another entry recorded for the same file as
// e (now at path) that no longer holds that file: the path it was renamed
// away from, when the rename's event is still queued. "" when there is none
// (hard links keep both names, and are distinct entries).
func (a *acct) movedFrom(path string, e *entry) string {
	if !e.hasID {
		return ""
	}
	for other, o := range a.files {
		if other == path || !o.hasID || o.id != e.id {
			continue
		}
		if fi, err := os.Lstat(other); err == nil {
			if st := statOf(fi); st.hasID && st.id == e.id {
				continue // a hard link: both names hold the file
			}
		}
		return other
	}
	return ""
}

// sameFile reports whether st is the file e was recorded from.
func sameFile(e *entry, st fileStat) bool {
	if !st.hasID || !e.hasID {
		return true // no IDs: trust the name
	}
	return st.id == e.id
}

// prune forgets departed entries older than departedTTL.
func (a *acct) prune(now time.Time) {
	for id, d := range a.departed {
		if now.Sub(d.at) > departedTTL {
			delete(a.departed, id)
		}
	}
}

// scan replaces the accounting with a full listing of the folders: every
// regular file directly in each, by Lstat (a symbolic link is not
// counted). A rolled folder that does not exist (yet) counts nothing. A
// failure to list a folder leaves the accounting as it was.
func (a *acct) scan() error {
	type listing struct {
		d    *os.File
		dir  string
		ents []fs.DirEntry
	}
	var ls []listing
	defer func() {
		for _, l := range ls {
			l.d.Close()
		}
	}()
	total := 0
	seen := make(map[fileID]string, len(a.dirs))
	var alias map[string]string
	for i, dir := range a.dirs {
		d, err := os.Open(dir)
		if err != nil {
			if i > 0 && errors.Is(err, fs.ErrNotExist) {
				continue
			}
			return err
		}
		if first, ok := sameAs(d, dir, seen); ok {
			// The same folder through another path: listed once.
			d.Close()
			if alias == nil {
				alias = map[string]string{}
			}
			alias[dir] = first
			continue
		}
		ents, err := d.ReadDir(-1) // unsorted: cheaper than os.ReadDir on 100,000 files
		if err != nil {
			d.Close()
			return err
		}
		ls = append(ls, listing{d, dir, ents})
		total += len(ents)
	}
	a.reset(total)
	a.alias = alias
	if len(ls) > 0 && ls[0].dir == a.dir {
		a.names = SplitNames(a.actives, ls[0].ents)
	}
	for _, l := range ls {
		a.scanDir(l.d, l.dir, l.ents)
	}
	return nil
}

// sameAs reports the folder of seen (by device and inode) that the open
// folder d, at dir, is; else it adds d to seen under dir.
func sameAs(d *os.File, dir string, seen map[fileID]string) (string, bool) {
	fi, err := d.Stat()
	if err != nil {
		return "", false
	}
	id, ok := idOf(fi)
	if !ok {
		return "", false
	}
	if first, dup := seen[id]; dup {
		return first, true
	}
	seen[id] = dir
	return "", false
}

// canonical returns path under the folder that counts it: a path in a
// folder the last scan found to be another counted folder (alias) is
// that folder's (a watch event may name either).
func (a *acct) canonical(path string) string {
	if c, ok := a.alias[filepath.Dir(path)]; ok {
		return filepath.Join(c, filepath.Base(path))
	}
	return path
}

// aliases returns the folders counted under another path ("B is A": B's
// files are counted as A's), sorted.
func (a *acct) aliases() []string {
	out := make([]string, 0, len(a.alias))
	for d, c := range a.alias {
		out = append(out, d+" is "+c)
	}
	slices.Sort(out)
	return out
}

// SplitNames returns the active names rolled names in a log folder are
// split by (RolledFile): actives, and the active names whose .meta
// (".NAME.meta", the collator's) the log folder's entries hold, of those
// that begin with a configured name and a separator: the only ones whose
// files the configured names would take ("access.log.json" beside
// "access.log"); any other name splits the same way without it. So the
// list stays as short as the configuration, whatever the folder holds.
func SplitNames(actives []string, ents []fs.DirEntry) []string {
	out := actives
	var seen map[string]bool // a folder may hold many hidden files
	for _, de := range ents {
		n := de.Name()
		if len(n) <= len(".x.meta") || n[0] != '.' || !strings.HasSuffix(n, ".meta") {
			continue
		}
		if seen == nil {
			seen = make(map[string]bool, len(actives))
			for _, a := range actives {
				seen[a] = true
			}
			out = slices.Clone(actives)
		}
		if name := n[1 : len(n)-len(".meta")]; !seen[name] && extendsOne(name, actives) {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out
}

// scanDir records the regular files among ents, the entries of the open
// folder d at dir.
func (a *acct) scanDir(d *os.File, dir string, ents []fs.DirEntry) {
	// Stat and parse in parallel (one Fstatat and one name parse per file,
	// most of a start-up with many rolled files: docs/performance.md), then
	// record in listing order on this goroutine.
	procs := a.procs
	if procs <= 0 {
		procs = runtime.GOMAXPROCS(0)
	}
	parts := min(procs, 1+len(ents)/scanChunk)
	found := make([][]*entry, parts)
	var wg sync.WaitGroup
	for p := range parts {
		chunk := ents[p*len(ents)/parts : (p+1)*len(ents)/parts]
		found[p] = make([]*entry, len(chunk))
		wg.Go(func() {
			for i, de := range chunk {
				if !de.Type().IsRegular() {
					continue
				}
				st, err := statAt(d, de)
				if err != nil || !st.regular {
					continue // removed or replaced since the listing
				}
				found[p][i] = a.newEntry(filepath.Join(dir, de.Name()), st)
			}
		})
	}
	wg.Wait()
	for p := range parts {
		chunk := ents[p*len(ents)/parts : (p+1)*len(ents)/parts]
		for i, e := range found[p] {
			if e != nil {
				a.put(filepath.Join(dir, chunk[i].Name()), e)
				a.base += e.size
			}
		}
	}
}

// scanChunk is the fewest files per goroutine of a parallel scan.
const scanChunk = 4096

// rolled returns the autodelete candidates: rolled files not failed.
func (a *acct) rolled() []File {
	out := make([]File, 0, a.candidates)
	for _, e := range a.files {
		if e.isRolled() && !e.failed {
			out = append(out, e.rolled)
		}
	}
	return out
}

// extendsOne reports whether name is one of actives, '.' or '_', and more.
func extendsOne(name string, actives []string) bool {
	for _, a := range actives {
		if len(name) > len(a)+1 && strings.HasPrefix(name, a) && (name[len(a)] == '.' || name[len(a)] == '_') {
			return true
		}
	}
	return false
}
