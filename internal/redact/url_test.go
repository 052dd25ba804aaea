package redact_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

func TestRequest(t *testing.T) {
	u, err := url.Parse("https://user:pa55word@api.example.com/api/v1/items/?token=q-secret&page=2")
	require.NoError(t, err)
	req := &http.Request{Method: "GET", URL: u, Header: http.Header{"Authorization": {"Bearer opaque-token-123"}}}
	tests := []struct{ name, msg, gone string }{
		{"query", fmt.Sprintf("Get %q: EOF", u.String()), "q-secret"},
		{"bearer", "refused opaque-token-123", "opaque-token-123"},
		{"user information", "user:pa55word@api.example.com", "pa55word"},
		{"JWT", "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl here", "eyJhbGciOiJIUzI1NiJ9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redact.Request(tc.msg, req)
			assert.NotContains(t, got, tc.gone)
			assert.Contains(t, got, "REDACTED")
		})
	}
	assert.Equal(t, "dial tcp: connection refused", redact.Request("dial tcp: connection refused", req), "nothing to redact")
	assert.Equal(t, "plain", redact.Request("plain", nil))
}

func TestURL(t *testing.T) {
	u, err := url.Parse("https://user:pa55@api.example.com/a/b?q=secret#frag")
	require.NoError(t, err)
	assert.Equal(t, "https://api.example.com/a/b", redact.URL(u))
	assert.Equal(t, "https://api.example.com/a/b", redact.RawURL(u.String()))
	assert.Equal(t, "(unparseable URL)", redact.RawURL("http://[::1"))

	urlErr := &url.Error{Op: "Get", URL: u.String(), Err: errors.New("EOF")}
	got := redact.URLError(urlErr)
	assert.NotContains(t, got.Error(), "secret")
	assert.NotContains(t, got.Error(), "pa55")
}

func TestError(t *testing.T) {
	clean := errors.New("dial tcp: connection refused")
	assert.Same(t, clean, redact.Error(clean, 100), "nothing to redact: the error itself")

	cause := errors.New("malformed HTTP status line: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln and s3cr3t-value")
	got := redact.Error(cause, 100, "s3cr3t-value")
	assert.NotContains(t, got.Error(), "eyJhbGciOiJIUzI1NiJ9")
	assert.NotContains(t, got.Error(), "s3cr3t-value")
	assert.ErrorIs(t, got, cause, "the cause is still reached")
}
