//go:build unix

package wrapper

import (
	"errors"
	"io/fs"
	"os"
	"syscall"
)

// lockFlags open a lock file without following a symbolic link.
const lockFlags = os.O_CREATE | os.O_RDWR | syscall.O_NOFOLLOW

// renameOpenFile says a temporary file is renamed before it is closed,
// which releases the lock that [holdTemp] takes.
const renameOpenFile = true

// isSymlinkErr reports whether err is opening a symbolic link with
// O_NOFOLLOW.
func isSymlinkErr(err error) bool { return errors.Is(err, syscall.ELOOP) }

// ownedByUser reports whether the file belongs to the user running the
// process.
func ownedByUser(info fs.FileInfo) bool {
	st, ok := info.Sys().(*syscall.Stat_t)
	return !ok || int(st.Uid) == os.Geteuid()
}

// holdTemp takes an advisory lock on a temporary file of a save in
// progress; closing the file, or a crash, releases it.
func holdTemp(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
}

// abandoned reports whether no save holds the temporary file at path.
func abandoned(path string) bool {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) != nil {
		return false // a save in progress holds it
	}
	return true
}
