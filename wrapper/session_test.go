package wrapper_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newSessionServer starts a fake backend on clock with a 10-minute access
// lifetime.
func newSessionServer(t *testing.T, clock *fakeClock, rotate bool) *wrappertest.Server {
	t.Helper()
	srv := wrappertest.NewServer(wrappertest.Options{
		Rotate: rotate, Blacklist: rotate, AccessLifetime: 10 * time.Minute, Now: clock.Now,
	})
	t.Cleanup(srv.Close)
	return srv
}

// newSession starts a fake backend and a client with a session on it,
// made with opts as well.
func newSession(t *testing.T, rotate bool, opts ...wrapper.Option) (*fakeClock, *wrappertest.Server, *wrapper.Client, string, string) {
	t.Helper()
	clock := newFakeClock()
	srv := newSessionServer(t, clock, rotate)
	access, refresh := srv.IssuePair(1)
	c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return clock, srv, c, access, refresh
}

// me calls the protected route through c's HTTP client.
func me(t *testing.T, c *wrapper.Client, srv *wrappertest.Server) error {
	t.Helper()
	return meCtx(context.Background(), c, srv.URL)
}

func meCtx(ctx context.Context, c *wrapper.Client, baseURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+wrappertest.MeRoute, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return wrapper.CheckResponse(resp, body)
}

// events collects a session's refresh events.
type events chan wrapper.RefreshEvent

func (e events) record(ev wrapper.RefreshEvent) { e <- ev }

// next waits for the next event.
func (e events) next(t *testing.T) wrapper.RefreshEvent {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh event within 10s")
		return wrapper.RefreshEvent{}
	}
}

// none checks that no refresh happened.
func (e events) none(t *testing.T) {
	t.Helper()
	select {
	case ev := <-e:
		t.Fatalf("unexpected refresh: %+v", ev)
	default:
	}
}

// cancelled is a context that has ended: a caller that had to wait for a
// refresh with it would fail.
func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
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

func TestSessionRefreshesOn401AndReplaysOnce(t *testing.T) {
	clock, srv, c, _, _ := newSession(t, false)

	revoked := wrappertest.Fault{Status: 401, Body: `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`}
	srv.Inject(wrappertest.MeRoute, revoked)
	require.NoError(t, me(t, c, srv), "refreshed and replayed")
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, 2, srv.Requests(wrappertest.MeRoute))

	// Two 401s in a row: one replay only, and the second 401 is the answer.
	// (A token from a refresh a moment ago is not refreshed again on a 401:
	// see TestSessionPersistent401DoesNotRefreshPerRequest.)
	clock.Advance(2 * time.Second)
	srv.Inject(wrappertest.MeRoute, revoked, revoked)
	err := me(t, c, srv)
	assert.ErrorIs(t, err, wrapper.ErrUnauthorized)
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, 4, srv.Requests(wrappertest.MeRoute))
}

func TestSessionReplaysTheBody(t *testing.T) {
	_, srv, c, _, _ := newSession(t, false)

	// The generated client's requests have a replayable body. Send one to a
	// route that answers 401 once, then 405: the replay carries the body.
	srv.Inject(wrappertest.MeRoute, wrappertest.Fault{Status: 401, Body: `{"detail":"x","code":"token_not_valid"}`})
	resp, err := c.HTTPClient().Post(srv.URL+wrappertest.MeRoute, "application/json", bytes.NewReader([]byte(`{"a":1}`)))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode, "the replay reached the route")
	assert.Equal(t, 1, srv.Requests(wrappertest.RefreshRoute))
}

func TestSessionDoesNotReplayABodyItCannotResend(t *testing.T) {
	_, srv, c, _, _ := newSession(t, false)

	srv.Inject(wrappertest.MeRoute, wrappertest.Fault{Status: 401, Body: `{"detail":"x","code":"token_not_valid"}`})
	body := io.NopCloser(strings.NewReader(`{"a":1}`)) // no GetBody
	req, err := http.NewRequest(http.MethodPost, srv.URL+wrappertest.MeRoute, body)
	require.NoError(t, err)
	resp, err := c.HTTPClient().Do(req)
	require.NoError(t, err)
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	err = wrapper.CheckResponse(resp, data)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 401, apiErr.StatusCode)
	assert.Equal(t, 0, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, 1, srv.Requests(wrappertest.MeRoute))
}

// logStore records the order of saves, and fails them on demand.
type logStore struct {
	mu    sync.Mutex
	log   *[]string
	saved *oauth2.Token
	fail  error
}

func (s *logStore) Load(context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved, nil
}

func (s *logStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *logStore) load() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved
}

func (s *logStore) Save(_ context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.saved = tok
	*s.log = append(*s.log, "save "+tok.AccessToken)
	return nil
}

// logTransport records the order of requests and their tokens.
type logTransport struct {
	mu  *sync.Mutex
	log *[]string
}

func (l logTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	*l.log = append(*l.log, r.URL.Path+" "+strings.TrimPrefix(r.Header.Get("Authorization"), api.AuthScheme+" "))
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
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
	assert.ErrorIs(t, c.SetTokens(context.Background(), "a", "r"), wrapper.ErrNoTokens)
}

func TestAPISendsTheAccessToken(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, false)
	access, refresh := srv.IssuePair(1)
	var mu sync.Mutex
	var log []string
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now),
		wrapper.WithHTTPClient(&http.Client{Transport: logTransport{&mu, &log}}))
	require.NoError(t, err)

	// The refresh endpoint needs no token and gets none.
	_, err = c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody("another-refresh-token"))
	require.NoError(t, err)
	require.NoError(t, me(t, c, srv))
	assert.Equal(t, []string{wrappertest.RefreshRoute + " ", wrappertest.MeRoute + " " + access}, log)
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

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "tokens.json")
	store := wrapper.NewFileStore(path)
	ctx := context.Background()

	tok, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, tok, "a missing file holds no tokens")

	require.NoError(t, store.Save(ctx, &oauth2.Token{AccessToken: "a1", RefreshToken: "r1"}))
	tok, err = store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a1", tok.AccessToken)
	assert.Equal(t, "r1", tok.RefreshToken)

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	info, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "temporary file %s left behind", e.Name())
	}
}

func TestFileStoreCorruptFile(t *testing.T) {
	for _, content := range []string{"{not json", `{"access":"a"}`, `[]`, ""} {
		path := filepath.Join(t.TempDir(), "tokens.json")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

		c, err := wrapper.New(wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithTokens("", "r"))
		require.Error(t, err, "content %q", content)
		assert.Nil(t, c)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "corrupt")
		got, _ := os.ReadFile(path)
		assert.Equal(t, content, string(got), "a corrupt file is not overwritten")
	}
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

// TestTwoClientsShareOneFileStore: with rotation and blacklist, two clients
// on one file never spend the same refresh token twice.
func TestTwoClientsShareOneFileStore(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	path := filepath.Join(t.TempDir(), "tokens.json")
	clients := make([]*wrapper.Client, 2)
	for i := range clients {
		var err error
		clients[i], err = wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh),
			wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithClock(clock.Now))
		require.NoError(t, err)
	}
	const rounds = 5
	for round := range rounds {
		clock.Advance(time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, 2*len(clients))
		for i := range errs {
			wg.Go(func() { errs[i] = me(t, clients[i%len(clients)], srv) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err, "round %d", round)
		}
		assert.Equal(t, round+1, srv.Requests(wrappertest.RefreshRoute), "one refresh per expiry, round %d", round)
	}
	stored, err := wrapper.NewFileStore(path).Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, srv.LastRefreshToken(), stored.RefreshToken)
}

func TestSessionOptionsRejectBadInput(t *testing.T) {
	for _, opt := range []wrapper.Option{
		wrapper.WithTokens("a", ""), wrapper.WithTokens("a", "  "), wrapper.WithTokenStore(nil),
		wrapper.WithRefreshMargin(0), wrapper.WithClock(nil),
	} {
		c, err := wrapper.New(opt)
		assert.Error(t, err)
		assert.Nil(t, c)
	}
}

// TestSessionRealClock: without WithClock, timers mark the token stale and
// expired: a stale token is used while the background refresh runs.
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
