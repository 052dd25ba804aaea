package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func TestRefreshInputs(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	tokenFile := filepath.Join(t.TempDir(), "refresh")
	require.NoError(t, os.WriteFile(tokenFile, []byte(refresh+"\n"), 0o600))

	tests := []struct {
		name  string
		env   []string
		stdin string
		args  []string
	}{
		{"environment", []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", []string{"--base-url", srv.URL}},
		{"token file", nil, "", []string{"--base-url", srv.URL, "--token-file", tokenFile}},
		{"standard input", nil, refresh + "\n", []string{"--base-url", srv.URL}},
		{"base URL from the environment", []string{"AISQUARE_BASE_URL=" + srv.URL}, refresh, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := aisquareGo(t, tc.env, tc.stdin, append([]string{"refresh"}, tc.args...)...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stderr)
			out := decode(t, r.stdout)
			assert.NotEmpty(t, out.Access)
			assert.Empty(t, out.Refresh, "no rotation")
			exp, err := time.Parse(time.RFC3339, out.AccessExpiresAt)
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now().Add(time.Hour), exp, 5*time.Second)
		})
	}
}

func TestRefreshExitCodes(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)

	r := aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.NotEmpty(t, decode(t, r.stdout).Refresh, "rotated")

	// The same token again: blacklisted.
	r = aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", srv.URL)
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "aisquare-go refresh: wrapper: POST "+api.RefreshPath+": 401 Unauthorized: Token is blacklisted (token_not_valid); "+
		`the session must be renewed: log in again, then hand the new access and refresh tokens to "aisquare-go session set" on standard input`+"\n", r.stderr)
	assert.NotContains(t, r.stderr, refresh)

	tests := []struct {
		name   string
		env    []string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"garbage token", nil, "garbage", []string{"--base-url", srv.URL}, 2, "Token is invalid or expired"},
		{"no token", nil, "", []string{"--base-url", srv.URL}, 2, "no refresh token"},
		{"unreachable server", nil, refresh, []string{"--base-url", "http://127.0.0.1:1"}, 1, "connection refused"},
		{"bad base URL", nil, refresh, []string{"--base-url", "ftp://x"}, 1, "scheme must be http or https"},
		{"token as a flag", nil, "", []string{"--token", refresh}, 1, "flag provided but not defined: -token"},
		{"server error", nil, refresh, []string{"--base-url", srv.URL}, 1, "502 Bad Gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "server error" {
				srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 502, ContentType: "text/html", Body: "<h1>bad gateway</h1>"})
			}
			r := aisquareGo(t, tc.env, tc.stdin, append([]string{"refresh"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, tc.stderr)
			assert.NotContains(t, r.stderr, refresh)
			if !strings.Contains(tc.name, "flag") {
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			}
		})
	}
}

// TestRefreshRefusesWhatIsNoToken: a refresh token with characters no token
// has is refused before it is sent, and never shown.
func TestRefreshRefusesWhatIsNoToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	bad := refresh[:12] + "\x1b[2J" + refresh[12:]
	file := filepath.Join(t.TempDir(), "refresh")
	require.NoError(t, os.WriteFile(file, []byte(bad+"\n"), 0o600))
	for name, run := range map[string]func() result{
		"environment": func() result {
			return aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + bad}, "", "refresh", "--api-url", srv.URL)
		},
		"standard input": func() result { return aisquareGo(t, nil, bad+"\n", "refresh", "--api-url", srv.URL) },
		"token file":     func() result { return aisquareGo(t, nil, "", "refresh", "--token-file", file, "--api-url", srv.URL) },
	} {
		r := run()
		assert.Equal(t, 1, r.code, name)
		assert.Contains(t, r.stderr, "holds a control character, at character 13: not a token", name)
		assert.NotContains(t, r.stderr, refresh[:12], name)
		assert.NotContains(t, r.stderr, "\x1b", name)
	}
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "nothing sent")
}

func TestTokenFileIsReadBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 1<<20), 0o600))
	r := aisquareGo(t, nil, "", "refresh", "--token-file", big, "--base-url", "http://127.0.0.1:1")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "larger than 64 KiB")

	// A device is no token file: refused before it is read.
	start := time.Now()
	r = aisquareGo(t, nil, "", "refresh", "--token-file", "/dev/zero", "--base-url", "http://127.0.0.1:1")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "/dev/zero is a character device, not a regular file")
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestRefreshTokenFileIsRewritten: with rotation and a blacklist, running
// refresh twice on one token file never spends a token twice.
func TestRefreshTokenFileIsRewritten(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	file := filepath.Join(t.TempDir(), "refresh")
	require.NoError(t, os.WriteFile(file, []byte(refresh+"\n"), 0o640))
	require.NoError(t, os.Chmod(file, 0o640))

	for i := range 3 {
		r := aisquareGo(t, nil, "", "refresh", "--token-file", file, "--base-url", srv.URL)
		require.Equal(t, 0, r.code, "run %d: stderr: %s", i, r.stderr)
		out := decode(t, r.stdout)
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, out.Refresh+"\n", string(data), "run %d", i)
		info, err := os.Stat(file)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "the same mode")
	}
	entries, err := os.ReadDir(filepath.Dir(file))
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), e.Name())
	}

	// A session store given as --token-file is a session store.
	access, refresh2 := srv.IssuePair(8)
	store := filepath.Join(t.TempDir(), "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh2, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "refresh", "--token-file", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, decode(t, r.stdout).Refresh, storeFile(t, store)["refresh"])
}

// TestRefreshAgainstSimpleJWT runs the command against a real SimpleJWT server.
func TestRefreshAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	_, refresh := srv.Pair(t)
	env := []string{"AISQUARE_REFRESH_TOKEN=" + refresh, "AISQUARE_BASE_URL=" + srv.URL}

	r := aisquareGo(t, env, "", "refresh")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	out := decode(t, r.stdout)
	exp, err := wrapper.TokenExpiry(out.Access)
	require.NoError(t, err)
	assert.Equal(t, exp.UTC().Format(time.RFC3339), out.AccessExpiresAt)
	assert.NotEmpty(t, out.Refresh)

	r = aisquareGo(t, env, "", "refresh")
	assert.Equal(t, 2, r.code, "a blacklisted token")
	assert.Contains(t, r.stderr, "Token is blacklisted")
	assert.NotContains(t, r.stderr, refresh)
}
