//go:build unix

package main_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }

// TestTokenPrintsTheNewTokensWhenItCannotSaveThem: token refreshes a due
// token with a rotating server, and the save of the new pair fails. The old
// refresh token is spent (blacklisted), so the new pair is printed, as
// refresh prints it, and the error line says where it is: handed to
// "aisquare-go session set", it carries on the session.
func TestTokenPrintsTheNewTokensWhenItCannotSaveThem(t *testing.T) {
	tests := []struct {
		name string
		// unwritable makes saving the store at path fail, and returns what
		// runs the binary in its place (nil: the binary itself).
		unwritable func(t *testing.T, path string) []string
	}{
		{"an immutable store file", func(t *testing.T, path string) []string {
			if _, err := exec.LookPath("chattr"); err != nil {
				t.Skip("needs chattr")
			}
			if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
				t.Skipf("chattr +i: %v: %s", err, out)
			}
			t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
			return nil
		}},
		// A file size limit of zero fails every write to a file, root's
		// included, and none to a pipe.
		{"a file size limit of zero", func(t *testing.T, _ string) []string {
			sh, err := exec.LookPath("sh")
			if err != nil {
				t.Skip("needs sh")
			}
			return []string{sh, "-c", `ulimit -f 0 && exec "$0" "$@"`, binary}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: 30 * time.Second})
			t.Cleanup(srv.Close)
			access, refresh := srv.IssuePairAt(7, time.Now().Add(-time.Minute)) // the access token has expired
			store := filepath.Join(t.TempDir(), "config", "session.json")
			r := aisquareGo(t, nil, access+"\n"+refresh+"\n", "session", "set", "--store", store, "--base-url", srv.URL)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

			args := []string{"token", "--store", store}
			if wrap := tc.unwritable(t, store); wrap != nil {
				r = runCommand(t, nil, strings.NewReader(""), wrap[0], append(wrap[1:], args...)...)
			} else {
				r = aisquareGo(t, nil, "", args...)
			}
			require.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute), "the token had expired: one refresh")
			rotated := srv.LastRefreshToken()
			require.NotEqual(t, refresh, rotated)
			assert.Equal(t, 1, r.code)
			assert.True(t, contains(r.stdout, rotated) || contains(r.stderr, rotated) || storeFile(t, store)["refresh"] == rotated,
				"the rotated refresh token, the only valid one left, is lost: the old one is blacklisted")
			out := decode(t, r.stdout)
			assert.Equal(t, rotated, out.Refresh, "printed as refresh prints it")
			assert.NotEmpty(t, out.Access)
			assert.NotEmpty(t, out.AccessExpiresAt)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.Contains(t, r.stderr, "aisquare-go token: the new tokens could not be saved in "+store)
			assert.Contains(t, r.stderr, "the new one is on standard output")
			assert.NotContains(t, r.stderr, rotated)
			assert.NotContains(t, r.stderr, out.Access)

			// Once the store is writable again, the printed pair carries on:
			// its access token is printed as it is, and its refresh token is
			// the one the server takes.
			_ = exec.Command("chattr", "-i", store).Run()
			r = aisquareGo(t, nil, r.stdout, "session", "set", "--store", store)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			r = aisquareGo(t, nil, "", "token", "--store", store)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, out.Access+"\n", r.stdout, "only the access token")
			r = aisquareGo(t, nil, "", "refresh", "--store", store)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute), "refreshed with the printed refresh token")
		})
	}
}
