package wrapper_test

// This file is compiled only in the regeneration tests (regenerate_test.go
// at the root of the module): it is copied into wrapper/ of a scratch copy
// whose api/ is generated from a spec that the backend of testdata/backend
// renders, in any of its variants, and drives the regenerated client
// against that backend. It uses only what every variant generates.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// schemeRecorder records the requests that reach the network, with the
// first word of their Authorization ("-" for none).
type schemeRecorder struct {
	mu   sync.Mutex
	seen []string
}

func (r *schemeRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	scheme, _, _ := strings.Cut(req.Header.Get("Authorization"), " ")
	r.mu.Lock()
	r.seen = append(r.seen, fmt.Sprintf("%s %s %s", req.Method, req.URL.Path, cmpOr(scheme, "-")))
	r.mu.Unlock()
	return http.DefaultTransport.RoundTrip(req)
}

func (r *schemeRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := r.seen
	r.seen = nil
	return seen
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// TestRegeneratedVariant: what a user of the regenerated client sees.
// $AISQUARE_REGEN_SCHEME and $AISQUARE_REGEN_REFRESH hold the scheme and
// the refresh path the variant's spec declares.
func TestRegeneratedVariant(t *testing.T) {
	base := regenBackend(t)
	ctx := context.Background()
	assert.Equal(t, "https://api.aisquare.studio", wrapper.DefaultBaseURL, "the SDK's server, whatever the spec's")
	assert.Equal(t, os.Getenv("AISQUARE_REGEN_SCHEME"), api.AuthScheme)
	assert.Equal(t, os.Getenv("AISQUARE_REGEN_REFRESH"), api.RefreshPath)

	rec := &schemeRecorder{}
	hc := &http.Client{Transport: rec}
	anon, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(hc))
	require.NoError(t, err)

	// The project's own login: a wrong password is the view's 401, once.
	before := loginAttempts(t, base)
	_, err = wrapper.OK(anon.API().AuthLoginCreateWithResponse(ctx, api.LoginRequest{Username: "alice", Password: "wrong"}))
	require.ErrorIs(t, err, wrapper.ErrUnauthorized)
	assert.NotErrorIs(t, err, wrapper.ErrInvalidToken)
	assert.Equal(t, before+1, loginAttempts(t, base), "the wrong password reached the view once")
	login, err := wrapper.OK(anon.API().AuthLoginCreateWithResponse(ctx, api.LoginRequest{Username: "alice", Password: "alice-password"}))
	require.NoError(t, err)
	access, refresh := login.JSON200.Access, login.JSON200.Refresh
	require.NotEmpty(t, access)
	require.NotEmpty(t, refresh)
	assert.Equal(t, []string{"POST /api/v1/auth/login/ -", "POST /api/v1/auth/login/ -"}, rec.take())

	c, err := wrapper.New(wrapper.WithBaseURL(base), wrapper.WithHTTPClient(hc), wrapper.WithTokens(access, refresh))
	require.NoError(t, err)

	t.Run("a protected route gets the declared scheme, and the server takes it", func(t *testing.T) {
		me, err := wrapper.OK(c.API().MeRetrieveWithResponse(ctx))
		require.NoError(t, err)
		assert.Equal(t, "alice", me.JSON200.Username)
		assert.Equal(t, []string{"GET /api/v1/me/ " + api.AuthScheme}, rec.take())

		resp, err := c.HTTPClient().Get(base + "/api/v1/projects/")
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode)
		assert.Equal(t, []string{"GET /api/v1/projects/ " + api.AuthScheme}, rec.take(), "through HTTPClient too")
	})

	t.Run("a request body has no read-only fields", func(t *testing.T) {
		typ := reflect.TypeFor[api.ProjectsCreateJSONRequestBody]()
		for _, name := range []string{"Id", "CreatedAt"} {
			_, found := typ.FieldByName(name)
			assert.False(t, found, "%s.%s", typ, name)
		}
		p, err := wrapper.OK(c.API().ProjectsCreateWithResponse(ctx, api.ProjectsCreateJSONRequestBody{Name: "made here"}))
		require.NoError(t, err)
		assert.Equal(t, "made here", p.JSON201.Name)
		assert.NotZero(t, p.JSON201.Id)
		_, err = wrapper.OK(c.API().ProjectsDestroyWithResponse(ctx, p.JSON201.Id)) // the backend's projects stay as seeded
		require.NoError(t, err)
		rec.take()
	})

	t.Run("the refresh view is the spec's, without a token", func(t *testing.T) {
		tok, err := c.RefreshToken(ctx, refresh)
		require.NoError(t, err)
		assert.NotEmpty(t, tok.Access)
		assert.Equal(t, []string{"POST " + api.RefreshPath + " -"}, rec.take())

		_, err = c.RefreshToken(ctx, "garbage")
		require.ErrorIs(t, err, wrapper.ErrInvalidToken, "a token_not_valid 401 from the refresh view")
		var apiErr *wrapper.APIError
		require.ErrorAs(t, err, &apiErr)
		assert.Equal(t, api.RefreshPath, apiErr.Path)
		rec.take()

		resp, err := wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: refresh}))
		require.NoError(t, err)
		assert.NotEmpty(t, resp.JSON200.Access)
		assert.Equal(t, []string{"POST " + api.RefreshPath + " -"}, rec.take())
	})

	t.Run("every refresh view is a token endpoint", func(t *testing.T) {
		views := 0
		for _, op := range api.Operations {
			if !op.Refresh {
				continue
			}
			views++
			resp, err := c.HTTPClient().Post(base+op.Path, "application/json", strings.NewReader(`{"refresh":"garbage"}`))
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, op.Path)
			assert.Equal(t, []string{"POST " + op.Path + " -"}, rec.take())
		}
		assert.NotZero(t, views)
	})
}
