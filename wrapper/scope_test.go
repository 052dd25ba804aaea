package wrapper_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// recorder is a server that records the headers of what it receives and
// answers status.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newRecorder(t *testing.T, status int) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		r.mu.Unlock()
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) received() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers
}

// TestTokenOnlyToItsAPI: a request through HTTPClient to another server,
// such as a presigned download URL, gets no token and no refresh.
func TestTokenOnlyToItsAPI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh),
		wrapper.WithUserAgent("my-service/1.2"))
	require.NoError(t, err)
	wantUA := "my-service/1.2 aisquare-go/" + wrapper.Version

	for _, status := range []int{http.StatusOK, http.StatusUnauthorized} {
		other := newRecorder(t, status) // another port on the same host
		resp, err := c.HTTPClient().Get(other.URL + wrappertest.MeRoute)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, status, resp.StatusCode, "the answer comes back as it is")
		got := other.received()
		require.Len(t, got, 1, "status %d: sent once, never replayed", status)
		assert.Empty(t, got[0].Get("Authorization"), "status %d: no token to another server", status)
		assert.Equal(t, wantUA, got[0].Get("User-Agent"))
	}
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "a 401 from elsewhere refreshes nothing")
	assert.Equal(t, refresh, srv.LastRefreshToken(), "nothing rotated")

	// The API itself still gets the token.
	req, err := http.NewRequest(http.MethodGet, srv.URL+wrappertest.MeRoute, nil)
	require.NoError(t, err)
	resp, err := c.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

// TestTokenOnlyUnderTheBasePath: with a base URL that has a path, the
// same host outside that path gets no token.
func TestTokenOnlyUnderTheBasePath(t *testing.T) {
	rec := newRecorder(t, http.StatusOK)
	c, err := wrapper.New(wrapper.WithBaseURL(rec.URL+"/v2"), wrapper.WithTokens(jwtFor(t), "refresh-token"))
	require.NoError(t, err)
	for _, path := range []string{"/v2/api/v1/me/", "/v2x/api/v1/me/", "/other/", "/v2/../admin/"} {
		resp, err := c.HTTPClient().Get(rec.URL + path)
		require.NoError(t, err)
		resp.Body.Close()
	}
	got := rec.received()
	require.Len(t, got, 4)
	assert.NotEmpty(t, got[0].Get("Authorization"), "under the base path")
	for i, h := range got[1:] {
		assert.Empty(t, h.Get("Authorization"), "request %d", i+1)
	}
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

// jwtFor returns an access token valid for an hour.
func jwtFor(t *testing.T) string {
	t.Helper()
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, _ := srv.IssuePair(1)
	require.True(t, strings.HasPrefix(access, "eyJ"))
	return access
}
