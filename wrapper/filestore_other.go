//go:build !unix

package wrapper

import (
	"io/fs"
	"os"
	"time"
)

// lockFlags open a lock file. Here the lock path is not checked for a
// symbolic link.
const lockFlags = os.O_CREATE | os.O_RDWR

// renameOpenFile says a temporary file is renamed before it is closed,
// which releases the lock that [holdTemp] takes.
const renameOpenFile = false

func isSymlinkErr(error) bool { return false }

func ownedByUser(fs.FileInfo) bool { return true }

func holdTemp(*os.File) {}

// abandoned reports whether the temporary file at path is older than any
// save takes: without advisory locks on it, its age tells.
func abandoned(path string) bool {
	info, err := os.Stat(path)
	return err == nil && time.Since(info.ModTime()) > time.Minute
}
