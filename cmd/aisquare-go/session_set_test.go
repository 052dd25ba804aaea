package main_test

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// login posts body to SimpleJWT's login view and returns its answer.
func login(t *testing.T, baseURL, body string) (status int, answer string) {
	t.Helper()
	resp, err := http.Post(baseURL+"/api/v1/token/", "application/json", strings.NewReader(body))
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(data)
}

// unchanged asserts that the file at path holds before (nil: that it
// does not exist).
func unchanged(t *testing.T, path string, before []byte, msgAndArgs ...any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if before == nil {
		assert.True(t, os.IsNotExist(err), msgAndArgs...)
		return
	}
	require.NoError(t, err)
	assert.Equal(t, string(before), string(data), msgAndArgs...)
}

func TestSessionSetAndToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	dir := filepath.Join(t.TempDir(), "config")
	store := filepath.Join(dir, "session.json")

	for _, input := range []string{access + "\n" + refresh + "\n", `{"access":"` + access + `","refresh":"` + refresh + `"}`} {
		r := aisquareGo(t, nil, input, "session", "set", "--store", store, "--base-url", srv.URL)
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Empty(t, r.stdout)
		assert.NotContains(t, r.stderr, refresh)
		assert.Equal(t, map[string]string{"access": access, "refresh": refresh, "base_url": srv.URL}, storeFile(t, store))
	}
	info, err := os.Stat(store)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	info, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	// A valid token: printed as it is, nothing else, no refresh.
	r := aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout)
	assert.Empty(t, r.stderr)
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute))

	// refresh --store: the rotated pair is saved, and a second run spends
	// the new one.
	for range 2 {
		r = aisquareGo(t, nil, "", "refresh", "--store", store)
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		out := decode(t, r.stdout)
		assert.Equal(t, srv.LastRefreshToken(), out.Refresh)
		saved := storeFile(t, store)
		assert.Equal(t, out.Access, saved["access"])
		assert.Equal(t, out.Refresh, saved["refresh"])
		assert.Equal(t, srv.URL, saved["base_url"])
	}

	// Bad input is refused, and the store is left as it was; no refresh
	// token is exit 2.
	before := storeFile(t, store)
	for input, code := range map[string]int{"": 2, "one-line-only": 1, "a\nb\nc": 1, `{"access":"a"}`: 2, "{not json": 1} {
		r = aisquareGo(t, nil, input, "session", "set", "--store", store)
		assert.Equal(t, code, r.code, "input %q", input)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	}
	assert.Equal(t, before, storeFile(t, store))
}

// TestSessionSetRefusesWhatCannotBeRight: pairs that cannot be right are
// refused, saving nothing, with what is wrong and never the input.
func TestSessionSetRefusesWhatCannotBeRight(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{})
	access, refresh := srv.Pair(t)
	access2, _ := srv.Pair(t)
	_, refresh2 := srv.Pair(t)
	oldAccess, oldRefresh := srv.PairIssuedAgo(t, 400*24*time.Hour)
	_, wrongPassword := login(t, srv.URL, `{"username":"alice","password":"wrong"}`)
	require.JSONEq(t, `{"detail":"No active account found with the given credentials"}`, wrongPassword)
	_, noFields := login(t, srv.URL, `{}`)
	require.Contains(t, noFields, `"username":["This field is required."]`)

	tests := []struct {
		name, input string
		code        int
		stderr      string
	}{
		{"lines swapped", refresh + "\n" + access + "\n", 1,
			"the first line is a refresh token and the second an access token: swap them"},
		{"JSON swapped", `{"access":"` + refresh + `","refresh":"` + access + `"}`, 1,
			`"access" holds a refresh token and "refresh" an access token: swap them`},
		{"two access tokens", access + "\n" + access2 + "\n", 1, "the second line is an access token, not a refresh token"},
		{"two refresh tokens", refresh2 + "\n" + refresh + "\n", 1, "the first line is a refresh token, not an access token"},
		{"a control character", access[:20] + "\a" + access[20:] + "\n" + refresh, 1,
			"the first line holds a control character, at character 21: not a token"},
		{"an escape sequence in JSON", `{"access":"` + access + `","refresh":"` + refresh[:10] + `\u001b[2J` + refresh[10:] + `"}`, 1,
			`"refresh" holds a control character, at character 11: not a token`},
		{"white space inside", access + "\n" + refresh[:30] + " " + refresh[30:], 1,
			"the second line holds white space, at character 31: not a token"},
		{"a tab inside", access + "\n" + refresh[:30] + "\t" + refresh[30:], 1,
			"the second line holds white space, at character 31: not a token"},
		{"a character no token has", access + "\n" + refresh[:5] + "+" + refresh[5:], 1,
			"the second line holds a character that no token has (a token is letters, digits and - . _ ~), at character 6"},
		{"a quoted token", `"` + access + `"` + "\n" + refresh, 1, "the first line holds a character that no token has"},
		{"a failed login", wrongPassword, 2,
			"no tokens on standard input: it holds an error, such as a failed login's: No active account found with the given credentials; " +
				"log in again, then pipe the answer in"},
		{"a login without credentials", noFields, 2,
			"no tokens on standard input: it holds an error, such as a failed login's: " +
				"password: This field is required.; username: This field is required.; log in again"},
		{"a JSON object of something else", `{"theme":"dark"}`, 2, `no tokens on standard input: the JSON object has no "access" and "refresh"`},
		{"white space only", " \n\t\n", 2, "nothing on standard input"},
		{"a refresh token that expired", oldAccess + "\n" + oldRefresh, 2,
			"the second line is a refresh token that expired at "},
	}
	dir := t.TempDir()
	existing := filepath.Join(dir, "existing", "session.json")
	a, r := srv.Pair(t)
	res := aisquareGo(t, nil, a+"\n"+r, "session", "set", "--store", existing, "--api-url", srv.URL)
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	before, err := os.ReadFile(existing)
	require.NoError(t, err)
	info, err := os.Stat(existing)
	require.NoError(t, err)

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fresh := filepath.Join(t.TempDir(), "new", "session.json")
			for store, want := range map[string][]byte{existing: before, fresh: nil} {
				res := aisquareGo(t, nil, tc.input, "session", "set", "--store", store, "--api-url", srv.URL)
				assert.Equal(t, tc.code, res.code, "stderr: %s", res.stderr)
				assert.Empty(t, res.stdout)
				assert.Equal(t, 1, strings.Count(res.stderr, "\n"), "one line: %q", res.stderr)
				assert.Contains(t, res.stderr, "aisquare-go session set: "+tc.stderr)
				for _, secret := range []string{access, refresh, access2, refresh2, access[:20], refresh[30:], oldAccess, oldRefresh} {
					assert.NotContains(t, res.stderr, secret)
				}
				assert.NotContains(t, res.stderr, "\a")
				assert.NotContains(t, res.stderr, "\x1b")
				unchanged(t, store, want, "nothing saved")
			}
		})
	}
	after, err := os.Stat(existing)
	require.NoError(t, err)
	assert.Equal(t, info.ModTime(), after.ModTime(), "the store was not written")

	// The right pair, in either form, is taken.
	res = aisquareGo(t, nil, access+"\n"+refresh+"\n", "session", "set", "--store", existing)
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	assert.Equal(t, refresh, storeFile(t, existing)["refresh"])
	_, pair := login(t, srv.URL, `{"username":"alice","password":"alice-password"}`)
	res = aisquareGo(t, nil, pair, "session", "set", "--store", existing)
	require.Equal(t, 0, res.code, "a login's answer: stderr: %s", res.stderr)
}

// TestSessionSetShowsALoginErrorRedacted: what a failed login's JSON says
// is shown cleaned: no token, no control character, cut short.
func TestSessionSetShowsALoginErrorRedacted(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2lnbmF0dXJlc2lnbmF0dXJl"
	input := `{"detail":"Token ` + jwt + ` is invalid\nsecond line\u001b[31m` + strings.Repeat(" long", 1000) + `","code":"token_not_valid"}`
	store := filepath.Join(t.TempDir(), "session.json")
	r := aisquareGo(t, nil, input, "session", "set", "--store", store, "--api-url", "http://127.0.0.1:1")
	assert.Equal(t, 2, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.Contains(t, r.stderr, "such as a failed login's: Token [REDACTED] is invalid second line")
	assert.NotContains(t, r.stderr, jwt)
	assert.NotContains(t, r.stderr, "\x1b")
	assert.Less(t, len(r.stderr), 1<<10)
	assert.NoFileExists(t, store)
}

// TestSessionSetTakesOpaqueTokens: a token that is no JWT, such as
// AISquare's aisq_ tokens, is taken as it is.
func TestSessionSetTakesOpaqueTokens(t *testing.T) {
	store := filepath.Join(t.TempDir(), "session.json")
	access := "aisq_" + strings.Repeat("Ab0-_", 8) + "xyz"
	r := aisquareGo(t, nil, access+"\nopaque.refresh~token", "session", "set", "--store", store, "--api-url", "http://127.0.0.1:1")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access, storeFile(t, store)["access"])
	assert.NotContains(t, r.stderr, access)
}

// TestSessionSetOverAnEmptyStore: an empty store file, such as one made
// with touch, holds no session: session set saves one there.
func TestSessionSetOverAnEmptyStore(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{})
	access, refresh := srv.Pair(t)
	store := filepath.Join(t.TempDir(), "session.json")
	require.NoError(t, os.WriteFile(store, nil, 0o600))
	r := aisquareGo(t, nil, "", "token", "--store", store)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `holds no session; log in, then hand the access and refresh tokens to "aisquare-go session set --store `+store+`"`)

	r = aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout)
	assert.Equal(t, http.StatusOK, callMe(t, srv.URL, access))
	assert.False(t, bytes.Contains([]byte(r.stderr), []byte(refresh)))
}
