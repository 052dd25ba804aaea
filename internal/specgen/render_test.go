package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTokenPrefix(t *testing.T) {
	for path, want := range map[string]string{
		"/api/v1/token/refresh/":      "/api/v1/token/",
		"/api/auth/token/refresh/":    "/api/auth/token/",
		"/api/v1/auth/jwt/refresh/":   "/api/v1/auth/jwt/",
		"/api/v1/auth/refresh":        "/api/v1/auth/",
		"/refresh/":                   "/refresh/",
		"/token-refresh/":             "/token-refresh/",
		"/v1/token/refresh/{tenant}/": "/v1/token/refresh/",
	} {
		assert.Equal(t, want, tokenPrefix(path, nil), path)
	}
	// A refresh view beside the API's own operations: its directory is
	// theirs, and only the refresh path itself is the token views'.
	ops := []operation{
		{method: "POST", path: "/api/v1/refresh-token/", view: refreshView},
		{method: "POST", path: "/api/v1/obtain-token/", view: obtainView},
		{method: "GET", path: "/api/v1/me/", view: notTokenView},
	}
	assert.Equal(t, "/api/v1/refresh-token/", tokenPrefix("/api/v1/refresh-token/", ops))
	assert.Equal(t, "/api/v1/token/", tokenPrefix("/api/v1/token/refresh/", append(ops, operation{method: "POST", path: "/api/v1/token/verify/", view: verifyView})))
}
