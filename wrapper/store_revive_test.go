package wrapper_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// setSession saves a pair in the token file at path for the API at
// baseURL, as "aisquare session set --store path" saves a login made
// elsewhere: through a store of its own, bound to the API.
func setSession(t *testing.T, path, baseURL, access, refresh string) {
	t.Helper()
	store := wrapper.NewFileStore(path)
	require.NoError(t, store.Bind(context.Background(), baseURL))
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: access, RefreshToken: refresh}))
}

// deadService returns a token file that holds a pair of srv whose access
// token expired an hour ago and whose refresh token was spent elsewhere: a
// session on it dies at its first refresh.
func deadService(t *testing.T, srv *simplejwt.Server) (path string) {
	t.Helper()
	access, refresh := srv.PairIssuedAgo(t, time.Hour)
	path = filepath.Join(t.TempDir(), "session.json")
	setSession(t, path, srv.URL, access, refresh)
	other, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = other.RefreshToken(context.Background(), refresh)
	require.NoError(t, err)
	return path
}

// loadCounter is a file store that counts its loads, and fails them while
// fail is set.
type loadCounter struct {
	*wrapper.FileStore
	loads atomic.Int32
	fail  atomic.Bool
}

func (s *loadCounter) Load(ctx context.Context) (*oauth2.Token, error) {
	s.loads.Add(1)
	if s.fail.Load() {
		return nil, errors.New("token file unreadable")
	}
	return s.FileStore.Load(ctx)
}

// TestDeadSessionRevivesWithALoginSavedInItsFile: a service whose refresh
// token was spent elsewhere is dead; a new login saved in its token file,
// as "aisquare session set" saves one, revives it without a restart, and
// it sends no refresh for the new pair.
func TestDeadSessionRevivesWithALoginSavedInItsFile(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	path := deadService(t, srv)
	ctx := context.Background()
	evs := make(events, 16)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(wrapper.NewFileStore(path)),
		wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })

	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")
	require.ErrorIs(t, evs.next(t).Err, wrapper.ErrInvalidToken)
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")

	access, refresh := srv.Pair(t)
	setSession(t, path, srv.URL, access, refresh)
	require.Eventually(t, func() bool { return meCtx(ctx, c, srv.URL) == nil },
		10*time.Second, 50*time.Millisecond, "the service did not revive with the new login")
	ev := evs.next(t)
	assert.True(t, ev.Adopted, "the revival %+v is not an adoption", ev)
	assert.NoError(t, ev.Err)
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got, "the service does not use the new login")
	assert.Equal(t, 2, srv.RefreshRequests(t), "refreshes at the server: the one elsewhere and the service's refused one")
	stored, err := wrapper.NewFileStore(path).Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, refresh, stored.RefreshToken, "the new login was replaced")
}

// TestDeadSessionReadsItsStoreAtMostOnceASecond: while dead, a session
// reads its store again when a caller needs a token, at most once a
// second by its clock however many callers there are, and not before the
// wait after its failed refresh; a new pair found there revives it.
func TestDeadSessionReadsItsStoreAtMostOnceASecond(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	path := deadService(t, srv)
	ctx := context.Background()
	clock := newFakeClock()
	store := &loadCounter{FileStore: wrapper.NewFileStore(path)}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")

	// calls makes 20 calls at once, which all fail, and returns the loads
	// they made.
	calls := func(step string) int32 {
		t.Helper()
		before := store.loads.Load()
		var wg sync.WaitGroup
		for range 20 {
			wg.Go(func() {
				assert.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, step)
			})
		}
		wg.Wait()
		return store.loads.Load() - before
	}
	assert.Zero(t, calls("at once"), "the store was read again within the wait after the failed refresh")
	clock.Advance(2 * time.Second) // past that wait
	assert.Equal(t, int32(1), calls("2s later"), "the dead session did not read its store once")
	assert.Zero(t, calls("2s later, again"))
	clock.Advance(999 * time.Millisecond)
	assert.Zero(t, calls("2.999s later"), "the store was read again within a second")
	clock.Advance(time.Millisecond)
	assert.Equal(t, int32(1), calls("3s later"), "the store was not read again after a second")

	access, refresh := srv.Pair(t)
	setSession(t, path, srv.URL, access, refresh)
	assert.Zero(t, calls("with a new login saved"), "the store was read again within a second")
	clock.Advance(time.Second)
	require.NoError(t, meCtx(ctx, c, srv.URL), "the new login did not revive the session")
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got)
}

// TestDeadSessionStaysDeadWhileItsStoreFails: a dead session that cannot
// read its store again still answers that its refresh token was rejected,
// so that its callers know to log in again, and reads the store again a
// second later, when a new pair there revives it.
func TestDeadSessionStaysDeadWhileItsStoreFails(t *testing.T) {
	srv := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true})
	path := deadService(t, srv)
	ctx := context.Background()
	clock := newFakeClock()
	store := &loadCounter{FileStore: wrapper.NewFileStore(path)}
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokenStore(store), wrapper.WithClock(clock.Now))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken, "the service is not dead")

	clock.Advance(2 * time.Second)
	store.fail.Store(true)
	loads := store.loads.Load()
	err = meCtx(ctx, c, srv.URL)
	require.ErrorIs(t, err, wrapper.ErrInvalidToken, "a failed read of the store hid the rejection")
	assert.ErrorContains(t, err, "token file unreadable", "the error does not say why the session was not revived")
	require.Equal(t, loads+1, store.loads.Load(), "the dead session did not read its store")
	require.ErrorIs(t, meCtx(ctx, c, srv.URL), wrapper.ErrInvalidToken)

	store.fail.Store(false)
	access, refresh := srv.Pair(t)
	setSession(t, path, srv.URL, access, refresh)
	clock.Advance(time.Second)
	require.NoError(t, meCtx(ctx, c, srv.URL), "the new login did not revive the session a second after a failed read")
	got, err := c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got)
}
