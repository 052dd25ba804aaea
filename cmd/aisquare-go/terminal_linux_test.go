package main_test

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openTerminal opens a new pseudo-terminal and returns its terminal end.
func openTerminal(t *testing.T) *os.File {
	t.Helper()
	ptmx, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { ptmx.Close() })
	var unlock int32
	_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock)))
	require.Zero(t, errno, "unlocking the pseudo-terminal")
	var n uint32
	_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, ptmx.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n)))
	require.Zero(t, errno, "numbering the pseudo-terminal")
	tty, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	require.NoError(t, err)
	t.Cleanup(func() { tty.Close() })
	return tty
}

// TestTerminalIsNotRead: a real terminal on standard input is never read,
// where a person would have to type: the command fails at once and says
// so. /dev/null, a character device too, is no terminal (see
// TestNoSilentWait).
func TestTerminalIsNotRead(t *testing.T) {
	for _, args := range [][]string{{"refresh"}, {"session", "set"}} {
		r := runBinary(t, nil, openTerminal(t), append(args, "--timeout", "20s")...)
		assert.Equal(t, 2, r.code, "%v: stderr: %s", args, r.stderr)
		assert.Contains(t, r.stderr, "standard input is a terminal", "%v", args)
		assert.NotContains(t, r.stderr, "nothing on standard input", "%v: not read until the timeout", args)
	}
}
