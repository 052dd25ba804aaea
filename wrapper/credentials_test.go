package wrapper_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// authServer records the Authorization header of every request, and
// answers 401 to the tokens in refuse.
type authServer struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []string
	refuse map[string]bool
}

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	s := &authServer{refuse: map[string]bool{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		auth := r.Header.Get("Authorization")
		s.seen = append(s.seen, r.URL.Path+" "+auth)
		refused := s.refuse[auth]
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refused {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"Invalid token.","code":"authentication_failed"}`))
			return
		}
		_, _ = w.Write([]byte(`{"user_id":1}`))
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *authServer) requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// cliCredentials writes AISquare's CLI credentials file as the CLI does:
// json.dumps(indent=2) and a newline, mode 0600, in $AISQUARE_HOME.
func cliCredentials(t *testing.T, fields map[string]string) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), ".aisquare")
	require.NoError(t, os.MkdirAll(home, 0o700))
	data, err := json.MarshalIndent(fields, "", "  ")
	require.NoError(t, err)
	path := filepath.Join(home, "credentials")
	require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o600))
	t.Setenv(wrapper.HomeEnv, home)
	return path
}

// sdkStore writes the SDK's own session store, at its default path, with
// a pair for baseURL.
func sdkStore(t *testing.T, baseURL, access, refresh string) string {
	t.Helper()
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	path, err := wrapper.DefaultStorePath()
	require.NoError(t, err)
	c, err := wrapper.New(wrapper.WithBaseURL(baseURL), wrapper.WithTokens(access, refresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithoutAmbientCredentials())
	require.NoError(t, err)
	require.NoError(t, c.Close())
	return path
}

func mustDefault(t *testing.T) string {
	t.Helper()
	path, err := wrapper.DefaultStorePath()
	require.NoError(t, err)
	return path
}

// TestCredentialChainOrder: the first credential of the chain wins, for
// every pair of sources.
func TestCredentialChainOrder(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	given, givenRefresh := srv.IssuePair(1)
	stored, storedRefresh := srv.IssuePair(1)
	const envToken, cliToken = "aisq_from-the-environment", "aisq_from-the-cli-file"
	type source int
	const (
		withTokens source = iota
		withStore
		envVar
		sdk
		cli
	)
	names := []string{"WithTokens", "WithTokenStore", "AISQUARE_TOKEN", "the SDK's store", "AISquare's CLI file"}
	own, ownRefresh := srv.IssuePair(1)
	want := []string{given, own, envToken, stored, cliToken}
	for first := withTokens; first <= cli; first++ {
		for second := first + 1; second <= cli; second++ {
			if first == withTokens && second == withStore {
				continue // one session of both: see TestSessionNewestPairWins
			}
			t.Run(names[first]+" over "+names[second], func(t *testing.T) {
				t.Setenv("XDG_CONFIG_HOME", t.TempDir())
				t.Setenv(wrapper.HomeEnv, t.TempDir())
				var opts []wrapper.Option
				for _, s := range []source{first, second} {
					switch s {
					case withTokens:
						opts = append(opts, wrapper.WithTokens(given, givenRefresh))
					case withStore:
						path := filepath.Join(t.TempDir(), "own.json")
						require.NoError(t, wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: own, RefreshToken: ownRefresh}))
						opts = append(opts, wrapper.WithTokenStore(wrapper.NewFileStore(path)))
					case envVar:
						t.Setenv(wrapper.TokenEnv, envToken)
					case sdk:
						sdkStore(t, srv.URL, stored, storedRefresh)
					case cli:
						cliCredentials(t, map[string]string{"iam_api_url": srv.URL, "iam_token": cliToken,
							"iam_token_expires_at": time.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339)})
					}
				}
				c, err := wrapper.New(append(opts, wrapper.WithBaseURL(srv.URL))...)
				require.NoError(t, err)
				got, err := c.AccessToken(context.Background())
				require.NoError(t, err)
				assert.Equal(t, want[first], got)
			})
		}
	}
}

// TestWithoutAmbientCredentials: a client that must use only what it is
// given reads neither AISQUARE_TOKEN nor any file.
func TestWithoutAmbientCredentials(t *testing.T) {
	srv := newAuthServer(t)
	t.Setenv(wrapper.TokenEnv, "aisq_from-the-environment")
	cliCredentials(t, map[string]string{"iam_api_url": srv.URL, "iam_token": "aisq_cli"})
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithoutAmbientCredentials())
	require.NoError(t, err)
	_, err = c.AccessToken(context.Background())
	assert.ErrorIs(t, err, wrapper.ErrNoTokens, "no session")
	_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
	require.NoError(t, err)
	assert.Equal(t, []string{"/api/v1/me/ "}, srv.requests())
	assert.Empty(t, c.CredentialSource())
}

// TestTokenFromTheEnvironment: AISQUARE_TOKEN is sent as a Bearer token to
// the client's API only, never refreshed, and a 401 for it says to log in.
func TestTokenFromTheEnvironment(t *testing.T) {
	srv := newAuthServer(t)
	other := newAuthServer(t)
	const token = "aisq_Qm9uam91ci4gQ2VjaSBlc3QgdW4gdGVzdC4gQm9uam91ci4"
	t.Setenv(wrapper.TokenEnv, token)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	assert.Equal(t, "$AISQUARE_TOKEN", c.CredentialSource())
	_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
	require.NoError(t, err)
	_, err = get(t, context.Background(), c, other.URL+"/api/v1/me/")
	require.NoError(t, err)
	assert.Equal(t, []string{"/api/v1/me/ Bearer " + token}, srv.requests())
	assert.Equal(t, []string{"/api/v1/me/ "}, other.requests(), "another API gets no token")

	srv.refuse["Bearer "+token] = true
	_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
	require.Error(t, err)
	assert.ErrorIs(t, err, wrapper.ErrUnauthorized)
	assert.ErrorIs(t, err, wrapper.ErrLoginRequired)
	assert.Contains(t, err.Error(), `run "aisquare login"`)
	assert.NotContains(t, err.Error(), token)
	for _, r := range srv.requests() {
		assert.NotContains(t, r, api.RefreshPath, "never refreshed")
	}
}

// TestCLICredentialsFile: the session of AISquare's own tool, as it writes
// it: used for its API until it expires, refused for another API, and its
// legacy api_key is never a bearer.
func TestCLICredentialsFile(t *testing.T) {
	srv := newAuthServer(t)
	const token = "aisq_cli-session-token"
	later := time.Now().Add(90 * 24 * time.Hour).UTC().Format(time.RFC3339)

	t.Run("for this API", func(t *testing.T) {
		path := cliCredentials(t, map[string]string{"iam_api_url": srv.URL, "iam_token": token,
			"iam_token_expires_at": later, "iam_scope": "read write", "iam_sub": "42", "iam_email": "a@example.com",
			"iam_client_id": "aisquare-cli", "api_key": "xai-key"})
		before, err := os.ReadFile(path)
		require.NoError(t, err)
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.NoError(t, err)
		assert.Equal(t, path, c.CredentialSource())
		_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
		require.NoError(t, err)
		assert.Contains(t, srv.requests(), "/api/v1/me/ Bearer "+token)
		require.NoError(t, c.Close())
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, before, after, "read, never written")
	})

	t.Run("for another API", func(t *testing.T) {
		cliCredentials(t, map[string]string{"iam_api_url": "https://stg-api.aisquare.studio", "iam_token": token})
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
		assert.Nil(t, c)
		assert.Contains(t, err.Error(), "https://stg-api.aisquare.studio")
		assert.Contains(t, err.Error(), srv.URL)
		assert.Contains(t, err.Error(), "AISquare's credentials file")
		assert.Contains(t, err.Error(), "WithoutAmbientCredentials", "a program that signs in by itself can turn the search off")
		assert.NotContains(t, err.Error(), token)
	})

	t.Run("expired", func(t *testing.T) {
		cliCredentials(t, map[string]string{"iam_api_url": srv.URL, "iam_token": token,
			"iam_token_expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
		n := len(srv.requests())
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
		require.Error(t, err)
		assert.ErrorIs(t, err, wrapper.ErrLoginRequired)
		assert.Contains(t, err.Error(), `run "aisquare login"`)
		assert.Len(t, srv.requests(), n, "an expired token is never sent")
	})

	for _, tc := range []struct{ name, content string }{
		{"only an api_key", `{"api_key": "xai-key"}`},
		{"a legacy bare api_key", "xai-key\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(home, "credentials"), []byte(tc.content), 0o600))
			t.Setenv(wrapper.HomeEnv, home)
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
			require.NoError(t, err)
			_, err = c.AccessToken(context.Background())
			assert.ErrorIs(t, err, wrapper.ErrNoTokens, "no session: the api_key is another product's")
			n := len(srv.requests())
			_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
			require.NoError(t, err)
			assert.Equal(t, "/api/v1/me/ ", srv.requests()[n])
		})
	}

	t.Run("without iam_api_url", func(t *testing.T) {
		cliCredentials(t, map[string]string{"iam_token": token, "iam_token_expires_at": later})
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.NoError(t, err)
		assert.Empty(t, c.CredentialSource(), "a session without its API is none, as AISquare's tool reads it")
		n := len(srv.requests())
		_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
		require.NoError(t, err)
		assert.Equal(t, "/api/v1/me/ ", srv.requests()[n], "no bearer")
	})

	t.Run("keys by their exact names", func(t *testing.T) {
		home := t.TempDir()
		data := `{"iam_api_url": "https://stg-api.aisquare.studio", "iam_token": "` + token + `", "IAM_API_URL": "` + srv.URL + `"}`
		require.NoError(t, os.WriteFile(filepath.Join(home, "credentials"), []byte(data), 0o600))
		t.Setenv(wrapper.HomeEnv, home)
		n := len(srv.requests())
		_, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.ErrorIs(t, err, wrapper.ErrStoreMismatch, "iam_api_url, as AISquare's CLI reads it, names another API")
		assert.Len(t, srv.requests(), n)
	})

	t.Run("over 1 MiB", func(t *testing.T) {
		home := t.TempDir()
		path := filepath.Join(home, "credentials")
		big := `{"iam_api_url": "` + srv.URL + `", "iam_token": "` + token + `", "pad": "` + strings.Repeat("x", 1<<20) + `"}`
		require.NoError(t, os.WriteFile(path, []byte(big), 0o600))
		t.Setenv(wrapper.HomeEnv, home)
		_, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.Error(t, err)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "more than 1024 KiB")
	})

	t.Run("corrupt", func(t *testing.T) {
		home := t.TempDir()
		require.NoError(t, os.WriteFile(filepath.Join(home, "credentials"), []byte(`{"iam_token": 42`), 0o600))
		t.Setenv(wrapper.HomeEnv, home)
		_, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.Error(t, err)
		assert.Contains(t, err.Error(), filepath.Join(home, "credentials"))
	})
}

// TestSDKStoreOfAnotherAPI: the SDK's own store saved for another API fails
// New, naming both.
func TestSDKStoreOfAnotherAPI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	sdkStore(t, srv.URL, access, refresh)
	_, err := wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:1"))
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	assert.Contains(t, err.Error(), srv.URL)
	stored, err := wrapper.NewFileStore(mustDefault(t)).Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, refresh, stored.RefreshToken, "left as it was")
}

// TestEmptyDefaultStoreIsSkipped: an empty file at the SDK's default store
// (a session cleared by hand) is no credential: the chain goes on to
// AISquare's CLI file.
func TestEmptyDefaultStoreIsSkipped(t *testing.T) {
	srv := newAuthServer(t)
	const token = "aisq_cli-session-token"
	t.Setenv("XDG_CONFIG_HOME", t.TempDir())
	path := mustDefault(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o700))
	require.NoError(t, os.WriteFile(path, []byte("\n"), 0o600))
	cli := cliCredentials(t, map[string]string{"iam_api_url": srv.URL, "iam_token": token})
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	assert.Equal(t, cli, c.CredentialSource())
	_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
	require.NoError(t, err)
	assert.Equal(t, []string{"/api/v1/me/ Bearer " + token}, srv.requests())
}

// TestWithLoginAfterTheEnvironmentsTokenIsRefused: a refused
// $AISQUARE_TOKEN, which cannot be refreshed, makes a client with
// WithLogin sign in, and the call is sent again with the new token.
func TestWithLoginAfterTheEnvironmentsTokenIsRefused(t *testing.T) {
	srv := newAuthServer(t)
	const old, fresh = "aisq_the-environments-revoked-token", "aisq_the-token-of-a-new-login"
	t.Setenv(wrapper.TokenEnv, old)
	srv.refuse["Bearer "+old] = true
	var logins atomic.Int32
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithLogin(func(context.Context) (string, string, error) {
		logins.Add(1)
		return fresh, "", nil
	}))
	require.NoError(t, err)
	assert.Equal(t, "$AISQUARE_TOKEN", c.CredentialSource())
	_, err = get(t, context.Background(), c, srv.URL+"/api/v1/me/")
	require.NoError(t, err)
	assert.Equal(t, []string{"/api/v1/me/ Bearer " + old, "/api/v1/me/ Bearer " + fresh}, srv.requests())
	assert.Equal(t, int32(1), logins.Load())
	assert.Equal(t, "WithLogin", c.CredentialSource(), "the token in use is the login's")
}

// TestTokenFromTheEnvironmentIsChecked: a $AISQUARE_TOKEN that cannot be an
// access token fails New with what is wrong, before anything is sent, and
// without the value.
func TestTokenFromTheEnvironmentIsChecked(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	for value, want := range map[string]string{
		"aisq_first aisq_second": "white space or a control character",
		access + "\n" + access:   "white space or a control character",
		"aisq_x\x7fy":            "white space or a control character",
		refresh:                  "holds a refresh token",
	} {
		t.Setenv(wrapper.TokenEnv, value)
		_, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "$AISQUARE_TOKEN")
		assert.Contains(t, err.Error(), want)
		assert.NotContains(t, err.Error(), refresh)
		assert.NotContains(t, err.Error(), access)
	}
	t.Setenv(wrapper.TokenEnv, "  "+access+"\n")
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err, "white space around it is trimmed")
	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, access, got)
	assert.Zero(t, srv.Requests(wrappertest.MeRoute)+srv.Requests(wrappertest.RefreshRoute))
}
