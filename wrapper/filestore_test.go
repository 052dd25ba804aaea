package wrapper_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func TestFileStore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new", "dir")
	path := filepath.Join(dir, "tokens.json")
	store := wrapper.NewFileStore(path)
	ctx := context.Background()

	tok, err := store.Load(ctx)
	require.NoError(t, err)
	assert.Nil(t, tok, "a missing file holds no tokens")

	require.NoError(t, store.Save(ctx, &oauth2.Token{AccessToken: "a1", RefreshToken: "r1"}))
	tok, err = store.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "a1", tok.AccessToken)
	assert.Equal(t, "r1", tok.RefreshToken)

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
	info, err = os.Stat(dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), info.Mode().Perm())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		assert.False(t, strings.HasSuffix(e.Name(), ".tmp"), "temporary file %s left behind", e.Name())
	}
}

func TestFileStoreCorruptFile(t *testing.T) {
	for _, content := range []string{"{not json", `{"access":"a"}`, `[]`, ""} {
		path := filepath.Join(t.TempDir(), "tokens.json")
		require.NoError(t, os.WriteFile(path, []byte(content), 0o600))

		c, err := wrapper.New(wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithTokens("", "r"))
		require.Error(t, err, "content %q", content)
		assert.Nil(t, c)
		assert.Contains(t, err.Error(), path)
		assert.Contains(t, err.Error(), "corrupt")
		got, _ := os.ReadFile(path)
		assert.Equal(t, content, string(got), "a corrupt file is not overwritten")
	}
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

	// New says so, before any request.
	c, err := wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:1"),
		wrapper.WithTokenStore(wrapper.NewFileStore(filepath.Join(shared, "session.json"))))
	require.Error(t, err)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "is shared (sticky, like /tmp)")
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

// TestTwoClientsShareOneFileStore: with rotation and blacklist, two clients
// on one file never spend the same refresh token twice.
func TestTwoClientsShareOneFileStore(t *testing.T) {
	clock := newFakeClock()
	srv := newSessionServer(t, clock, true)
	access, refresh := srv.IssuePair(1)
	path := filepath.Join(t.TempDir(), "tokens.json")
	clients := make([]*wrapper.Client, 2)
	for i := range clients {
		var err error
		clients[i], err = wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh),
			wrapper.WithTokenStore(wrapper.NewFileStore(path)), wrapper.WithClock(clock.Now))
		require.NoError(t, err)
	}
	const rounds = 5
	for round := range rounds {
		clock.Advance(time.Hour)
		var wg sync.WaitGroup
		errs := make([]error, 2*len(clients))
		for i := range errs {
			wg.Go(func() { errs[i] = me(t, clients[i%len(clients)], srv) })
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err, "round %d", round)
		}
		assert.Equal(t, round+1, srv.Requests(wrappertest.RefreshRoute), "one refresh per expiry, round %d", round)
	}
	stored, err := wrapper.NewFileStore(path).Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, srv.LastRefreshToken(), stored.RefreshToken)
}
