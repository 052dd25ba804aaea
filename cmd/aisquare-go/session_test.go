package main_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

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

func TestSessionSetAndToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	dir := filepath.Join(t.TempDir(), "config")
	store := filepath.Join(dir, "session.json")

	for _, input := range []string{access + "\n" + refresh + "\n", `{"access":"` + access + `","refresh":"` + refresh + `"}`} {
		r := aisquareGo(t, nil, input, "session", "set", "--store", store, "--base-url", srv.URL)
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		assert.Empty(t, r.stdout)
		assert.NotContains(t, r.stderr, refresh)
		assert.Equal(t, map[string]string{"access": access, "refresh": refresh, "base_url": srv.URL}, storeFile(t, store))
	}
	info, err := os.Stat(store)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	info, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	// A valid token: printed as it is, nothing else, no refresh.
	r := aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout)
	assert.Empty(t, r.stderr)
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute))

	// refresh --store: the rotated pair is saved, and a second run spends
	// the new one.
	for range 2 {
		r = aisquareGo(t, nil, "", "refresh", "--store", store)
		require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
		out := decode(t, r.stdout)
		assert.Equal(t, srv.LastRefreshToken(), out.Refresh)
		saved := storeFile(t, store)
		assert.Equal(t, out.Access, saved["access"])
		assert.Equal(t, out.Refresh, saved["refresh"])
		assert.Equal(t, srv.URL, saved["base_url"])
	}

	// Bad input is refused, and the store is left as it was; no refresh
	// token is exit 2.
	before := storeFile(t, store)
	for input, code := range map[string]int{"": 2, "one-line-only": 1, "a\nb\nc": 1, `{"access":"a"}`: 2, "{not json": 1} {
		r = aisquareGo(t, nil, input, "session", "set", "--store", store)
		assert.Equal(t, code, r.code, "input %q", input)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	}
	assert.Equal(t, before, storeFile(t, store))
}

// TestTokenRefusesAnotherAPI: a store set for one API is never used against
// another, and nothing reaches the other.
func TestTokenRefusesAnotherAPI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	other := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(other.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	for _, run := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"token", "--store", store, "--base-url", other.URL}},
		{[]string{"AISQUARE_BASE_URL=" + other.URL}, []string{"token", "--store", store}},
		{[]string{"AISQUARE_API_URL=" + other.URL}, []string{"refresh", "--store", store}},
		{nil, []string{"session", "set", "--store", store, "--base-url", other.URL}},
	} {
		stdin := ""
		if run.args[0] == "session" {
			stdin = access + "\n" + refresh
		}
		r := aisquareGo(t, run.env, stdin, run.args...)
		assert.Equal(t, 1, r.code, "%v", run.args)
		assert.Contains(t, r.stderr, "belongs to another API")
		assert.Contains(t, r.stderr, srv.URL)
		assert.Contains(t, r.stderr, other.URL)
		assert.NotContains(t, r.stderr, refresh)
		assert.NotContains(t, r.stderr, access)
	}
	assert.Zero(t, other.Requests(wrappertest.RefreshRoute)+other.Requests(wrappertest.MeRoute))
}

// TestRefreshTokenFileIsRewritten: with rotation and a blacklist, running
// refresh twice on one token file never spends a token twice.
func TestRefreshTokenFileIsRewritten(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	file := filepath.Join(t.TempDir(), "refresh")
	require.NoError(t, os.WriteFile(file, []byte(refresh+"\n"), 0o640))
	require.NoError(t, os.Chmod(file, 0o640))

	for i := range 3 {
		r := aisquareGo(t, nil, "", "refresh", "--token-file", file, "--base-url", srv.URL)
		require.Equal(t, 0, r.code, "run %d: stderr: %s", i, r.stderr)
		out := decode(t, r.stdout)
		data, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, out.Refresh+"\n", string(data), "run %d", i)
		info, err := os.Stat(file)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "the same mode")
	}
	entries, err := os.ReadDir(filepath.Dir(file))
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), e.Name())
	}

	// A session store given as --token-file is a session store.
	access, refresh2 := srv.IssuePair(8)
	store := filepath.Join(t.TempDir(), "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh2, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "refresh", "--token-file", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, decode(t, r.stdout).Refresh, storeFile(t, store)["refresh"])
}

func TestTokenFileIsReadBounded(t *testing.T) {
	big := filepath.Join(t.TempDir(), "big")
	require.NoError(t, os.WriteFile(big, make([]byte, 1<<20), 0o600))
	r := aisquareGo(t, nil, "", "refresh", "--token-file", big, "--base-url", "http://127.0.0.1:1")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "larger than 64 KiB")

	// A device is no token file: refused before it is read.
	start := time.Now()
	r = aisquareGo(t, nil, "", "refresh", "--token-file", "/dev/zero", "--base-url", "http://127.0.0.1:1")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "/dev/zero is a character device, not a regular file")
	assert.Less(t, time.Since(start), 10*time.Second)
}

// TestNoSilentWait: no token source and /dev/null on standard input, a
// character device that is no terminal: no input, exit 2 at once, with the
// usage line.
func TestNoSilentWait(t *testing.T) {
	for _, args := range [][]string{{"refresh"}, {"session", "set"}} {
		r := aisquareGoStdin(t, nil, "/dev/null", args...)
		assert.Equal(t, 2, r.code, "%v", args)
		assert.Contains(t, r.stderr, "Usage: aisquare-go "+strings.Join(args, " "))
		assert.NotContains(t, r.stderr, "terminal", "%v: /dev/null is no terminal", args)
		assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	}
}

func TestExit2SaysWhatToDo(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: time.Second})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePairAt(7, time.Now().Add(-time.Minute)) // the access token has expired
	store := filepath.Join(t.TempDir(), "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), refresh) // spent elsewhere: blacklisted
	require.NoError(t, err)

	r = aisquareGo(t, nil, "", "token", "--store", store)
	assert.Equal(t, 2, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.Contains(t, r.stderr, "Token is blacklisted")
	assert.Contains(t, r.stderr, "log in again")
	assert.Contains(t, r.stderr, `"aisquare-go session set --store `+store+`"`)
	assert.NotContains(t, r.stderr, refresh)

	r = aisquareGo(t, nil, "", "token", "--store", filepath.Join(t.TempDir(), "empty.json"))
	assert.Equal(t, 2, r.code, "no session: log in")
	assert.Contains(t, r.stderr, "aisquare-go session set")
}

// TestCommandErrorIsOneCleanLine: a server's text reaches the terminal
// without line breaks, escapes or tokens.
func TestCommandErrorIsOneCleanLine(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 500,
		Body: `{"detail":"echo ` + refresh + `\nsecond line\u001b[31m red` + strings.Repeat(" long", 100000) + `"}`})
	r := aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + refresh}, "", "refresh", "--base-url", srv.URL)
	assert.Equal(t, 1, r.code)
	assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
	assert.NotContains(t, r.stderr, refresh)
	assert.NotContains(t, r.stderr, "\x1b")
	assert.Less(t, len(r.stderr), 2<<10)
	assert.Contains(t, r.stderr, "echo [REDACTED] second line")
}

func TestTimeoutOnAHeldLock(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Second})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	unlock, err := wrapper.NewFileStore(store).Lock(context.Background())
	require.NoError(t, err)
	defer unlock()
	time.Sleep(time.Second) // the access token expires

	for _, cmd := range []string{"token", "refresh"} {
		start := time.Now()
		r = aisquareGo(t, nil, "", cmd, "--store", store, "--timeout", "500ms")
		assert.Equal(t, 1, r.code, cmd)
		assert.Contains(t, r.stderr, "lock", cmd)
		assert.Less(t, time.Since(start), 5*time.Second, cmd)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		r := aisquareGo(t, nil, "", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Equal(t, "aisquare-go "+wrapper.Version+"\n", r.stdout, "%v", args)
	}
	// Help shows help, not the version.
	for _, args := range [][]string{{"version", "--help"}, {"version", "-h"}} {
		r := aisquareGo(t, nil, "", args...)
		assert.Equal(t, 0, r.code, "%v", args)
		assert.Equal(t, "Usage: aisquare-go version\n\nPrints the SDK's version, which its requests' User-Agent carries too.\n", r.stdout, "%v", args)
	}
	r := aisquareGo(t, nil, "", "version", "--short")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "flag provided but not defined: -short")
	assert.Empty(t, r.stdout)
}

// TestTokenAgainstSimpleJWT: the built command as a credential helper
// against a real SimpleJWT server with rotation, a blacklist and two-second
// access tokens, alone and beside a session client sharing its store.
func TestTokenAgainstSimpleJWT(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 2 * time.Second})
	access, refresh := srv.Pair(t)
	store := filepath.Join(t.TempDir(), "aisquare", "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--base-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	seen := map[string]bool{}
	for i := range 5 {
		r := aisquareGo(t, nil, "", "token", "--store", store)
		require.Equal(t, 0, r.code, "run %d: stderr: %s", i, r.stderr)
		tok := strings.TrimSuffix(r.stdout, "\n")
		require.NotContains(t, tok, "\n")
		assert.Equal(t, http.StatusOK, callMe(t, srv.URL, tok), "run %d: the token works", i)
		seen[tok] = true
		time.Sleep(2500 * time.Millisecond) // past the access token's lifetime
	}
	assert.Len(t, seen, 5, "a new token each time")

	// Beside a session client sharing the store, for 10 seconds.
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(store)))
	require.NoError(t, err)
	defer c.Close()
	first, err := c.TokenSource().Token()
	require.NoError(t, err)
	firstAccess := first.AccessToken
	deadline := time.Now().Add(10 * time.Second)
	var wg sync.WaitGroup
	var clientCalls, commandRuns int
	wg.Go(func() {
		for time.Now().Before(deadline) {
			req, _ := http.NewRequest(http.MethodGet, srv.URL+wrappertest.MeRoute, nil)
			resp, err := c.HTTPClient().Do(req)
			if !assert.NoError(t, err, "session client") {
				return
			}
			resp.Body.Close()
			if !assert.Equal(t, http.StatusOK, resp.StatusCode, "session client") {
				return
			}
			clientCalls++
			time.Sleep(100 * time.Millisecond)
		}
	})
	wg.Go(func() {
		for time.Now().Before(deadline) {
			r := aisquareGo(t, nil, "", "token", "--store", store)
			if !assert.Equal(t, 0, r.code, "command: stderr: %s", r.stderr) {
				return
			}
			if !assert.Equal(t, http.StatusOK, callMe(t, srv.URL, strings.TrimSpace(r.stdout)), "command's token") {
				return
			}
			commandRuns++
			time.Sleep(300 * time.Millisecond)
		}
	})
	wg.Wait()
	t.Logf("%d session client calls, %d command runs", clientCalls, commandRuns)
	assert.Positive(t, clientCalls)
	assert.Positive(t, commandRuns)
	last, err := c.TokenSource().Token()
	require.NoError(t, err)
	assert.NotEqual(t, firstAccess, last.AccessToken, "the session client renewed its token too")
	r = aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "the stored session is alive: stderr: %s", r.stderr)
}

// TestOpenPipeDoesNotHang: standard input that stays open with nothing on
// it ends at --timeout.
func TestOpenPipeDoesNotHang(t *testing.T) {
	for _, args := range [][]string{{"refresh"}, {"session", "set"}} {
		cmd := exec.Command(binary, append(args, "--timeout", "300ms", "--base-url", "http://127.0.0.1:1")...)
		cmd.Env = append(os.Environ(), "AISQUARE_REFRESH_TOKEN=", "XDG_CONFIG_HOME="+t.TempDir())
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		defer stdin.Close()
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		err = cmd.Run()
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, "%v", args)
		assert.Equal(t, 1, exitErr.ExitCode(), "%v", args)
		assert.Contains(t, stderr.String(), "nothing on standard input", "%v", args)
		assert.Less(t, time.Since(start), 10*time.Second, "%v", args)
	}
}

// TestRotatedTokenIsPrintedWhenItCannotBeWritten: the new refresh token is
// never lost, even when the token file cannot be rewritten.
func TestRotatedTokenIsPrintedWhenItCannotBeWritten(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	dir := t.TempDir()
	file := filepath.Join(dir, "refresh")
	require.NoError(t, os.WriteFile(file, []byte(refresh), 0o600))
	require.NoError(t, os.WriteFile(file+".lock", nil, 0o600))
	args := []string{"refresh", "--token-file", file, "--base-url", srv.URL}
	var r result
	if os.Geteuid() == 0 {
		// Root writes into a read-only directory; a file size limit of zero
		// fails every write to a file, root's included, and none to a pipe.
		sh, err := exec.LookPath("sh")
		require.NoError(t, err)
		r = runCommand(t, nil, strings.NewReader(""), sh, append([]string{"-c", `ulimit -f 0 && exec "$0" "$@"`, binary}, args...)...)
	} else {
		require.NoError(t, os.Chmod(dir, 0o500))
		t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
		r = aisquareGo(t, nil, "", args...)
	}
	assert.Equal(t, 1, r.code)
	assert.Equal(t, srv.LastRefreshToken(), decode(t, r.stdout).Refresh)
	assert.Contains(t, r.stderr, "the new one is on standard output")
}
