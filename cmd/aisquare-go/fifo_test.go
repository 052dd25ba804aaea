//go:build unix

package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFIFOIsRefusedAtOnce: a --token-file or --store that is a FIFO nobody
// writes to would block the command in open(2), past --timeout: it is
// refused at once, as anything but a regular file is.
func TestFIFOIsRefusedAtOnce(t *testing.T) {
	for _, flagName := range []string{"--token-file", "--store"} {
		t.Run(flagName, func(t *testing.T) {
			fifo := filepath.Join(t.TempDir(), "tok")
			require.NoError(t, syscall.Mkfifo(fifo, 0o600))
			cmd := exec.Command(binary, "refresh", flagName, fifo, "--timeout", "500ms", "--base-url", "http://127.0.0.1:1")
			cmd.Env = append(os.Environ(), "AISQUARE_BASE_URL=", "AISQUARE_API_URL=", "AISQUARE_REFRESH_TOKEN=", "HOME="+t.TempDir())
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
				t.Fatalf("aisquare-go refresh %s FIFO --timeout 500ms still running after 5s", flagName)
			}
			assert.Equal(t, 1, cmd.ProcessState.ExitCode())
			assert.Contains(t, stderr.String(), fifo+" is a FIFO, not a regular file")
		})
	}
}
