package wrapper_test

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// loginClient is a client of srv that signs in as alice with signIn (see
// ExampleWithLogin), counting its logins.
func loginClient(t *testing.T, srv *simplejwt.Server, logins *atomic.Int32, opts ...wrapper.Option) *wrapper.Client {
	t.Helper()
	var c *wrapper.Client
	c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL),
		wrapper.WithLogin(func(ctx context.Context) (string, string, error) {
			logins.Add(1)
			return signIn(ctx, c, "alice", "alice-password")
		})}, opts...)...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestWithLoginOnceForAllCallers: 30 callers on a session with no tokens:
// one login, against the real SimpleJWT, and every call succeeds.
func TestWithLoginOnceForAllCallers(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, Threaded: true})
	var logins atomic.Int32
	c := loginClient(t, srv, &logins)
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() { assert.NoError(t, meCtx(context.Background(), c, srv.URL)) })
	}
	wg.Wait()
	assert.Equal(t, int32(1), logins.Load())
}

// TestWithLoginAfterTheRefreshTokenWasSpent: the session's refresh token is
// spent elsewhere (rotation and blacklist): its refresh is rejected, it
// signs in once more, and the call succeeds.
func TestWithLoginAfterTheRefreshTokenWasSpent(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	access, refresh := srv.Pair(t)
	var logins atomic.Int32
	c := loginClient(t, srv, &logins, wrapper.WithTokens(access, refresh))
	other, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithoutAmbientCredentials())
	require.NoError(t, err)
	_, err = other.RefreshToken(context.Background(), refresh) // spends it
	require.NoError(t, err)

	// The access token is still valid: no login yet.
	require.NoError(t, meCtx(context.Background(), c, srv.URL))
	assert.Zero(t, logins.Load())

	// Force the refresh now: the server refuses the spent token.
	before := srv.RefreshRequests(t)
	_, err = c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody(refresh))
	require.NoError(t, err)
	assert.Equal(t, before+1, srv.RefreshRequests(t))
	assert.Equal(t, int32(1), logins.Load(), "one more login")
	require.NoError(t, meCtx(context.Background(), c, srv.URL), "the call succeeds")
}

// TestWithLoginWrongPassword: a failing login reaches the callers, wrapped,
// and is not tried again at request rate.
func TestWithLoginWrongPassword(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{})
	var logins atomic.Int32
	var c *wrapper.Client
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithLogin(func(ctx context.Context) (string, string, error) {
		logins.Add(1)
		return signIn(ctx, c, "alice", "not-alices-password-42")
	}))
	require.NoError(t, err)
	for range 5 {
		err := meCtx(context.Background(), c, srv.URL)
		require.ErrorIs(t, err, wrapper.ErrUnauthorized)
		assert.Contains(t, err.Error(), "logging in")
		assert.NotContains(t, err.Error(), "not-alices-password-42")
	}
	assert.Equal(t, int32(1), logins.Load())
}

// TestWithLoginThroughTheClientItself: a login that calls the API through
// the client it signs in, even on a route that takes the token, sends that
// call without the token, rather than wait for itself.
func TestWithLoginThroughTheClientItself(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var seen []string
	record := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		seen = append(seen, r.URL.Path+" auth="+strconv.FormatBool(r.Header.Get("Authorization") != ""))
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	var c *wrapper.Client
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithHTTPClient(&http.Client{Transport: record}),
		wrapper.WithLogin(func(ctx context.Context) (string, string, error) {
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+wrappertest.MeRoute, nil)
			if err != nil {
				return "", "", err
			}
			resp, err := c.HTTPClient().Do(req)
			if err != nil {
				return "", "", err
			}
			_ = resp.Body.Close()
			access, refresh := srv.IssuePair(1)
			return access, refresh, nil
		}))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, meCtx(ctx, c, srv.URL))
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{wrappertest.MeRoute + " auth=false", wrappertest.MeRoute + " auth=true"}, seen)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
