package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const (
	// liveSpec and liveOverlay are the module's: the user's spec, and the
	// overlay with the user's choice of refresh view.
	liveSpec    = "../../openapi.yaml"
	liveOverlay = "../../overlay.yaml"
	rootConfig  = "../../oapi-codegen.yaml"
	fullerSpec  = "../../testdata/backend/openapi.yaml"
	// seedRefresh is where the test specs have their refresh view.
	seedRefresh = "/api/v1/token/refresh/"
)

// sdkOverlay returns a copy of the module's overlay whose refresh action
// targets seedRefresh, as the test specs have it, whatever view the user's
// overlay chooses.
func sdkOverlay(t *testing.T) string {
	t.Helper()
	f, err := loadOverlay(liveOverlay)
	require.NoError(t, err)
	lines := strings.Split(readFile(t, liveOverlay), "\n")
	n := f.lines[f.refresh]
	require.Contains(t, lines[n-1], f.o.Actions[f.refresh].Target)
	lines[n-1] = strings.Replace(lines[n-1], f.o.Actions[f.refresh].Target, refreshTargetFor(seedRefresh), 1)
	return writeFile(t, "overlay.yaml", strings.Join(lines, "\n"))
}

// generated is what a run of specgen wrote and said.
type generated struct {
	client, security string
	stderr           string
}

// generate runs specgen on spec with overlay, as go generate does, into a
// directory of the test's, and returns what it wrote; err is its failure.
func generate(t *testing.T, spec, overlay string) (generated, error) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := os.ReadFile(rootConfig)
	require.NoError(t, err)
	text := strings.Replace(string(cfg), "output: api/api.gen.go", "output: "+filepath.Join(dir, "api.gen.go"), 1)
	text = strings.Replace(text, "path: overlay.yaml", "path: "+overlay, 1)
	require.NotEqual(t, string(cfg), text)
	cfgPath := filepath.Join(dir, "oapi-codegen.yaml")
	require.NoError(t, os.WriteFile(cfgPath, []byte(text), 0o644))

	var stderr bytes.Buffer
	err = run(spec, cfgPath, &stderr)
	var g generated
	g.stderr = stderr.String()
	if err != nil {
		_, statErr := os.Stat(filepath.Join(dir, "api.gen.go"))
		require.True(t, os.IsNotExist(statErr), "a failed run writes nothing")
		return g, err
	}
	client, err := os.ReadFile(filepath.Join(dir, "api.gen.go"))
	require.NoError(t, err)
	security, err := os.ReadFile(filepath.Join(dir, "security.gen.go"))
	require.NoError(t, err)
	g.client, g.security = string(client), string(security)
	return g, nil
}

// has fails the test unless text, generated code, has each of want; it
// does not print the whole text.
func has(t *testing.T, text string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("the generated code lacks %q", w)
		}
	}
}

// hasNot fails the test if text has any of unwanted.
func hasNot(t *testing.T, text string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(text, w) {
			t.Errorf("the generated code has %q", w)
		}
	}
}

// writeFile writes text to name in a directory of the test's and returns
// its path.
func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

// readFile returns the text of path.
func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// editedOverlay returns a copy of sdkOverlay with old replaced by new.
func editedOverlay(t *testing.T, old, new string) string {
	t.Helper()
	text := readFile(t, sdkOverlay(t))
	require.Contains(t, text, old)
	return writeFile(t, "overlay.yaml", strings.Replace(text, old, new, 1))
}

// overlayWith returns a copy of sdkOverlay with actions appended.
func overlayWith(t *testing.T, actions string) string {
	t.Helper()
	return writeFile(t, "overlay.yaml", strings.TrimRight(readFile(t, sdkOverlay(t)), "\n")+"\n\n"+actions)
}

// lineOf returns the line number of the first line of path that contains s.
func lineOf(t *testing.T, path, s string) int {
	t.Helper()
	for i, line := range strings.Split(readFile(t, path), "\n") {
		if strings.Contains(line, s) {
			return i + 1
		}
	}
	t.Fatalf("%s has no line with %q", path, s)
	return 0
}

// refreshLine is the line of overlay's refresh action target.
func refreshLine(t *testing.T, overlay string) int {
	t.Helper()
	return lineOf(t, overlay, "- target: "+refreshTargetFor(seedRefresh))
}

// actions is the number of actions of overlay.
func actions(t *testing.T, overlay string) int {
	t.Helper()
	f, err := loadOverlay(overlay)
	require.NoError(t, err)
	return len(f.o.Actions)
}

// spec is a small spec shaped like drf-spectacular's renderings: SimpleJWT's
// views at the seed's paths, and what paths, schemes and schemas add.
func spec(t *testing.T, paths, schemas, schemes string) string {
	t.Helper()
	text := `openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /api/v1/token/:
    post:
      operationId: token_create
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TokenObtainPairRequest'}
        required: true
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/TokenObtainPair'}
  /api/v1/token/refresh/:
    post:
      operationId: token_refresh_create
      requestBody:
        content:
          application/json:
            schema: {$ref: '#/components/schemas/TokenRefreshRequest'}
        required: true
      responses:
        '200':
          description: ''
          content:
            application/json:
              schema: {$ref: '#/components/schemas/TokenRefresh'}
  /api/v1/token/verify/:
    post:
      operationId: token_verify_create
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties: {token: {type: string, writeOnly: true}}
              required: [token]
        required: true
      responses:
        '200': {description: No response body}
` + paths + `
components:
  schemas:
    TokenObtainPairRequest:
      type: object
      properties:
        username: {type: string, writeOnly: true}
        password: {type: string, writeOnly: true}
      required: [password, username]
    TokenObtainPair:
      type: object
      properties:
        access: {type: string, readOnly: true}
        refresh: {type: string, readOnly: true}
      required: [access, refresh]
    TokenRefreshRequest:
      type: object
      properties:
        refresh: {type: string, writeOnly: true}
      required: [refresh]
    TokenRefresh:
      type: object
      properties:
        access: {type: string, readOnly: true}
      required: [access]
` + schemas
	if schemes != "" {
		text += "  securitySchemes:\n" + schemes
	}
	return writeFile(t, "openapi.yaml", text)
}
