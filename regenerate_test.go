package aisquare_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
)

// backendDir holds a small Django REST Framework + SimpleJWT backend shaped
// like AISquare Studio's, and the spec drf-spectacular renders from it.
const backendDir = "testdata/backend"

// needBackend skips the test, loudly, where Debian's packages for the
// backend are missing; under CI=true it fails instead, since CI installs them.
func needBackend(t *testing.T) {
	t.Helper()
	out, err := exec.Command(simplejwt.Python, "-c",
		"import django, rest_framework, rest_framework_simplejwt, drf_spectacular, django_filters").CombinedOutput()
	if err == nil {
		return
	}
	why := "install python3-django python3-djangorestframework python3-djangorestframework-simplejwt " +
		"python3-djangorestframework-spectacular python3-django-filters: " + string(bytes.TrimSpace(out))
	if os.Getenv("CI") == "true" {
		t.Fatalf("backend unavailable under CI: %s", why)
	}
	t.Skipf("SKIPPING: backend unavailable: %s", why)
}

// render writes the spec drf-spectacular renders from the backend in
// variant ("" for the backend of testdata/backend/openapi.yaml) to a file
// of the test's, and returns its path.
func render(t *testing.T, variant string) string {
	t.Helper()
	rendered := filepath.Join(t.TempDir(), "openapi.yaml")
	cmd := exec.Command(simplejwt.Python, filepath.Join(backendDir, "server.py"), "schema", rendered)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "VARIANT="+variant)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return rendered
}

// TestBackendSpecIsCurrent: the committed spec is what drf-spectacular
// renders from the backend now.
func TestBackendSpecIsCurrent(t *testing.T) {
	needBackend(t)
	got, err := os.ReadFile(render(t, ""))
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(backendDir, "openapi.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got),
		"%s/openapi.yaml is stale: run %s %s/server.py schema %s/openapi.yaml", backendDir, simplejwt.Python, backendDir, backendDir)
}

// TestRegenerateFromAFullerSpec takes the fuller spec as a user would:
// copy it over openapi.yaml, make generate, and everything builds, vets and
// passes its tests with no hand edit, internal/tracing's too; then the
// regenerated client talks to the backend that rendered the spec
// (testdata/regen).
func TestRegenerateFromAFullerSpec(t *testing.T) {
	needBackend(t)
	if testing.Short() {
		t.Skip("regenerates and builds a copy of the module")
	}
	t.Parallel()
	scratch := t.TempDir()
	copyTree(t, ".", scratch)
	copyFile(t, filepath.Join(backendDir, "openapi.yaml"), filepath.Join(scratch, "openapi.yaml"))
	setRefreshTarget(t, filepath.Join(scratch, "overlay.yaml"), seedRefresh)
	for _, name := range []string{"helpers_test.go", "regenerated_test.go", "example_pages_test.go", "variant_test.go", "optional_test.go"} {
		copyFile(t, filepath.Join("testdata/regen", name), filepath.Join(scratch, "wrapper", "regen_"+name))
	}
	goMod, err := os.ReadFile("go.mod")
	require.NoError(t, err)

	run(t, scratch, nil, "make", "generate")
	run(t, scratch, nil, "go", "build", "./...")
	run(t, scratch, nil, "go", "vet", "./...")
	run(t, scratch, nil, "go", "mod", "tidy", "-diff")
	run(t, filepath.Join(scratch, "internal/tracing"), nil, "go", "mod", "tidy", "-diff")
	run(t, scratch, nil, "make", "check-generated") // no commit, no git: it still passes

	newMod, err := os.ReadFile(filepath.Join(scratch, "go.mod"))
	require.NoError(t, err)
	assert.Equal(t, goLine(goMod), goLine(newMod), "regenerating keeps go.mod's go line")
	assert.Contains(t, string(newMod), "github.com/oapi-codegen/runtime ", "the generated code's runtime is required")
	assert.Contains(t, string(newMod), "github.com/oapi-codegen/nullable ", "the generated code's nullable is required")
	security := readGenerated(t, scratch, "security.gen.go")
	for _, row := range []string{
		`{Method: "POST", Path: "/api/v1/auth/login/", Auth: AuthOptional},`,
		`{Method: "GET", Path: "/api/v1/health/", Auth: AuthOptional},`,
		`{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`,
		`{Method: "POST", Path: "/api/v1/token/", Auth: AuthNone},`,
		`{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`,
	} {
		assert.Contains(t, security, row)
	}

	base := startBackend(t, "")
	env := []string{"AISQUARE_REGEN_BACKEND=" + base, "AISQUARE_REGEN_SCHEME=Bearer", "AISQUARE_REGEN_REFRESH=/api/v1/token/refresh/"}
	out := run(t, scratch, env, "go", "test", "-count=1", "-v", "./wrapper/", "./wrapper/wrappertest/")
	for _, name := range []string{"TestRegeneratedClient", "TestRegeneratedVariant", "TestRegeneratedOptionalAuth", "ExamplePages", "ExampleOK", "TestRefreshTokenErrors"} {
		assert.Contains(t, out, "--- PASS: "+name+" ", "ran and passed")
	}
	assert.NotContains(t, out, "--- SKIP")
	out = run(t, filepath.Join(scratch, "internal/tracing"), nil, "go", "test", "-count=1", "-v", "./...")
	assert.Contains(t, out, "--- PASS: ")
	assert.NotContains(t, out, "--- SKIP")
	assert.NotContains(t, out, "--- FAIL")
}

// buildSpecgen builds specgen for the test and returns its path.
func buildSpecgen(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "specgen")
	run(t, ".", nil, "go", "build", "-o", bin, "./internal/specgen")
	return bin
}

// specgen runs bin, specgen, on spec as make generate does first, in a
// directory of its own with the module's config and overlay (its refresh
// action at seedRefresh, then changed by editOverlay, if not nil), and
// returns what it printed, whether it succeeded, and the directory.
func specgen(t *testing.T, bin, spec string, editOverlay func(string) string) (out string, ok bool, dir string) {
	t.Helper()
	dir = t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "api"), 0o755))
	copyFile(t, "oapi-codegen.yaml", filepath.Join(dir, "oapi-codegen.yaml"))
	copyFile(t, spec, filepath.Join(dir, "openapi.yaml"))
	copyFile(t, "overlay.yaml", filepath.Join(dir, "overlay.yaml"))
	setRefreshTarget(t, filepath.Join(dir, "overlay.yaml"), seedRefresh)
	if editOverlay != nil {
		overlay, err := os.ReadFile(filepath.Join(dir, "overlay.yaml"))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "overlay.yaml"), []byte(editOverlay(string(overlay))), 0o644))
	}
	cmd := exec.Command(bin, "-overlay", "overlay.yaml", "-out", "api", "openapi.yaml")
	cmd.Dir = dir
	b, err := cmd.CombinedOutput()
	return string(b), err == nil, dir
}

// seedRefresh is where the backend of testdata/backend serves its refresh
// view, but in the variant "moved".
const seedRefresh = "/api/v1/token/refresh/"

// refreshTargetLine is the line of the overlay at path that chooses the
// refresh view: the target of the action that names refresh-create.
func refreshTargetLine(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	for i, line := range lines {
		if strings.TrimSpace(line) != "operationId: refresh-create" {
			continue
		}
		for j := i; j >= 0; j-- {
			if strings.HasPrefix(lines[j], "  - target: ") {
				return j + 1
			}
		}
	}
	t.Fatalf("%s has no refresh action", path)
	return 0
}

// setRefreshTarget points the refresh action of the overlay at path to the
// POST of refresh, as a user does: the module's overlay may have the
// user's choice, and the test's backend serves its own.
func setRefreshTarget(t *testing.T, path, refresh string) {
	t.Helper()
	n := refreshTargetLine(t, path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	lines[n-1] = "  - target: $.paths['" + refresh + "'].post"
	require.NoError(t, os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644))
}

// TestRegenerateVariants renders the specs of other teams' backends, as the
// variants of testdata/backend mimic them, and checks what a user sees: the
// message at generation, word for word where it advises; and where it
// generates, the table, and a regenerated copy of the module that builds,
// vets and, against the variant's backend, sends what the spec declares.
func TestRegenerateVariants(t *testing.T) {
	needBackend(t)
	if testing.Short() {
		t.Skip("regenerates and builds copies of the module")
	}
	t.Parallel()
	line := strconv.Itoa(refreshTargetLine(t, "overlay.yaml"))
	bin := buildSpecgen(t)

	t.Run("no refresh view: a login at the refresh path", func(t *testing.T) {
		t.Parallel()
		out, ok, _ := specgen(t, bin, render(t, "none"), nil)
		require.False(t, ok, out)
		assert.Equal(t, `specgen: overlay.yaml:`+line+`: openapi.yaml has no SimpleJWT refresh view, and the session needs one: no POST in it takes {refresh} and answers {access[, refresh]}. The refresh action's target, POST /api/v1/token/refresh/, is not a SimpleJWT refresh view: it takes {password, username} and answers {access, refresh}.
  What to do: have the backend serve SimpleJWT's TokenRefreshView (rest_framework_simplejwt.views.TokenRefreshView) and render the spec again; if it is not at /api/v1/token/refresh/, point line `+line+` of overlay.yaml at its path. Then run make generate again.
`, out)
	})

	t.Run("nested routes name {id} twice", func(t *testing.T) {
		t.Parallel()
		spec := render(t, "nested")
		out, ok, _ := specgen(t, bin, spec, nil)
		require.False(t, ok, out)
		action := `  - target: $.paths['/api/v1/projects/{id}/runs/{id}/']
    description: The path names {id} twice; the client cannot call it.
    remove: true
`
		assert.Equal(t, `specgen: openapi.yaml has paths the generated client cannot call:
  GET /api/v1/projects/{id}/runs/{id}/ (projects_runs_retrieve) names the path parameter {id} twice, as a nested route can render it: the generated client would fill only the first, and its code would not vet. Give the parameters distinct names in the backend's route (such as <int:workflow_id>; drf-nested-routers' lookup="workflow" gives {workflow_pk}) and render the spec again, or leave the path out of the client with this action in overlay.yaml:
`+action, out)

		// With the action, it generates, and the code vets.
		out, ok, dir := specgen(t, bin, spec, func(overlay string) string { return overlay + "\n" + action })
		require.True(t, ok, out)
		copyFile(t, "go.mod", filepath.Join(dir, "go.mod"))
		copyFile(t, "go.sum", filepath.Join(dir, "go.sum"))
		run(t, dir, nil, "go", "tool", "oapi-codegen", "-config", "oapi-codegen.yaml", "api/openapi.gen.json")
		run(t, dir, nil, bin, "-overlay", "overlay.yaml", "-check", "api/api.gen.go")
		run(t, dir, nil, "go", "vet", "./api/")
	})

	type generating struct {
		variant, scheme, refresh string
		rows                     []string // of the table
		client                   []string // of the generated client
		stderr                   string   // what make generate's specgen says
		wrapperTests             string   // -run of the wrapper's own tests, too
		everything               bool     // every test of the module, but this file's
		edit                     func(t *testing.T, scratch string)
	}
	for _, tc := range []generating{
		{
			variant: "moved", scheme: "Bearer", refresh: "/api/v1/auth/refresh/",
			rows: []string{
				`{Method: "POST", Path: "/api/v1/auth/login/", Auth: AuthOptional},`,
				`{Method: "POST", Path: "/api/v1/auth/refresh/", Auth: AuthNone, Refresh: true},`,
				`{Method: "POST", Path: "/api/v1/auth/token/", Auth: AuthNone},`,
				`{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`,
			},
			everything: true, // the one change the user made is all it takes
			edit: func(t *testing.T, scratch string) {
				out, ok, _ := specgen(t, bin, filepath.Join(scratch, "openapi.yaml"), nil)
				require.False(t, ok, out)
				assert.Equal(t, `specgen: overlay.yaml:`+line+`: the refresh action targets POST /api/v1/token/refresh/, which is not in openapi.yaml; the spec's SimpleJWT refresh view is POST /api/v1/auth/refresh/.
  What to do: on line `+line+` of overlay.yaml, change the target to
    $.paths['/api/v1/auth/refresh/'].post
  and run make generate again. Nothing else names the refresh path: the client and the wrapper take it from the generated api.RefreshPath.
`, out)
				// The user's one change.
				setRefreshTarget(t, filepath.Join(scratch, "overlay.yaml"), "/api/v1/auth/refresh/")
			},
		},
		{
			variant: "jwt", scheme: "JWT", refresh: "/api/v1/token/refresh/",
			rows: []string{
				`{Method: "POST", Path: "/api/v1/auth/login/", Auth: AuthOptional},`,
				`{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`,
				`{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`,
			},
			wrapperTests: "TestOperation|TestGeneratedTable|TestConformance|TestDifferential",
		},
		{
			variant: "unknown", scheme: "Bearer", refresh: "/api/v1/token/refresh/",
			rows: []string{
				`{Method: "POST", Path: "/api/v1/auth/login/", Auth: AuthNone},`,
				`{Method: "GET", Path: "/api/v1/health/", Auth: AuthNone},`,
				`{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`,
				`{Method: "GET", Path: "/api/v1/projects/{id}/", Auth: AuthRequired},`,
				`{Method: "POST", Path: "/api/v1/token/", Auth: AuthNone},`,
				`{Method: "POST", Path: "/api/v1/token/blacklist/", Auth: AuthNone},`,
				`{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`,
				`{Method: "POST", Path: "/api/v1/token/verify/", Auth: AuthNone},`,
			},
		},
		{
			variant: "custom", scheme: "Bearer", refresh: "/api/v1/token/refresh/",
			rows: []string{
				`{Method: "POST", Path: "/api/v1/auth/jwt/refresh/", Auth: AuthNone, Refresh: true},`,
				`{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`,
			},
			client: []string{
				"type RefreshCreateFormdataRequestBody = CustomTokenRefreshRequest",
				"func (c *Client) RefreshCreateWithFormdataBody(ctx context.Context, body RefreshCreateFormdataRequestBody, ",
			},
			stderr: "specgen: openapi.yaml has 2 SimpleJWT refresh views (POST /api/v1/auth/jwt/refresh/, POST /api/v1/token/refresh/): " +
				"the session refreshes through POST /api/v1/token/refresh/, which overlay.yaml:" + line + " chooses; none takes the access token\n",
		},
	} {
		t.Run(tc.variant, func(t *testing.T) {
			t.Parallel()
			scratch := t.TempDir()
			copyTree(t, ".", scratch)
			copyFile(t, render(t, tc.variant), filepath.Join(scratch, "openapi.yaml"))
			setRefreshTarget(t, filepath.Join(scratch, "overlay.yaml"), seedRefresh)
			for _, name := range []string{"helpers_test.go", "variant_test.go"} {
				copyFile(t, filepath.Join("testdata/regen", name), filepath.Join(scratch, "wrapper", "regen_"+name))
			}
			if tc.edit != nil {
				tc.edit(t, scratch)
			}
			out := run(t, scratch, nil, "make", "generate")
			if tc.stderr != "" {
				assert.Contains(t, out, tc.stderr)
			} else {
				assert.NotContains(t, out, "specgen:")
			}
			run(t, scratch, nil, "sh", "-c", "go build ./... && go vet ./...")
			security := readGenerated(t, scratch, "security.gen.go")
			assert.Contains(t, security, `const AuthScheme = "`+tc.scheme+`"`)
			assert.Contains(t, security, `const RefreshPath = "`+tc.refresh+`"`)
			for _, row := range tc.rows {
				assert.Contains(t, security, row)
			}
			client := readGenerated(t, scratch, "api.gen.go")
			for _, decl := range tc.client {
				assert.Contains(t, client, decl)
			}
			assert.Contains(t, client, `const ServerUrlProduction = "https://api.aisquare.studio"`)
			assert.NotContains(t, client, "localhost")

			env := []string{"AISQUARE_REGEN_BACKEND=" + startBackend(t, tc.variant),
				"AISQUARE_REGEN_SCHEME=" + tc.scheme, "AISQUARE_REGEN_REFRESH=" + tc.refresh}
			pattern := "TestRegeneratedVariant"
			if tc.wrapperTests != "" {
				pattern += "|" + tc.wrapperTests
			}
			if tc.everything {
				env = append(env, "CI=true") // where a real server is missing, fail rather than skip
				out = run(t, scratch, env, "go", "test", "-count=1", "-v", "./wrapper/...", "./cmd/...", "./internal/...")
				tracing := run(t, filepath.Join(scratch, "internal/tracing"), nil, "go", "test", "-count=1", "-v", "./...")
				assert.Contains(t, tracing, "--- PASS: ")
			} else {
				out = run(t, scratch, env, "go", "test", "-count=1", "-v", "-run", pattern, "./wrapper/", "./wrapper/wrappertest/")
			}
			assert.Contains(t, out, "--- PASS: TestRegeneratedVariant ")
			assert.NotContains(t, out, "--- SKIP")
		})
	}
}

func readGenerated(t *testing.T, scratch, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(scratch, "api", name))
	require.NoError(t, err)
	return string(data)
}

func goLine(mod []byte) string {
	for line := range strings.Lines(string(mod)) {
		if strings.HasPrefix(line, "go ") {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// run runs a command in dir and returns its output; it fails the test with
// the output if the command fails.
func run(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s %s: %s", name, strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
	return string(out)
}

// copyTree copies the module at src to dst, without .git.
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "__pycache__") {
			return filepath.SkipDir
		}
		target := filepath.Join(dst, path)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		copyFile(t, path, target)
		return nil
	})
	require.NoError(t, err)
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	require.NoError(t, err)
	defer in.Close()
	info, err := in.Stat()
	require.NoError(t, err)
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, info.Mode().Perm())
	require.NoError(t, err)
	_, err = io.Copy(out, in)
	require.NoError(t, err)
	require.NoError(t, out.Close())
}

// startBackend starts the backend in variant on a free loopback port until
// the test ends, and returns its base URL.
func startBackend(t *testing.T, variant string) string {
	t.Helper()
	dir := t.TempDir()
	return simplejwt.Serve(t, []string{filepath.Join(backendDir, "server.py"), "serve"},
		"DB_PATH="+filepath.Join(dir, "db.sqlite3"), "MEDIA_ROOT="+filepath.Join(dir, "media"), "VARIANT="+variant)
}
