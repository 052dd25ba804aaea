package main_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// cliHome writes the credentials file of AISquare's own CLI, as it writes
// it (JSON, indent 2, mode 0600), into a folder for $AISQUARE_HOME.
func cliHome(t *testing.T, fields map[string]string) string {
	t.Helper()
	home := t.TempDir()
	data, err := json.MarshalIndent(fields, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(home, "credentials"), append(data, '\n'), 0o600))
	return home
}

// TestTokenTakesTheSDKsChain: token prints the token of the same chain as
// wrapper.New: --store, then $AISQUARE_TOKEN, then the default store, then
// AISquare's CLI session.
func TestTokenTakesTheSDKsChain(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	const envToken, cliToken = "aisq_from-the-environment", "aisq_from-the-cli"
	later := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	home := cliHome(t, map[string]string{"iam_api_url": srv.URL, "iam_token": cliToken, "iam_token_expires_at": later})

	r := aisquareGo(t, []string{"AISQUARE_TOKEN=" + envToken, "AISQUARE_HOME=" + home}, "", "token", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, envToken+"\n", r.stdout, "$AISQUARE_TOKEN over AISquare's CLI")

	r = aisquareGo(t, []string{"AISQUARE_HOME=" + home}, "", "token", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, cliToken+"\n", r.stdout, "AISquare's CLI session, for its API")

	access, refresh := srv.IssuePair(1)
	store := filepath.Join(t.TempDir(), "s.json")
	r = aisquareGo(t, nil, access+"\n"+refresh+"\n", "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, []string{"AISQUARE_TOKEN=" + envToken, "AISQUARE_HOME=" + home}, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout, "--store over $AISQUARE_TOKEN")

	r = aisquareGo(t, []string{"AISQUARE_TOKEN=" + envToken}, "", "session", "show", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "source:        $AISQUARE_TOKEN")
	assert.NotContains(t, r.stdout, envToken)
}

// TestTokenOfAISquareCLI: AISquare's CLI session for another API is refused,
// naming both; an expired one says to log in, exit 2.
func TestTokenOfAISquareCLI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	const token = "aisq_cli-session"
	other := cliHome(t, map[string]string{"iam_api_url": "https://stg-api.aisquare.studio", "iam_token": token})
	for _, args := range [][]string{{"token", "--api-url", srv.URL}, {"session", "show", "--api-url", srv.URL}} {
		r := aisquareGo(t, []string{"AISQUARE_HOME=" + other}, "", args...)
		assert.Equal(t, 1, r.code)
		assert.Contains(t, r.stderr, "https://stg-api.aisquare.studio")
		assert.Contains(t, r.stderr, srv.URL)
		assert.Contains(t, r.stderr, `AISquare's credentials file`)
		assert.Contains(t, r.stderr, `run "aisquare login" for it, or choose its API with --api-url or $AISQUARE_API_URL`)
		for _, wrong := range []string{"WithBaseURL", "WithoutAmbientCredentials", "session clear", "--store", "token store"} {
			assert.NotContains(t, r.stderr, wrong, "advice for Go code or for the session store")
		}
		assert.NotContains(t, r.stderr, token)
		assert.Empty(t, r.stdout)
	}

	expired := cliHome(t, map[string]string{"iam_api_url": srv.URL, "iam_token": token,
		"iam_token_expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	r := aisquareGo(t, []string{"AISQUARE_HOME=" + expired}, "", "token", "--api-url", srv.URL)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `run "aisquare login"`)
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line")
	assert.Empty(t, r.stdout)
}

// TestTokenRefusesAnotherAPI: a store set for one API is never used against
// another, and nothing reaches the other.
func TestTokenRefusesAnotherAPI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	other := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(other.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	for _, run := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"token", "--store", store, "--base-url", other.URL}},
		{[]string{"AISQUARE_BASE_URL=" + other.URL}, []string{"token", "--store", store}},
		{[]string{"AISQUARE_API_URL=" + other.URL}, []string{"refresh", "--store", store}},
		{nil, []string{"session", "set", "--store", store, "--base-url", other.URL}},
	} {
		stdin := ""
		if run.args[0] == "session" {
			stdin = access + "\n" + refresh
		}
		r := aisquareGo(t, run.env, stdin, run.args...)
		assert.Equal(t, 1, r.code, "%v", run.args)
		assert.Contains(t, r.stderr, "belongs to another API")
		assert.Contains(t, r.stderr, srv.URL)
		assert.Contains(t, r.stderr, other.URL)
		assert.NotContains(t, r.stderr, refresh)
		assert.NotContains(t, r.stderr, access)
	}
	assert.Zero(t, other.Requests(wrappertest.RefreshRoute)+other.Requests(wrappertest.MeRoute))
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

// TestTokenAgainstSimpleJWT: the built command as a credential helper
// against a real SimpleJWT server with rotation, a blacklist and two-second
// access tokens, alone and beside a session client sharing its store.
func TestTokenAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 2 * time.Second})
	access, refresh := srv.Pair(t)
	store := filepath.Join(t.TempDir(), "aisquare", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	seen := map[string]bool{}
	for i := range 5 {
		r := aisquareGo(t, nil, "", "token", "--store", store)
		require.Equal(t, 0, r.code, "run %d: stderr: %s", i, r.stderr)
		tok := strings.TrimSuffix(r.stdout, "\n")
		require.NotContains(t, tok, "\n")
		assert.Equal(t, http.StatusOK, callMe(t, srv.URL, tok), "run %d: the token works", i)
		seen[tok] = true
		time.Sleep(2500 * time.Millisecond) // past the access token's lifetime
	}
	assert.Len(t, seen, 5, "a new token each time")

	// Beside a session client sharing the store, for 10 seconds.
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(store)))
	require.NoError(t, err)
	defer c.Close()
	first, err := c.TokenSource().Token()
	require.NoError(t, err)
	firstAccess := first.AccessToken
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	var clientCalls, commandRuns int
	wg.Go(func() {
		for time.Now().Before(deadline) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+wrappertest.MeRoute, nil)
			resp, err := c.HTTPClient().Do(req)
			if !assert.NoError(t, err, "session client") {
				return
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			if !assert.Equal(t, http.StatusOK, resp.StatusCode, "session client: %s", body) {
				return
			}
			clientCalls++
			time.Sleep(100 * time.Millisecond)
		}
	})
	wg.Go(func() {
		for time.Now().Before(deadline) {
			r := aisquareGo(t, nil, "", "token", "--store", store)
			if !assert.Equal(t, 0, r.code, "command: stderr: %s", r.stderr) {
				return
			}
			if !assert.Equal(t, http.StatusOK, callMe(t, srv.URL, strings.TrimSpace(r.stdout)), "command's token") {
				return
			}
			commandRuns++
			time.Sleep(300 * time.Millisecond)
		}
	})
	wg.Wait()
	t.Logf("%d session client calls, %d command runs", clientCalls, commandRuns)
	assert.Positive(t, clientCalls)
	assert.Positive(t, commandRuns)
	last, err := c.TokenSource().Token()
	require.NoError(t, err)
	assert.NotEqual(t, firstAccess, last.AccessToken, "the session client renewed its token too")
	r = aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "the stored session is alive: stderr: %s", r.stderr)
}
