package space

import (
	"io/fs"
	"syscall"
	"time"
)

// ctimeOf returns the time of fi's last status change (st_ctim), zero
// when unknown. No one can set it back: a rename, a chmod, a touch all set
// it to now.
func ctimeOf(fi fs.FileInfo) time.Time {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}
	}
	return time.Unix(st.Ctim.Unix())
}
