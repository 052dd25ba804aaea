//go:build unix

package main_test

import (
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

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

// TestTokenRefreshesByTheSessionsWindow: token holds the session as the SDK
// does. A token that lives less than a minute is printed as it is while it
// is valid, not refreshed on every call; once past its life, it is
// refreshed once, and the new one printed until it is due in turn.
func TestTokenRefreshesByTheSessionsWindow(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 50 * time.Second})
	store := filepath.Join(t.TempDir(), "s", "session.json")
	access, refresh := srv.Pair(t)
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	before := srv.RefreshRequests(t)
	for i := range 3 {
		r = aisquareGo(t, nil, "", "token", "--store", store)
		require.Equal(t, 0, r.code, "run %d: stderr: %s", i, r.stderr)
		assert.Equal(t, access+"\n", r.stdout, "run %d: the valid token, as it is", i)
	}
	assert.Equal(t, before, srv.RefreshRequests(t), "no refresh within the token's life")

	// Past its life (a pair issued 55 seconds ago): one refresh, saved.
	old, oldRefresh := srv.PairIssuedAgo(t, 55*time.Second)
	r = aisquareGo(t, nil, old+"\n"+oldRefresh, "session", "set", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	before = srv.RefreshRequests(t)
	r = aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	fresh := strings.TrimSuffix(r.stdout, "\n")
	assert.NotEqual(t, old, fresh)
	assert.Equal(t, http.StatusOK, callMe(t, srv.URL, fresh))
	saved := storeFile(t, store)
	assert.Equal(t, fresh, saved["access"], "saved")
	assert.NotEqual(t, oldRefresh, saved["refresh"], "the rotated refresh token saved")
	for i := range 2 {
		r = aisquareGo(t, nil, "", "token", "--store", store)
		require.Equal(t, 0, r.code, "run %d: stderr: %s", i, r.stderr)
		assert.Equal(t, fresh+"\n", r.stdout, "run %d", i)
	}
	assert.Equal(t, before+1, srv.RefreshRequests(t), "one refresh past the token's life")
}

// TestTokenWaitsOutATokenAboutToExpire: a token with less than a second
// left is not printed, since whoever runs it could not use it in time: the
// command waits it out, and prints the refreshed one.
func TestTokenWaitsOutATokenAboutToExpire(t *testing.T) {
	const lifetime = 10 * time.Second
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: lifetime})
	t.Cleanup(srv.Close)
	// Expiries are whole seconds: just past the start of a second, a pair
	// issued a lifetime less a second ago holds an access token with a
	// moment less than a second left.
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
	access, refresh := srv.IssuePairAt(7, time.Now().Truncate(time.Second).Add(time.Second-lifetime))
	store := filepath.Join(t.TempDir(), "s", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	r = aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	fresh := strings.TrimSuffix(r.stdout, "\n")
	assert.NotEqual(t, access, fresh, "the token about to expire is not printed")
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, fresh, storeFile(t, store)["access"])
	assert.Equal(t, http.StatusOK, callMe(t, srv.URL, fresh))
}

func contains(s, sub string) bool { return sub != "" && strings.Contains(s, sub) }
