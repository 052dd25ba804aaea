package wrapper

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// fullerSpec is the table a drf-spectacular rendering of the backend gives.
var fullerSpec = []api.Operation{
	{Method: "POST", Path: "/api/v1/auth/login/", Auth: api.AuthOptional},
	{Method: "GET", Path: "/api/v1/me/", Auth: api.AuthRequired},
	{Method: "GET", Path: "/api/v1/projects/", Auth: api.AuthRequired},
	{Method: "GET", Path: "/api/v1/projects/export/", Auth: api.AuthNone},
	{Method: "GET", Path: "/api/v1/projects/{id}/", Auth: api.AuthRequired},
	{Method: "DELETE", Path: "/api/v1/projects/{id}/", Auth: api.AuthRequired},
	{Method: "POST", Path: "/api/v1/runs/{id}/artifacts/", Auth: api.AuthRequired},
	{Method: "GET", Path: "/api/v1/public/", Auth: api.AuthNone},
	{Method: "POST", Path: api.TokenPrefix, Auth: api.AuthNone},
	{Method: "POST", Path: api.RefreshPath, Auth: api.AuthNone, Refresh: true},
	{Method: "POST", Path: api.TokenPrefix + "verify/", Auth: api.AuthNone},
}

// withRoutes makes ops the spec's table for the test.
func withRoutes(t *testing.T, ops []api.Operation) {
	t.Helper()
	saved, savedPrefix := routes, routesPrefix
	routes, routesPrefix = compileRoutes(ops), commonPrefix(ops)
	t.Cleanup(func() { routes, routesPrefix = saved, savedPrefix })
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

func TestInvalidTokenOnlyForTheSessionsTokens(t *testing.T) {
	tests := []struct {
		name         string
		ops          []api.Operation
		method, path string
		status       int
		code         string
		invalid      bool
	}{
		{"protected route", fullerSpec, "GET", "/api/v1/me/", 401, "token_not_valid", true},
		{"protected route under a prefix", fullerSpec, "GET", "/prefix/api/v1/projects/7/", 401, "token_not_valid", true},
		{"no credentials", fullerSpec, "GET", "/api/v1/me/", 401, "", false},
		{"refresh 401", fullerSpec, "POST", api.RefreshPath, 401, "token_not_valid", true},
		{"refresh 401 under a prefix", fullerSpec, "POST", "/prefix" + api.RefreshPath, 401, "token_not_valid", true},
		{"refresh 400", fullerSpec, "POST", api.RefreshPath, 400, "", true},
		{"verify of a bad token", fullerSpec, "POST", api.TokenPrefix + "verify/", 401, "token_not_valid", false},
		{"obtain with a wrong password", fullerSpec, "POST", api.TokenPrefix, 401, "no_active_account", false},
		{"verify, empty table", nil, "POST", api.TokenPrefix + "verify/", 401, "token_not_valid", false},
		{"protected, empty table", nil, "GET", "/api/v1/me/", 401, "token_not_valid", true},
		{"refresh, empty table", nil, "POST", api.RefreshPath, 401, "token_not_valid", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withRoutes(t, tc.ops)
			// As the backend sends them: JSON, and a 400 about the refresh field.
			err := &APIError{StatusCode: tc.status, Method: tc.method, Path: tc.path, Code: tc.code, ContentType: "application/json"}
			if tc.status == 400 {
				err.Fields = map[string][]string{"refresh": {"This field may not be blank."}}
			}
			assert.Equal(t, tc.invalid, err.Is(ErrInvalidToken), "Is(ErrInvalidToken)")
			if tc.status == 401 {
				require.ErrorIs(t, err, ErrUnauthorized)
			}
		})
	}
}

// opRecorder records the requests that reach the network.
type opRecorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	seen []string // method, path and whether Authorization was set
}

func (r *opRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%s %s auth=%t", req.Method, req.URL.Path, req.Header.Get("Authorization") != ""))
	r.mu.Unlock()
	return r.base.RoundTrip(req)
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
