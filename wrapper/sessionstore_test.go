package wrapper_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestSessionKeepsAPairItFailedToSave: after a failed save, the session
// uses the rotated pair it holds, never the spent pair left in the store,
// and keeps trying to save it.
func TestSessionKeepsAPairItFailedToSave(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	var log []string
	store := &logStore{log: &log}
	evs := make(events, 10)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
		wrapper.WithClock(clock.Now), wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)

	store.setFail(errors.New("disk full"))
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv), "the caller gets the new token all the same")
	ev := evs.next(t)
	require.Error(t, ev.Err)
	assert.Contains(t, ev.Err.Error(), "wrapper: saving refreshed tokens: disk full")
	assert.False(t, ev.Expiry.IsZero())
	assert.Equal(t, refresh, store.load().RefreshToken, "the store still holds the spent token")
	store.setFail(nil)

	// The next refresh spends the rotated token held in memory, not the
	// spent one in the store.
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	ev = evs.next(t)
	require.NoError(t, ev.Err)
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, srv.LastRefreshToken(), store.load().RefreshToken)

	// A save that fails and then works: the session saves the pair it holds
	// by itself, without another refresh.
	store.setFail(errors.New("disk full"))
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	require.Error(t, evs.next(t).Err)
	store.setFail(nil)
	require.Eventually(t, func() bool { return store.load().RefreshToken == srv.LastRefreshToken() },
		10*time.Second, 50*time.Millisecond, "the held pair reaches the store")
	assert.Equal(t, 3, srv.Requests(wrappertest.RefreshRoute))
	require.NoError(t, c.Close())
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

// TestFailedNewRetriesNothing: New fails when it cannot save the pair
// WithTokens gave, and leaves no goroutine retrying the save.
func TestFailedNewRetriesNothing(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := wrappertest.NewServer(wrappertest.Options{})
	defer srv.Close()
	access, refresh := srv.IssuePair(1)
	var log []string
	store := &logStore{log: &log, fail: errors.New("disk full")}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store))
	require.Error(t, err)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "disk full")
	assertNoSecret(t, err)
}
