package wrapper_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestSessionSameSecondRotationByAnotherProcess: two processes share a
// FileStore; the server rotates and blacklists. The rotation another process
// made carries the same iat (SimpleJWT's iat has one-second resolution: a
// login and a rotation, or two rotations, in the same second); the session
// takes the store's pair under the lock instead of spending its own,
// already blacklisted, refresh token.
func TestSessionSameSecondRotationByAnotherProcess(t *testing.T) {
	second := time.Now().Truncate(time.Second)
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true,
		Now: func() time.Time { return second }}) // every token issued in the same second
	t.Cleanup(srv.Close)
	a0, r0 := srv.IssuePairAt(1, second)
	path := filepath.Join(t.TempDir(), "s", "session.json")
	require.NoError(t, wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: a0, RefreshToken: r0}))

	events := make(chan wrapper.RefreshEvent, 4)
	procA, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = procA.Close() })
	procB, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)),
		wrapper.WithOnRefresh(func(ev wrapper.RefreshEvent) { events <- ev }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = procB.Close() })

	ctx := context.Background()
	respA, err := procA.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
	require.NoError(t, err)
	require.Equal(t, 200, respA.StatusCode(), "process A rotates r0")

	// Process B refreshes its session (it holds r0, which A spent): under
	// the store's lock it finds A's pair, and must use it.
	respB, err := procB.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
	require.NoError(t, err)
	ev := <-events
	assert.NoError(t, ev.Err, "B's session died although the store held A's valid pair")
	assert.Equal(t, 200, respB.StatusCode(), "body: %s", respB.Body)
}

// TestSessionSameSecondTieAtNewSpendsNoTokenTwice: process A rotates r0 to
// r1 in the second of r0's issue; process B starts with WithTokens(r0), a
// tie with the stored r1, so the given pair wins and is saved. A must not
// take r0 back from the store (it spent r0 itself), and B, whose r0 is
// spent, takes A's next rotation from the store: both sessions live.
func TestSessionSameSecondTieAtNewSpendsNoTokenTwice(t *testing.T) {
	second := time.Now().Truncate(time.Second)
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true,
		Now: func() time.Time { return second }})
	t.Cleanup(srv.Close)
	a0, r0 := srv.IssuePairAt(1, second)
	path := filepath.Join(t.TempDir(), "s", "session.json")
	store := wrapper.NewFileStore(path)
	ctx := context.Background()
	require.NoError(t, store.Save(ctx, &oauth2.Token{AccessToken: a0, RefreshToken: r0}))

	procA, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = procA.Close() })
	respA, err := procA.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
	require.NoError(t, err)
	require.NotNil(t, respA.JSON200, "status %d: %s", respA.StatusCode(), respA.Body)
	r1 := respA.JSON200.Refresh
	require.NotEmpty(t, r1)

	procB, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(a0, r0),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = procB.Close() })
	stored, err := store.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, r0, stored.RefreshToken, "on a tie, WithTokens wins and is saved")

	respA, err = procA.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r1})
	require.NoError(t, err)
	require.NotNil(t, respA.JSON200, "status %d: %s", respA.StatusCode(), respA.Body)
	r2 := respA.JSON200.Refresh
	assert.NotEqual(t, r0, r2, "A took back the token it spent")
	assert.Equal(t, srv.LastRefreshToken(), r2)
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
	stored, err = store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, r2, stored.RefreshToken)

	respB, err := procB.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
	require.NoError(t, err)
	require.Equal(t, 200, respB.StatusCode(), "B's session died: %s", respB.Body)
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute), "B took A's pair without spending r0")
	require.NoError(t, me(t, procA, srv))
	require.NoError(t, me(t, procB, srv))
}

// TestSessionFailedSaveInTheSameSecond: a rotation in the second of the
// login whose save fails leaves the spent login pair in the store with the
// same iat as the rotated one; the next refresh spends the rotated token,
// never takes the spent pair back.
func TestSessionFailedSaveInTheSameSecond(t *testing.T) {
	second := time.Now().Truncate(time.Second)
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true,
		Now: func() time.Time { return second }})
	t.Cleanup(srv.Close)
	a0, r0 := srv.IssuePairAt(1, second)
	var log []string
	store := &logStore{log: &log}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(a0, r0), wrapper.WithTokenStore(store))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()

	store.setFail(assert.AnError)
	resp, err := c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r0})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	r1 := resp.JSON200.Refresh
	require.Equal(t, r0, store.load().RefreshToken, "the spent pair is left in the store")
	store.setFail(nil)

	resp, err = c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r1})
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200, "status %d: %s", resp.StatusCode(), resp.Body)
	assert.NotEqual(t, r0, resp.JSON200.Refresh, "the spent pair came back from the store")
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
	require.NoError(t, me(t, c, srv))
}

// TestStoreOfAnotherAccountIsRefusedAtNew: WithTokens(Bob's pair) with a
// store that holds a pair of another user issued later (Alice's: two
// accounts, one default store). The newer pair is not a rotation of Bob's:
// New refuses, with an error matching ErrStoreMismatch that names no token,
// rather than act as Alice.
func TestStoreOfAnotherAccountIsRefusedAtNew(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	bobAccess, bobRefresh := srv.IssuePairAt(2, time.Now().Add(-time.Hour)) // Bob logged in an hour ago
	aliceAccess, aliceRefresh := srv.IssuePair(1)
	path := filepath.Join(t.TempDir(), "s", "session.json")
	require.NoError(t, wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: aliceAccess, RefreshToken: aliceRefresh}))

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(bobAccess, bobRefresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "another account's session")
	for _, tok := range []string{bobAccess, bobRefresh, aliceAccess, aliceRefresh} {
		assert.NotContains(t, err.Error(), tok)
	}
	stored, err := wrapper.NewFileStore(path).Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, aliceRefresh, stored.RefreshToken, "Alice's session is left in the store")

	// A newer login of Bob over Alice's older pair: Bob's, as before.
	bobAccess, bobRefresh = srv.IssuePairAt(2, time.Now().Add(time.Second))
	c, err = wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(bobAccess, bobRefresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, bobAccess, got)
}

// TestSessionLeavesAnotherAccountsStoredPairAlone: a refresh that finds a
// newer pair of another account in the store refreshes its own pair; if
// that refresh fails, its error says the store held another account's
// session.
func TestSessionLeavesAnotherAccountsStoredPairAlone(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	bobAccess, bobRefresh := srv.IssuePair(2)
	path := filepath.Join(t.TempDir(), "s", "session.json")
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(bobAccess, bobRefresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()
	store := wrapper.NewFileStore(path)

	clock.Advance(time.Minute)
	aliceAccess, aliceRefresh := srv.IssuePair(1) // another process logs in as Alice
	require.NoError(t, store.Save(ctx, &oauth2.Token{AccessToken: aliceAccess, RefreshToken: aliceRefresh}))
	clock.Advance(time.Hour)
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, aliceAccess, got, "the session took another account's pair")
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute), "the session refreshed its own pair")

	require.NoError(t, store.Save(ctx, &oauth2.Token{AccessToken: aliceAccess, RefreshToken: aliceRefresh}))
	clock.Advance(time.Hour)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 401, Body: `{"detail":"Token is blacklisted","code":"token_not_valid"}`})
	_, err = c.AccessToken(ctx)
	require.ErrorIs(t, err, wrapper.ErrInvalidToken)
	assert.Contains(t, err.Error(), "another account's session")
	for _, tok := range []string{bobAccess, bobRefresh, aliceAccess, aliceRefresh} {
		assert.NotContains(t, err.Error(), tok)
	}
}
