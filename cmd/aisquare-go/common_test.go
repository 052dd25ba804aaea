package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

// TestRefreshRefusesWhatIsNoToken: a refresh token with characters no token
// has is refused before it is sent, and never shown.
func TestRefreshRefusesWhatIsNoToken(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(7)
	bad := refresh[:12] + "\x1b[2J" + refresh[12:]
	file := filepath.Join(t.TempDir(), "refresh")
	require.NoError(t, os.WriteFile(file, []byte(bad+"\n"), 0o600))
	for name, run := range map[string]func() result{
		"environment": func() result {
			return aisquareGo(t, []string{"AISQUARE_REFRESH_TOKEN=" + bad}, "", "refresh", "--api-url", srv.URL)
		},
		"standard input": func() result { return aisquareGo(t, nil, bad+"\n", "refresh", "--api-url", srv.URL) },
		"token file":     func() result { return aisquareGo(t, nil, "", "refresh", "--token-file", file, "--api-url", srv.URL) },
	} {
		r := run()
		assert.Equal(t, 1, r.code, name)
		assert.Contains(t, r.stderr, "holds a control character, at character 13: not a token", name)
		assert.NotContains(t, r.stderr, refresh[:12], name)
		assert.NotContains(t, r.stderr, "\x1b", name)
	}
	assert.Zero(t, srv.Requests(wrappertest.RefreshRoute), "nothing sent")
}
