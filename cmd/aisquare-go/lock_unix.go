//go:build unix

package main

import (
	"os"
	"syscall"
)

// lockFlags open a lock file without following a symbolic link.
const lockFlags = os.O_CREATE | os.O_RDWR | syscall.O_NOFOLLOW
