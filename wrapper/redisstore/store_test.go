package redisstore_test

import (
	"context"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

func TestNewPanicsOnMisuse(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	assert.Panics(t, func() { redisstore.New(nil, "k") })
	assert.Panics(t, func() { redisstore.New(rdb, "") })
	assert.Panics(t, func() { redisstore.WithLeaseTTL(time.Millisecond) })
}

func TestNewRefusesAKeyThatIsAnotherFleetsLease(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	assert.PanicsWithValue(t,
		`redisstore: New: key "svc:lease" ends in ":lease", so it is the lease of the fleet on key "svc"; choose a key that does not end in ":lease"`,
		func() { redisstore.New(rdb, "svc:lease") })
	assert.NotPanics(t, func() { redisstore.New(rdb, "svc:lease:v2") })
}

func TestFleetsOnKeysWithACommonPrefixTouchNoKeyOfTheOther(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	keys := func() []string { k := rdb.Keys(ctx, "*").Val(); slices.Sort(k); return k }
	t0 := time.Now().Add(-time.Minute)
	saved := map[string]*oauth2.Token{}
	var unlocks []func()
	for i, key := range []string{"svc", "svc2"} {
		s := redisstore.New(client(), key)
		unlock, err := s.Lock(ctx)
		require.NoError(t, err, "the lease of %q is another's", key)
		unlocks = append(unlocks, unlock)
		_, err = s.Load(ctx)
		require.NoError(t, err)
		saved[key] = pair(t0.Add(time.Duration(i)*time.Second), key)
		require.NoError(t, s.Save(ctx, saved[key]))
	}
	assert.Equal(t, []string{"svc", "svc2", "svc2:lease", "svc:lease"}, keys())
	for key, p := range saved {
		assert.Equal(t, p.RefreshToken, stored(t, rdb, key)["refresh"], "key %q", key)
	}
	for _, unlock := range unlocks {
		unlock()
	}
	assert.Equal(t, []string{"svc", "svc2"}, keys())
}

func TestImportingWrapperDoesNotCompileGoRedis(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/aisquare-studio/aisquare-go/wrapper").CombinedOutput()
	require.NoError(t, err, "%s", out)
	deps := string(out)
	require.Contains(t, deps, "golang.org/x/oauth2", "go list printed no dependencies")
	assert.NotContains(t, deps, "github.com/redis/go-redis")

	out, err = exec.Command("go", "list", "-deps", "github.com/aisquare-studio/aisquare-go/wrapper/redisstore").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "github.com/redis/go-redis", "the check above would pass whatever wrapper imports")
}

func TestLoadOfAMissingKeyIsNoTokens(t *testing.T) {
	_, client := startRedis(t)
	tok, err := redisstore.New(client(), "session").Load(context.Background())
	require.NoError(t, err)
	assert.Nil(t, tok)
}

func TestSaveStoresOneJSONValueThatExpiresWithTheRefreshToken(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	s := redisstore.New(rdb, "session")
	require.NoError(t, s.Bind(ctx, "https://api.example.com/"))
	p := pair(time.Now(), "1")
	require.NoError(t, s.Save(ctx, p))

	v := stored(t, rdb, "session")
	assert.Equal(t, map[string]any{
		"access": p.AccessToken, "refresh": p.RefreshToken,
		"base_url": "https://api.example.com", "generation": "1",
	}, v)
	ttl, err := rdb.PTTL(ctx, "session").Result()
	require.NoError(t, err)
	assert.InDelta(t, (24 * time.Hour).Seconds(), ttl.Seconds(), 5, "key TTL = %v; want the refresh token's remaining life, 24h", ttl)

	got, err := redisstore.New(client(), "session").Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, p.AccessToken, got.AccessToken)
	assert.Equal(t, p.RefreshToken, got.RefreshToken)
	assert.Equal(t, "Bearer", got.TokenType)

	require.NoError(t, s.Save(ctx, pair(time.Now().Add(time.Second), "2")))
	assert.Equal(t, "2", stored(t, rdb, "session")["generation"], "each save is a new generation")
}

func TestSaveRefusesAPairWithoutARefreshToken(t *testing.T) {
	_, client := startRedis(t)
	s := redisstore.New(client(), "session")
	for _, tok := range []*oauth2.Token{nil, {AccessToken: "a"}, {AccessToken: "a", RefreshToken: "  "}} {
		assert.Error(t, s.Save(context.Background(), tok))
	}
}

func TestSaveUnderTheLeaseAdvancesItsGeneration(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	s := redisstore.New(client(), "session")
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	tok, err := s.Load(ctx)
	require.NoError(t, err)
	require.Nil(t, tok)
	require.NoError(t, s.Save(ctx, pair(time.Now(), "1")))
	require.NoError(t, s.Save(ctx, pair(time.Now(), "2")), "a second save under the same lease is over the first")
}

func TestSaveUnderALapsedLeaseCannotOverwriteANewerPair(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	t0 := time.Now().Add(-time.Minute)
	require.NoError(t, redisstore.New(client(), "session").Save(ctx, pair(t0, "0")))

	a := redisstore.New(client(), "session")
	unlockA, err := a.Lock(ctx)
	require.NoError(t, err)
	_, err = a.Load(ctx)
	require.NoError(t, err)

	// A is paused past its lease; B takes the lease and saves what it
	// refreshed.
	require.NoError(t, rdb.Del(ctx, "session:lease").Err())
	b := redisstore.New(client(), "session")
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	_, err = b.Load(ctx)
	require.NoError(t, err)
	pb := pair(t0.Add(time.Second), "b")
	require.NoError(t, b.Save(ctx, pb))
	unlockB()

	// A wakes with a pair refreshed from generation 1, issued even later.
	pa := pair(t0.Add(2*time.Second), "a")
	err = a.Save(ctx, pa)
	require.ErrorIs(t, err, redisstore.ErrConflict)
	assert.Contains(t, err.Error(), "generation 2")
	unlockA()
	// Nor does a retry of the same save outside the lease land, though its
	// refresh token is the newest by iat.
	require.ErrorIs(t, a.Save(ctx, pa), redisstore.ErrConflict)

	v := stored(t, rdb, "session")
	assert.Equal(t, pb.RefreshToken, v["refresh"], "A overwrote B's pair")
	assert.Equal(t, "2", v["generation"])
}

func TestSaveOutsideTheLeaseNeverReplacesANewerRefreshToken(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	s := redisstore.New(client(), "session")
	t0 := time.Now().Add(-time.Hour)
	newest := pair(t0.Add(2*time.Minute), "2")
	require.NoError(t, s.Save(ctx, newest))

	err := s.Save(ctx, pair(t0.Add(time.Minute), "1"))
	require.ErrorIs(t, err, redisstore.ErrConflict)
	assert.Equal(t, newest.RefreshToken, stored(t, rdb, "session")["refresh"])

	require.NoError(t, s.Save(ctx, newest), "saving the stored pair again")
	assert.Equal(t, "1", stored(t, rdb, "session")["generation"], "an unchanged pair is not a new generation")

	login := pair(t0.Add(3*time.Minute), "3")
	require.NoError(t, s.Save(ctx, login))
	assert.Equal(t, login.RefreshToken, stored(t, rdb, "session")["refresh"])
}

func TestAFencedSaveWhoseAnswerWasLostSucceeds(t *testing.T) {
	srv, client := startRedis(t)
	ctx := context.Background()
	proxy := newDropProxy(t, srv.Addr, `"generation":`)
	rdb := redis.NewClient(&redis.Options{Addr: proxy.l.Addr().String()})
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, "session")
	t0 := time.Now().Add(-time.Minute)
	// Redis caches the script here: the save below is one EVALSHA.
	require.NoError(t, s.Save(ctx, pair(t0, "0")))

	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	_, err = s.Load(ctx)
	require.NoError(t, err)
	proxy.armed.Store(true)
	p1 := pair(t0.Add(time.Second), "1")
	require.NoError(t, s.Save(ctx, p1), "go-redis repeated the save, which found its own pair")
	require.Equal(t, int32(1), proxy.dropped.Load(), "no answer was lost: the test tested nothing")
	v := stored(t, client(), "session")
	assert.Equal(t, p1.RefreshToken, v["refresh"])
	assert.Equal(t, "2", v["generation"])

	p2 := pair(t0.Add(2*time.Second), "2")
	require.NoError(t, s.Save(ctx, p2), "the next save under the lease is not over the generation the first one wrote")
	unlock()
	assert.Equal(t, int64(0), client().Exists(ctx, "session:lease").Val(), "the lease is kept for a save still pending")
	v = stored(t, client(), "session")
	assert.Equal(t, p2.RefreshToken, v["refresh"])
	assert.Equal(t, "3", v["generation"])
}

func TestSavedPairsSurviveARedisRestart(t *testing.T) {
	srv, client := startRedis(t)
	ctx := context.Background()
	s := redisstore.New(client(), "session")
	p := pair(time.Now(), "1")
	require.NoError(t, s.Save(ctx, p))
	srv.Restart()
	got, err := s.Load(ctx)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, p.RefreshToken, got.RefreshToken)
}
