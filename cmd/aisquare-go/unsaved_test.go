package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestRotatedTokenIsPrintedWhenItCannotBeWritten: the new refresh token is
// never lost, even when the token file cannot be rewritten.
func TestRotatedTokenIsPrintedWhenItCannotBeWritten(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	dir := t.TempDir()
	file := filepath.Join(dir, "refresh")
	require.NoError(t, os.WriteFile(file, []byte(refresh), 0o600))
	require.NoError(t, os.WriteFile(file+".lock", nil, 0o600))
	args := []string{"refresh", "--token-file", file, "--base-url", srv.URL}
	var r result
	if os.Geteuid() == 0 {
		// Root writes into a read-only directory; a file size limit of zero
		// fails every write to a file, root's included, and none to a pipe.
		sh, err := exec.LookPath("sh")
		require.NoError(t, err)
		r = runCommand(t, nil, strings.NewReader(""), sh, append([]string{"-c", `ulimit -f 0 && exec "$0" "$@"`, binary}, args...)...)
	} else {
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		r = aisquareGo(t, nil, "", args...)
	}
	assert.Equal(t, 1, r.code)
	assert.Equal(t, srv.LastRefreshToken(), decode(t, r.stdout).Refresh)
	assert.Contains(t, r.stderr, "the new one is on standard output")
}
