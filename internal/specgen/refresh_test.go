package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// movedSpec is a spec whose refresh view is at to.
func movedSpec(t *testing.T, paths, to string) string {
	t.Helper()
	s := spec(t, paths, "", "")
	text := strings.Replace(readFile(t, s), "  /api/v1/token/refresh/:", "  "+to+":", 1)
	require.NoError(t, os.WriteFile(s, []byte(text), 0o644))
	return s
}

// followAdvice changes the target on line of a copy of overlay as the
// message err says, and returns the copy.
func followAdvice(t *testing.T, err error, overlay string, line int) string {
	t.Helper()
	var target string
	for _, l := range strings.Split(err.Error(), "\n") {
		if strings.HasPrefix(l, "    $.paths[") {
			target = strings.TrimSpace(l)
		}
	}
	require.NotEmpty(t, target, "the message gives a target")
	lines := strings.Split(readFile(t, overlay), "\n")
	require.Contains(t, lines[line-1], "- target: ")
	lines[line-1] = "  - target: " + target
	return writeFile(t, "overlay.yaml", strings.Join(lines, "\n"))
}

// TestMovedRefreshView: for the moves seen in real specs, the message says
// the one line to change and the exact target; after that change,
// generation passes and the generated code names the new path.
func TestMovedRefreshView(t *testing.T) {
	for to, prefix := range map[string]string{
		"/api/v1/auth/refresh/":    "/api/v1/auth/",
		"/api/auth/token/refresh/": "/api/auth/token/",
	} {
		t.Run(to, func(t *testing.T) {
			s, overlay := movedSpec(t, "", to), sdkOverlay(t)
			_, err := generate(t, s, overlay)
			require.Error(t, err)
			line := refreshLine(t, overlay)
			assert.Equal(t, fmt.Sprintf(`specgen: %[1]s:%[2]d: the refresh action targets POST /api/v1/token/refresh/, which is not in %[3]s; the spec's SimpleJWT refresh view is POST %[4]s.
  What to do: on line %[2]d of %[1]s, change the target to
    $.paths['%[4]s'].post
  and run make generate again. Nothing else names the refresh path: the client and the wrapper take it from the generated api.RefreshPath.`,
				overlay, line, s, to), err.Error())

			g, err := generate(t, s, followAdvice(t, err, overlay, line))
			require.NoError(t, err)
			has(t, g.security,
				`const RefreshPath = "`+to+`"`,
				`const TokenPrefix = "`+prefix+`"`,
				`{Method: "POST", Path: "`+to+`", Auth: AuthNone, Refresh: true},`)
			has(t, g.client, `operationPath := fmt.Sprintf("`+to+`")`)
		})
	}
}

// TestSeveralRefreshViews: the overlay's target chooses among them; every
// one is a token endpoint; one not among them is refused, naming them all.
func TestSeveralRefreshViews(t *testing.T) {
	second := `  /api/v1/auth/jwt/refresh/:
    post:
      operationId: auth_jwt_refresh_create
      security: [{jwtAuth: []}, {}]
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {refresh: {type: string}}
              required: [refresh]
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema:
                type: object
                properties: {access: {type: string, readOnly: true}, refresh: {type: string}}
`
	s, overlay := spec(t, second, "", "    jwtAuth: {type: http, scheme: bearer, bearerFormat: JWT}\n"), sdkOverlay(t)
	g, err := generate(t, s, overlay)
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("specgen: %s has 2 SimpleJWT refresh views (POST /api/v1/auth/jwt/refresh/, POST /api/v1/token/refresh/): "+
		"the session refreshes through POST /api/v1/token/refresh/, which %s:%d chooses; none takes the access token\n",
		s, overlay, refreshLine(t, overlay)), g.stderr)
	has(t, g.security, `{Method: "POST", Path: "/api/v1/auth/jwt/refresh/", Auth: AuthNone, Refresh: true},`)
	has(t, g.security, `{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`)
	has(t, g.security, `const RefreshPath = "/api/v1/token/refresh/"`)

	moved := movedSpec(t, second, "/api/v1/auth/refresh/")
	_, err = generate(t, moved, overlay)
	require.Error(t, err)
	line := refreshLine(t, overlay)
	assert.Equal(t, fmt.Sprintf(`specgen: %[1]s:%[2]d: the refresh action targets POST /api/v1/token/refresh/, which is not in %[3]s; the spec has 2 SimpleJWT refresh views:
    POST /api/v1/auth/jwt/refresh/
    POST /api/v1/auth/refresh/
  What to do: on line %[2]d of %[1]s, change the target to the one the session should refresh through (the client calls it as RefreshCreate; none of them takes the access token), such as
    $.paths['/api/v1/auth/jwt/refresh/'].post
  and run make generate again.`, overlay, line, moved), err.Error())
	g, err = generate(t, moved, followAdvice(t, err, overlay, line))
	require.NoError(t, err)
	has(t, g.security, `const RefreshPath = "/api/v1/auth/jwt/refresh/"`)
}

// TestNoRefreshView: a login at the seed's refresh path does not pass for a
// refresh view.
func TestNoRefreshView(t *testing.T) {
	s := spec(t, "", "", "")
	text := strings.Replace(readFile(t, s), "schema: {$ref: '#/components/schemas/TokenRefreshRequest'}", "schema: {$ref: '#/components/schemas/TokenObtainPairRequest'}", 1)
	text = strings.Replace(text, "schema: {$ref: '#/components/schemas/TokenRefresh'}", "schema: {$ref: '#/components/schemas/TokenObtainPair'}", 1)
	require.NoError(t, os.WriteFile(s, []byte(text), 0o644))
	overlay := sdkOverlay(t)
	_, err := generate(t, s, overlay)
	require.Error(t, err)
	line := refreshLine(t, overlay)
	assert.Equal(t, fmt.Sprintf(`specgen: %[1]s:%[2]d: %[3]s has no SimpleJWT refresh view, and the session needs one: no POST in it takes {refresh} and answers {access[, refresh]}. The refresh action's target, POST /api/v1/token/refresh/, is not a SimpleJWT refresh view: it takes {password, username} and answers {access, refresh}.
  What to do: have the backend serve SimpleJWT's TokenRefreshView (rest_framework_simplejwt.views.TokenRefreshView) and render the spec again; if it is not at /api/v1/token/refresh/, point line %[2]d of %[1]s at its path. Then run make generate again.`,
		overlay, line, s), err.Error())
}

// TestRefreshViewShapes: what makes a refresh view, whatever its names.
func TestRefreshViewShapes(t *testing.T) {
	tests := []struct {
		name, request, answer string
		want                  view
	}{
		{"split", `{refresh: {type: string, writeOnly: true}}`, `{access: {type: string, readOnly: true}}`, refreshView},
		{"rotating", `{refresh: {type: string}}`, `{access: {type: string, readOnly: true}, refresh: {type: string}}`, refreshView},
		{"unsplit", `{access: {type: string, readOnly: true}, refresh: {type: string, writeOnly: true}}`,
			`{access: {type: string, readOnly: true}, refresh: {type: string, writeOnly: true}}`, refreshView},
		{"access unmarked, answer untyped", `{access: {type: string}, refresh: {type: string}}`, ``, refreshView},
		{"blacklist", `{refresh: {type: string}}`, `{refresh: {type: string}}`, blacklistView},
		{"verify", `{token: {type: string}}`, `{}`, verifyView},
		{"obtain", `{email: {type: string}, password: {type: string}}`, `{access: {type: string}, refresh: {type: string}}`, obtainView},
		{"sliding obtain", `{username: {type: string}, password: {type: string}}`, `{token: {type: string}}`, obtainView},
		{"access only in", `{access: {type: string}}`, `{access: {type: string}}`, notTokenView},
		{"more out", `{refresh: {type: string}}`, `{access: {type: string}, user: {type: string}}`, notTokenView},
		{"more in", `{refresh: {type: string}, device: {type: string}}`, `{access: {type: string}}`, notTokenView},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			answer := "                description: Any type\n"
			if tc.answer != "" {
				answer = "                type: object\n                properties: " + tc.answer + "\n"
			}
			s := writeFile(t, "openapi.yaml", `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /x/:
    post:
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: `+tc.request+`
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema:
`+answer)
			root, err := readSpec(s)
			require.NoError(t, err)
			doc, err := loadDoc(s, root)
			require.NoError(t, err)
			assert.Equal(t, tc.want, classify(doc.Paths.Value("/x/").Post))
		})
	}
}

// TestCustomRefreshSchemas: a spec that names its refresh schemas its own
// way still gives the wrapper TokenRefreshRequest and TokenRefresh.
func TestCustomRefreshSchemas(t *testing.T) {
	s := spec(t, "", `    CustomTokenRefreshRequest:
      type: object
      properties: {refresh: {type: string, writeOnly: true, minLength: 1}}
      required: [refresh]
    CustomTokenRefresh:
      type: object
      properties: {access: {type: string, readOnly: true}, refresh: {type: string}}
      required: [access, refresh]
`, "")
	text := strings.Replace(readFile(t, s), "schema: {$ref: '#/components/schemas/TokenRefreshRequest'}", `schema: {$ref: '#/components/schemas/CustomTokenRefreshRequest'}
          application/x-www-form-urlencoded:
            schema: {$ref: '#/components/schemas/CustomTokenRefreshRequest'}`, 1)
	text = strings.Replace(text, "schema: {$ref: '#/components/schemas/TokenRefresh'}", "schema: {$ref: '#/components/schemas/CustomTokenRefresh'}", 1)
	text = strings.Replace(text, "    TokenRefreshRequest:\n", "    Unused1:\n", 1)
	text = strings.Replace(text, "    TokenRefresh:\n", "    Unused2:\n", 1)
	require.NoError(t, os.WriteFile(s, []byte(text), 0o644))
	g, err := generate(t, s, sdkOverlay(t))
	require.NoError(t, err)
	has(t, g.client, "type TokenRefreshRequest struct {\n\tRefresh string `json:\"refresh\"`\n}")
	has(t, g.client, "type RefreshCreateJSONRequestBody = TokenRefreshRequest")
	has(t, g.client, "type RefreshCreateFormdataRequestBody = CustomTokenRefreshRequest")
	has(t, g.client, "JSON200 *TokenRefresh")
	has(t, g.security, `{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`)
}

func TestRefreshActionErrors(t *testing.T) {
	overlay := editedOverlay(t, "      operationId: refresh-create\n", "      operationId: my-refresh\n")
	_, err := generate(t, spec(t, "", "", ""), overlay)
	require.Error(t, err)
	assert.Equal(t, "specgen: "+overlay+" has no action that names the refresh operation: the wrapper calls the spec's "+
		"SimpleJWT refresh view as RefreshCreate. Add one, as the SDK's overlay.yaml has it, such as:\n"+
		"  - target: $.paths['/api/v1/token/refresh/'].post\n    update:\n      operationId: refresh-create\n      ...", err.Error())

	overlay = editedOverlay(t, "  - target: $.paths['/api/v1/token/refresh/'].post\n", "  - target: $.paths.*.post\n")
	_, err = generate(t, spec(t, "", "", ""), overlay)
	require.Error(t, err)
	line := lineOf(t, overlay, "- target: $.paths.*.post")
	assert.Equal(t, fmt.Sprintf("specgen: %s:%d: the refresh action's target is $.paths.*.post; it must name the POST of the "+
		"refresh view's path, such as $.paths['/api/v1/token/refresh/'].post", overlay, line), err.Error())
}
