package wrapper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// cancelled is a context that has ended: a caller that had to wait for a
// refresh with it would fail.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
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

// seqStore returns its tokens in turn on each Load, the last one after that.
type seqStore struct {
	loads atomic.Int32
	toks  []*oauth2.Token
}

func (s *seqStore) Load(context.Context) (*oauth2.Token, error) {
	i := int(s.loads.Add(1)) - 1
	return s.toks[min(i, len(s.toks)-1)], nil
}

func (s *seqStore) Save(context.Context, *oauth2.Token) error { return nil }

// deadService returns a token file that holds a pair of srv whose access
// token expired an hour ago and whose refresh token was spent elsewhere: a
// session on it dies at its first refresh.
func deadService(t *testing.T, srv *simplejwt.Server) (path string) {
	t.Helper()
	access, refresh := srv.PairIssuedAgo(t, time.Hour)
	path = filepath.Join(t.TempDir(), "session.json")
	setSession(t, path, srv.URL, access, refresh)
	other, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = other.RefreshToken(context.Background(), refresh)
	require.NoError(t, err)
	return path
}

// loadCounter is a file store that counts its loads, and fails them while
// fail is set.
type loadCounter struct {
	*wrapper.FileStore
	loads atomic.Int32
	fail  atomic.Bool
}

func (s *loadCounter) Load(ctx context.Context) (*oauth2.Token, error) {
	s.loads.Add(1)
	if s.fail.Load() {
		return nil, errors.New("token file unreadable")
	}
	return s.FileStore.Load(ctx)
}

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

// TestSessionStates steps through a token's life: fresh (used, no refresh),
// stale (used at once while one refresh runs in the background), expired
// (callers wait for the refresh, each under its own context).
func TestSessionStates(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, false)
	access, refresh := srv.IssuePair(1)
	evs := make(events, 10)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh),
		wrapper.WithClock(clock.Now), wrapper.WithRefreshMargin(time.Minute), wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)

	require.NoError(t, me(t, c, srv))
	clock.Advance(9*time.Minute - time.Second) // the refresh window starts a minute before exp
	got, err := c.AccessToken(cancelled())
	require.NoError(t, err)
	assert.Equal(t, access, got)
	evs.none(t)
	assert.Equal(t, 0, srv.Requests(wrappertest.RefreshRoute), "fresh: no refresh")

	// Stale: the token comes at once, even to a caller that cannot wait, and
	// one refresh runs in the background for all of them.
	clock.Advance(31 * time.Second) // past the refresh point, wherever jitter put it
	got, err = c.AccessToken(cancelled())
	require.NoError(t, err)
	assert.Equal(t, access, got, "the stale token, at once")
	for range 50 {
		_, err = c.AccessToken(cancelled())
		require.NoError(t, err, "no caller waits")
	}
	ev := evs.next(t)
	assert.True(t, ev.Background)
	assert.NoError(t, ev.Err)
	assert.False(t, ev.Rotated)
	assert.Equal(t, clock.Now().Add(10*time.Minute), ev.Expiry)
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
	renewed, err := c.AccessToken(cancelled())
	require.NoError(t, err)
	assert.NotEqual(t, access, renewed)
	evs.none(t)

	// Expired: a caller waits, so one that cannot wait gets its context's
	// error, and one that can gets the new token.
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 100 * time.Millisecond})
	clock.Advance(11 * time.Minute)
	_, err = c.AccessToken(cancelled())
	assert.ErrorIs(t, err, context.Canceled)
	got, err = c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, renewed, got)
	ev = evs.next(t)
	assert.False(t, ev.Background, "a caller waited")
	assert.NoError(t, ev.Err)
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
	require.NoError(t, me(t, c, srv))
}

func TestSessionWithoutAccessTokenRefreshesFirst(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, false)
	_, refresh := srv.IssuePair(1)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	require.NoError(t, me(t, c, srv))
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
}

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

// TestSessionUnreadableExpiry: an access token without a readable exp is
// used until the server rejects it, then refreshed once.
func TestSessionUnreadableExpiry(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, false)
	_, refresh := srv.IssuePair(1)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("opaque-token", refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	got, err := c.AccessToken(cancelled())
	require.NoError(t, err)
	assert.Equal(t, "opaque-token", got, "used as it is")
	require.NoError(t, me(t, c, srv), "rejected, refreshed and replayed")
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, 2, srv.Requests(wrappertest.MeRoute))

	c, err = wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("opaque-token", "garbage"), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	err = me(t, c, srv)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
}

// TestSessionRealClock: without WithClock, the real clock marks the token
// stale and expired: a stale token is used while the background refresh
// runs.
func TestSessionRealClock(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: 4 * time.Second})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	evs := make(events, 10)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	require.NoError(t, me(t, c, srv))
	assert.Equal(t, 0, srv.Requests(wrappertest.RefreshRoute), "before the refresh point")

	// The token lives 3 to 4 s from receipt (exp is in whole seconds); its
	// window is the last half of that, and its refresh point in the first
	// half of the window: 0.75 s before exp at the latest.
	exp, err := wrapper.TokenExpiry(access)
	require.NoError(t, err)
	time.Sleep(time.Until(exp.Add(-600 * time.Millisecond)))
	require.NoError(t, me(t, c, srv))
	ev := evs.next(t)
	assert.True(t, ev.Background)
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute), "past the refresh point")
	tok, err := c.TokenSource().Token()
	require.NoError(t, err)
	assert.NotEqual(t, access, tok.AccessToken)
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

func TestSessionOneRefreshForManyCallers(t *testing.T) {
	clock, srv, c, access, _ := newSession(t, true)
	clock.Advance(time.Hour)

	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 50 * time.Millisecond})
	const callers = 1000
	tokens := make([]string, callers)
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			tok, err := c.TokenSource().Token()
			errs[i] = err
			if err == nil {
				tokens[i] = tok.AccessToken
			}
		})
	}
	wg.Wait()
	for i := range callers {
		require.NoError(t, errs[i])
		require.Equal(t, tokens[0], tokens[i])
	}
	assert.NotEqual(t, access, tokens[0])
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
}

func TestSessionCallerContextCancelsOnlyItsWait(t *testing.T) {
	clock, srv, c, _, _ := newSession(t, true)
	clock.Advance(time.Hour)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Delay: 300 * time.Millisecond})

	impatient := make(chan error)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		impatient <- meCtx(ctx, c, srv.URL)
	}()
	patient := make(chan error)
	go func() { patient <- meCtx(context.Background(), c, srv.URL) }()

	assert.ErrorIs(t, <-impatient, context.DeadlineExceeded)
	assert.NoError(t, <-patient)
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

// TestSessionSurvivesAGatewayPage: a gateway's HTML 401 on the refresh
// route is not a rejected token: the session lives on.
func TestSessionSurvivesAGatewayPage(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(1)
	clock := newFakeClock()
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 401, ContentType: "text/html", Body: "<h1>401 Authorization Required</h1>"})

	err = me(t, c, srv)
	require.ErrorIs(t, err, wrapper.ErrUnauthorized)
	assert.NotErrorIs(t, err, wrapper.ErrInvalidToken)
	// A failed refresh is not tried again at request rate: the next call
	// within the backoff gets the same error, and a call after it
	// refreshes and succeeds.
	assert.ErrorIs(t, me(t, c, srv), wrapper.ErrUnauthorized)
	clock.Advance(2 * time.Second)
	require.NoError(t, me(t, c, srv), "the next call after the backoff refreshes and succeeds")
}

// TestSessionPersistent401DoesNotRefreshPerRequest: a protected route that
// answers 401 to every token (SimpleJWT's "user_inactive" for a deactivated
// user, or a server whose clock is ahead): the callers get the 401, and the
// session refreshes at most about once a second, not once a request.
func TestSessionPersistent401DoesNotRefreshPerRequest(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	const n = 20
	faults := make([]wrappertest.Fault, 2*n)
	for i := range faults {
		faults[i] = wrappertest.Fault{Status: 401, Body: `{"detail":"User is inactive","code":"user_inactive"}`}
	}
	srv.Inject(wrappertest.MeRoute, faults...)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	start := time.Now()
	for range n {
		resp, err := c.HTTPClient().Get(srv.URL + wrappertest.MeRoute)
		require.NoError(t, err)
		_ = resp.Body.Close()
		require.Equal(t, 401, resp.StatusCode)
	}
	elapsed := time.Since(start)
	refreshes := srv.Requests(wrappertest.RefreshRoute)
	t.Logf("%d requests in %v made %d refreshes", n, elapsed, refreshes)
	assert.LessOrEqual(t, refreshes, int(elapsed/time.Second)+2, "a refresh storm: one refresh per 401")
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

func TestSessionFailsFastWhenDead(t *testing.T) {
	clock, srv, c, access, refresh := newSession(t, true)

	// Another client spends the refresh token: ours is blacklisted.
	other, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = other.RefreshToken(context.Background(), refresh)
	require.NoError(t, err)

	clock.Advance(time.Hour)
	err = me(t, c, srv)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))

	for range 3 {
		err = me(t, c, srv)
		assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
		_, err = c.TokenSource().Token()
		assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
	}
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute), "a dead session does not call refresh again")
	assert.Equal(t, 0, srv.Requests(wrappertest.MeRoute))

	// A new login revives it.
	access, refresh = srv.IssuePair(1)
	require.NoError(t, c.SetTokens(context.Background(), access, refresh))
	require.NoError(t, me(t, c, srv))
}

func TestSessionSavesRotatedTokensBeforeUsingThem(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	var mu sync.Mutex
	var log []string
	store := &logStore{log: &log}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store),
		wrapper.WithClock(clock.Now), wrapper.WithHTTPClient(&http.Client{Transport: logTransport{&mu, &log}}))
	require.NoError(t, err)
	require.Equal(t, []string{"save " + access}, log, "New seeds the empty store")

	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	require.Len(t, log, 4)
	newAccess := strings.TrimPrefix(log[3], wrappertest.MeRoute+" ")
	assert.Equal(t, []string{
		"save " + access,
		wrappertest.RefreshRoute + " ",
		"save " + newAccess,
		wrappertest.MeRoute + " " + newAccess,
	}, log)
	assert.Equal(t, srv.LastRefreshToken(), store.saved.RefreshToken, "the rotated refresh token is stored")
	assert.NotEqual(t, refresh, store.saved.RefreshToken)
}

func TestClientWithOnlyAStoreLoadsIt(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, false)
	access, refresh := srv.IssuePair(1)
	path := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: access, RefreshToken: refresh}))

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	tok, err := c.TokenSource().Token()
	require.NoError(t, err)
	assert.Equal(t, access, tok.AccessToken)
	require.NoError(t, me(t, c, srv))
	assert.Equal(t, 0, srv.Requests(wrappertest.RefreshRoute))

	empty, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(filepath.Join(t.TempDir(), "none.json"))))
	require.NoError(t, err)
	assert.ErrorIs(t, me(t, empty, srv), wrapper.ErrNoTokens)
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

// TestSessionRereadsTheStoreWhenAnAnswerIsLost: the refresh's answer is
// lost, and meanwhile another process stored newer tokens: the session uses
// them instead of failing.
func TestSessionRereadsTheStoreWhenAnAnswerIsLost(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	store := &seqStore{toks: []*oauth2.Token{
		{AccessToken: access, RefreshToken: refresh}, // New
		{AccessToken: access, RefreshToken: refresh}, // before the refresh
	}}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)

	clock.Advance(9*time.Minute + 30*time.Second) // due, not yet expired
	newerAccess, newerRefresh := srv.IssuePair(1) // by another process
	store.toks = append(store.toks, &oauth2.Token{AccessToken: newerAccess, RefreshToken: newerRefresh})
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Drop: true})
	require.NoError(t, me(t, c, srv), "the stale token is used while the refresh runs")
	require.Eventually(t, func() bool {
		tok, err := c.TokenSource().Token()
		return err == nil && tok.AccessToken == newerAccess
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute), "the lost refresh was not repeated")
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

// TestSessionLockWaitSaysSo: a caller whose context ends while the refresh
// waits for a lock that another process holds learns why.
func TestSessionLockWaitSaysSo(t *testing.T) {
	_, srv, _, _, _ := newSession(t, false)
	_, refresh := srv.IssuePair(3)
	path := filepath.Join(t.TempDir(), "session.json")
	held := wrapper.NewFileStore(path)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", refresh), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	unlock, err := held.Lock(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100e6)
	defer cancel()
	err = meCtx(ctx, c, srv.URL)
	unlock()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "lock")
	require.NoError(t, c.Close())
	require.NoError(t, me(t, c, srv), "the refresh went on once the lock was free")
}

// TestDeadSessionRevivesWithALoginSavedInItsFile: a service whose refresh
// token was spent elsewhere is dead; a new login saved in its token file,
// as "aisquare-go session set" saves one, revives it without a restart, and
// it sends no refresh for the new pair.
func TestDeadSessionRevivesWithALoginSavedInItsFile(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	path := deadService(t, srv)
	ctx := context.Background()
	evs := make(events, 16)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)),
		wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")
	require.ErrorIs(t, evs.next(t).Err, wrapper.ErrInvalidToken)
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")

	access, refresh := srv.Pair(t)
	setSession(t, path, srv.URL, access, refresh)
	require.Eventually(t, func() bool { return meCtx(ctx, c, srv.URL) == nil },
		10*time.Second, 50*time.Millisecond, "the service did not revive with the new login")
	ev := evs.next(t)
	assert.True(t, ev.Adopted, "the revival %+v is not an adoption", ev)
	assert.NoError(t, ev.Err)
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got, "the service does not use the new login")
	assert.Equal(t, 2, srv.RefreshRequests(t), "refreshes at the server: the one elsewhere and the service's refused one")
	stored, err := wrapper.NewFileStore(path).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, refresh, stored.RefreshToken, "the new login was replaced")
}

// TestDeadSessionReadsItsStoreAtMostOnceASecond: while dead, a session
// reads its store again when a caller needs a token, at most once a
// second by its clock however many callers there are, and not before the
// wait after its failed refresh; a new pair found there revives it.
func TestDeadSessionReadsItsStoreAtMostOnceASecond(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	path := deadService(t, srv)
	ctx := context.Background()
	clock := newFakeClock()
	store := &loadCounter{FileStore: wrapper.NewFileStore(path)}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")

	// calls makes 20 calls at once, which all fail, and returns the loads
	// they made.
	calls := func(step string) int32 {
		t.Helper()
		before := store.loads.Load()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				assert.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, step)
			})
		}
		wg.Wait()
		return store.loads.Load() - before
	}
	assert.Zero(t, calls("at once"), "the store was read again within the wait after the failed refresh")
	clock.Advance(2 * time.Second) // past that wait
	assert.Equal(t, int32(1), calls("2s later"), "the dead session did not read its store once")
	assert.Zero(t, calls("2s later, again"))
	clock.Advance(999 * time.Millisecond)
	assert.Zero(t, calls("2.999s later"), "the store was read again within a second")
	clock.Advance(time.Millisecond)
	assert.Equal(t, int32(1), calls("3s later"), "the store was not read again after a second")

	access, refresh := srv.Pair(t)
	setSession(t, path, srv.URL, access, refresh)
	assert.Zero(t, calls("with a new login saved"), "the store was read again within a second")
	clock.Advance(time.Second)
	require.NoError(t, meCtx(ctx, c, srv.URL), "the new login did not revive the session")
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got)
}

// TestDeadSessionStaysDeadWhileItsStoreFails: a dead session that cannot
// read its store again still answers that its refresh token was rejected,
// so that its callers know to log in again, and reads the store again a
// second later, when a new pair there revives it.
func TestDeadSessionStaysDeadWhileItsStoreFails(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	path := deadService(t, srv)
	ctx := context.Background()
	clock := newFakeClock()
	store := &loadCounter{FileStore: wrapper.NewFileStore(path)}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")

	clock.Advance(2 * time.Second)
	store.fail.Store(true)
	loads := store.loads.Load()
	err = meCtx(ctx, c, srv.URL)
	require.ErrorIs(t, err, wrapper.ErrInvalidToken, "a failed read of the store hid the rejection")
	assert.ErrorContains(t, err, "token file unreadable", "the error does not say why the session was not revived")
	require.Equal(t, loads+1, store.loads.Load(), "the dead session did not read its store")
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken)

	store.fail.Store(false)
	access, refresh := srv.Pair(t)
	setSession(t, path, srv.URL, access, refresh)
	clock.Advance(time.Second)
	require.NoError(t, meCtx(ctx, c, srv.URL), "the new login did not revive the session a second after a failed read")
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got)
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

func TestNoSession(t *testing.T) {
	var auth []string
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
	})
	resp, err := c.HTTPClient().Get(c.BaseURL() + "/x/")
	require.NoError(t, err)
	resp.Body.Close()
	_, err = c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody("r"))
	require.NoError(t, err)
	assert.Equal(t, []string{"", ""}, auth)
	_, err = c.TokenSource().Token()
	assert.ErrorIs(t, err, wrapper.ErrNoTokens)
	err = c.SetTokens(context.Background(), "a", "r")
	assert.ErrorIs(t, err, wrapper.ErrNoTokens)
	assert.Contains(t, err.Error(), "made without a session", "not advice to call SetTokens, which just failed")
	assert.NotContains(t, err.Error(), "call SetTokens")
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

// TestWithLoginThatAsksForTheToken: a login that asks the client for its
// access token, with the context it was given, gets an error at once
// rather than wait for itself; the login then goes on.
func TestWithLoginThatAsksForTheToken(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{})
	var c *wrapper.Client
	asked := make(chan error, 1)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithoutAmbientCredentials(),
		wrapper.WithLogin(func(ctx context.Context) (string, string, error) {
			_, err := c.AccessToken(ctx)
			asked <- err
			return signIn(ctx, c, "alice", "alice-password")
		}))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.NotEmpty(t, got)
	err = <-asked
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithLogin's function")
}

// TestWithLoginWrongPassword: a failing login reaches the callers, wrapped,
// and is not tried again at request rate.
func TestWithLoginWrongPassword(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{})
	var logins atomic.Int32
	var c *wrapper.Client
	rec, withLogger := newLogRecorder(slog.LevelInfo)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), withLogger, wrapper.WithLogin(func(ctx context.Context) (string, string, error) {
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
	failed := rec.records("login failed")
	require.Len(t, failed, 1, "the login is logged as a login: %s", rec.String())
	assert.Equal(t, slog.LevelWarn, failed[0].Level)
	assert.Empty(t, rec.records("refresh"), "no refresh was tried")
}

func TestSessionNeverLeaksTokens(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	dir := t.TempDir()
	store := wrapper.NewFileStore(filepath.Join(dir, "tokens.json"))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))

	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("client", "client", c, "store", store)
	var texts []string
	for _, v := range []any{c, store} {
		texts = append(texts, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v))
	}
	texts = append(texts, logged.String())

	// A dead session's error, too.
	_, _ = wrapper.New(wrapper.WithBaseURL(srv.URL)) // no session: nothing to leak
	dead, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	err = me(t, dead, srv)
	require.ErrorIs(t, err, wrapper.ErrInvalidToken)
	texts = append(texts, err.Error(), fmt.Sprintf("%+v", err))

	current, err := c.TokenSource().Token()
	require.NoError(t, err)
	for _, text := range texts {
		for _, secret := range []string{access, refresh, current.AccessToken, srv.LastRefreshToken()} {
			assert.NotContains(t, text, secret)
		}
	}
	assert.Contains(t, texts[0], srv.URL, "the description is still useful")
}

// TestRefreshBodiesPrintNoToken: the generated types of a refresh's bodies,
// as RefreshToken and c.API() return them, print no token with any verb nor
// in a log record, and still carry the tokens in JSON.
func TestRefreshBodiesPrintNoToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true})
	t.Cleanup(srv.Close)
	c := plain(t, srv)
	_, refresh := srv.IssuePair(1)
	got, err := c.RefreshToken(context.Background(), refresh)
	require.NoError(t, err)
	require.NotEmpty(t, got.Refresh, "rotated")
	_, second := srv.IssuePair(1)
	resp, err := c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody(second))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200)
	secrets := []string{refresh, second, got.Access, got.Refresh, resp.JSON200.Access, resp.JSON200.Refresh}

	var logged bytes.Buffer
	for _, h := range []slog.Handler{slog.NewJSONHandler(&logged, nil), slog.NewTextHandler(&logged, nil)} {
		slog.New(h).Info("refresh", "answer", got, "request", apiRefreshBody(second), "response", resp, "body", *resp.JSON200)
	}
	texts := []string{logged.String()}
	for _, v := range []any{got, *got, apiRefreshBody(second), resp, *resp} {
		texts = append(texts, fmt.Sprintf("%v", v), fmt.Sprintf("%+v", v), fmt.Sprintf("%#v", v), fmt.Sprintf("%s", v))
	}
	for _, text := range texts {
		for _, secret := range secrets {
			assert.NotContains(t, text, secret)
		}
	}
	assert.Contains(t, fmt.Sprint(got), "[REDACTED]")
	assert.Contains(t, fmt.Sprint(resp), "200 OK", "the status is still shown")

	data, err := json.Marshal(got)
	require.NoError(t, err)
	assert.Contains(t, string(data), got.Access, "JSON carries the tokens")
}
