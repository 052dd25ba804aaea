package main_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestSessionClearAfterAMistypedAPIURL: a session saved for a mistyped
// --api-url is no dead end: the refusal points at session clear, which
// removes it, and the next session set for the right API works.
func TestSessionClearAfterAMistypedAPIURL(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{AccessLifetime: time.Hour})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "s", "session.json")
	mistyped := "http://127.0.0.1:1"
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", mistyped)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)

	r = aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "belongs to another API")
	assert.Contains(t, r.stderr, `"aisquare-go session clear --store `+store+`" removes it`)
	assert.Contains(t, r.stderr, "choose its API with --api-url or $AISQUARE_API_URL")
	assert.NotContains(t, r.stderr, "WithBaseURL", "a shell's advice")

	r = aisquareGo(t, nil, "", "session", "clear", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Empty(t, r.stdout)
	assert.Equal(t, "aisquare-go session clear: removed the session for "+mistyped+" from "+store+"\n", r.stderr)
	assert.NoFileExists(t, store)

	r = aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "token", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, access+"\n", r.stdout)

	// Nothing left to remove: said so, exit 0.
	r = aisquareGo(t, nil, "", "session", "clear", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	r = aisquareGo(t, nil, "", "session", "clear", "--store", store)
	assert.Equal(t, 0, r.code)
	assert.Equal(t, "aisquare-go session clear: no session in "+store+": nothing to remove\n", r.stderr)
	r = aisquareGo(t, nil, "", "token", "--store", store)
	assert.Equal(t, 2, r.code, "no session: stderr: %s", r.stderr)
}

// TestSessionClearDefaultStore: without --store, the default store.
func TestSessionClearDefaultStore(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	config := t.TempDir()
	env := []string{"XDG_CONFIG_HOME=" + config}
	r := aisquareGo(t, env, access+"\n"+refresh, "session", "set", "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	store := filepath.Join(config, "aisquare", "session.json")
	require.FileExists(t, store)
	r = aisquareGo(t, env, "", "session", "clear")
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Contains(t, r.stderr, "removed the session for "+srv.URL+" from "+store)
	assert.NoFileExists(t, store)
}

// TestSessionClearLeavesWhatIsNoSession: a file that is no session store
// (a --store given by mistake) is left as it is, with an error; an empty
// one is removed.
func TestSessionClearLeavesWhatIsNoSession(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"notes.txt":  "my notes\n",
		"other.json": `{"theme":"dark"}`,
	} {
		path := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
		r := aisquareGo(t, nil, "", "session", "clear", "--store", path)
		assert.Equal(t, 1, r.code, name)
		assert.Contains(t, r.stderr, "is corrupt", name)
		assert.Contains(t, r.stderr, "left as it is", name)
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, content, string(data), name)
	}

	r := aisquareGo(t, nil, "", "session", "clear", "--store", dir)
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, dir+" is a directory, not a regular file")
	assert.DirExists(t, dir)

	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	r = aisquareGo(t, nil, "", "session", "clear", "--store", empty)
	assert.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.Equal(t, "aisquare-go session clear: removed "+empty+", which held no session\n", r.stderr)
	assert.NoFileExists(t, empty)
}

// TestSessionClearTakesTheLock: the store is removed under its lock, never
// under a process that is saving it.
func TestSessionClearTakesTheLock(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(7)
	store := filepath.Join(t.TempDir(), "session.json")
	r := aisquareGo(t, nil, access+"\n"+refresh, "session", "set", "--store", store, "--api-url", srv.URL)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	unlock, err := wrapper.NewFileStore(store).Lock(context.Background())
	require.NoError(t, err)

	r = aisquareGo(t, nil, "", "session", "clear", "--store", store, "--timeout", "300ms")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "waiting for the lock")
	assert.FileExists(t, store, "not removed while another holds the lock")

	unlock()
	r = aisquareGo(t, nil, "", "session", "clear", "--store", store)
	require.Equal(t, 0, r.code, "stderr: %s", r.stderr)
	assert.NoFileExists(t, store)
}
