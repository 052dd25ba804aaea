package wrapper_test

// This file is compiled only in the regeneration test (regenerate_test.go at
// the root of the module), against the backend of testdata/backend, whose
// login view is AllowAny under JWT-default authentication: its spec says
// security: [{jwtAuth: []}, {}].

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// tampered is a token the client reads as valid (its exp is ahead) and the
// server refuses (its signature is not the server's).
func tampered(access string) string {
	return access[:strings.LastIndexByte(access, '.')+1] + "c2lnbmF0dXJl"
}

// loginBy sends the login through the generated client, or through the
// HTTP client, and returns its status.
type loginBy func(t *testing.T, c *wrapper.Client, password string) int

var logins = map[string]loginBy{
	"c.API()": func(t *testing.T, c *wrapper.Client, password string) int {
		resp, err := c.API().AuthLoginCreateWithResponse(context.Background(), api.LoginRequest{Username: "alice", Password: password})
		require.NoError(t, err)
		return resp.StatusCode()
	},
	"c.HTTPClient()": func(t *testing.T, c *wrapper.Client, password string) int {
		body, _ := json.Marshal(map[string]string{"username": "alice", "password": password})
		req, err := http.NewRequest(http.MethodPost, c.BaseURL()+"/api/v1/auth/login/", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.HTTPClient().Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	},
}

func TestRegeneratedOptionalAuth(t *testing.T) {
	base := regenBackend(t)
	anon, err := wrapper.New(wrapper.WithBaseURL(base))
	require.NoError(t, err)
	pair, err := wrapper.OK(anon.API().AuthLoginCreateWithResponse(context.Background(), api.LoginRequest{Username: "alice", Password: "alice-password"}))
	require.NoError(t, err)
	access, refresh := pair.JSON200.Access, pair.JSON200.Refresh

	for name, login := range logins {
		t.Run(name, func(t *testing.T) {
			t.Run("a valid token goes with it", func(t *testing.T) {
				rec := &regenRecorder{}
				c, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(&http.Client{Transport: rec}),
					wrapper.WithTokens(access, refresh))
				require.NoError(t, err)
				before := loginAttempts(t, base)
				assert.Equal(t, http.StatusOK, login(t, c, "alice-password"))
				assert.Equal(t, http.StatusUnauthorized, login(t, c, "a-wrong-password"), "the view's own 401")
				assert.Equal(t, []string{"POST /api/v1/auth/login/ auth=true", "POST /api/v1/auth/login/ auth=true"}, rec.take(),
					"a wrong password reaches the view once: its 401 is not the token's")
				assert.Equal(t, before+2, loginAttempts(t, base))
			})

			t.Run("a token the server refuses: once more without it", func(t *testing.T) {
				rec := &regenRecorder{}
				c, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(&http.Client{Transport: rec}),
					wrapper.WithTokens(tampered(access), refresh))
				require.NoError(t, err)
				before := loginAttempts(t, base)
				assert.Equal(t, http.StatusUnauthorized, login(t, c, "a-wrong-password"))
				assert.Equal(t, []string{"POST /api/v1/auth/login/ auth=true", "POST /api/v1/auth/login/ auth=false"}, rec.take(),
					"no refresh, and the replay goes without the token")
				assert.Equal(t, before+1, loginAttempts(t, base), "DRF refused the token before the view: the password reached it once")
				assert.Equal(t, http.StatusOK, login(t, c, "alice-password"))
			})

			t.Run("an expired token, or a dead session: without it, at once", func(t *testing.T) {
				rec := &regenRecorder{}
				later := func() time.Time { return time.Now().Add(time.Hour) }
				c, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(&http.Client{Transport: rec}),
					wrapper.WithTokens(access, "not-a-refresh-token"), wrapper.WithClock(later))
				require.NoError(t, err)
				_, err = c.AccessToken(context.Background())
				require.ErrorIs(t, err, wrapper.ErrInvalidToken, "the session is dead")
				rec.take()
				assert.Equal(t, http.StatusOK, login(t, c, "alice-password"), "the user can sign in again")
				assert.Equal(t, []string{"POST /api/v1/auth/login/ auth=false"}, rec.take(), "no refresh, no wait")
			})
		})
	}
}
