package main_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestAPIURLFlag: --api-url, AISquare's own name for the flag, works
// wherever --base-url does, and the two names with two URLs are refused.
func TestAPIURLFlag(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	other := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(other.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")

	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, srv.URL, storeFile(t, store)["base_url"], "session set records --api-url's URL")

	r = aisquareGo(t, nil, "", "token", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout)

	r = aisquareGo(t, nil, "", "token", "--store", store, "--api-url", other.URL)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "belongs to another API")

	r = aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.NotEmpty(t, decode(t, r.stdout).Access)

	r = aisquareGo(t, nil, "", "session", "show", "--store", store, "--api-url", other.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, other.URL+", another API")

	for _, args := range [][]string{
		{"--api-url", srv.URL, "--base-url", other.URL},
		{"--base-url", other.URL, "--api-url", srv.URL},
	} {
		r = aisquareGo(t, nil, "", append([]string{"token", "--store", store}, args...)...)
		assert.Equal(t, 1, r.code, "%v", args)
		assert.Contains(t, r.stderr, "names another URL: give one of --api-url and --base-url", "%v", args)
		assert.Empty(t, r.stdout)
	}
	r = aisquareGo(t, nil, "", "token", "--store", store, "--api-url", srv.URL, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "the same URL twice: stderr: %s", r.stderr)
	assert.Zero(t, other.Requests(wrappertest.RefreshRoute))
}

// TestAPIURLEnv: $AISQUARE_API_URL, which AISquare's own tool reads, picks
// the API of every command, as --api-url does.
func TestAPIURLEnv(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	other := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(other.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")
	env := []string{"AISQUARE_API_URL=" + srv.URL}

	r := aisquareGo(t, env, access+"\n"+refresh, "session", "set", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, srv.URL, storeFile(t, store)["base_url"])
	r = aisquareGo(t, env, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout)
	r = aisquareGo(t, append(env, "AISQUARE_REFRESH_TOKEN="+refresh), "", "refresh")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, []string{"AISQUARE_API_URL=" + other.URL}, "", "token", "--store", store)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "belongs to another API")
}

// TestAPIURLUsage: the usage texts name --api-url and $AISQUARE_API_URL
// first, and still mention the older names.
func TestAPIURLUsage(t *testing.T) {
	for _, args := range [][]string{{"token"}, {"refresh"}, {"session", "set"}, {"session", "show"}} {
		r := aisquareGo(t, nil, "", append(args, "--help")...)
		require.Equal(t, 0, r.code, "%v", args)
		assert.Contains(t, r.stdout, "[--api-url URL]", "%v: the usage line", args)
		assert.NotContains(t, r.stdout, "[--base-url URL]", "%v", args)
		assert.Contains(t, r.stdout, "  -api-url URL\n", "%v", args)
		assert.Contains(t, r.stdout, "$AISQUARE_API_URL or $AISQUARE_BASE_URL", "%v", args)
		assert.Contains(t, r.stdout, "  -base-url URL\n    \tan alias of --api-url", "%v", args)
	}
	r := aisquareGo(t, nil, "", "--help")
	assert.Contains(t, r.stdout, "(--api-url, $AISQUARE_API_URL, and the older\nnames --base-url and $AISQUARE_BASE_URL)")
	assert.Less(t, strings.Index(r.stdout, "--api-url"), strings.Index(r.stdout, "--base-url"))
}
