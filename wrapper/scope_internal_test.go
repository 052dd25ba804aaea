package wrapper

import (
	"net/http"
	"testing"

	"github.com/aisquare-studio/aisquare-go/api"
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
