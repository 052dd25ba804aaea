package wrapper_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

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
		assert.Contains(t, err.Error(), "choose its API with WithBaseURL or $AISQUARE_API_URL")
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

// TestStoreOfAnotherAccountIsRefusedAtNew: WithTokens(Bob's pair) with a
// store that holds a pair of another user issued later (Alice's: two
// accounts, one default store). The newer pair is not a rotation of Bob's:
// New refuses, with an error matching ErrStoreMismatch that names no token,
// rather than act as Alice.
func TestStoreOfAnotherAccountIsRefusedAtNew(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	bobAccess, bobRefresh := srv.IssuePairAt(2, time.Now().Add(-time.Hour)) // Bob logged in an hour ago
	aliceAccess, aliceRefresh := srv.IssuePair(1)
	path := filepath.Join(t.TempDir(), "s", "session.json")
	require.NoError(t, wrapper.NewFileStore(path).Save(context.Background(), &oauth2.Token{AccessToken: aliceAccess, RefreshToken: aliceRefresh}))

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(bobAccess, bobRefresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	assert.Nil(t, c)
	assert.Contains(t, err.Error(), "another account's session")
	for _, tok := range []string{bobAccess, bobRefresh, aliceAccess, aliceRefresh} {
		assert.NotContains(t, err.Error(), tok)
	}
	stored, err := wrapper.NewFileStore(path).Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, aliceRefresh, stored.RefreshToken, "Alice's session is left in the store")

	// A newer login of Bob over Alice's older pair: Bob's, as before.
	bobAccess, bobRefresh = srv.IssuePairAt(2, time.Now().Add(time.Second))
	c, err = wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(bobAccess, bobRefresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(path)))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	got, err := c.AccessToken(context.Background())
	require.NoError(t, err)
	assert.Equal(t, bobAccess, got)
}
