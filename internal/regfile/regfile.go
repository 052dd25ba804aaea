// Package regfile opens files that must be regular files, such as token
// files, without ever blocking on a FIFO or a device.
package regfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotRegular is a path that names something other than a regular file.
var ErrNotRegular = errors.New("not a regular file")

// Open opens the file at path for reading, following symbolic links, and
// returns an error matching [ErrNotRegular] if it is not a regular file (a
// FIFO, a device, a socket, a directory). Opening never waits: a FIFO that
// no process writes to is refused at once, not read until a writer comes.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, openFlags, 0)
	if err != nil {
		return nil, err
	}
	info, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return nil, err
	}
	if !info.Mode().IsRegular() {
		_ = f.Close()
		return nil, fmt.Errorf("%s is %s, %w", path, kind(info.Mode()), ErrNotRegular)
	}
	return f, nil
}

// kind names the type of a file that is not regular.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m.IsDir():
		return "a directory"
	}
	return "of mode " + m.Type().String()
}
