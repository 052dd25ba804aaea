package wrapper_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func readStoreFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

func TestFileStoreRecordsTheBaseURL(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	path := filepath.Join(t.TempDir(), "session.json")

	_, err := wrapper.New(wrapper.WithBaseURL(srv.URL+"/"), wrapper.WithTokens(access, refresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"access": access, "refresh": refresh, "base_url": srv.URL}, readStoreFile(t, path))

	got, err := wrapper.NewFileStore(path).BaseURL(context.Background())
	require.NoError(t, err)
	assert.Equal(t, srv.URL, got)

	// The same API, spelled differently, is no mismatch.
	_, err = wrapper.New(wrapper.WithBaseURL(strings.Replace(srv.URL, "127.0.0.1", "127.0.0.1", 1)+"//"),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
}

// TestStoreMismatchFailsBeforeAnyRequest: tokens saved for one API are never
// sent to another.
func TestStoreMismatchFailsBeforeAnyRequest(t *testing.T) {
	var requests atomic.Int32
	staging := newClient(t, func(w http.ResponseWriter, r *http.Request) { requests.Add(1) })
	path := filepath.Join(t.TempDir(), "session.json")
	const production = "https://api.aisquare.studio"
	require.NoError(t, os.WriteFile(path, []byte(`{"access":"`+secret+`","refresh":"`+secret+`","base_url":"`+production+`"}`), 0o600))

	for _, opts := range [][]wrapper.Option{
		{wrapper.WithTokenStore(wrapper.NewFileStore(path))},
		{wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithTokens("", "another-refresh-token")},
	} {
		c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(staging.BaseURL())}, opts...)...)
		require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
		assert.Nil(t, c)
		assert.Contains(t, err.Error(), production)
		assert.Contains(t, err.Error(), staging.BaseURL())
		assert.Contains(t, err.Error(), path)
		assertNoSecret(t, err)
	}
	assert.Zero(t, requests.Load())
	assert.Equal(t, production, readStoreFile(t, path)["base_url"], "the file is left as it was")

	// A store bound to one API refuses to be bound to another.
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "s.json"))
	require.NoError(t, store.Bind(context.Background(), "https://a.example"))
	assert.ErrorIs(t, store.Bind(context.Background(), "https://b.example"), wrapper.ErrStoreMismatch)

	// Another process rewrote the file for another API: Load refuses it.
	require.NoError(t, os.WriteFile(path, []byte(`{"access":"a","refresh":"r","base_url":"https://other.example"}`), 0o600))
	bound := wrapper.NewFileStore(path)
	require.NoError(t, os.WriteFile(path, []byte(`{"access":"a","refresh":"r"}`), 0o600))
	require.NoError(t, bound.Bind(context.Background(), production))
	require.NoError(t, os.WriteFile(path, []byte(`{"access":"a","refresh":"r","base_url":"https://other.example"}`), 0o600))
	_, err := bound.Load(context.Background())
	assert.ErrorIs(t, err, wrapper.ErrStoreMismatch)
}

// TestFileStoreOldFormat: a file written before the base URL was recorded
// is accepted, and gains it on the next save.
func TestFileStoreOldFormat(t *testing.T) {
	_, srv, _, _, _ := newSession(t, true)
	_, refresh := srv.IssuePair(2)
	path := filepath.Join(t.TempDir(), "tokens.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"access":"","refresh":"`+refresh+`"}`), 0o600))

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	require.NoError(t, me(t, c, srv))
	stored := readStoreFile(t, path)
	assert.Equal(t, srv.URL, stored["base_url"])
	assert.Equal(t, srv.LastRefreshToken(), stored["refresh"])
}

func TestFileStoreRemovesAbandonedTemporaryFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "session.json")
	leftover := filepath.Join(dir, ".session.json.123456.tmp")
	require.NoError(t, os.WriteFile(leftover, []byte(`{"access":"`+secret+`","refresh":"`+secret+`"}`), 0o600))
	other := filepath.Join(dir, ".other.json.1.tmp")
	require.NoError(t, os.WriteFile(other, nil, 0o600))

	require.NoError(t, wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: "a", RefreshToken: "r"}))
	assert.NoFileExists(t, leftover)
	assert.FileExists(t, other, "another store's files are not touched")
	assert.FileExists(t, path)
}

func TestFileStoreDirectoryMode(t *testing.T) {
	// A directory the store creates is 0700, whatever the umask.
	created := filepath.Join(t.TempDir(), "new", "dir")
	require.NoError(t, wrapper.NewFileStore(filepath.Join(created, "session.json")).Save(context.Background(), &oauth2.Token{RefreshToken: "r"}))
	info, err := os.Stat(created)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())

	// An existing directory others may read is used, and left as it is.
	readable := t.TempDir()
	require.NoError(t, os.Chmod(readable, 0o755))
	require.NoError(t, wrapper.NewFileStore(filepath.Join(readable, "session.json")).Save(context.Background(), &oauth2.Token{RefreshToken: "r"}))
	info, err = os.Stat(readable)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o755), info.Mode().Perm(), "never chmod-ed")

	// An existing directory others may write into is refused, never changed.
	for _, mode := range []os.FileMode{0o775, 0o757, 0o777} {
		dir := filepath.Join(t.TempDir(), "open")
		require.NoError(t, os.Mkdir(dir, 0o700))
		require.NoError(t, os.Chmod(dir, mode))
		err := wrapper.NewFileStore(filepath.Join(dir, "session.json")).Save(context.Background(), &oauth2.Token{AccessToken: "a", RefreshToken: "r"})
		require.Error(t, err, "mode %o", mode)
		assert.Equal(t, fmt.Sprintf("wrapper: token directory %s lets other users write into it (mode %04o), so they could replace "+
			"or remove the tokens: make it yours alone (chmod go-w %s), or keep the store in another directory", dir, mode, dir), err.Error())
		info, err := os.Stat(dir)
		require.NoError(t, err)
		assert.Equal(t, mode, info.Mode().Perm(), "left as it was")
		assert.NoFileExists(t, filepath.Join(dir, "session.json"))
	}

	// A shared directory, such as /tmp itself, is refused.
	shared := filepath.Join(t.TempDir(), "shared")
	require.NoError(t, os.Mkdir(shared, 0o700))
	require.NoError(t, os.Chmod(shared, 0o777|os.ModeSticky))
	err = wrapper.NewFileStore(filepath.Join(shared, "session.json")).Save(context.Background(), &oauth2.Token{RefreshToken: "r"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shared")
	assert.NoFileExists(t, filepath.Join(shared, "session.json"))
}

func TestFileStoreLockIgnoresASymlink(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "session.json")
	target := filepath.Join(dir, "elsewhere")
	require.NoError(t, os.WriteFile(target, []byte("precious"), 0o644))
	require.NoError(t, os.Symlink(target, path+".lock"))

	_, err := wrapper.NewFileStore(path).Lock(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "symbolic link")
	info, err := os.Stat(target)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), info.Mode().Perm())
}

func TestFileStoreLockWaitSaysSo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.json")
	store := wrapper.NewFileStore(path)
	unlock, err := store.Lock(context.Background())
	require.NoError(t, err)
	defer unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 50e6)
	defer cancel()
	_, err = wrapper.NewFileStore(path).Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for the lock")
}

// TestSessionLockWaitSaysSo: a caller whose context ends while the refresh
// waits for a lock that another process holds learns why.
func TestSessionLockWaitSaysSo(t *testing.T) {
	_, srv, _, _, _ := newSession(t, false)
	_, refresh := srv.IssuePair(3)
	path := filepath.Join(t.TempDir(), "session.json")
	held := wrapper.NewFileStore(path)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", refresh), wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	unlock, err := held.Lock(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 100e6)
	defer cancel()
	err = meCtx(ctx, c, srv.URL)
	unlock()
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "lock")
	require.NoError(t, c.Close())
	require.NoError(t, me(t, c, srv), "the refresh went on once the lock was free")
}

// TestFileStoreRefusesAnotherUsersDirectory: tokens are never written into
// a directory that belongs to someone else.
func TestFileStoreRefusesAnotherUsersDirectory(t *testing.T) {
	dir := "/usr" // root's, for a user other than root
	if os.Geteuid() == 0 {
		dir = filepath.Join(t.TempDir(), "nobodys")
		require.NoError(t, os.Mkdir(dir, 0o755))
		require.NoError(t, os.Chown(dir, 65534, 65534))
	}
	path := filepath.Join(dir, "aisquare-test-session.json")
	err := wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{RefreshToken: "r"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "belongs to another user")
	assert.NoFileExists(t, path)
	info, err := os.Stat(dir)
	require.NoError(t, err)
	assert.NotEqual(t, os.FileMode(0o700), info.Mode().Perm(), "not tightened")
}
