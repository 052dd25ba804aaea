package wrapper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// TestSessionLifetimeFromReceipt: a refreshed access token copies the iat of
// a refresh token minutes old, so exp - iat is no measure of its lifetime.
// With 10-second access tokens and a login two minutes ago, the session
// refreshes about once per token, not once per request.
func TestSessionLifetimeFromReceipt(t *testing.T) {
	clock := newFakeClock()
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: 10 * time.Second, Now: clock.Now})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePairAt(1, clock.Now().Add(-2*time.Minute))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)

	const steps = 120 // a minute, in half seconds
	for range steps {
		require.NoError(t, me(t, c, srv))
		require.NoError(t, c.Close()) // waits for a background refresh
		clock.Advance(500 * time.Millisecond)
	}
	n := srv.Requests(wrappertest.RefreshRoute)
	t.Logf("%d requests over a minute made %d refreshes", steps, n)
	assert.LessOrEqual(t, n, 60/5+1, "at most one refresh per half lifetime")
	assert.GreaterOrEqual(t, n, 6, "the tokens were renewed")
}

// TestSessionTokenDueOnArrival: a token that looks due the moment it arrives
// (the server's clock is five minutes behind) makes one refresh, not one
// per request.
func TestSessionTokenDueOnArrival(t *testing.T) {
	clock := newFakeClock()
	behind := func() time.Time { return clock.Now().Add(-5 * time.Minute) }
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Minute, Now: behind})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)

	for range 20 {
		require.NoError(t, me(t, c, srv))
		require.NoError(t, c.Close())
	}
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute), "20 requests at once: the expired login pair is refreshed once")
	for range 20 {
		clock.Advance(100 * time.Millisecond)
		require.NoError(t, me(t, c, srv))
		require.NoError(t, c.Close())
	}
	assert.LessOrEqual(t, srv.Requests(wrappertest.RefreshRoute), 3, "20 requests over 2 s: one refresh a second at most")
}

// TestSessionOpaqueAccessTokens: a server whose access tokens are not JWTs:
// each is used until the server rejects it.
func TestSessionOpaqueAccessTokens(t *testing.T) {
	var refreshes, calls atomic.Int32
	var mu sync.Mutex
	valid := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		mu.Lock()
		defer mu.Unlock()
		if r.URL.Path == wrappertest.RefreshRoute {
			n := refreshes.Add(1)
			tok := fmt.Sprintf("opaque-%d", n)
			valid[tok] = true
			fmt.Fprintf(w, `{"access":%q}`, tok)
			return
		}
		calls.Add(1)
		if !valid[strings.TrimPrefix(r.Header.Get("Authorization"), api.AuthScheme+" ")] {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`)
			return
		}
		fmt.Fprint(w, `{"user_id":1}`)
	}))
	t.Cleanup(srv.Close)
	clock := newFakeClock()
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", "r"), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	for range 20 {
		require.NoError(t, meCtx(context.Background(), c, srv.URL))
	}
	assert.Equal(t, int32(1), refreshes.Load(), "20 requests, one refresh")

	// A 401 a moment after the refresh is the answer; a second later, it
	// makes the session refresh.
	clock.Advance(2 * time.Second)
	mu.Lock()
	clear(valid) // the server revokes the token
	mu.Unlock()
	require.NoError(t, meCtx(context.Background(), c, srv.URL), "rejected, refreshed, replayed")
	assert.Equal(t, int32(2), refreshes.Load())
}

// TestSessionStaleBurst: 1,000 callers on a stale token all get it at once,
// none waits, and the session makes one refresh.
func TestSessionStaleBurst(t *testing.T) {
	evs := make(events, 10)
	clock, srv, c, access, _ := newSession(t, true, wrapper.WithOnRefresh(evs.record))
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 200 * time.Millisecond})
	clock.Advance(9*time.Minute + 45*time.Second)

	var wg sync.WaitGroup
	var stale atomic.Int32
	for range 1000 {
		wg.Go(func() {
			tok, err := c.AccessToken(cancelled()) // a caller that waited would fail
			assert.NoError(t, err)
			if tok == access {
				stale.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Positive(t, stale.Load(), "callers got the stale token")
	ev := evs.next(t)
	assert.True(t, ev.Background)
	assert.True(t, ev.Rotated)
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
}

// TestSessionBackgroundFailures: a failing background refresh is tried
// again no more than once a second, with backoff; callers see nothing of it
// until the token expires, and then get the last refresh error, until the
// server is back.
func TestSessionBackgroundFailures(t *testing.T) {
	evs := make(events, 100)
	clock, srv, c, _, _ := newSession(t, true, wrapper.WithOnRefresh(evs.record))
	outage := wrappertest.Fault{Status: 502, ContentType: "text/html", Body: "<h1>502 Bad Gateway</h1>"}
	for range 1000 {
		srv.Inject(wrappertest.RefreshRoute, outage)
	}

	// The last minute of the token's life, in steps of 100 ms, 10 calls a step.
	clock.Advance(9 * time.Minute)
	attempts := 0
	for step := range 600 {
		for range 10 {
			require.NoError(t, me(t, c, srv), "step %d: the token is still valid", step)
		}
		require.NoError(t, c.Close())
		for len(evs) > 0 {
			ev := <-evs
			assert.True(t, ev.Background)
			assert.ErrorIs(t, ev.Err, wrapper.ErrServer)
			attempts++
		}
		clock.Advance(100 * time.Millisecond)
	}
	t.Logf("%d background attempts in the last minute", attempts)
	assert.LessOrEqual(t, attempts, 30, "at most one a second, with backoff")
	assert.GreaterOrEqual(t, attempts, 3, "tried again")

	// Expired: callers get the last refresh error, without a refresh each.
	before := srv.Requests(wrappertest.RefreshRoute)
	for range 10 {
		err := me(t, c, srv)
		assert.ErrorIs(t, err, wrapper.ErrServer)
	}
	assert.LessOrEqual(t, srv.Requests(wrappertest.RefreshRoute)-before, 1)

	// The server is back: after the backoff, the next caller gets a token.
	drainFaults(t, srv, c, clock)
	require.NoError(t, me(t, c, srv))
}

// drainFaults spends the server's remaining refresh faults directly.
func drainFaults(t *testing.T, srv *wrappertest.Server, c *wrapper.Client, clock *fakeClock) {
	t.Helper()
	plain, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithMaxRetries(0))
	require.NoError(t, err)
	for {
		_, err := plain.RefreshToken(context.Background(), "x")
		if !assert.Error(t, err) || !strings.Contains(err.Error(), "502") {
			break
		}
	}
	clock.Advance(time.Minute) // past any backoff
}

// TestSessionLostAnswerIsNotALogout: with rotation and blacklist, a refresh
// whose answer is lost leaves the session serving its valid access token;
// it is dead only once that token expires with no usable refresh token.
func TestSessionLostAnswerIsNotALogout(t *testing.T) {
	clock, srv, c, access, _ := newSession(t, true)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Truncate: true})
	clock.Advance(9*time.Minute + 45*time.Second) // stale
	for range 5 {
		require.NoError(t, me(t, c, srv))
		require.NoError(t, c.Close())
	}
	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, access, got, "the valid token is still served")

	// The retry learns the token was spent (blacklisted): still no failure
	// while the access token lives.
	clock.Advance(10 * time.Second)
	for range 5 {
		require.NoError(t, me(t, c, srv))
		require.NoError(t, c.Close())
	}
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))

	clock.Advance(10 * time.Second) // expired
	err = me(t, c, srv)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken, "dead now: log in again")
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
}

// TestSessionLostAnswerAdoptsTheStoredPair: the answer is lost, and another
// process that shares the store holds a newer pair: the session takes it.
func TestSessionLostAnswerAdoptsTheStoredPair(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
		wrapper.WithClock(clock.Now))
	require.NoError(t, err)

	clock.Advance(9*time.Minute + 45*time.Second)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Drop: true}, wrappertest.Fault{Status: 503, Body: `{"detail":"down"}`})
	require.NoError(t, me(t, c, srv))
	newAccess, newRefresh := srv.IssuePair(1) // another process's login, saved as it holds the lock
	require.NoError(t, c.Close())
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: newAccess, RefreshToken: newRefresh}))

	clock.Advance(5 * time.Second) // past the backoff
	require.NoError(t, me(t, c, srv))
	require.NoError(t, c.Close())
	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, newAccess, got)
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute), "the stored pair needed no refresh")
}

// TestSessionNewestPairWins: between WithTokens and the store, the pair
// whose refresh token was issued later wins; on a tie, WithTokens.
func TestSessionNewestPairWins(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	oldAccess, oldRefresh := srv.IssuePair(1)
	// The old pair is spent by a refresh: blacklisted.
	plain, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = plain.RefreshToken(context.Background(), oldRefresh)
	require.NoError(t, err)
	clock.Advance(time.Minute)
	newAccess, newRefresh := srv.IssuePair(1) // a new login

	for _, tc := range []struct {
		name             string
		stored, given    [2]string
		wantAccess       string
		wantStoreRefresh string
	}{
		{"fresh login over an older stored pair", [2]string{oldAccess, oldRefresh}, [2]string{newAccess, newRefresh}, newAccess, newRefresh},
		{"stored pair rotated after the given one", [2]string{newAccess, newRefresh}, [2]string{oldAccess, oldRefresh}, newAccess, newRefresh},
		{"the same pair", [2]string{newAccess, newRefresh}, [2]string{newAccess, newRefresh}, newAccess, newRefresh},
		{"unreadable: the given pair", [2]string{"a", "opaque-1"}, [2]string{newAccess, "opaque-2"}, newAccess, "opaque-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
			require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: tc.stored[0], RefreshToken: tc.stored[1]}))
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(tc.given[0], tc.given[1]),
				wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
			require.NoError(t, err)
			got, err := c.AccessToken(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.wantAccess, got)
			stored, err := store.Load(context.Background())
			require.NoError(t, err)
			assert.Equal(t, tc.wantStoreRefresh, stored.RefreshToken)
		})
	}

	// The fresh login keeps working where the stored pair is blacklisted.
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: oldAccess, RefreshToken: oldRefresh}))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(newAccess, newRefresh),
		wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
}

// TestSessionSetTokensDuringRefresh: SetTokens while a refresh is in flight:
// the pair it sets ends up in the session and in the store.
func TestSessionSetTokensDuringRefresh(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
		wrapper.WithClock(clock.Now))
	require.NoError(t, err)

	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 300 * time.Millisecond})
	clock.Advance(time.Hour)
	waiter := make(chan string)
	go func() {
		tok, err := c.AccessToken(context.Background())
		assert.NoError(t, err)
		waiter <- tok
	}()
	require.Eventually(t, func() bool { return srv.Requests(wrappertest.RefreshRoute) == 1 }, 5*time.Second, time.Millisecond)
	setAccess, setRefresh := srv.IssuePair(2) // another account
	require.NoError(t, c.SetTokens(context.Background(), setAccess, setRefresh))
	assert.Equal(t, setAccess, <-waiter, "the waiter gets the pair SetTokens set")
	require.NoError(t, c.Close())

	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, setAccess, got)
	stored, err := store.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, setRefresh, stored.RefreshToken)
	assert.Equal(t, setAccess, stored.AccessToken)
}

// TestSessionServesItsOwnRefresh: a refresh of the session's own refresh
// token through c.API() or c.HTTPClient() is the session's refresh, saved
// first, answered as the server would, and the session keeps working.
func TestSessionServesItsOwnRefresh(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
		wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	ctx := context.Background()

	resp, err := c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(refresh))
	require.NoError(t, err)
	require.NoError(t, wrapper.CheckResponse(resp.HTTPResponse, resp.Body))
	require.NotNil(t, resp.JSON200)
	assert.NotEqual(t, access, resp.JSON200.Access)
	assert.Equal(t, srv.LastRefreshToken(), resp.JSON200.Refresh, "rotated, as the server answered")
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, resp.JSON200.Access, got, "the session holds the new pair")
	stored, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, resp.JSON200.Refresh, stored.RefreshToken, "saved")

	// Through the HTTP client, with the rotated token.
	body := `{"refresh":"` + resp.JSON200.Refresh + `"}`
	hr, err := c.HTTPClient().Post(srv.URL+wrappertest.RefreshRoute, "application/json", strings.NewReader(body))
	require.NoError(t, err)
	var ans api.TokenRefresh
	require.NoError(t, json.NewDecoder(hr.Body).Decode(&ans))
	hr.Body.Close()
	assert.Equal(t, http.StatusOK, hr.StatusCode)
	assert.Equal(t, srv.LastRefreshToken(), ans.Refresh)

	// The session's own refreshes keep working: nothing it holds is spent.
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	assert.Equal(t, 3, srv.Requests(wrappertest.RefreshRoute))

	// Another token goes to the server as it is.
	resp, err = c.API().RefreshCreateWithResponse(ctx, apiRefreshBody(refresh))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode(), "the spent token, from the server")
	assert.Contains(t, string(resp.Body), "blacklisted")
	require.NoError(t, me(t, c, srv))
}

// TestRefreshEventsCarryNoToken: the events of every kind of attempt never
// hold a token, however they are printed.
func TestRefreshEventsCarryNoToken(t *testing.T) {
	evs := make(events, 10)
	clock, srv, c, access, refresh := newSession(t, true, wrapper.WithOnRefresh(evs.record))
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	ok := evs.next(t)
	clock.Advance(time.Hour)
	srv.SetRotation(true, true)
	_, err := plain(t, srv).RefreshToken(context.Background(), srv.LastRefreshToken()) // spends the session's token
	require.NoError(t, err)
	assert.ErrorIs(t, me(t, c, srv), wrapper.ErrInvalidToken)
	failed := evs.next(t)
	require.Error(t, failed.Err)
	for _, ev := range []wrapper.RefreshEvent{ok, failed} {
		for _, text := range []string{fmt.Sprintf("%v", ev), fmt.Sprintf("%+v", ev), fmt.Sprintf("%#v", ev)} {
			for _, tok := range []string{access, refresh, srv.LastRefreshToken()} {
				assert.NotContains(t, text, tok)
			}
		}
	}
}

func plain(t *testing.T, srv *wrappertest.Server) *wrapper.Client {
	t.Helper()
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	return c
}

// TestSessionOwnRefreshSharesTheFlight: a refresh through c.API() while the
// session's own refresh is in flight joins it: one request to the server,
// one new pair for both.
func TestSessionOwnRefreshSharesTheFlight(t *testing.T) {
	clock, srv, c, _, refresh := newSession(t, true)
	clock.Advance(time.Hour)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 200 * time.Millisecond})
	tokens := make(chan string, 1)
	go func() {
		tok, err := c.AccessToken(context.Background())
		assert.NoError(t, err)
		tokens <- tok
	}()
	require.Eventually(t, func() bool { return srv.Requests(wrappertest.RefreshRoute) == 1 }, 5*time.Second, time.Millisecond)
	resp, err := c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody(refresh))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200)
	assert.Equal(t, <-tokens, resp.JSON200.Access)
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
}

// TestSessionOwnRefreshRejected: the session's refresh token was spent
// elsewhere: the refresh through c.API() gets the server's rejection, as
// the server sent it.
func TestSessionOwnRefreshRejected(t *testing.T) {
	_, srv, c, _, refresh := newSession(t, true)
	_, err := plain(t, srv).RefreshToken(context.Background(), refresh)
	require.NoError(t, err)
	resp, err := c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody(refresh))
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode())
	assert.Equal(t, "application/json", resp.HTTPResponse.Header.Get("Content-Type"))
	apiErr := wrapper.CheckResponse(resp.HTTPResponse, resp.Body)
	assert.ErrorIs(t, apiErr, wrapper.ErrInvalidToken)
	assert.Contains(t, string(resp.Body), "Token is blacklisted")
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
}

// TestLoggerRecordsRefreshes: a client with a logger records each refresh
// of its session, and still calls WithOnRefresh's function.
func TestLoggerRecordsRefreshes(t *testing.T) {
	clock, srv, _, access, refresh := newSession(t, true)
	var logged strings.Builder
	var mu sync.Mutex
	evs := make(events, 10)
	lg := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, nil))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now),
		wrapper.WithLogger(lg), wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	require.NoError(t, evs.next(t).Err)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logged.String(), "token refreshed")
	assert.NotContains(t, logged.String(), refresh)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestSessionOwnRefreshAfterSetTokensRefreshesTheNewTokens: SetTokens while
// a refresh is in flight, then a refresh of the new refresh token through
// c.API(): it waits for the void refresh and then refreshes the new token,
// and answers with a refreshed access token and no rotation. The caller of
// the refresh in flight, who sent user 1's refresh token, gets the server's
// answer for that token, never user 2's tokens.
func TestSessionOwnRefreshAfterSetTokensRefreshesTheNewTokens(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	a1, r1 := srv.IssuePair(1)
	_, r2 := srv.IssuePair(2)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(a1, r1))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	ctx := context.Background()

	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 500 * time.Millisecond})
	done := make(chan struct{})
	var first *api.RefreshCreateResponse
	go func() {
		defer close(done)
		first, _ = c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r1})
	}()
	require.Eventually(t, func() bool { return srv.Requests(wrappertest.RefreshRoute) == 1 }, 5*time.Second, time.Millisecond)
	require.NoError(t, c.SetTokens(ctx, "", r2)) // a new login; the access token comes later

	resp, err := c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: r2})
	require.NoError(t, err)
	<-done
	require.NotNil(t, first)
	assert.NotContains(t, string(first.Body), r2, "the refresh of user 1's token answered with user 2's refresh token")
	require.Equal(t, 200, resp.StatusCode(), "body: %s", resp.Body)
	require.NotNil(t, resp.JSON200)
	assert.NotEmpty(t, resp.JSON200.Access, "200 without an access token: the void flight's answer")
	assert.Empty(t, resp.JSON200.Refresh, "no rotation happened, yet the answer says the token rotated")
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute), "r2 was never refreshed")
}
