package wrapper_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
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
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func stringReader(s string) io.Reader { return strings.NewReader(s) }

// decodeForTest reads a raw response and maps it like every other.
func decodeForTest(resp *http.Response) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return wrapper.CheckResponse(resp, body)
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

// refreshCounter counts the refresh requests that reach the network.
type refreshCounter struct{ refreshes atomic.Int32 }

func (c *refreshCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Path == api.RefreshPath {
		c.refreshes.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func iatOf(t *testing.T, jwt string) int64 {
	t.Helper()
	parts := strings.Split(jwt, ".")
	require.Len(t, parts, 3)
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c struct{ Iat int64 }
	require.NoError(t, json.Unmarshal(payload, &c))
	return c.Iat
}

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

// TestSessionAgainstSimpleJWTWithAnOldLogin: a real SimpleJWT server with
// 5-second access tokens, and a refresh token issued two minutes earlier,
// whose iat every refreshed access token copies. The session makes at most
// one refresh per access-token lifetime: each token is used for at least
// half its life, then replaced by one refresh; and every call succeeds.
func TestSessionAgainstSimpleJWTWithAnOldLogin(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 12 seconds")
	}
	for _, rotate := range []bool{false, true} {
		name := map[bool]string{false: "rotation off", true: "rotation and blacklist"}[rotate]
		t.Run(name, func(t *testing.T) {
			const lifetime = 5 * time.Second
			srv := simplejwt.Start(t, simplejwt.Options{Rotate: rotate, Blacklist: rotate, AccessLifetime: lifetime})
			access, refresh := srv.PairIssuedAgo(t, 2*time.Minute)
			counter := &refreshCounter{}
			var mu sync.Mutex
			var refreshedAt []time.Time
			onRefresh := func(ev wrapper.RefreshEvent) {
				if ev.Err == nil {
					mu.Lock()
					refreshedAt = append(refreshedAt, time.Now())
					mu.Unlock()
				}
			}
			store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
				wrapper.WithHTTPClient(&http.Client{Transport: counter}), wrapper.WithOnRefresh(onRefresh))
			require.NoError(t, err)
			t.Cleanup(func() { _ = c.Close() })

			const duration = 12 * time.Second
			start := time.Now()
			calls := 0
			for time.Since(start) < duration {
				require.NoError(t, meCtx(context.Background(), c, srv.URL), "call %d at %v", calls, time.Since(start))
				calls++
				time.Sleep(50 * time.Millisecond)
			}
			require.NoError(t, c.Close())
			n := int(counter.refreshes.Load())
			t.Logf("%d calls over %v made %d refreshes", calls, duration, n)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, refreshedAt, n, "every refresh succeeded")
			for i := 1; i < len(refreshedAt); i++ {
				// exp is in whole seconds: a token lives 4 to 5 seconds.
				assert.Greater(t, refreshedAt[i].Sub(refreshedAt[i-1]), 3*lifetime/10,
					"refresh %d came %v after the one before", i, refreshedAt[i].Sub(refreshedAt[i-1]))
			}
			// One for the expired login token, then one per token.
			assert.LessOrEqual(t, n, 1+int(duration/(lifetime/2)), "at most one refresh per access token")
			assert.GreaterOrEqual(t, n, 3, "the tokens were renewed")
			stored, err := store.Load(context.Background())
			require.NoError(t, err)
			got, err := c.AccessToken(context.Background())
			require.NoError(t, err)
			assert.Equal(t, got, stored.AccessToken, "the store holds the pair in use")
		})
	}
}

// TestSessionSameSecondRotationAgainstSimpleJWT is
// TestSessionSameSecondRotationByAnotherProcess on the real SimpleJWT 5.2.2
// server with the real clock: a login and a rotation by process A in the
// same second (SimpleJWT's iat has one-second resolution), then process B,
// which loaded the login pair, refreshes under the store's lock and must
// take A's pair, not spend the blacklisted token.
func TestSessionSameSecondRotationAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	ctx := context.Background()
	for try := 0; ; try++ {
		require.Less(t, try, 5, "never got a login and a rotation in the same second")
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 20*time.Millisecond)))
		a0, r0 := srv.Pair(t)
		path := filepath.Join(t.TempDir(), "s", "session.json")
		require.NoError(t, wrapper.NewFileStore(path).Save(ctx, &oauth2.Token{AccessToken: a0, RefreshToken: r0}))
		procA, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
		require.NoError(t, err)
		procB, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
		require.NoError(t, err)

		respA, err := procA.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
		require.NoError(t, err)
		require.Equal(t, 200, respA.StatusCode())
		require.NotNil(t, respA.JSON200)
		if iatOf(t, respA.JSON200.Refresh) != iatOf(t, r0) {
			_ = procA.Close()
			_ = procB.Close()
			continue // crossed a second boundary: try again
		}
		respB, err := procB.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
		require.NoError(t, err)
		assert.Equal(t, 200, respB.StatusCode(), "process B's session died: %s", respB.Body)
		_ = procA.Close()
		_ = procB.Close()
		return
	}
}

// TestSessionFailedSaveAgainstSimpleJWT: with rotation and blacklist on a
// real server, a save that fails leaves the spent refresh token in the
// store; the session keeps the rotated one, and its next refresh works.
func TestSessionFailedSaveAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.Pair(t)
	var log []string
	store := &logStore{log: &log}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()

	// A refresh through the API is the session's own: it rotates, and the
	// save fails.
	store.setFail(errors.New("no space left on device"))
	resp, err := c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(refresh))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	rotated := resp.JSON200.Refresh
	require.NotEmpty(t, rotated)
	assert.Equal(t, refresh, store.load().RefreshToken, "the spent token is what the store holds")
	store.setFail(nil)

	// The next refresh spends the rotated token, not the spent one.
	resp, err = c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(rotated))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	assert.Equal(t, resp.JSON200.Refresh, store.load().RefreshToken)
	require.NoError(t, meCtx(ctx, c, srv.URL))
}
