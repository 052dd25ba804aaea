package wrapper

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/aisquare-studio/aisquare-go/api"
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

func (r *opRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = nil
	return seen
}
