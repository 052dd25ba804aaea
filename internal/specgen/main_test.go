package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	rootSpec    = "../../openapi.yaml"
	rootOverlay = "../../overlay.yaml"
	fullerSpec  = "../../testdata/backend/openapi.yaml"
)

func TestOverlayMatchesTheSpecs(t *testing.T) {
	for _, spec := range []string{rootSpec, fullerSpec} {
		assert.NoError(t, checkOverlay(spec, rootOverlay), spec)
	}
}

func TestStaleActionNamesItsReasonAndRemedy(t *testing.T) {
	data, err := os.ReadFile(rootSpec)
	require.NoError(t, err)
	renamed := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(renamed, []byte(strings.ReplaceAll(string(data), "/api/v1/token/refresh/", "/api/v1/token/renew/")), 0o644))

	err = checkOverlay(renamed, rootOverlay)
	var stale *staleActionError
	require.ErrorAs(t, err, &stale)
	msg := err.Error()
	assert.Contains(t, msg, rootOverlay+": action 2 of ")
	assert.Contains(t, msg, "target: $.paths['/api/v1/token/refresh/'].post")
	assert.Contains(t, msg, "reason: The wrapper calls the refresh endpoint as RefreshCreate")
	assert.Contains(t, msg, "delete the action")
	assert.Contains(t, msg, "point\n    the target at the new place")

	// The same through the command, as make generate runs it.
	err = run(renamed, rootOverlay, filepath.Join(t.TempDir(), "security.gen.go"), "api")
	require.ErrorAs(t, err, &stale)
}

func TestSecurityTable(t *testing.T) {
	ops, declared, err := operations(fullerSpec, rootOverlay)
	require.NoError(t, err)
	assert.True(t, declared)
	bearer := map[string]bool{}
	for _, op := range ops {
		bearer[op.method+" "+op.path] = op.bearer
	}
	assert.Equal(t, map[string]bool{
		"POST /api/v1/auth/login/":          true,
		"GET /api/v1/health/":               true,
		"GET /api/v1/me/":                   true,
		"GET /api/v1/projects/":             true,
		"POST /api/v1/projects/":            true,
		"DELETE /api/v1/projects/{id}/":     true,
		"GET /api/v1/projects/{id}/":        true,
		"PATCH /api/v1/projects/{id}/":      true,
		"PUT /api/v1/projects/{id}/":        true,
		"GET /api/v1/runs/":                 true,
		"POST /api/v1/runs/":                true,
		"GET /api/v1/runs/{id}/":            true,
		"POST /api/v1/runs/{id}/artifacts/": true,
		"POST /api/v1/token/":               false,
		"POST /api/v1/token/blacklist/":     false,
		"POST /api/v1/token/refresh/":       false,
		"POST /api/v1/token/verify/":        false,
	}, bearer)

	ops, declared, err = operations(rootSpec, rootOverlay)
	require.NoError(t, err)
	assert.False(t, declared, "today's spec declares no security")
	assert.Len(t, ops, 1)
}

func TestDocumentSecurityIsInherited(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "openapi.yaml")
	require.NoError(t, os.WriteFile(spec, []byte(`openapi: 3.0.3
info: {title: t, version: "1"}
security: [{jwtAuth: []}]
paths:
  /api/v1/me/:
    get:
      responses: {"200": {description: ok}}
  /api/v1/token/:
    post:
      security: []
      responses: {"200": {description: ok}}
  /api/v1/key/:
    get:
      security: [{apiKey: []}]
      responses: {"200": {description: ok}}
components:
  securitySchemes:
    jwtAuth: {type: http, scheme: bearer, bearerFormat: JWT}
    apiKey: {type: apiKey, in: header, name: X-Key}
`), 0o644))
	ops, declared, err := operations(spec, "")
	require.NoError(t, err)
	assert.True(t, declared)
	assert.Equal(t, []operation{
		{method: "GET", path: "/api/v1/key/", bearer: false},
		{method: "GET", path: "/api/v1/me/", bearer: true},
		{method: "POST", path: "/api/v1/token/", bearer: false},
	}, ops)
}
