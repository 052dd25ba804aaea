package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// expiryOf is the expiry of token as session show prints it.
func expiryOf(t *testing.T, token string) string {
	t.Helper()
	exp, err := wrapper.TokenExpiry(token)
	require.NoError(t, err)
	return exp.UTC().Format(time.RFC3339)
}

// TestSessionShow: the API URL, the source and the expiries of the stored
// session, and never a token.
func TestSessionShow(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	r = aisquareGo(t, nil, "", "session", "show", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stderr)
	assert.Equal(t, "API URL:       "+srv.URL+"\n"+
		"source:        session store "+store+"\n", strings.Join(strings.SplitAfter(r.stdout, "\n")[:2], ""))
	assert.Contains(t, r.stdout, "\naccess token:  expires "+expiryOf(t, access)+", in ")
	assert.Contains(t, r.stdout, "\nrefresh token: expires "+expiryOf(t, refresh)+", in ")
	assert.NotContains(t, r.stdout, "another API")
	assert.NotContains(t, r.stdout, access)
	assert.NotContains(t, r.stdout, refresh)
	assert.NotContains(t, r.stdout, "eyJ", "no part of a token")

	// An expired access token is said to be so; a refresh sends nothing.
	old, oldRefresh := srv.IssuePairAt(7, time.Now().Add(-2*time.Hour))
	r = aisquareGo(t, nil, old+"\n"+oldRefresh, "session", "set", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "session", "show", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "\naccess token:  expired "+expiryOf(t, old)+", ")
	assert.Contains(t, r.stdout, " ago: the next command refreshes it\n")
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "session show sends nothing")
}

// TestSessionShowAnotherAPI: a session shown for another API than the
// command's says so, and is shown all the same.
func TestSessionShowAnotherAPI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	for _, env := range [][]string{{"AISQUARE_API_URL=https://stg-api.aisquare.studio"}, {"AISQUARE_BASE_URL=https://stg-api.aisquare.studio"}} {
		r = aisquareGo(t, env, "", "session", "show", "--store", store)
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Contains(t, r.stdout, "API URL:       "+srv.URL+"\n")
		assert.Contains(t, r.stdout, "note:          this command's API URL is https://stg-api.aisquare.studio, another API: "+
			`commands aimed there refuse this session ("aisquare-go session clear --store `+store+`" removes it)`)
	}
	r = aisquareGo(t, []string{"AISQUARE_API_URL=" + srv.URL}, "", "session", "show", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.NotContains(t, r.stdout, "note:", "the same API")
}

// TestSessionShowNoSession: exit 2, with what to do.
func TestSessionShowNoSession(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	for _, store := range []string{filepath.Join(dir, "none.json"), empty} {
		r := aisquareGo(t, nil, "", "session", "show", "--store", store)
		assert.Equal(t, 2, r.code, store)
		assert.Empty(t, r.stdout)
		assert.Equal(t, "aisquare-go session show: the session store "+store+" holds no session; log in, then hand the access "+
			`and refresh tokens to "aisquare-go session set --store `+store+`" on standard input`+"\n", r.stderr)
	}
	r := aisquareGo(t, nil, "", "session", "show")
	assert.Equal(t, 2, r.code, "the default store")
	assert.Contains(t, r.stderr, filepath.Join("aisquare", "session.json")+" holds no session")
}
