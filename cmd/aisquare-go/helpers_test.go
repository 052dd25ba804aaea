package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// binary is the built command, which the tests run.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "aisquare-go-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "aisquare-go")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic("building aisquare-go: " + err.Error() + "\n" + string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// aisquareGo runs the binary with args, extra environment and stdin.
func aisquareGo(t *testing.T, env []string, stdin string, args ...string) result {
	t.Helper()
	return runBinary(t, env, strings.NewReader(stdin), args...)
}

// aisquareGoStdin runs the binary with the file at path as standard input.
func aisquareGoStdin(t *testing.T, env []string, path string, args ...string) result {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	return runBinary(t, env, f, args...)
}

func runBinary(t *testing.T, env []string, stdin io.Reader, args ...string) result {
	t.Helper()
	return runCommand(t, env, stdin, binary, args...)
}

// runCommand runs name with args, in the environment runBinary gives the
// binary: name may be a program that runs the binary, such as a shell.
func runCommand(t *testing.T, env []string, stdin io.Reader, name string, args ...string) result {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "AISQUARE_BASE_URL=", "AISQUARE_API_URL=", "AISQUARE_REFRESH_TOKEN=", "AISQUARE_LOG=",
		"AISQUARE_TOKEN=", "AISQUARE_HOME="+t.TempDir(), "XDG_CONFIG_HOME="+t.TempDir(), "HOME="+t.TempDir())
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running aisquare-go: %v", err)
	}
	return result{cmd.ProcessState.ExitCode(), stdout.String(), stderr.String()}
}

type output struct {
	Access          string `json:"access"`
	Refresh         string `json:"refresh"`
	AccessExpiresAt string `json:"access_expires_at"`
}

func decode(t *testing.T, stdout string) output {
	t.Helper()
	var out output
	require.NoError(t, json.Unmarshal([]byte(stdout), &out), "stdout: %s", stdout)
	return out
}

// storeFile reads a session store file.
func storeFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

// callMe calls the protected route with access and returns the status.
func callMe(t *testing.T, baseURL, access string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, baseURL+wrappertest.MeRoute, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+access)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}
