//go:build !unix

package regfile

import "os"

// openFlags open a file for reading.
const openFlags = os.O_RDONLY
