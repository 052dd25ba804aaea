package session

import (
	"crypto/sha256"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/claims"
)

// Pair is an access token and the refresh token that renews it. Expiry is
// the access token's when it is not a JWT; zero: from the JWT, or unknown.
type Pair struct {
	Access, Refresh string
	Expiry          time.Time
}

const (
	fresh = iota
	stale
	expired
)

// Token is a published pair: never modified, copied to change.
type Token struct {
	Access string        // "" if the session has none
	Header string        // the Authorization header for Access
	OAuth  *oauth2.Token // Access, shared by every caller

	refresh           string
	expiry            time.Time // the access token's; zero if unknown
	staleAt, expireAt time.Time // zero: never
	received          time.Time
	life              time.Duration // expireAt - received; 0 if unknown
	iat               time.Time     // the refresh token's; zero if unreadable
	user              string        // the refresh token's user_id
	holdUntil         time.Time     // before it, a 401 is the caller's answer
	rejectRun         int           // refreshes in a row, to this one, that a 401 started
	rejected          bool          // a 401 made the session refresh it
	dead              error         // the answer once expired: no usable refresh token
}

// newToken makes a token of p received now; fromRefresh says the server has
// just issued it; u places its refresh point (see [refreshTimes]).
func (s *Session) newToken(p Pair, now time.Time, fromRefresh bool, u float64) *Token {
	t := &Token{Access: p.Access, refresh: p.Refresh, expiry: p.Expiry, received: now}
	if c, err := claims.Parse(p.Refresh); err == nil {
		t.iat, t.user = c.IssuedAt, c.UserID
	}
	if p.Refresh == "" {
		t.dead = s.cfg.NoTokens
	}
	if c, err := claims.Parse(p.Access); err == nil {
		t.expiry = c.Expiry
	}
	if t.staleAt, t.expireAt = refreshTimes(t.expiry, now, s.cfg.Margin, fromRefresh, u); !t.expireAt.IsZero() {
		t.life = t.expireAt.Sub(now)
	}
	if fromRefresh {
		t.holdUntil = holdAfter401(now, 0, t.life)
	}
	if p.Access != "" {
		t.Header = s.cfg.Scheme + " " + p.Access
		t.OAuth = &oauth2.Token{AccessToken: p.Access, TokenType: s.cfg.Scheme, Expiry: t.expiry}
	}
	return t
}

func (t *Token) phase(now time.Time) int {
	switch {
	case t.Access == "" || t.rejected || !t.expireAt.IsZero() && !now.Before(t.expireAt):
		return expired
	case !t.staleAt.IsZero() && !now.Before(t.staleAt):
		return stale
	}
	return fresh
}

func (t *Token) pair() *oauth2.Token {
	return &oauth2.Token{AccessToken: t.Access, RefreshToken: t.refresh, TokenType: "Bearer", Expiry: t.expiry}
}

func (t *Token) hash() [sha256.Size]byte { return sha256.Sum256([]byte(t.refresh)) }

// newer reports whether a's refresh token was issued after b's; unreadable
// times are never newer, except than no token.
func newer(a, b *Token) bool {
	return b.refresh == "" && a.refresh != "" || !a.iat.IsZero() && !b.iat.IsZero() && a.iat.After(b.iat)
}

func otherAccount(a, b *Token) bool { return a.user != "" && b.user != "" && a.user != b.user }

// replaces reports whether stored may replace base: another refresh token of
// the same account, issued no earlier unless base is dead. (SimpleJWT's iat
// has whole seconds: a rotation in base's second carries base's iat.)
func replaces(stored, base *Token) bool {
	return stored.refresh != "" && stored.refresh != base.refresh && !otherAccount(stored, base) &&
		(base.dead != nil || !stored.iat.IsZero() && !base.iat.IsZero() && !stored.iat.Before(base.iat))
}

// Refresh returns the refresh token.
func (t *Token) Refresh() string { return t.refresh }
