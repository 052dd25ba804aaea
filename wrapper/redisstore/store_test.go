package redisstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/redistest"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// startRedis starts a real redis-server for the test and returns it with a
// client function: each call is a new client, as another replica would have.
func startRedis(t *testing.T) (*redistest.Server, func() *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	return srv, func() *redis.Client {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
}

// fakeJWT returns an unsigned JWT with the given claims: the store reads
// claims without verifying them.
func fakeJWT(typ string, iat, exp time.Time, jti string) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(map[string]any{"token_type": typ, "iat": iat.Unix(), "exp": exp.Unix(), "jti": jti})
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".c2lnbmF0dXJl"
}

// pair returns a token pair whose refresh token was issued at iat.
func pair(iat time.Time, jti string) *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  fakeJWT("access", iat, iat.Add(5*time.Minute), "a"+jti),
		RefreshToken: fakeJWT("refresh", iat, iat.Add(24*time.Hour), "r"+jti),
	}
}

// stored returns the key's raw JSON value.
func stored(t *testing.T, rdb *redis.Client, key string) map[string]any {
	t.Helper()
	data, err := rdb.Get(context.Background(), key).Bytes()
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
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

func TestCorruptValueIsAnErrorNamingTheKeyAndIsNeverOverwritten(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	const secret = "eyJsecret.part.here"
	for _, tc := range []struct {
		name string
		set  func(key string) error
	}{
		{"not JSON", func(k string) error { return rdb.Set(ctx, k, "<html>"+secret, 0).Err() }},
		{"truncated JSON", func(k string) error { return rdb.Set(ctx, k, `{"access":"`+secret+`","refre`, 0).Err() }},
		{"no refresh token", func(k string) error {
			return rdb.Set(ctx, k, `{"access":"`+secret+`","refresh":"","generation":3}`, 0).Err()
		}},
		{"a JSON array", func(k string) error { return rdb.Set(ctx, k, `["`+secret+`"]`, 0).Err() }},
		{"a hash", func(k string) error { return rdb.HSet(ctx, k, "access", secret).Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "corrupt:" + strings.ReplaceAll(tc.name, " ", "-")
			require.NoError(t, tc.set(key))
			dump := func() string { s, err := rdb.Dump(ctx, key).Result(); require.NoError(t, err); return s }
			before := dump()
			s := redisstore.New(client(), key)

			_, err := s.Load(ctx)
			require.ErrorIs(t, err, redisstore.ErrCorrupt)
			assert.Contains(t, err.Error(), key)
			assert.NotContains(t, err.Error(), secret)

			err = s.Save(ctx, pair(time.Now(), "new"))
			require.ErrorIs(t, err, redisstore.ErrCorrupt)

			unlock, err := s.Lock(ctx)
			require.NoError(t, err)
			_, err = s.Load(ctx)
			require.ErrorIs(t, err, redisstore.ErrCorrupt)
			require.ErrorIs(t, s.Save(ctx, pair(time.Now(), "new")), redisstore.ErrCorrupt)
			unlock()

			assert.Equal(t, before, dump(), "the corrupt value was overwritten")
		})
	}
}

func TestLoadRefusesTokensOfAnotherBaseURL(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	prod := redisstore.New(client(), "session")
	require.NoError(t, prod.Bind(ctx, "https://api.aisquare.studio"))
	require.NoError(t, prod.Save(ctx, pair(time.Now(), "1")))

	// A client of another API fails in New, before any request.
	_, err := wrapper.New(wrapper.WithBaseURL("https://stg-api.aisquare.studio"),
		wrapper.WithTokenStore(redisstore.New(client(), "session")))
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	assert.Contains(t, err.Error(), "https://api.aisquare.studio")
	assert.Contains(t, err.Error(), "https://stg-api.aisquare.studio")
	assert.Contains(t, err.Error(), `"session"`)

	_, err = redisstore.New(client(), "session").Load(ctx)
	assert.NoError(t, err, "a store bound to no base URL checks none")

	staging := redisstore.New(client(), "session")
	err = staging.Bind(ctx, "https://stg-api.aisquare.studio")
	require.ErrorIs(t, err, wrapper.ErrStoreMismatch)
	got, err := staging.BaseURL(ctx)
	require.NoError(t, err)
	assert.Equal(t, "https://api.aisquare.studio", got)

	again := redisstore.New(client(), "session")
	require.NoError(t, again.Bind(ctx, "https://api.aisquare.studio/"))
	require.ErrorIs(t, again.Bind(ctx, "https://stg-api.aisquare.studio"), wrapper.ErrStoreMismatch, "bound to another already")
	_, err = again.Load(ctx)
	require.NoError(t, err)
}

func TestBindRecordsTheBaseURLOfAnOlderPair(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	require.NoError(t, redisstore.New(client(), "session").Save(ctx, pair(time.Now(), "1")))
	assert.NotContains(t, stored(t, rdb, "session"), "base_url")

	s := redisstore.New(client(), "session")
	require.NoError(t, s.Bind(ctx, "https://api.aisquare.studio"))
	require.NoError(t, s.Save(ctx, pair(time.Now().Add(time.Second), "2")))
	assert.Equal(t, "https://api.aisquare.studio", stored(t, rdb, "session")["base_url"])
}

func TestLeaseExcludesOtherHoldersUntilReleased(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	a := redisstore.New(client(), "session")
	b := redisstore.New(client(), "session")

	unlock, err := a.Lock(ctx)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = b.Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "session:lease")

	unlock()
	unlock() // a second call is a no-op
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err, "the lease was not released")
	unlockB()
}

func TestLeaseExcludesOtherUsersOfTheSameStore(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	s := redisstore.New(client(), "session")
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = s.Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	unlock()
}

func TestLeaseIsRenewedWhileHeld(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	ttl := 300 * time.Millisecond
	a := redisstore.New(client(), "session", redisstore.WithLeaseTTL(ttl))
	unlock, err := a.Lock(ctx)
	require.NoError(t, err)
	defer unlock()

	// Held for more than three times its TTL, the lease is still there.
	wait, cancel := context.WithTimeout(ctx, 4*ttl)
	defer cancel()
	_, err = redisstore.New(client(), "session", redisstore.WithLeaseTTL(ttl)).Lock(wait)
	require.ErrorIs(t, err, context.DeadlineExceeded, "another holder took a lease that was renewed")
}

func TestLeaseOfAVanishedHolderLapses(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	// A holder that died: its lease has an owner nobody renews.
	require.NoError(t, rdb.Set(ctx, "session:lease", "dead-owner", 500*time.Millisecond).Err())

	start := time.Now()
	unlock, err := redisstore.New(client(), "session").Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "the lease was taken before it lapsed")
}

func TestLeaseIsReleasedOnlyByItsOwner(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	a := redisstore.New(client(), "session")
	unlockA, err := a.Lock(ctx)
	require.NoError(t, err)

	// A's lease lapses (as if it had been paused), and B takes it.
	require.NoError(t, rdb.Del(ctx, "session:lease").Err())
	b := redisstore.New(client(), "session")
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	owner, err := rdb.Get(ctx, "session:lease").Result()
	require.NoError(t, err)

	unlockA()
	got, err := rdb.Get(ctx, "session:lease").Result()
	require.NoError(t, err, "A released B's lease")
	assert.Equal(t, owner, got)
	unlockB()
	assert.Equal(t, int64(0), rdb.Exists(ctx, "session:lease").Val())
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

func TestSaveRefusesAPairWithoutARefreshToken(t *testing.T) {
	_, client := startRedis(t)
	s := redisstore.New(client(), "session")
	for _, tok := range []*oauth2.Token{nil, {AccessToken: "a"}, {AccessToken: "a", RefreshToken: "  "}} {
		assert.Error(t, s.Save(context.Background(), tok))
	}
}

func TestRedisUnreachableErrorsNameRedisAndTheKey(t *testing.T) {
	srv, client := startRedis(t)
	s := redisstore.New(client(), "session")
	srv.Stop()
	ctx := context.Background()
	p := pair(time.Now(), "1")

	_, err := s.Load(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis")
	assert.Contains(t, err.Error(), `"session"`)

	_, err = s.Lock(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis")

	err = s.Save(ctx, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis")
	for _, e := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", s, s, s)} {
		assert.NotContains(t, e, p.RefreshToken)
		assert.NotContains(t, e, p.AccessToken)
	}
}

func TestAPairRedisDidNotTakeIsSavedWhenRedisComesBack(t *testing.T) {
	srv, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	t0 := time.Now().Add(-time.Minute)
	s := redisstore.New(client(), "session")
	require.NoError(t, s.Save(ctx, pair(t0, "0")))

	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	_, err = s.Load(ctx)
	require.NoError(t, err)
	// The refresh rotated the pair; Redis goes away before the save.
	srv.Stop()
	rotated := pair(t0.Add(time.Second), "1")
	require.Error(t, s.Save(ctx, rotated))
	unlock()
	// The session tries again, outside the lease, while Redis is still down.
	require.Error(t, s.Save(ctx, rotated))

	srv.Start()
	// Another replica that takes the lease gets the rotated pair, not the
	// one its holder spent.
	b := redisstore.New(client(), "session")
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	got, err := b.Load(ctx)
	require.NoError(t, err)
	unlockB()
	assert.Equal(t, rotated.RefreshToken, got.RefreshToken, "the rotated pair was lost")
	assert.Equal(t, "2", stored(t, rdb, "session")["generation"])
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

func TestLeaseTTLIsTheTimeToLiveOfTheLease(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	assert.Equal(t, redisstore.DefaultLeaseTTL, redisstore.New(rdb, "k").LeaseTTL())
	assert.Equal(t, 3*time.Second, redisstore.New(rdb, "k", redisstore.WithLeaseTTL(3*time.Second)).LeaseTTL())
}

// TestAPairWithoutAGenerationIsGenerationZero: a file store's pair copied
// into the key (no "generation") is read and replaced as generation 0, so
// the refresh that spent its token saves what it rotated to.
func TestAPairWithoutAGenerationIsGenerationZero(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	old := pair(time.Now().Add(-time.Hour), "0")
	data, err := json.Marshal(map[string]string{"access": old.AccessToken, "refresh": old.RefreshToken})
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, "copied", data, 0).Err())

	s := redisstore.New(client(), "copied")
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	tok, err := s.Load(ctx)
	require.NoError(t, err)
	require.Equal(t, old.RefreshToken, tok.RefreshToken)
	next := pair(time.Now(), "1")
	require.NoError(t, s.Save(ctx, next))
	v := stored(t, rdb, "copied")
	assert.Equal(t, next.RefreshToken, v["refresh"])
	assert.Equal(t, "1", v["generation"])
}
