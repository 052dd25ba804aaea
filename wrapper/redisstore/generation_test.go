package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// plant sets key to p with the generation gen, raw JSON text, as another
// program (or an earlier version) may have written it.
func plant(t *testing.T, rdb *redis.Client, key string, p *oauth2.Token, gen string) {
	t.Helper()
	data := fmt.Sprintf(`{"access":%q,"refresh":%q,"generation":%s}`, p.AccessToken, p.RefreshToken, gen)
	require.NoError(t, rdb.Set(context.Background(), key, data, 0).Err())
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

func TestAStoredGenerationIsFollowedByTheNextAsAString(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	for _, tc := range []struct{ stored, next string }{
		{`0`, "1"},
		{`41`, "42"},
		{`9007199254740991`, "9007199254740992"},
		{`"9223372036854775806"`, "9223372036854775807"},
	} {
		t.Run(tc.stored, func(t *testing.T) {
			key := "gen:" + tc.stored
			plant(t, rdb, key, pair(time.Now().Add(-time.Hour), "0"), tc.stored)
			s := redisstore.New(client(), key)
			unlock, err := s.Lock(ctx)
			require.NoError(t, err)
			defer unlock()
			_, err = s.Load(ctx)
			require.NoError(t, err)
			require.NoError(t, s.Save(ctx, pair(time.Now(), "1")))
			assert.Equal(t, tc.next, stored(t, rdb, key)["generation"])
		})
	}
}

// TestKeysAreReadByTheirExactNames: a value whose keys differ from the
// store's only by case ("Refresh", "GENERATION", as another program may
// write them) is read as the save script reads it: those keys are not the
// store's, and a save under the lease follows the generation it names
// exactly.
func TestKeysAreReadByTheirExactNames(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	old := pair(time.Now().Add(-time.Hour), "0")
	data := fmt.Sprintf(`{"access":%q,"refresh":%q,"generation":"41","Refresh":"not-the-stores","GENERATION":"7"}`,
		old.AccessToken, old.RefreshToken)
	require.NoError(t, rdb.Set(ctx, "cased", data, 0).Err())
	s := redisstore.New(client(), "cased")
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	tok, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, old.RefreshToken, tok.RefreshToken)
	require.NoError(t, s.Save(ctx, pair(time.Now(), "1")), "the script fences on the generation Load read")
	assert.Equal(t, "42", stored(t, rdb, "cased")["generation"])
}

func TestNoSaveFollowsTheLastGeneration(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	plant(t, rdb, "session", pair(time.Now().Add(-time.Hour), "0"), `"9223372036854775807"`)
	before := rdb.Dump(ctx, "session").Val()
	s := redisstore.New(client(), "session")
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	_, err = s.Load(ctx)
	require.NoError(t, err)
	require.ErrorIs(t, s.Save(ctx, pair(time.Now(), "1")), redisstore.ErrCorrupt)
	assert.Equal(t, before, rdb.Dump(ctx, "session").Val())
}

func TestAGenerationThatIsNotAnIntegerIsCorruptInGoAndInLua(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	p := pair(time.Now().Add(-time.Hour), "0")
	for _, gen := range []string{
		`null`, `-1`, `1.5`, `9007199254740992`, `1e300`, `true`, `{}`, `[1]`,
		`""`, `"x"`, `"01"`, `"+1"`, `" 1"`, `"-1"`, `"1.0"`, `"9223372036854775808"`,
	} {
		t.Run(gen, func(t *testing.T) {
			key := "gen:" + gen
			dump := func() string { s, err := rdb.Dump(ctx, key).Result(); require.NoError(t, err); return s }

			// Read in Go: Load refuses it, under the lease too, so no refresh
			// spends the pair's token.
			plant(t, rdb, key, p, gen)
			before := dump()
			s := redisstore.New(client(), key)
			_, err := s.Load(ctx)
			require.ErrorIs(t, err, redisstore.ErrCorrupt)
			assert.Contains(t, err.Error(), fmt.Sprintf("%q", key))
			assert.Contains(t, err.Error(), "generation")
			assert.NotContains(t, err.Error(), p.RefreshToken)
			require.ErrorIs(t, s.Save(ctx, pair(time.Now(), "new")), redisstore.ErrCorrupt)
			unlock, err := s.Lock(ctx)
			require.NoError(t, err)
			_, err = s.Load(ctx)
			require.ErrorIs(t, err, redisstore.ErrCorrupt)
			unlock()
			assert.Equal(t, before, dump(), "the corrupt value was overwritten")

			// Read in Lua: it comes after a sound pair was loaded, and the
			// fenced save refuses it.
			plant(t, rdb, key, p, `"5"`)
			unlock, err = s.Lock(ctx)
			require.NoError(t, err)
			defer unlock()
			_, err = s.Load(ctx)
			require.NoError(t, err)
			plant(t, rdb, key, p, gen)
			before = dump()
			require.ErrorIs(t, s.Save(ctx, pair(time.Now(), "new")), redisstore.ErrCorrupt)
			assert.Equal(t, before, dump(), "the fenced save overwrote the corrupt value")
		})
	}
}

// TestASessionNeverRefreshesFromANullGeneration: the session re-reads the
// store under the lease before it refreshes; a generation the save would
// refuse stops it there, before it spends the refresh token.
func TestASessionNeverRefreshesFromANullGeneration(t *testing.T) {
	_, client := startRedis(t)
	api := simplejwt.Start(t, simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: time.Minute})
	rdb := client()
	access, refresh := api.PairIssuedAgo(t, 2*time.Minute) // the access token has expired
	p := &oauth2.Token{AccessToken: access, RefreshToken: refresh}
	plant(t, rdb, "session", p, `1`)
	c, err := wrapper.New(wrapper.WithBaseURL(api.URL), wrapper.WithTokenStore(redisstore.New(client(), "session")))
	require.NoError(t, err)

	plant(t, rdb, "session", p, `null`)
	_, err = c.TokenSource().Token()
	require.ErrorIs(t, err, redisstore.ErrCorrupt)
	assert.Zero(t, api.RefreshRequests(t), "the session spent the refresh token of a pair it cannot save over")
	assert.Equal(t, refresh, stored(t, rdb, "session")["refresh"])

	_, err = wrapper.New(wrapper.WithBaseURL(api.URL), wrapper.WithTokenStore(redisstore.New(client(), "session")))
	require.ErrorIs(t, err, redisstore.ErrCorrupt, "a new client started from it")
}

// TestAGenerationPast2To53FencesAStaleSave: as doubles, 2^53 and 2^53+1
// are equal, and a save refreshed from the one would pass for a save over
// the other. The key starts one generation short, written as an earlier
// version wrote it, or near the last generation.
func TestAGenerationPast2To53FencesAStaleSave(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	t0 := time.Now().Add(-time.Hour)
	for _, gen := range []string{`9007199254740991`, `"9223372036854775805"`} {
		t.Run(gen, func(t *testing.T) {
			key := "gen:" + gen
			plant(t, rdb, key, pair(t0, "0"), gen)
			save := func(s *redisstore.Store, p *oauth2.Token) error {
				unlock, err := s.Lock(ctx)
				require.NoError(t, err)
				defer unlock()
				_, err = s.Load(ctx)
				require.NoError(t, err)
				return s.Save(ctx, p)
			}
			require.NoError(t, save(redisstore.New(client(), key), pair(t0.Add(time.Second), "1")))

			a := redisstore.New(client(), key)
			unlockA, err := a.Lock(ctx)
			require.NoError(t, err)
			defer unlockA()
			_, err = a.Load(ctx)
			require.NoError(t, err)
			loaded := stored(t, rdb, key)["generation"]

			// A's lease lapses; B takes it and saves.
			require.NoError(t, rdb.Del(ctx, key+":lease").Err())
			pb := pair(t0.Add(2*time.Second), "b")
			require.NoError(t, save(redisstore.New(client(), key), pb))
			next := stored(t, rdb, key)["generation"]

			err = a.Save(ctx, pair(t0.Add(3*time.Second), "a"))
			require.ErrorIs(t, err, redisstore.ErrConflict, "a save refreshed from generation %v landed over %v", loaded, next)
			assert.Contains(t, err.Error(), fmt.Sprintf("generation %v", next))
			assert.Equal(t, pb.RefreshToken, stored(t, rdb, key)["refresh"], "A overwrote B's pair")
		})
	}
}
