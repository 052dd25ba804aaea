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
var fullerSpec = []api.OperationAuth{
	{Method: "GET", Path: "/api/v1/me/", Bearer: true},
	{Method: "GET", Path: "/api/v1/projects/", Bearer: true},
	{Method: "GET", Path: "/api/v1/projects/export/", Bearer: false},
	{Method: "GET", Path: "/api/v1/projects/{id}/", Bearer: true},
	{Method: "DELETE", Path: "/api/v1/projects/{id}/", Bearer: true},
	{Method: "POST", Path: "/api/v1/runs/{id}/artifacts/", Bearer: true},
	{Method: "GET", Path: "/api/v1/public/", Bearer: false},
	{Method: "POST", Path: "/api/v1/token/", Bearer: false},
	{Method: "POST", Path: "/api/v1/token/refresh/", Bearer: false},
	{Method: "POST", Path: "/api/v1/token/verify/", Bearer: false},
}

// withRoutes makes the spec's table ops for the test.
func withRoutes(t *testing.T, declared bool, ops []api.OperationAuth) {
	t.Helper()
	saved := routes
	routes = compileRoutes(declared, ops)
	t.Cleanup(func() { routes = saved })
}

func TestOperationTakesToken(t *testing.T) {
	tests := []struct {
		name         string
		declared     bool
		method, path string
		want         bool
	}{
		{"bearer operation", true, "GET", "/api/v1/me/", true},
		{"HEAD is GET's", true, "HEAD", "/api/v1/me/", true},
		{"path parameter", true, "GET", "/api/v1/projects/42/", true},
		{"uuid parameter", true, "POST", "/api/v1/runs/0b5e4c1e-2a43-4b8e-9d4a-3c1f2e6a7b8c/artifacts/", true},
		{"literal beats parameter", true, "GET", "/api/v1/projects/export/", false},
		{"empty parameter", true, "GET", "/api/v1/projects//", true}, // not in the spec: fallback
		{"no security", true, "GET", "/api/v1/public/", false},
		{"obtain", true, "POST", "/api/v1/token/", false},
		{"refresh", true, "POST", "/api/v1/token/refresh/", false},
		{"verify", true, "POST", "/api/v1/token/verify/", false},
		{"other method on a known path", true, "OPTIONS", "/api/v1/me/", true},
		{"unknown path", true, "GET", "/api/v1/other/", true},
		{"unknown token path", true, "POST", "/api/v1/token/new/", false},
		{"without the slash", true, "GET", "/api/v1/me", true},
		{"deeper", true, "GET", "/api/v1/me/x/", true},
		{"no security declared: protected", false, "GET", "/api/v1/me/", true},
		{"no security declared: public is protected", false, "GET", "/api/v1/public/", true},
		{"no security declared: obtain", false, "POST", "/api/v1/token/", false},
		{"no security declared: verify", false, "POST", "/api/v1/token/verify/", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withRoutes(t, tc.declared, fullerSpec)
			assert.Equal(t, tc.want, operationTakesToken(tc.method, tc.path))
		})
	}
}

func TestScopeFollowsTheSpec(t *testing.T) {
	withRoutes(t, true, fullerSpec)
	tests := []struct {
		base, method, url string
		want              bool
	}{
		{"https://api.example.com", "GET", "https://api.example.com/api/v1/me/", true},
		{"https://api.example.com", "POST", "https://api.example.com/api/v1/token/", false},
		{"https://api.example.com/prefix", "GET", "https://api.example.com/prefix/api/v1/me/", true},
		{"https://api.example.com/prefix", "POST", "https://api.example.com/prefix/api/v1/token/refresh/", false},
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
	withRoutes(t, true, fullerSpec)
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
		declared     bool
		method, path string
		status       int
		code         string
		invalid      bool
	}{
		{"protected route", true, "GET", "/api/v1/me/", 401, "token_not_valid", true},
		{"protected route under a prefix", true, "GET", "/prefix/api/v1/projects/7/", 401, "token_not_valid", true},
		{"no credentials", true, "GET", "/api/v1/me/", 401, "", false},
		{"refresh 401", true, "POST", "/api/v1/token/refresh/", 401, "token_not_valid", true},
		{"refresh 400", true, "POST", "/api/v1/token/refresh/", 400, "", true},
		{"verify of a bad token", true, "POST", "/api/v1/token/verify/", 401, "token_not_valid", false},
		{"obtain with a wrong password", true, "POST", "/api/v1/token/", 401, "no_active_account", false},
		{"verify, no security declared", false, "POST", "/api/v1/token/verify/", 401, "token_not_valid", false},
		{"protected, no security declared", false, "GET", "/api/v1/me/", 401, "token_not_valid", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			withRoutes(t, tc.declared, fullerSpec)
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

// TestTokenEndpointsGetNoTokenAndNoReplay: with today's spec, which declares
// no security, a 401 from verify or obtain is sent once, without the token,
// and is not the session's ErrInvalidToken.
func TestTokenEndpointsGetNoTokenAndNoReplay(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	rec := &opRecorder{base: http.DefaultTransport}
	c, err := New(WithBaseURL(srv.URL), WithTokens(access, refresh), WithHTTPClient(&http.Client{Transport: rec}))
	require.NoError(t, err)
	const verify = "/api/v1/token/verify/"
	srv.Inject(verify, wrappertest.Fault{Status: 401, Body: `{"detail":"Token is invalid or expired","code":"token_not_valid"}`})
	srv.Inject("/api/v1/token/", wrappertest.Fault{Status: 401, Body: `{"detail":"No active account found with the given credentials"}`})

	resp, err := c.HTTPClient().Post(srv.URL+verify, "application/json", strings.NewReader(`{"token":"garbage"}`))
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	apiErr := CheckResponse(resp, body)
	require.ErrorIs(t, apiErr, ErrUnauthorized)
	assert.NotErrorIs(t, apiErr, ErrInvalidToken)

	resp, err = c.HTTPClient().Post(srv.URL+"/api/v1/token/", "application/json", strings.NewReader(`{"username":"a","password":"wrong"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)

	resp, err = c.HTTPClient().Get(srv.URL + wrappertest.MeRoute)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	assert.Equal(t, []string{
		"POST /api/v1/token/verify/ auth=false",
		"POST /api/v1/token/ auth=false",
		"GET /api/v1/me/ auth=true",
	}, rec.seen)
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "refreshes")
}

// BenchmarkOperationLookup: the token decision for one request, with the
// table generated from openapi.yaml (which declares no security) and with
// the table of a fuller spec, against a route near its end.
func BenchmarkOperationLookup(b *testing.B) {
	req := httptest.NewRequest(http.MethodPost, "https://api.example.com/api/v1/runs/0b5e4c1e-2a43-4b8e-9d4a-3c1f2e6a7b8c/artifacts/", nil)
	for _, tc := range []struct {
		name string
		rs   []route
	}{
		{"generated", routes},
		{"fuller spec", compileRoutes(true, fullerSpec)},
	} {
		b.Run(tc.name, func(b *testing.B) {
			saved := routes
			routes = tc.rs
			b.Cleanup(func() { routes = saved })
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
