package wrapper_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return http.DefaultTransport.RoundTrip(r)
}

func TestBaseURL(t *testing.T) {
	tests := []struct{ suffix, wantPath string }{
		{"", api.RefreshPath},
		{"/", api.RefreshPath},
		{"/prefix", "/prefix" + api.RefreshPath},
		{"/prefix/", "/prefix" + api.RefreshPath},
		{"/a/b//", "/a/b" + api.RefreshPath},
	}
	for _, tc := range tests {
		t.Run(tc.suffix, func(t *testing.T) {
			var gotPath string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath = r.URL.Path
				if !strings.HasSuffix(r.URL.Path, "/") {
					// What the backend does for a path without its slash.
					http.Redirect(w, r, r.URL.Path+"/", http.StatusMovedPermanently)
					return
				}
				reply(200, "application/json", `{"access":"a"}`)(w, r)
			}))
			t.Cleanup(srv.Close)
			c, err := wrapper.New(wrapper.WithBaseURL(srv.URL + tc.suffix))
			require.NoError(t, err)
			_, err = c.RefreshToken(context.Background(), secret)
			require.NoError(t, err)
			assert.Equal(t, tc.wantPath, gotPath)
		})
	}
}

func TestBaseURLPrecedence(t *testing.T) {
	t.Setenv(wrapper.BaseURLEnv, "")
	c, err := wrapper.New()
	require.NoError(t, err)
	assert.Equal(t, wrapper.DefaultBaseURL, c.BaseURL())
	assert.Equal(t, "https://api.aisquare.studio", wrapper.DefaultBaseURL)

	t.Setenv(wrapper.BaseURLEnv, "https://stg-api.aisquare.studio/")
	c, err = wrapper.New()
	require.NoError(t, err)
	assert.Equal(t, "https://stg-api.aisquare.studio", c.BaseURL())

	c, err = wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:8000"))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8000", c.BaseURL())

	t.Setenv(wrapper.BaseURLEnv, "ftp://example.com")
	_, err = wrapper.New()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "$"+wrapper.BaseURLEnv)
}

func TestBaseURLFromTheEnvironment(t *testing.T) {
	tests := []struct {
		name, baseEnv, apiEnv string
		opts                  []wrapper.Option
		want                  string
		wantErr               string
	}{
		{name: "neither", want: wrapper.DefaultBaseURL},
		{name: "AISQUARE_BASE_URL", baseEnv: "https://stg-api.aisquare.studio/", want: "https://stg-api.aisquare.studio"},
		{name: "AISQUARE_API_URL", apiEnv: "https://stg-api.aisquare.studio", want: "https://stg-api.aisquare.studio"},
		{name: "AISQUARE_API_URL wins over AISQUARE_BASE_URL, as AISquare's own tool reads it", baseEnv: "http://127.0.0.1:1", apiEnv: "https://stg-api.aisquare.studio", want: "https://stg-api.aisquare.studio"},
		{name: "WithBaseURL wins, and an invalid environment is not read", baseEnv: "ftp://bad", apiEnv: "::", opts: []wrapper.Option{wrapper.WithBaseURL("http://127.0.0.1:2")}, want: "http://127.0.0.1:2"},
		{name: "an invalid AISQUARE_API_URL", apiEnv: "ftp://x", wantErr: "$" + wrapper.APIURLEnv},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(wrapper.BaseURLEnv, tc.baseEnv)
			t.Setenv(wrapper.APIURLEnv, tc.apiEnv)
			c, err := wrapper.New(tc.opts...)
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, c.BaseURL())
		})
	}
}

// TestBaseURLErrorsHideTheQuery: a URL's query or credentials may hold a
// key, and an error never repeats them.
func TestBaseURLErrorsHideTheQuery(t *testing.T) {
	for _, raw := range []string{
		"https://api.example.com/?api_key=sekret-value",
		"https://api.example.com/#sekret-value",
		"https://user:sekret-value@api.example.com/",
		"ftp://api.example.com/?api_key=sekret-value",
		"https://api.example.com:bad/?api_key=sekret-value",
		"https://api example.com/?api_key=sekret-value",
		"mailto:x?api_key=sekret-value",
	} {
		_, err := wrapper.New(wrapper.WithBaseURL(raw))
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "sekret-value", raw)
		assert.Contains(t, err.Error(), "wrapper: invalid base URL", raw)

		t.Setenv(wrapper.BaseURLEnv, raw)
		_, err = wrapper.New()
		require.Error(t, err, raw)
		assert.NotContains(t, err.Error(), "sekret-value", raw)
	}
}

func TestOptionsRejectBadInput(t *testing.T) {
	tests := []struct {
		name string
		opt  wrapper.Option
		want string
	}{
		{"empty base URL", wrapper.WithBaseURL(""), "wrapper: invalid base URL"},
		{"relative base URL", wrapper.WithBaseURL("api.aisquare.studio"), "scheme must be http or https"},
		{"other scheme", wrapper.WithBaseURL("ftp://api.aisquare.studio"), "scheme must be http or https"},
		{"no host", wrapper.WithBaseURL("https://"), "no host"},
		{"credentials", wrapper.WithBaseURL("https://user:hunter2@api.aisquare.studio"), "credentials are not allowed"},
		{"query", wrapper.WithBaseURL("https://api.aisquare.studio?x=1"), "a query or fragment is not allowed"},
		{"fragment", wrapper.WithBaseURL("https://api.aisquare.studio#x"), "a query or fragment is not allowed"},
		{"unparsable", wrapper.WithBaseURL("http://a b"), "wrapper: invalid base URL"},
		{"nil HTTP client", wrapper.WithHTTPClient(nil), "wrapper: invalid HTTP client: nil"},
		{"empty user agent", wrapper.WithUserAgent(" "), "wrapper: invalid user agent: empty"},
		{"user agent with a line break", wrapper.WithUserAgent("a\r\nX-Evil: 1"), "line break"},
		{"zero timeout", wrapper.WithTimeout(0), "wrapper: invalid timeout 0s: must be positive"},
		{"negative timeout", wrapper.WithTimeout(-time.Second), "must be positive"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := wrapper.New(tc.opt)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
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

func TestWithHTTPClientAndUserAgent(t *testing.T) {
	var ua string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ua = r.Header.Get("User-Agent")
		reply(200, "application/json", `{"access":"a"}`)(w, r)
	}))
	t.Cleanup(srv.Close)
	rt := &countingTransport{}
	hc := &http.Client{Transport: rt}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithHTTPClient(hc),
		wrapper.WithUserAgent("my-service/1.2"), wrapper.WithTimeout(time.Second))
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), secret)
	require.NoError(t, err)
	assert.Equal(t, 1, rt.n, "requests through the given client's transport")
	assert.Equal(t, "my-service/1.2 aisquare-go/"+wrapper.Version, ua)
	assert.Zero(t, hc.Timeout, "the given client is not modified")
	assert.Nil(t, hc.CheckRedirect, "the given client is not modified")
}
