package wrapper_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// echo answers status with a JSON body built from the request by body.
func echo(status int, body func(r *http.Request, sent string) any) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sent, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(body(r, string(sent)))
	}
}

// noHTTPResponse is a [wrapper.Response] without an HTTPResponse field.
type noHTTPResponse struct{ code int }

func (r *noHTTPResponse) StatusCode() int { return r.code }
func (r *noHTTPResponse) GetBody() []byte { return nil }

// otherHTTPResponse is a [wrapper.Response] whose HTTPResponse field is
// not an *http.Response.
type otherHTTPResponse struct{ HTTPResponse int }

func (r *otherHTTPResponse) StatusCode() int { return 200 }
func (r *otherHTTPResponse) GetBody() []byte { return nil }

// Embedded has the fields of a generated response, for embedding.
type Embedded struct {
	HTTPResponse *http.Response
	JSON200      *struct{}
}

// embeddingResponse is a [wrapper.Response] that promotes the fields of an
// embedded pointer, nil here.
type embeddingResponse struct{ *Embedded }

func (r *embeddingResponse) StatusCode() int { return 200 }
func (r *embeddingResponse) GetBody() []byte { return nil }

func TestOK(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, refresh := srv.IssuePair(1)
	ctx := context.Background()

	resp, err := wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: refresh}))
	require.NoError(t, err)
	require.NotNil(t, resp.JSON200)
	assert.NotEmpty(t, resp.JSON200.Access)

	resp, err = wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: "garbage"}))
	assert.Nil(t, resp)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	assert.Equal(t, api.RefreshPath, apiErr.Path)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken)

	// A 200 that is not JSON, as a proxy might send: an error, never a nil JSON200.
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 200, ContentType: "text/html", Body: "<h1>hi</h1>"})
	resp, err = wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: refresh}))
	assert.Nil(t, resp)
	require.ErrorIs(t, err, wrapper.ErrMalformedResponse)
	assert.Contains(t, err.Error(), "text/html")

	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 200, ContentType: "text/plain"})
	_, err = wrapper.OK(c.API().RefreshCreateWithResponse(ctx, api.TokenRefreshRequest{Refresh: refresh}))
	require.ErrorIs(t, err, wrapper.ErrMalformedResponse)
	assert.Contains(t, err.Error(), "empty body")

	// A transport error passes through.
	ctx2, cancel := context.WithCancel(ctx)
	cancel()
	_, err = wrapper.OK(c.API().RefreshCreateWithResponse(ctx2, api.TokenRefreshRequest{Refresh: refresh}))
	require.ErrorIs(t, err, context.Canceled)
	assert.False(t, errors.Is(err, wrapper.ErrMalformedResponse))
}

// TestOKWithoutHTTPResponse: a Response type that is not a generated
// one is an error, never a panic.
func TestOKWithoutHTTPResponse(t *testing.T) {
	tests := []struct {
		name string
		ok   func() error
	}{
		{"no HTTPResponse field", func() error {
			_, err := wrapper.OK(&noHTTPResponse{code: 200}, nil)
			return err
		}},
		{"an HTTPResponse field of another type", func() error {
			_, err := wrapper.OK(&otherHTTPResponse{HTTPResponse: 1}, nil)
			return err
		}},
		{"a nil embedded struct", func() error {
			_, err := wrapper.OK(&embeddingResponse{}, nil)
			return err
		}},
		{"a nil response", func() error {
			_, err := wrapper.OK((*noHTTPResponse)(nil), nil)
			return err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			assert.NotPanics(t, func() { err = tc.ok() })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "has no HTTP response")
		})
	}
}

func TestCheckResponseAcceptsSuccess(t *testing.T) {
	for _, status := range []int{200, 201, 204} {
		assert.NoError(t, wrapper.CheckResponse(&http.Response{StatusCode: status}, nil), "status %d", status)
	}
}

func TestErrorBodyShapesNeverPanic(t *testing.T) {
	for _, body := range []string{`{"detail":{"nested":1}}`, `{"refresh":[1,2]}`, `{"code":null}`, `[1]`, `"str"`, `{`, "\x00\xff"} {
		err := wrapper.CheckResponse(&http.Response{StatusCode: 400, Header: http.Header{}}, []byte(body))
		var apiErr *wrapper.APIError
		require.ErrorAs(t, err, &apiErr, "body %q", body)
		assert.Equal(t, body, string(apiErr.Body))
		assert.Equal(t, 400, apiErr.StatusCode)
	}
}

func TestAPIErrorBodyIsCapped(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	c := newClient(t, reply(502, "text/html", big))
	_, err := c.RefreshToken(context.Background(), secret)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Len(t, apiErr.Body, 64<<10)
	assert.Less(t, len(err.Error()), 200, "the message stays one short line")
}

func TestServerTextIsBounded(t *testing.T) {
	huge := strings.Repeat("a very long line\n", 2<<20/17)
	c := newClient(t, echo(400, func(*http.Request, string) any {
		fields := map[string][]string{"detail": {huge}}
		for i := range 1000 {
			fields["field"+strings.Repeat("x", i)] = []string{huge[:1000], huge[:1000]}
		}
		return fields
	}), wrapper.WithMaxRetries(0), wrapper.WithMaxResponseBytes(64<<20))
	_, err := c.RefreshToken(context.Background(), secret)
	require.Error(t, err)
	assert.LessOrEqual(t, len(err.Error()), 4<<10, "a 2 MB detail makes a short error")
	assert.NotContains(t, err.Error(), "\n")
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.LessOrEqual(t, len(apiErr.Detail), 1<<10)
	assert.LessOrEqual(t, len(apiErr.Fields), 16)
}

func TestServerTextCarriesNoSecret(t *testing.T) {
	const opaque = "opaque-refresh-token-0123456789"
	tests := []struct {
		name    string
		token   string
		handler http.HandlerFunc
		want    string // in the message
	}{
		{"a field message echoes a JWT", secret, echo(400, func(_ *http.Request, _ string) any {
			return map[string][]string{"refresh": {"'" + secret + "' is not valid"}}
		}), "refresh: '[REDACTED]' is not valid"},
		{"a detail echoes the request body", secret, echo(401, func(_ *http.Request, sent string) any {
			return map[string]string{"detail": "got " + sent, "code": "token_not_valid"}
		}), `got {"refresh":"[REDACTED]"}`},
		{"a detail echoes a token that is not a JWT", opaque, echo(401, func(_ *http.Request, sent string) any {
			return map[string]string{"detail": "bad: " + sent}
		}), `bad: {"refresh":"[REDACTED]"}`},
		{"terminal escapes and line breaks", secret, echo(500, func(_ *http.Request, _ string) any {
			return map[string]string{"detail": "line one\nline two\x1b[2J\x1b]0;title\x07\r\u202eevil"}
		}), "line one line two[2J]0;title evil"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.handler, wrapper.WithMaxRetries(0))
			_, err := c.RefreshToken(context.Background(), tc.token)
			require.Error(t, err)
			var apiErr *wrapper.APIError
			require.ErrorAs(t, err, &apiErr)
			for _, s := range []string{err.Error(), apiErr.Detail, strings.Join(apiErr.Fields["refresh"], " "), string(apiErr.Body)} {
				assert.NotContains(t, s, tc.token)
			}
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "\n")
			assert.NotContains(t, err.Error(), "\x1b")
			assertNoSecret(t, err)
		})
	}
}

// TestSessionErrorsCarryNoAccessToken: a protected route that echoes the
// Authorization header back through c.API().
func TestSessionErrorsCarryNoAccessToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	c := newClient(t, echo(403, func(r *http.Request, _ string) any {
		return map[string]string{"detail": "credentials " + r.Header.Get("Authorization") + " refused"}
	}), wrapper.WithTokens(access, refresh))
	req, err := http.NewRequest(http.MethodGet, c.BaseURL()+"/api/v1/me/", nil)
	require.NoError(t, err)
	resp, err := c.HTTPClient().Do(req)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Contains(t, string(body), access, "the server did echo it")
	err = wrapper.CheckResponse(resp, body)
	require.ErrorIs(t, err, wrapper.ErrForbidden)
	assert.Contains(t, err.Error(), "credentials Bearer [REDACTED] refused")
	assert.NotContains(t, err.Error(), access)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, string(apiErr.Body), access)
}
