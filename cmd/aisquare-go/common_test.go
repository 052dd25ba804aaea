package main_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestExit2ForEveryEmptyToken: a token that is missing, empty or only
// white space, wherever the command looks for it, is exit 2, with what to
// do, and nothing is sent.
func TestExit2ForEveryEmptyToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	file := func(name, content string) string {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		return path
	}
	emptyFile, blankFile := file("empty", ""), file("blank", " \n\t\n")
	emptyStore, blankStore := file("empty.json", ""), file("blank.json", "\n  \n")

	tests := []struct {
		name   string
		env    []string
		stdin  string
		args   []string
		stderr string
	}{
		{"refresh: empty standard input", nil, "", []string{"refresh"}, "no refresh token (standard input is empty"},
		{"refresh: white space on standard input", nil, "  \t\n", []string{"refresh"}, "no refresh token (standard input is empty"},
		{"refresh: white space in the environment", []string{"AISQUARE_REFRESH_TOKEN= \t "}, "", []string{"refresh"}, "no refresh token"},
		{"refresh: an empty token file", nil, "", []string{"refresh", "--token-file", emptyFile}, "token file " + emptyFile + " is empty"},
		{"refresh: a token file of white space", nil, "", []string{"refresh", "--token-file", blankFile}, "token file " + blankFile + " is empty"},
		{"refresh: an empty store", nil, "", []string{"refresh", "--store", emptyStore}, emptyStore + " holds no session"},
		{"refresh: a store of white space", nil, "", []string{"refresh", "--store", blankStore}, blankStore + " holds no session"},
		{"refresh: no store", nil, "", []string{"refresh", "--store", filepath.Join(dir, "none.json")}, "holds no session"},
		{"token: an empty store", nil, "", []string{"token", "--store", emptyStore}, emptyStore + " holds no session"},
		{"token: a store of white space", nil, "", []string{"token", "--store", blankStore}, blankStore + " holds no session"},
		{"session set: empty standard input", nil, "", []string{"session", "set", "--store", filepath.Join(dir, "s.json")}, "nothing on standard input"},
		{"session set: white space", nil, "\n \n", []string{"session", "set", "--store", filepath.Join(dir, "s.json")}, "nothing on standard input"},
		{"session set: no refresh token", nil, `{"access":"a","refresh":"  "}`, []string{"session", "set", "--store", filepath.Join(dir, "s.json")},
			`no refresh token on standard input`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := aisquareGo(t, tc.env, tc.stdin, append(tc.args, "--api-url", srv.URL)...)
			assert.Equal(t, 2, r.code, "stderr: %s", r.stderr)
			assert.Empty(t, r.stdout)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.Contains(t, r.stderr, tc.stderr)
		})
	}
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "nothing sent")
	assert.NoFileExists(t, filepath.Join(dir, "s.json"))
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
