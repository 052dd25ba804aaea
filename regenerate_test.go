package aisquare_test

import (
	"bytes"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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

// TestBackendSpecIsCurrent: the committed spec is what drf-spectacular
// renders from the backend now.
func TestBackendSpecIsCurrent(t *testing.T) {
	needBackend(t)
	rendered := filepath.Join(t.TempDir(), "openapi.yaml")
	cmd := exec.Command(simplejwt.Python, filepath.Join(backendDir, "server.py"), "schema", rendered)
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	got, err := os.ReadFile(rendered)
	require.NoError(t, err)
	want, err := os.ReadFile(filepath.Join(backendDir, "openapi.yaml"))
	require.NoError(t, err)
	assert.Equal(t, string(want), string(got),
		"%s/openapi.yaml is stale: run %s %s/server.py schema %s/openapi.yaml", backendDir, simplejwt.Python, backendDir, backendDir)
}

// TestRegenerateFromAFullerSpec takes the fuller spec as a user would:
// copy it over openapi.yaml, make generate, and everything builds, vets and
// passes its tests with no hand edit; then the regenerated client talks to
// the backend that rendered the spec (testdata/regen/regenerated_test.go).
func TestRegenerateFromAFullerSpec(t *testing.T) {
	needBackend(t)
	if testing.Short() {
		t.Skip("regenerates and builds a copy of the module")
	}
	scratch := t.TempDir()
	copyTree(t, ".", scratch)
	copyFile(t, filepath.Join(backendDir, "openapi.yaml"), filepath.Join(scratch, "openapi.yaml"))
	for _, name := range []string{"helpers_test.go", "regenerated_test.go", "example_pages_test.go"} {
		copyFile(t, filepath.Join("testdata/regen", name), filepath.Join(scratch, "wrapper", name))
	}
	goMod, err := os.ReadFile("go.mod")
	require.NoError(t, err)

	run(t, scratch, nil, "make", "generate")
	run(t, scratch, nil, "go", "build", "./...")
	run(t, scratch, nil, "go", "vet", "./...")
	run(t, scratch, nil, "go", "mod", "tidy", "-diff")
	run(t, scratch, nil, "make", "check-generated") // no commit, no git: it still passes

	newMod, err := os.ReadFile(filepath.Join(scratch, "go.mod"))
	require.NoError(t, err)
	assert.Equal(t, goLine(goMod), goLine(newMod), "regenerating keeps go.mod's go line")
	assert.Contains(t, string(newMod), "github.com/oapi-codegen/runtime ", "the generated code's runtime is required")
	assert.Contains(t, string(newMod), "github.com/oapi-codegen/nullable ", "the generated code's nullable is required")
	security, err := os.ReadFile(filepath.Join(scratch, "api", "security.gen.go"))
	require.NoError(t, err)
	for _, row := range []string{
		`{Method: "POST", Path: "/api/v1/auth/login/", Auth: AuthOptional},`,
		`{Method: "GET", Path: "/api/v1/health/", Auth: AuthOptional},`,
		`{Method: "GET", Path: "/api/v1/me/", Auth: AuthRequired},`,
		`{Method: "POST", Path: "/api/v1/token/", Auth: AuthNone},`,
		`{Method: "POST", Path: "/api/v1/token/refresh/", Auth: AuthNone, Refresh: true},`,
	} {
		assert.Contains(t, string(security), row)
	}

	base := startBackend(t)
	out := run(t, scratch, []string{"AISQUARE_REGEN_BACKEND=" + base}, "go", "test", "-count=1", "-v", "./wrapper/", "./wrapper/wrappertest/")
	for _, name := range []string{"TestRegeneratedClient", "ExamplePages", "ExampleOK", "TestRefreshTokenErrors"} {
		assert.Contains(t, out, "--- PASS: "+name+" ", "ran and passed")
	}
	assert.NotContains(t, out, "--- SKIP")
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

// startBackend starts the backend on a free loopback port until the test
// ends, and returns its base URL.
func startBackend(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	return simplejwt.Serve(t, []string{filepath.Join(backendDir, "server.py"), "serve"},
		"DB_PATH="+filepath.Join(dir, "db.sqlite3"), "MEDIA_ROOT="+filepath.Join(dir, "media"))
}
