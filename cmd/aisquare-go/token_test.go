package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// cliHome writes the credentials file of AISquare's own CLI, as it writes
// it (JSON, indent 2, mode 0600), into a folder for $AISQUARE_HOME.
func cliHome(t *testing.T, fields map[string]string) string {
	t.Helper()
	home := t.TempDir()
	data, err := json.MarshalIndent(fields, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(home, "credentials"), append(data, '\n'), 0o600))
	return home
}

// TestTokenTakesTheSDKsChain: token prints the token of the same chain as
// wrapper.New: --store, then $AISQUARE_TOKEN, then the default store, then
// AISquare's CLI session.
func TestTokenTakesTheSDKsChain(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	const envToken, cliToken = "aisq_from-the-environment", "aisq_from-the-cli"
	later := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	home := cliHome(t, map[string]string{"iam_api_url": srv.URL, "iam_token": cliToken, "iam_token_expires_at": later})

	r := aisquareGo(t, []string{"AISQUARE_TOKEN=" + envToken, "AISQUARE_HOME=" + home}, "", "token", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, envToken+"\n", r.stdout, "$AISQUARE_TOKEN over AISquare's CLI")

	r = aisquareGo(t, []string{"AISQUARE_HOME=" + home}, "", "token", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, cliToken+"\n", r.stdout, "AISquare's CLI session, for its API")

	access, refresh := srv.IssuePair(1)
	store := filepath.Join(t.TempDir(), "s.json")
	r = aisquareGo(t, nil, access+"\n"+refresh+"\n", "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, []string{"AISQUARE_TOKEN=" + envToken, "AISQUARE_HOME=" + home}, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout, "--store over $AISQUARE_TOKEN")

	r = aisquareGo(t, []string{"AISQUARE_TOKEN=" + envToken}, "", "session", "show", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stdout, "source:        $AISQUARE_TOKEN")
	assert.NotContains(t, r.stdout, envToken)
}

// TestTokenOfAISquareCLI: AISquare's CLI session for another API is refused,
// naming both; an expired one says to log in, exit 2.
func TestTokenOfAISquareCLI(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	const token = "aisq_cli-session"
	other := cliHome(t, map[string]string{"iam_api_url": "https://stg-api.aisquare.studio", "iam_token": token})
	r := aisquareGo(t, []string{"AISQUARE_HOME=" + other}, "", "token", "--api-url", srv.URL)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "https://stg-api.aisquare.studio")
	assert.Contains(t, r.stderr, srv.URL)
	assert.NotContains(t, r.stderr, token)
	assert.Empty(t, r.stdout)

	expired := cliHome(t, map[string]string{"iam_api_url": srv.URL, "iam_token": token,
		"iam_token_expires_at": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)})
	r = aisquareGo(t, []string{"AISQUARE_HOME=" + expired}, "", "token", "--api-url", srv.URL)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, `run "aisquare login"`)
	assert.Equal(t, 1, strings.Count(strings.TrimSpace(r.stderr), "\n")+1, "one line")
	assert.Empty(t, r.stdout)
}
