package wrapper_test

import (
	"context"
	"encoding/json"
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

// TestTransportErrorsCarryNoSecret: net/http quotes a malformed status line
// in its error; a server that echoes the token there does not get it into
// the SDK's error.
func TestTransportErrorsCarryNoSecret(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 " + secret + "\r\n\r\n")
		_ = buf.Flush()
	}, wrapper.WithMaxRetries(0))
	_, err := c.RefreshToken(context.Background(), secret)
	require.Error(t, err)
	assert.ErrorIs(t, err, wrapper.ErrAnswerLost, "it was sent")
	assert.Contains(t, err.Error(), "[REDACTED]")
	assertNoSecret(t, err)
}

// TestSessionTransportErrorsCarryNoAccessToken: the same, for a request of
// the session that the server answers with the access token in a
// malformed status line.
func TestSessionTransportErrorsCarryNoAccessToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 " + strings.TrimPrefix(r.Header.Get("Authorization"), api.AuthScheme+" ") + "\r\n\r\n")
		_ = buf.Flush()
	}, wrapper.WithTokens(access, refresh), wrapper.WithMaxRetries(0))
	_, err := c.HTTPClient().Get(c.BaseURL() + "/api/v1/me/")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), access)
	assert.Contains(t, err.Error(), "[REDACTED]")
}
