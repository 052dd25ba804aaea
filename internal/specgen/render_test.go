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
		assert.Equal(t, want, tokenPrefix(path), path)
	}
}
