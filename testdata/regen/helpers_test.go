package wrapper_test

// This file is compiled only in the regeneration tests (regenerate_test.go
// at the root of the module), with regenerated_test.go or variant_test.go.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// regenBackendEnv holds the base URL of the running backend.
const regenBackendEnv = "AISQUARE_REGEN_BACKEND"

func regenBackend(t *testing.T) string {
	t.Helper()
	u := os.Getenv(regenBackendEnv)
	if u == "" {
		t.Fatalf("$%s is not set: run this through the regeneration test", regenBackendEnv)
	}
	return u
}

// regenRecorder records the requests that reach the network.
type regenRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *regenRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%s %s auth=%t", req.Method, req.URL.Path, req.Header.Get("Authorization") != ""))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

// take returns the requests recorded since the last call.
func (r *regenRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = nil
	return seen
}

func ptr[T any](v T) *T { return &v }

// loginAttempts returns how many requests reached the backend's login view.
func loginAttempts(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/test/login-attempts/")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body struct {
		LoginAttempts int `json:"login_attempts"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return body.LoginAttempts
}
