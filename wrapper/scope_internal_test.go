package wrapper

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func TestAuthScopeCovers(t *testing.T) {
	tests := []struct {
		base, url string
		want      bool
	}{
		{"https://api.aisquare.studio", "https://api.aisquare.studio/api/v1/me/", true},
		{"https://api.aisquare.studio", "https://API.aisquare.studio/api/v1/me/", true},
		{"https://api.aisquare.studio", "https://api.aisquare.studio:443/api/v1/me/", true},
		{"https://api.aisquare.studio", "https://api.aisquare.studio/", true},
		{"https://api.aisquare.studio", "https://api.aisquare.studio", false}, // no path: no operation
		{"https://api.aisquare.studio", "https://api.aisquare.studio/api/v1/me/?page=2", true},
		{"https://api.aisquare.studio", "https://api.aisquare.studio" + api.RefreshPath, false},
		{"https://api.aisquare.studio", "http://api.aisquare.studio/api/v1/me/", false},
		{"https://api.aisquare.studio", "https://api.aisquare.studio:8443/api/v1/me/", false},
		{"https://api.aisquare.studio", "https://files.aisquare.studio/download", false},
		{"https://api.aisquare.studio", "https://api.aisquare.studio.evil.example/api/v1/me/", false},
		{"https://api.aisquare.studio", "https://evil.example/api.aisquare.studio/", false},
		{"https://api.aisquare.studio", "/api/v1/me/", false},
		{"http://127.0.0.1:8000", "http://127.0.0.1:8000/api/v1/me/", true},
		{"http://127.0.0.1:8000", "http://127.0.0.1:8001/api/v1/me/", false},
		{"http://127.0.0.1:8000", "http://localhost:8000/api/v1/me/", false},
		{"http://localhost", "http://localhost:80/x", true},
		{"http://[::1]:8080", "http://[::1]:8080/x", true},
		{"https://host/prefix", "https://host/prefix/api/v1/me/", true},
		{"https://host/prefix", "https://host/prefix", false},
		{"https://host/prefix", "https://host/prefixed/api/v1/me/", false},
		{"https://host/prefix", "https://host/other/api/v1/me/", false},
		{"https://host/prefix", "https://host/", false},
		{"https://host/prefix", "https://host/prefix/../admin/", false},
		{"https://host/prefix", "https://host/prefix/%2e%2e/admin/", false},
		{"https://host/prefix", "https://host/prefix" + api.RefreshPath, false},
		{"https://host/prefix", "https://host" + api.RefreshPath, false},
		{"https://api.aisquare.studio", "https://api.aisquare.studio" + api.TokenPrefix, false},
		{"https://api.aisquare.studio", "https://api.aisquare.studio" + api.TokenPrefix + "verify/", false},
	}
	for _, tc := range tests {
		req, err := http.NewRequest(http.MethodGet, tc.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := newAuthScope(tc.base).covers(req); got != tc.want {
			t.Errorf("base %s: covers(%s) = %t; want %t", tc.base, tc.url, got, tc.want)
		}
	}
}

func TestAuthScopeCoversAllocatesNothing(t *testing.T) {
	scope := newAuthScope("https://api.aisquare.studio/prefix")
	req, _ := http.NewRequest(http.MethodGet, "https://api.aisquare.studio:443/prefix/api/v1/me/x.y/", nil)
	if n := testing.AllocsPerRun(100, func() { scope.covers(req) }); n != 0 {
		t.Errorf("covers allocates %v times; want 0", n)
	}
}

// TestPrefixEscapes: a path under the base URL's path that a server may
// resolve outside it gets no token.
func TestPrefixEscapes(t *testing.T) {
	scope := newAuthScope("https://host/prefix")
	for _, raw := range []string{
		"https://host/prefix/..;/other/",
		"https://host/prefix/..%3b/other/",
		"https://host/prefix/..%5c../other/",
		"https://host/prefix/a%5c..%5cother/",
		"https://host/prefix/.;/../other/",
		"https://host/prefix/%2e%2e/other/",
	} {
		u, err := url.Parse(raw)
		require.NoError(t, err)
		req := &http.Request{Method: http.MethodGet, URL: u}
		assert.Equal(t, authNone, scope.auth(req), raw)
	}
	u, _ := url.Parse("https://host/prefix/api/v1/me/x.y/")
	assert.Equal(t, authRequired, scope.auth(&http.Request{Method: http.MethodGet, URL: u}), "a dot inside a segment is fine")
}

func TestScopeFollowsTheSpec(t *testing.T) {
	withRoutes(t, fullerSpec)
	tests := []struct {
		base, method, url string
		want              bool
	}{
		{"https://api.example.com", "GET", "https://api.example.com/api/v1/me/", true},
		{"https://api.example.com", "POST", "https://api.example.com" + api.TokenPrefix, false},
		{"https://api.example.com/prefix", "GET", "https://api.example.com/prefix/api/v1/me/", true},
		{"https://api.example.com/prefix", "POST", "https://api.example.com/prefix" + api.RefreshPath, false},
		{"https://api.example.com/prefix", "GET", "https://api.example.com/api/v1/me/", false},
		{"https://api.example.com/prefix", "GET", "https://api.example.com/prefixed/api/v1/me/", false},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.url, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.url, nil)
			assert.Equal(t, tc.want, newAuthScope(tc.base).covers(req))
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name         string
		ops          []api.Operation
		method, path string
		want         authKind
	}{
		{"required", fullerSpec, "GET", "/api/v1/me/", authRequired},
		{"optional", fullerSpec, "POST", "/api/v1/auth/login/", authOptional},
		{"HEAD is GET's", fullerSpec, "HEAD", "/api/v1/me/", authRequired},
		{"path parameter", fullerSpec, "GET", "/api/v1/projects/42/", authRequired},
		{"uuid parameter", fullerSpec, "POST", "/api/v1/runs/0b5e4c1e-2a43-4b8e-9d4a-3c1f2e6a7b8c/artifacts/", authRequired},
		{"literal beats parameter", fullerSpec, "GET", "/api/v1/projects/export/", authNone},
		{"empty parameter", fullerSpec, "GET", "/api/v1/projects//", authRequired}, // not in the spec: fallback
		{"none", fullerSpec, "GET", "/api/v1/public/", authNone},
		{"obtain", fullerSpec, "POST", api.TokenPrefix, authNone},
		{"refresh", fullerSpec, "POST", api.RefreshPath, authRefresh},
		{"verify", fullerSpec, "POST", api.TokenPrefix + "verify/", authNone},
		{"other method on a known path", fullerSpec, "OPTIONS", "/api/v1/me/", authRequired},
		{"unknown path", fullerSpec, "GET", "/api/v1/other/", authRequired},
		{"unknown path under the token prefix", fullerSpec, "POST", api.TokenPrefix + "new/", authNone},
		{"without the slash", fullerSpec, "GET", "/api/v1/me", authRequired},
		{"deeper", fullerSpec, "GET", "/api/v1/me/x/", authRequired},
		{"a token view in capitals", fullerSpec, "POST", strings.ToUpper(api.RefreshPath), authRefresh},
		{"a token view with a doubled slash", fullerSpec, "POST", strings.Replace(api.RefreshPath, "/", "//", 2), authRefresh},
		{"verify in capitals", fullerSpec, "POST", strings.ToUpper(api.TokenPrefix + "verify/"), authNone},
		{"unknown path under the token prefix, in capitals", fullerSpec, "POST", strings.ToUpper(api.TokenPrefix + "new/"), authNone},
		{"a protected path in capitals: not a token view", fullerSpec, "GET", "/API/V1/ME/", authRequired},
		{"empty table: protected", nil, "GET", "/api/v1/me/", authRequired},
		{"empty table: obtain", nil, "POST", api.TokenPrefix, authNone},
		{"empty table: verify", nil, "POST", api.TokenPrefix + "verify/", authNone},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withRoutes(t, tc.ops)
			assert.Equal(t, tc.want, kindOf(tc.method, tc.path))
		})
	}
}

func TestCommonPrefix(t *testing.T) {
	for _, tc := range []struct {
		paths []string
		want  string
	}{
		{nil, ""},
		{[]string{"/api/v1/token/refresh/"}, "/api/v1/token/refresh/"},
		{[]string{"/api/v1/runs/{id}/"}, "/api/v1/runs/"},
		{[]string{"/api/v1/me/", "/api/v1/projects/{id}/", "/api/v1/token/"}, "/api/v1/"},
		{[]string{"/api/v1/me/", "/health/"}, "/"},
		{[]string{"/{tenant}/me/", "/a/"}, "/"},
	} {
		var ops []api.Operation
		for _, p := range tc.paths {
			ops = append(ops, api.Operation{Method: "GET", Path: p})
		}
		assert.Equal(t, tc.want, commonPrefix(ops), "%q", tc.paths)
	}
}

// TestGeneratedTableDecides: the table generated from openapi.yaml, which
// declares no security schemes, gives the token to every operation but
// SimpleJWT's views.
func TestGeneratedTableDecides(t *testing.T) {
	require.NotEmpty(t, api.Operations)
	for _, op := range api.Operations {
		k := kindOf(op.Method, op.Path)
		assert.Equal(t, op.Auth != api.AuthNone, k == authRequired || k == authOptional, "%s %s", op.Method, op.Path)
	}
	assert.Equal(t, authRefresh, kindOf(http.MethodPost, api.RefreshPath), "the refresh view")
}

func TestOperationLookupAllocatesNothing(t *testing.T) {
	withRoutes(t, fullerSpec)
	scope := newAuthScope("https://api.example.com/prefix")
	req := httptest.NewRequest(http.MethodPost, "https://api.example.com/prefix/api/v1/runs/0b5e4c1e-2a43-4b8e-9d4a-3c1f2e6a7b8c/artifacts/", nil)
	allocs := testing.AllocsPerRun(100, func() {
		if !scope.covers(req) {
			t.Fatal("covers = false; want true")
		}
	})
	assert.Zero(t, allocs)
}

// BenchmarkOperationLookup: the token decision for one request, with the
// table generated from openapi.yaml (its one operation) and with the table
// of a fuller spec, against a route near its end.
func BenchmarkOperationLookup(b *testing.B) {
	req := httptest.NewRequest(http.MethodPost, "https://api.example.com/api/v1/runs/0b5e4c1e-2a43-4b8e-9d4a-3c1f2e6a7b8c/artifacts/", nil)
	for _, tc := range []struct {
		name string
		ops  []api.Operation
	}{
		{"generated", api.Operations},
		{"fuller spec", fullerSpec},
	} {
		b.Run(tc.name, func(b *testing.B) {
			saved, savedPrefix := routes, routesPrefix
			routes, routesPrefix = compileRoutes(tc.ops), commonPrefix(tc.ops)
			b.Cleanup(func() { routes, routesPrefix = saved, savedPrefix })
			scope := newAuthScope("https://api.example.com")
			b.ReportAllocs()
			for b.Loop() {
				if !scope.covers(req) {
					b.Fatal("covers = false")
				}
			}
		})
	}
}

// TestTokenEndpointsGetNoTokenAndNoReplay: with today's spec, which lists
// neither, a 401 from verify or obtain is sent once, without the token, and
// is not the session's ErrInvalidToken.
func TestTokenEndpointsGetNoTokenAndNoReplay(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	rec := &opRecorder{base: http.DefaultTransport}
	c, err := New(WithBaseURL(srv.URL), WithTokens(access, refresh), WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	verify, obtain := api.TokenPrefix+"verify/", api.TokenPrefix
	srv.Inject(verify, wrappertest.Fault{Status: 401, Body: `{"detail":"Token is invalid or expired","code":"token_not_valid"}`})
	srv.Inject(obtain, wrappertest.Fault{Status: 401, Body: `{"detail":"No active account found with the given credentials"}`})

	resp, err := c.HTTPClient().Post(srv.URL+verify, "application/json", strings.NewReader(`{"token":"garbage"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	apiErr := CheckResponse(resp, body)
	require.ErrorIs(t, apiErr, ErrUnauthorized)
	assert.NotErrorIs(t, apiErr, ErrInvalidToken)

	resp, err = c.HTTPClient().Post(srv.URL+obtain, "application/json", strings.NewReader(`{"username":"a","password":"wrong"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, err = c.HTTPClient().Get(srv.URL + wrappertest.MeRoute)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, []string{
		"POST " + verify + " auth=false",
		"POST " + obtain + " auth=false",
		"GET " + wrappertest.MeRoute + " auth=true",
	}, rec.seen)
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "refreshes")
}

// TestTokenViewsBySpelling: a token view reached by another spelling, as a
// server may read it alike, is still a token view: no token, no replay.
func TestTokenViewsBySpelling(t *testing.T) {
	withRoutes(t, fullerSpec)
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	rec := &opRecorder{base: http.DefaultTransport}
	c, err := New(WithBaseURL(srv.URL), WithTokens(access, refresh), WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	for _, path := range []string{
		strings.Replace(api.TokenPrefix, "/", "//", 2) + "verify/",
		strings.ToUpper(api.TokenPrefix + "verify/"),
		strings.ToUpper(api.RefreshPath),
		strings.Replace(api.RefreshPath, "/", "///", 3),
	} {
		srv.Inject(path, wrappertest.Fault{Status: 401, Body: `{"detail":"x","code":"token_not_valid"}`})
		resp, err := c.HTTPClient().Post(srv.URL+path, "application/json", strings.NewReader(`{"token":"garbage"}`))
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, []string{"POST " + path + " auth=false"}, rec.take(), "%s: no token, sent once", path)
	}
	assert.Zero(t, srv.Requests(api.RefreshPath), "no refresh")
}
