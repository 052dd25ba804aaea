//go:build unix

package regfile

import (
	"os"
	"syscall"
)

// openFlags open a file for reading without waiting for a FIFO's writer;
// O_NONBLOCK changes nothing for the regular file that Open keeps.
const openFlags = os.O_RDONLY | syscall.O_NONBLOCK
