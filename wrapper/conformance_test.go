package wrapper_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// TestConformance runs the rows of BACKEND.md's table against a real
// SimpleJWT server.
func TestConformance(t *testing.T) {
	ctx := context.Background()

	t.Run("rotation off", func(t *testing.T) {
		srv := simplejwt.Start(t, simplejwt.Options{})
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.NoError(t, err)
		access, refresh := srv.Pair(t)

		tok, err := c.RefreshToken(ctx, refresh)
		require.NoError(t, err)
		assert.NotEmpty(t, tok.Access)
		assert.NotEqual(t, access, tok.Access)
		assert.Empty(t, tok.Refresh, "no refresh token without rotation")

		tok, err = c.RefreshToken(ctx, refresh)
		require.NoError(t, err, "without rotation the refresh token stays valid")
		assert.NotEmpty(t, tok.Access)

		assertRejected(t, c, access, 401, "Token has wrong type")
		assertRejected(t, c, "garbage", 401, "Token is invalid or expired")
		assertRejected(t, c, refresh[:len(refresh)-2]+"xx", 401, "Token is invalid or expired")

		// A blank token never reaches the server; the 400 it would get is
		// mapped to the same sentinel (see the generated-client subtest).
		_, err = c.RefreshToken(ctx, " ")
		assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
	})

	t.Run("rotation and blacklist", func(t *testing.T) {
		srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.NoError(t, err)
		_, refresh := srv.Pair(t)

		tok, err := c.RefreshToken(ctx, refresh)
		require.NoError(t, err)
		assert.NotEmpty(t, tok.Access)
		require.NotEmpty(t, tok.Refresh, "rotation returns a new refresh token")
		assert.NotEqual(t, refresh, tok.Refresh)

		assertRejected(t, c, refresh, 401, "Token is blacklisted")

		next, err := c.RefreshToken(ctx, tok.Refresh)
		require.NoError(t, err, "the rotated token works")
		assert.NotEmpty(t, next.Refresh)
	})

	t.Run("generated client: blank, missing and malformed bodies", func(t *testing.T) {
		srv := simplejwt.Start(t, simplejwt.Options{})
		c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
		require.NoError(t, err)

		resp, err := c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(""))
		require.NoError(t, err)
		err = wrapper.CheckResponse(resp.HTTPResponse, resp.Body)
		assert.ErrorIs(t, err, wrapper.ErrBadRequest)
		assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
		var apiErr *wrapper.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, map[string][]string{"refresh": {"This field may not be blank."}}, apiErr.Fields)
		require.NotNil(t, resp.JSON400, "the generated client types the 400 body")
		assert.Equal(t, []string{"This field may not be blank."}, resp.JSON400.AdditionalProperties["refresh"])

		// The backend answers a POST without the trailing slash with a 301;
		// the client must not follow it as a GET.
		stripSlash := func(_ context.Context, req *http.Request) error {
			req.URL.Path = strings.TrimSuffix(req.URL.Path, "/")
			return nil
		}
		resp, err = c.API().RefreshCreateWithResponse(ctx, apiRefreshBody("x"), stripSlash)
		require.NoError(t, err)
		err = wrapper.CheckResponse(resp.HTTPResponse, resp.Body)
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, http.StatusMovedPermanently, apiErr.StatusCode)
		assert.Equal(t, strings.TrimSuffix(api.RefreshPath, "/"), apiErr.Path)
		assert.Equal(t, api.RefreshPath, resp.HTTPResponse.Header.Get("Location"))

		resp2, err := c.API().RefreshCreateWithBody(ctx, "application/json", stringReader("{}"))
		require.NoError(t, err)
		err = decodeForTest(resp2)
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 400, apiErr.StatusCode)
		assert.Equal(t, map[string][]string{"refresh": {"This field is required."}}, apiErr.Fields)

		resp3, err := c.API().RefreshCreateWithBody(ctx, "application/json", stringReader("{bad"))
		require.NoError(t, err)
		err = decodeForTest(resp3)
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, 400, apiErr.StatusCode)
		assert.Contains(t, apiErr.Detail, "JSON parse error")
	})
}

func assertRejected(t *testing.T, c *wrapper.Client, token string, status int, detail string) {
	t.Helper()
	tok, err := c.RefreshToken(context.Background(), token)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
	assert.ErrorIs(t, err, wrapper.ErrUnauthorized)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, status, apiErr.StatusCode)
	assert.Equal(t, "token_not_valid", apiErr.Code)
	assert.Equal(t, detail, apiErr.Detail)
	assert.NotContains(t, err.Error(), token)
}

// TestConformanceSession makes authenticated calls across several expiries of
// a real SimpleJWT server's access tokens, with rotation and blacklist on.
func TestConformanceSession(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 2 * time.Second})
	access, refresh := srv.Pair(t)
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store))
	require.NoError(t, err)

	seen := map[string]bool{}
	deadline := time.Now().Add(7 * time.Second)
	for time.Now().Before(deadline) {
		require.NoError(t, meCtx(context.Background(), c, srv.URL))
		tok, err := c.TokenSource().Token()
		require.NoError(t, err)
		seen[tok.AccessToken] = true
		time.Sleep(100 * time.Millisecond)
	}
	assert.GreaterOrEqual(t, len(seen), 4, "access tokens across 7 s of 2 s lifetimes")

	stored, err := store.Load(context.Background())
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), refresh)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken, "the first refresh token was rotated and blacklisted")
	_, err = c.RefreshToken(context.Background(), stored.RefreshToken)
	assert.NoError(t, err, "the stored refresh token is the live one")
}

// TestConformanceRefreshOn401 makes the client believe a token is valid that
// the server has seen expire: the 401 makes it refresh and replay.
func TestConformanceRefreshOn401(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 2 * time.Second})
	access, refresh := srv.Pair(t)
	var mu sync.Mutex
	skew := time.Duration(0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return time.Now().Add(skew) }
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock))
	require.NoError(t, err)
	require.NoError(t, meCtx(context.Background(), c, srv.URL))

	mu.Lock()
	skew = -time.Hour // the client's clock is an hour slow
	mu.Unlock()
	time.Sleep(2100 * time.Millisecond)
	require.NoError(t, meCtx(context.Background(), c, srv.URL), "refreshed on the 401 and replayed")
	tok, err := c.TokenSource().Token()
	require.NoError(t, err)
	assert.NotEqual(t, access, tok.AccessToken)
}
