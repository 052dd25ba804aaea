//go:build !unix

package main

import "os"

// lockFlags open a lock file.
const lockFlags = os.O_CREATE | os.O_RDWR
