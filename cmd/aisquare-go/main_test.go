package main_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
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

func TestRefreshInputs(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	tokenFile := filepath.Join(t.TempDir(), "refresh")
	require.NoError(t, os.WriteFile(tokenFile, []byte(refresh+"\n"), 0o600))

	tests := []struct {
		name  string
		env   []string
		stdin string
		args  []string
	}{
		{"environment", []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", []string{"--base-url", srv.URL}},
		{"token file", nil, "", []string{"--base-url", srv.URL, "--token-file", tokenFile}},
		{"standard input", nil, refresh + "\n", []string{"--base-url", srv.URL}},
		{"base URL from the environment", []string{"AISQUARE_BASE_URL=" + srv.URL}, refresh, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := aisquareGo(t, tc.env, tc.stdin, append([]string{"refresh"}, tc.args...)...)
			require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stderr)
			out := decode(t, r.stdout)
			assert.NotEmpty(t, out.Access)
			assert.Empty(t, out.Refresh, "no rotation")
			exp, err := time.Parse(time.RFC3339, out.AccessExpiresAt)
			require.NoError(t, err)
			assert.WithinDuration(t, time.Now().Add(time.Hour), exp, 5*time.Second)
		})
	}
}

func TestRefreshExitCodes(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)

	r := aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.NotEmpty(t, decode(t, r.stdout).Refresh, "rotated")

	// The same token again: blacklisted.
	r = aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", srv.URL)
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "aisquare-go refresh: wrapper: POST "+api.RefreshPath+": 401 Unauthorized: Token is blacklisted (token_not_valid); "+
		`the session must be renewed: log in again, then hand the new access and refresh tokens to "aisquare-go session set" on standard input`+"\n", r.stderr)
	assert.NotContains(t, r.stderr, refresh)

	tests := []struct {
		name   string
		env    []string
		stdin  string
		args   []string
		code   int
		stderr string
	}{
		{"garbage token", nil, "garbage", []string{"--base-url", srv.URL}, 2, "Token is invalid or expired"},
		{"no token", nil, "", []string{"--base-url", srv.URL}, 2, "no refresh token"},
		{"unreachable server", nil, refresh, []string{"--base-url", "http://127.0.0.1:1"}, 1, "connection refused"},
		{"bad base URL", nil, refresh, []string{"--base-url", "ftp://x"}, 1, "scheme must be http or https"},
		{"token as a flag", nil, "", []string{"--token", refresh}, 1, "flag provided but not defined: -token"},
		{"server error", nil, refresh, []string{"--base-url", srv.URL}, 1, "502 Bad Gateway"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "server error" {
				srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 502, ContentType: "text/html", Body: "<h1>bad gateway</h1>"})
			}
			r := aisquareGo(t, tc.env, tc.stdin, append([]string{"refresh"}, tc.args...)...)
			assert.Equal(t, tc.code, r.code)
			assert.Empty(t, r.stdout)
			assert.Contains(t, r.stderr, tc.stderr)
			assert.NotContains(t, r.stderr, refresh)
			if !strings.Contains(tc.name, "flag") {
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			}
		})
	}
}

// TestHelp: --help (and -h, -help, help) of every command and subcommand
// prints its usage once, on stdout, and exits 0.
func TestHelp(t *testing.T) {
	for _, args := range [][]string{
		{"--help"}, {"-h"}, {"-help"}, {"help"},
		{"session", "--help"}, {"session", "-h"}, {"session", "-help"}, {"session", "help"},
		{"session", "set", "--help"}, {"session", "set", "-h"},
		{"session", "show", "--help"}, {"session", "show", "-h"},
		{"session", "clear", "--help"}, {"session", "clear", "-h"},
		{"token", "--help"}, {"token", "-h"},
		{"refresh", "--help"}, {"refresh", "-h"},
		{"version", "--help"}, {"version", "-h"},
		{"demo", "--help"}, {"demo", "-h"},
		{"help", "token"}, {"help", "session", "clear"},
	} {
		r := aisquareGo(t, nil, "", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Empty(t, r.stderr, "%v", args)
		assert.Contains(t, r.stdout, "Usage: aisquare-go", "%v", args)
		assert.Equal(t, 1, strings.Count(r.stdout, "Usage: aisquare-go"), "%v: printed once", args)
		if len(args) > 1 && args[0] != "help" && args[len(args)-1] != "help" {
			assert.True(t, strings.HasPrefix(r.stdout, "Usage: aisquare-go "+strings.Join(args[:len(args)-1], " ")),
				"%v: the usage of this command: %q", args, r.stdout)
		}
	}
	r := aisquareGo(t, nil, "", "help", "token")
	assert.True(t, strings.HasPrefix(r.stdout, "Usage: aisquare-go token "), "help token: %q", r.stdout)
	r = aisquareGo(t, nil, "", "token", "--no-such-flag")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "flag provided but not defined: -no-such-flag")
	assert.Equal(t, 1, strings.Count(r.stderr, "Usage: aisquare-go"), "a bad flag shows the usage once, on stderr")
	assert.Less(t, strings.Index(r.stderr, "not defined"), strings.Index(r.stderr, "Usage: aisquare-go"), "after the error line")
	assert.Empty(t, r.stdout)
	r = aisquareGo(t, nil, "", "bogus")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `unknown command "bogus"`)
}

func TestDemo(t *testing.T) {
	r := aisquareGo(t, nil, "", "demo")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stderr)
	for _, want := range []string{"1. Refresh", "2. Rotation", "3. A reused refresh token", "Token is blacklisted",
		"4. A session that renews its own token", "200 OK", "done"} {
		assert.Contains(t, r.stdout, want)
	}
	assert.NotContains(t, r.stdout, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", "tokens are shown shortened")
}

// TestRefreshAgainstSimpleJWT runs the command against a real SimpleJWT server.
func TestRefreshAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	_, refresh := srv.Pair(t)
	env := []string{"AISQUARE_REFRESH_TOKEN=" + refresh, "AISQUARE_BASE_URL=" + srv.URL}

	r := aisquareGo(t, env, "", "refresh")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	out := decode(t, r.stdout)
	exp, err := wrapper.TokenExpiry(out.Access)
	require.NoError(t, err)
	assert.Equal(t, exp.UTC().Format(time.RFC3339), out.AccessExpiresAt)
	assert.NotEmpty(t, out.Refresh)

	r = aisquareGo(t, env, "", "refresh")
	assert.Equal(t, 2, r.code, "a blacklisted token")
	assert.Contains(t, r.stderr, "Token is blacklisted")
	assert.NotContains(t, r.stderr, refresh)
}

// TestTokenArgumentIsNotEchoed: a token given as an argument by mistake
// ("aisquare-go refresh $REFRESH") or as a flag's value is refused without
// being repeated on standard error, which CI logs keep.
func TestTokenArgumentIsNotEchoed(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(1)
	for _, args := range [][]string{
		{"refresh", refresh},
		{"token", refresh},
		{"session", "set", refresh},
		{"session", "show", refresh},
		{"session", "clear", refresh},
		{"session", refresh},
		{"version", refresh},
		{"help", refresh},
		{"token", "--api-url", "https://api.aisquare.studio", "--base-url", refresh},
		{"refresh", "--timeout", refresh},
		{"token", "--store", "x", "--timeout=" + refresh},
		{"refresh", "--" + refresh},
		{refresh},
	} {
		r := aisquareGo(t, nil, "", args...)
		assert.NotEqual(t, 0, r.code)
		assert.NotContains(t, r.stderr, refresh, "aisquare-go %s ...: token on stderr", args[0])
		assert.Contains(t, r.stderr, "[REDACTED]", "aisquare-go %s ...: says what it refused", args[0])
	}

	r := aisquareGo(t, nil, "", "refresh", "extra")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, "aisquare-go refresh: unexpected argument \"extra\" (a token is never an argument: see --help)\n", r.stderr,
		"an argument that is no token is shown")
}

// TestNoGoAdviceInErrors: a shell user cannot call WithInsecureHTTP, so
// the refusal of plain http to another host than loopback says what to do
// in the shell.
func TestNoGoAdviceInErrors(t *testing.T) {
	store := filepath.Join(t.TempDir(), "session.json")
	for _, run := range []struct {
		env, args []string
		stdin     string
	}{
		{[]string{"AISQUARE_REFRESH_TOKEN=abc.def.ghi"}, []string{"refresh", "--api-url", "http://api.example.com"}, ""},
		{[]string{"AISQUARE_API_URL=http://api.example.com"}, []string{"session", "set", "--store", store}, "abc.def\nghi.jkl"},
		{[]string{"AISQUARE_BASE_URL=http://api.example.com"}, []string{"session", "set", "--store", store}, "abc.def\nghi.jkl"},
	} {
		r := aisquareGo(t, run.env, run.stdin, run.args...)
		assert.Equal(t, 1, r.code, "%v", run.args)
		assert.Contains(t, r.stderr, `base URL "http://api.example.com" is plain http to a host other than loopback, so tokens would travel in the clear: `+
			"use an https URL, or a loopback address (localhost, 127.0.0.1 or [::1]) for a local server\n", "%v", run.args)
		assert.NotContains(t, r.stderr, "WithInsecureHTTP", "%v", run.args)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	}
	assert.NoFileExists(t, store)

	// A session stored for such a URL: token says the same.
	require.NoError(t, os.WriteFile(store, []byte(`{"access":"abc.def","refresh":"ghi.jkl","base_url":"http://api.example.com"}`), 0o600))
	r := aisquareGo(t, nil, "", "token", "--store", store)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "use an https URL, or a loopback address")
	assert.NotContains(t, r.stderr, "WithInsecureHTTP")
}

func TestSessionUnknownSubcommand(t *testing.T) {
	r := aisquareGo(t, nil, "", "session", "list")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, `unknown subcommand "list"`)
	assert.Contains(t, r.stderr, "Usage: aisquare-go session <subcommand>")
}
