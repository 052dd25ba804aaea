package wrapper

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// oneTokenStore holds one pair.
type oneTokenStore struct{ tok *oauth2.Token }

func (s *oneTokenStore) Load(context.Context) (*oauth2.Token, error)     { return s.tok, nil }
func (s *oneTokenStore) Save(_ context.Context, tok *oauth2.Token) error { s.tok = tok; return nil }

// TestAdoptedPairRefreshesAtTheEndOfTheJitter: a pair another process
// refreshed and saved is refreshed at the latest point jitter allows, every
// time, so that the process that refreshed it goes first.
func TestAdoptedPairRefreshesAtTheEndOfTheJitter(t *testing.T) {
	now := time.Now().Truncate(time.Second)
	exp := now.Add(time.Hour)
	refresh := func(iat time.Time) string {
		return testJWT(`{"token_type":"refresh","exp":` + itoa(iat.Add(24*time.Hour).Unix()) + `,"iat":` + itoa(iat.Unix()) + `,"jti":"r","user_id":1}`)
	}
	base := newState(signedLooking(t, now.Add(time.Minute), now.Add(-time.Hour)), refresh(now.Add(-time.Hour)), now, time.Minute, false)
	store := &oneTokenStore{tok: &oauth2.Token{AccessToken: signedLooking(t, exp, now), RefreshToken: refresh(now)}}
	s := &session{store: store, margin: time.Minute, now: func() time.Time { return now }}

	for range 50 {
		st, foreign, err := s.newerInStore(context.Background(), base)
		require.NoError(t, err)
		require.False(t, foreign)
		require.NotNil(t, st, "the stored pair is newer")
		// The window is the margin, a minute; the jitter places the refresh
		// in its first half, and an adopted pair at the end of that half.
		assert.Equal(t, exp.Add(-30*time.Second), st.staleAt)
		assert.Equal(t, exp, st.expireAt)
	}
}
