package main

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// get is a GET operation at path with security (YAML, or "" for none).
func get(path, security string) string {
	s := "  " + path + ":\n    get:\n"
	if security != "" {
		s += "      security: " + security + "\n"
	}
	return s + "      responses: {'200': {description: ok}}\n"
}

// TestNoSchemesFallBack: a spec with no securitySchemes (an auth class
// drf-spectacular does not know) gives the token to every operation but
// SimpleJWT's views and those that allow only anonymous access.
func TestNoSchemesFallBack(t *testing.T) {
	s := spec(t, get("/api/v1/me/", "")+get("/api/v1/health/", "[{}]")+get("/api/v1/public/", "[]")+
		get("/api/v1/legacy/", "[{legacyAuth: []}]"), "", "")
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	assert.Empty(t, g.stderr)
	has(t, g.security, `const AuthScheme = "Bearer"`, `var Operations = []Operation{
	{Method: "GET", Path: "/api/v1/health/", Auth: AuthNone},
	{Method: "GET", Path: "/api/v1/legacy/", Auth: AuthRequired},
	{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},
	{Method: "GET", Path: "/api/v1/public/", Auth: AuthNone},
	{Method: "POST", Path: "/api/v1/token/", Auth: AuthNone},
	{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},
	{Method: "POST", Path: "/api/v1/token/verify/", Auth: AuthNone},
}`)
}

// TestDeclaredSecurity: the JWT scheme required, optional, absent, and
// beside or instead of schemes the SDK cannot send, which are named.
func TestDeclaredSecurity(t *testing.T) {
	s := spec(t, get("/api/v1/me/", "[{jwtAuth: []}, {cookieAuth: []}]")+
		get("/api/v1/health/", "[{jwtAuth: []}, {}]")+
		get("/api/v1/public/", "")+
		get("/api/v1/session/", "[{cookieAuth: []}]")+
		get("/api/v1/keyed/", "[{keyAuth: []}, {}]")+
		get("/api/v1/both/", "[{jwtAuth: [], keyAuth: []}]")+
		get("/api/v1/ghost/", "[{ghostAuth: []}]"), "",
		`    jwtAuth: {type: http, scheme: bearer, bearerFormat: JWT}
    cookieAuth: {type: apiKey, in: cookie, name: sessionid}
    keyAuth: {type: apiKey, in: query, name: key}
`)
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.security, `var Operations = []Operation{
	{Method: "GET", Path: "/api/v1/both/", Auth: AuthNone},
	{Method: "GET", Path: "/api/v1/ghost/", Auth: AuthNone},
	{Method: "GET", Path: "/api/v1/health/", Auth: AuthOptional},
	{Method: "GET", Path: "/api/v1/keyed/", Auth: AuthNone},
	{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},
	{Method: "GET", Path: "/api/v1/public/", Auth: AuthNone},
	{Method: "GET", Path: "/api/v1/session/", Auth: AuthNone},
	{Method: "POST", Path: "/api/v1/token/", Auth: AuthNone},
	{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},
	{Method: "POST", Path: "/api/v1/token/verify/", Auth: AuthNone},
}`)
	assert.Equal(t, fmt.Sprintf(`specgen: %[1]s: the SDK cannot send security scheme cookieAuth (apiKey in cookie "sessionid"): 1 operation offers it beside jwtAuth and takes the access token; 1 operation offers no scheme the SDK can send and takes no token: GET /api/v1/session/
specgen: %[1]s: the SDK cannot send security scheme ghostAuth (not defined in components.securitySchemes): 1 operation offers no scheme the SDK can send and takes no token: GET /api/v1/ghost/
specgen: %[1]s: the SDK cannot send security scheme keyAuth (apiKey in query "key"): 2 operations offer no scheme the SDK can send and take no token: GET /api/v1/both/, GET /api/v1/keyed/
`, s), g.stderr)
}

// TestDocumentSecurityIsInherited: an operation without security of its own
// takes the document's.
func TestDocumentSecurityIsInherited(t *testing.T) {
	s := writeFile(t, "openapi.yaml", readFile(t, spec(t, get("/api/v1/me/", "")+get("/api/v1/public/", "[]"), "",
		"    jwtAuth: {type: http, scheme: bearer}\n"))+"security: [{jwtAuth: []}]\n")
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.security,
		`{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`,
		`{Method: "GET", Path: "/api/v1/public/", Auth: AuthNone},`,
		// SimpleJWT's views say nothing, so they inherit it, but a refresh
		// view never takes the token.
		`{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`)
}

// TestJWTPrefix: with AUTH_HEADER_TYPES = ('JWT',), drf-spectacular declares
// an apiKey on Authorization with the prefix in its description.
func TestJWTPrefix(t *testing.T) {
	s := spec(t, get("/api/v1/me/", "[{jwtAuth: []}]"), "",
		`    jwtAuth: {type: apiKey, in: header, name: Authorization, description: 'Token-based authentication with required prefix "JWT"'}
`)
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	assert.Empty(t, g.stderr)
	has(t, g.security, `const AuthScheme = "JWT"`, `{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`)

	s = spec(t, get("/api/v1/me/", "[{jwtAuth: []}]"), "",
		"    jwtAuth: {type: apiKey, in: header, name: Authorization, description: A token.}\n")
	_, err = generate(t, s, sdkOverlay(t))
	require.Error(t, err)
	assert.Equal(t, "specgen: "+s+`: security scheme jwtAuth is an apiKey in the Authorization header, but its description does not say the prefix before the token (drf-spectacular writes 'Token-based authentication with required prefix "JWT"', from SimpleJWT's AUTH_HEADER_TYPES). Say it with this action in overlay.yaml, with the backend's prefix:
  - target: $.components.securitySchemes.jwtAuth
    description: The prefix SimpleJWT's AUTH_HEADER_TYPES sets.
    update:
      description: Token-based authentication with required prefix "JWT"`, err.Error())
}

// TestNoSchemeTheSDKCanSend: DRF's TokenAuthentication ("Token" prefix) is
// not SimpleJWT's, and is said so.
func TestNoSchemeTheSDKCanSend(t *testing.T) {
	s := spec(t, get("/api/v1/me/", "[{tokenAuth: []}]"), "",
		`    tokenAuth: {type: apiKey, in: header, name: Authorization, description: 'Token-based authentication with required prefix "Token"'}
`)
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.security, `{Method: "GET", Path: "/api/v1/me/", Auth: AuthNone},`)
	assert.Equal(t, "specgen: "+s+` declares no security scheme the SDK can send (SimpleJWT's, which drf-spectacular names jwtAuth: http bearer, or an apiKey in the Authorization header with a declared prefix): no operation takes the access token
specgen: `+s+`: the SDK cannot send security scheme tokenAuth (apiKey in header "Authorization" with prefix "Token"): 1 operation offers no scheme the SDK can send and takes no token: GET /api/v1/me/
`, g.stderr)
}

// TestAnyBearerWithoutJWTAuth: a spec whose bearer scheme has another name
// has it served.
func TestAnyBearerWithoutJWTAuth(t *testing.T) {
	s := spec(t, get("/api/v1/me/", "[{bearerAuth: []}]"), "", "    bearerAuth: {type: http, scheme: Bearer}\n")
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	assert.Empty(t, g.stderr)
	has(t, g.security, `{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`)
}

// TestSecurityDecidesForLoginLikeViews: a login of the project's own that
// answers a pair, AllowAny under JWT, is optional: DRF checks a bearer
// there; SimpleJWT's own obtain view, rendered without security, takes
// none.
func TestSecurityDecidesForLoginLikeViews(t *testing.T) {
	login := `  /api/v1/auth/login/:
    post:
      security: [{jwtAuth: []}, {}]
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TokenObtainPairRequest'}
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/TokenObtainPair'}
`
	s := spec(t, login, "", "    jwtAuth: {type: http, scheme: bearer}\n")
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.security,
		`{Method: "POST", Path: "/api/v1/auth/login/", Auth: AuthOptional},`,
		`{Method: "POST", Path: "/api/v1/token/", Auth: AuthNone},`)
}
