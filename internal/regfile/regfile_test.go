//go:build unix

package regfile_test

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/regfile"
)

func TestOpen(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	require.NoError(t, os.WriteFile(file, []byte("abc"), 0o600))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(file, link))
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o600))

	for _, path := range []string{file, link} {
		f, err := regfile.Open(path)
		require.NoError(t, err, path)
		data, err := io.ReadAll(f)
		require.NoError(t, err)
		assert.Equal(t, "abc", string(data))
		require.NoError(t, f.Close())
	}

	tests := []struct {
		name, path, want string
	}{
		{"a FIFO no one writes to", fifo, "is a FIFO, not a regular file"},
		{"a device", "/dev/zero", "is a character device, not a regular file"},
		{"a directory", dir, "is a directory, not a regular file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := regfile.Open(tc.path)
			assert.Nil(t, f)
			require.ErrorIs(t, err, regfile.ErrNotRegular)
			assert.Equal(t, tc.path+" "+tc.want, err.Error())
		})
	}

	_, err := regfile.Open(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
}
