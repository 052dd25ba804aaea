package wrapper_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

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
