package wrapper_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRelativeURLSaysItMustBeAbsolute(t *testing.T) {
	rec := newRecorder(t, http.StatusOK)
	for _, opts := range [][]wrapper.Option{
		{wrapper.WithBaseURL(rec.URL)},
		{wrapper.WithBaseURL(rec.URL), wrapper.WithTokens(jwtFor(t), "refresh-token")},
	} {
		c, err := wrapper.New(opts...)
		require.NoError(t, err)
		req, err := http.NewRequest(http.MethodGet, "/api/v1/me/", nil)
		require.NoError(t, err)
		_, err = c.HTTPClient().Do(req)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "must be absolute")
		assert.NotContains(t, err.Error(), "plain http")
	}
	assert.Empty(t, rec.received())
}

func TestUserAgentOnEveryRequest(t *testing.T) {
	rec := newRecorder(t, http.StatusOK)
	for _, opts := range [][]wrapper.Option{
		{wrapper.WithBaseURL(rec.URL)},
		{wrapper.WithBaseURL(rec.URL), wrapper.WithTokens(jwtFor(t), "refresh-token")},
	} {
		c, err := wrapper.New(append(opts, wrapper.WithUserAgent("tool/3"))...)
		require.NoError(t, err)
		resp, err := c.HTTPClient().Get(rec.URL + "/anything/")
		require.NoError(t, err)
		resp.Body.Close()
		_, err = c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody("r"))
		require.NoError(t, err)
	}
	got := rec.received()
	require.Len(t, got, 4)
	for i, h := range got {
		assert.Equal(t, "tool/3 aisquare-go/"+wrapper.Version, h.Get("User-Agent"), "request %d", i)
	}
}

// TestRequestWithoutHeaders: a request built by hand without a Header map,
// which net/http sends, goes with the User-Agent and the token, and is
// left as it was.
func TestRequestWithoutHeaders(t *testing.T) {
	rec := newRecorder(t, http.StatusOK)
	token := jwtFor(t)
	c, err := wrapper.New(wrapper.WithBaseURL(rec.URL), wrapper.WithTokens(token, "refresh-token"))
	require.NoError(t, err)
	u, err := url.Parse(rec.URL + "/api/v1/me/")
	require.NoError(t, err)
	req := &http.Request{Method: http.MethodGet, URL: u}
	resp, err := c.HTTPClient().Transport.RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Nil(t, req.Header, "the caller's request is unchanged")
	got := rec.received()
	require.Len(t, got, 1)
	assert.Equal(t, "Bearer "+token, got[0].Get("Authorization"))
	assert.Equal(t, "aisquare-go/"+wrapper.Version, got[0].Get("User-Agent"))
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

// TestSessionTransportErrorsCarryNoAccessToken: the same, for a request of
// the session that the server answers with the access token in a
// malformed status line.
func TestSessionTransportErrorsCarryNoAccessToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 " + strings.TrimPrefix(r.Header.Get("Authorization"), api.AuthScheme+" ") + "\r\n\r\n")
		_ = buf.Flush()
	}, wrapper.WithTokens(access, refresh), wrapper.WithMaxRetries(0))
	_, err := c.HTTPClient().Get(c.BaseURL() + "/api/v1/me/")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), access)
	assert.Contains(t, err.Error(), "[REDACTED]")
}

func TestTimeoutCoversTheResponseBody(t *testing.T) {
	given := &http.Client{Timeout: 100 * time.Millisecond}
	for name, opts := range map[string][]wrapper.Option{
		"WithTimeout":    {wrapper.WithTimeout(100 * time.Millisecond)},
		"WithHTTPClient": {wrapper.WithHTTPClient(given)},
	} {
		c := newClient(t, stallBody, opts...)
		for via, do := range doers(c) {
			t.Run(name+"/"+via, func(t *testing.T) {
				err := getBody(t, do, c.BaseURL()+"/api/v1/me/")
				require.ErrorIs(t, err, context.DeadlineExceeded)
				var netErr net.Error
				require.ErrorAs(t, err, &netErr)
				assert.True(t, netErr.Timeout(), "a timeout, as net/http's: %T %v", netErr, err)
				if via == "c.API()" { // c.HTTPClient()'s is net/http's own
					assert.Contains(t, err.Error(), "the client's timeout of 100ms")
				}
			})
		}
		t.Run(name+"/RefreshToken", func(t *testing.T) {
			_, err := c.RefreshToken(context.Background(), secret)
			require.ErrorIs(t, err, context.DeadlineExceeded)
			assert.Contains(t, err.Error(), "the client's timeout of 100ms")
			var netErr net.Error
			require.ErrorAs(t, err, &netErr)
			assert.True(t, netErr.Timeout(), "a timeout, as net/http's: %T %v", netErr, err)
			assertNoSecret(t, err)
		})
	}
	assert.Equal(t, 100*time.Millisecond, given.Timeout, "the given client is not modified")
}

// The timeout bounds the wait for the session's token and the replay after
// a 401, whichever way the request takes.
func TestTimeoutCoversTheTokensWaitAndTheReplay(t *testing.T) {
	refreshHangs := func(status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, api.RefreshPath) {
				hang(w, r)
				return
			}
			reply(status, "application/json", `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`)(w, r)
		}
	}
	for _, tc := range []struct {
		name   string
		access string
		status int
	}{
		{"expired token", jwtExpiring(time.Now().Add(-time.Minute)), http.StatusOK},
		{"401 for a valid token", jwtExpiring(time.Now().Add(time.Hour)), http.StatusUnauthorized},
	} {
		for _, via := range []string{"c.HTTPClient()", "c.API()"} {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				// A client of its own: another's wait would leave its
				// failed refresh behind, the answer until its retry.
				c := newClient(t, refreshHangs(tc.status), wrapper.WithTokens(tc.access, secret),
					wrapper.WithTimeout(100*time.Millisecond))
				err := getBody(t, doers(c)[via], c.BaseURL()+"/api/v1/me/")
				require.ErrorIs(t, err, context.DeadlineExceeded)
				var netErr net.Error
				require.ErrorAs(t, err, &netErr)
				assert.True(t, netErr.Timeout(), "a timeout, as net/http's: %T %v", netErr, err)
				assertNoSecret(t, err)
			})
		}
	}
}

// A copy of c.HTTPClient() may change its Timeout, which bounds a request
// with its redirects.
func TestHTTPClientsTimeoutIsItsOwn(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		if n, _ := strconv.Atoi(r.URL.Query().Get("hop")); n < 9 {
			time.Sleep(80 * time.Millisecond)
			http.Redirect(w, r, fmt.Sprintf("/api/v1/me/?hop=%d", n+1), http.StatusFound)
			return
		}
		for range 6 { // 300 ms of body
			_, _ = io.WriteString(w, strings.Repeat("x", 1000))
			w.(http.Flusher).Flush()
			time.Sleep(50 * time.Millisecond)
		}
	}
	c := newClient(t, slow, wrapper.WithTimeout(200*time.Millisecond))
	require.Equal(t, 200*time.Millisecond, c.HTTPClient().Timeout)

	err := getBody(t, c.HTTPClient().Do, c.BaseURL()+"/api/v1/me/?hop=0")
	require.ErrorIs(t, err, context.DeadlineExceeded, "nine redirects of 80 ms each are one request")

	long := *c.HTTPClient()
	long.Timeout = time.Minute
	req, err := http.NewRequest(http.MethodGet, c.BaseURL()+"/api/v1/me/?hop=9", nil)
	require.NoError(t, err)
	resp, err := long.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Len(t, body, 6000)
}

// A transport may answer without a body, which net/http turns into an
// empty one.
func TestTimeoutWithAResponseWithoutABody(t *testing.T) {
	noBody := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		return &http.Response{StatusCode: http.StatusOK, Header: http.Header{}, Request: r}, nil
	})
	c, err := wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:1"), wrapper.WithoutAmbientCredentials(),
		wrapper.WithHTTPClient(&http.Client{Transport: noBody}), wrapper.WithTimeout(time.Second))
	require.NoError(t, err)
	for via, do := range doers(c) {
		t.Run(via, func(t *testing.T) {
			require.NoError(t, getBody(t, do, c.BaseURL()+"/api/v1/me/"))
		})
	}
}
