package tests

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// Faults made as root: a small file system, a read-only folder, an
// immutable file. Each skips the test when not root or when the kernel
// refuses, and is undone when the test ends (after the daemons started
// later are killed: cleanups run last-in first-out).

// mountTmpfs mounts a tmpfs with options opts ("size=16m,nr_inodes=8") on
// dir (created).
func mountTmpfs(t *testing.T, dir, opts string) {
	t.Helper()
	needRoot(t, "a tmpfs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
		t.Skipf("mount -t tmpfs -o %s tmpfs %s: %v: skipped", opts, dir, err)
	}
	t.Cleanup(func() { unmount(t, dir) })
}

func unmount(t *testing.T, dir string) {
	if err := syscall.Unmount(dir, 0); err != nil {
		t.Errorf("umount %s: %v", dir, err)
		_ = syscall.Unmount(dir, syscall.MNT_DETACH)
	}
}

// bindReadOnly makes dir read-only by bind-mounting it onto itself
// read-only: files opened before stay writable through their descriptors,
// but nothing can be created, renamed or removed in dir. It returns the
// function that undoes it, also run when the test ends.
func bindReadOnly(t *testing.T, dir string) func() {
	t.Helper()
	needRoot(t, "a read-only bind mount")
	if err := syscall.Mount(dir, dir, "", syscall.MS_BIND, ""); err != nil {
		t.Skipf("mount --bind %s %s: %v: skipped", dir, dir, err)
	}
	mounted := true
	undo := func() {
		if mounted {
			mounted = false
			unmount(t, dir)
		}
	}
	t.Cleanup(undo)
	if err := syscall.Mount("", dir, "", syscall.MS_REMOUNT|syscall.MS_BIND|syscall.MS_RDONLY, ""); err != nil {
		undo()
		t.Skipf("mount -o remount,bind,ro %s: %v: skipped", dir, err)
	}
	return undo
}

// freeInodes is the free inodes of dir's file system (statfs f_ffree,
// which Linux also reports as statvfs f_favail).
func freeInodes(t *testing.T, dir string) int64 {
	t.Helper()
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	return int64(st.Ffree)
}

// fillDisk writes a file at path until its file system is full (ENOSPC).
func fillDisk(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, chunk := range []int{64 << 10, 4 << 10, 512} {
		buf := make([]byte, chunk)
		for {
			if _, err := f.Write(buf); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatal(err)
				}
				break
			}
		}
	}
}

// immutableFlag is FS_IMMUTABLE_FL (linux/fs.h), chattr +i: once set, even
// root cannot change what it protects, through a descriptor opened before
// too.
const immutableFlag = 0x10

// setImmutable sets (on) or clears the immutable flag of path, as chattr
// does; the error says the file system does not support it. A flag set is
// cleared when the test ends, so that the folder can be removed.
func setImmutable(t *testing.T, path string, on bool) error {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cur, err := unix.IoctlGetUint32(int(f.Fd()), unix.FS_IOC_GETFLAGS)
	if err != nil {
		return fmt.Errorf("get inode flags of %s: %w", path, err)
	}
	v := int(cur) &^ immutableFlag
	if on {
		v |= immutableFlag
	}
	if err := unix.IoctlSetPointerInt(int(f.Fd()), unix.FS_IOC_SETFLAGS, v); err != nil {
		return fmt.Errorf("set inode flags of %s: %w", path, err)
	}
	if on {
		t.Cleanup(func() { _ = setImmutable(t, path, false) })
	}
	return nil
}
