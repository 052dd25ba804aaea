package session

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func itoa(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }

// TestLifetimeIgnoresIat: SimpleJWT copies the refresh token's iat into
// refreshed access tokens, so a token's window comes from its exp and the
// time it was received only.
func TestLifetimeIgnoresIat(t *testing.T) {
	s := &Session{cfg: Config{Margin: time.Minute, Scheme: "Bearer"}}
	now := time.Unix(1_800_000_000, 0)
	loginTwoMinutesAgo := jwt(`{"exp":` + itoa(now.Add(5*time.Second)) + `,"iat":` + itoa(now.Add(-2*time.Minute)) + `}`)
	tok := s.newToken(Pair{Access: loginTwoMinutesAgo, Refresh: "r"}, now, true, 0)
	assert.True(t, tok.staleAt.After(now.Add(2*time.Second)), "a 5 s token is fresh for its first half at least: staleAt %v after receipt", tok.staleAt.Sub(now))
	assert.Equal(t, fresh, tok.phase(now.Add(time.Second)))
	assert.Equal(t, []string{"Bearer " + loginTwoMinutesAgo}, tok.Header)
}

// TestJitterSpreadsRefreshes: sessions holding tokens with the same exp
// refresh at different moments, over at least a quarter of the window.
func TestJitterSpreadsRefreshes(t *testing.T) {
	s := &Session{cfg: Config{Margin: time.Minute}}
	now := time.Unix(1_800_000_000, 0)
	exp := now.Add(time.Hour)
	var first, last time.Time
	for i := range 1000 {
		tok := s.newToken(Pair{Access: access(exp), Refresh: "r"}, now, true, jitter())
		if i == 0 || tok.staleAt.Before(first) {
			first = tok.staleAt
		}
		last = later(last, tok.staleAt)
		assert.False(t, tok.staleAt.Before(exp.Add(-time.Minute)), "inside the window")
	}
	assert.GreaterOrEqual(t, last.Sub(first), time.Minute/4, "spread of 1,000 sessions")
}

// TestStoredPairRefreshesAtTheEndOfTheJitter: a pair another process
// refreshed and saved is refreshed at the latest point jitter allows, every
// time, so that the process that refreshed it goes first.
func TestStoredPairRefreshesAtTheEndOfTheJitter(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	s, _ := newSession(t, srv, srv.pair(), func(cfg *Config) { cfg.Store = store })
	exp := c.Now().Add(time.Hour)
	c.Advance(time.Second)
	store.put(Pair{Access: access(exp), Refresh: refreshOf(1, c.Now(), 99)})
	for range 50 {
		got, foreign, err := s.fromStore(context.Background(), s.cur.Load())
		require.NoError(t, err)
		require.False(t, foreign)
		require.NotNil(t, got, "the stored pair is newer")
		// The window is the margin, a minute; the jitter places the refresh
		// in its first half, and a stored pair at the end of that half.
		assert.Equal(t, exp.Add(-30*time.Second), got.staleAt)
		assert.Equal(t, exp, got.expireAt)
	}
}

func TestReplacedBy(t *testing.T) {
	s := &Session{cfg: Config{Margin: time.Minute, NoTokens: errNoTokens}}
	now := time.Unix(1_800_000_000, 0)
	tok := func(user int, iat time.Time, n int) *Token {
		return s.newToken(Pair{Access: access(now.Add(time.Hour)), Refresh: refreshOf(user, iat, n)}, now, false, 0)
	}
	base := tok(1, now, 1)
	assert.True(t, base.replacedBy(tok(1, now.Add(time.Second), 2)), "issued later")
	assert.True(t, base.replacedBy(tok(1, now, 2)), "the same second: a rotation of base, most likely")
	assert.False(t, base.replacedBy(tok(1, now.Add(-time.Second), 2)), "issued earlier")
	assert.False(t, base.replacedBy(tok(1, now, 1)), "the same token")
	assert.False(t, base.replacedBy(tok(2, now.Add(time.Second), 2)), "another account")
	assert.False(t, base.replacedBy(s.newToken(Pair{Access: "a", Refresh: "opaque"}, now, false, 0)), "unreadable iat")

	next := tok(1, now.Add(time.Second), 2)
	base.successor(next, base)
	assert.False(t, next.replacedBy(base), "a token the session moved on from")

	dead := *base
	dead.dead = errInvalid
	assert.True(t, dead.replacedBy(tok(1, now.Add(-time.Second), 3)), "a dead session takes any other pair of its account")
	assert.False(t, dead.replacedBy(tok(2, now, 3)), "but not another account's")
}

// TestSuccessorRemembersEightSpentTokens: the memory of spent refresh
// tokens is bounded.
func TestSuccessorRemembersEightSpentTokens(t *testing.T) {
	s := &Session{cfg: Config{Margin: time.Minute}}
	now := time.Unix(1_800_000_000, 0)
	cur := s.newToken(Pair{Refresh: refreshOf(1, now, 0)}, now, false, 0)
	var all []*Token
	for i := 1; i <= 20; i++ {
		next := s.newToken(Pair{Refresh: refreshOf(1, now, i)}, now, false, 0)
		cur.successor(next, cur)
		all, cur = append(all, cur), next
	}
	assert.Len(t, cur.spent, 8)
	assert.False(t, cur.replacedBy(all[len(all)-1]), "the last one moved on from")
}

// TestSchemeIsForJWTs: the spec's scheme (here SimpleJWT's "JWT") prefixes
// a JWT; a token that is not one, such as AISquare's "aisq_" keys, goes as a
// Bearer token, as the services that issue them expect.
func TestSchemeIsForJWTs(t *testing.T) {
	s := &Session{cfg: Config{Margin: time.Minute, Scheme: "JWT"}}
	now := time.Unix(1_800_000_000, 0)
	jwtTok := s.newToken(Pair{Access: access(now.Add(time.Hour))}, now, false, 0.5)
	assert.Equal(t, []string{"JWT " + jwtTok.Access}, jwtTok.Header)
	const key = "aisq_Zx9KqP3mN7vB2wR5tY8uI1oL4aS6dF0gH3jK5lQ7e"
	opaque := s.newToken(Pair{Access: key}, now, false, 0.5)
	assert.Equal(t, []string{"Bearer " + key}, opaque.Header)
}
