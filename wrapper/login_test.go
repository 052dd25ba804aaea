package wrapper_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
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
