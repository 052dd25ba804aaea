package session

import (
	"crypto/sha256"
	"slices"
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

// Token is a published pair and what the session knows of it: never
// modified, copied to change.
type Token struct {
	Access string        // "" if the session has none
	Header []string      // the Authorization header's value, shared: never modify it
	OAuth  *oauth2.Token // Access, shared by every caller

	refresh           string
	expiry            time.Time // the access token's; zero if unknown
	staleAt, expireAt time.Time // zero: never
	received          time.Time
	life              time.Duration       // expireAt - received; 0 if unknown
	iat               time.Time           // the refresh token's; zero if unreadable
	user              string              // the refresh token's user_id
	gen               uint64              // Set's count: a flight of an earlier gen is void
	holdUntil         time.Time           // before it, a 401 is the caller's answer
	rejectRun         int                 // refreshes in a row, to this one, that a 401 started
	rejected          bool                // a 401 made the session refresh it
	dead              error               // the answer once expired: no usable refresh token
	failures          int                 // failed flights in a row, to this one
	err               error               // the last failure's, answered until retryAt
	retryAt           time.Time           // before it, no flight starts
	spent             [][sha256.Size]byte // the last refresh tokens the session moved on from
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
	scheme := s.cfg.Scheme
	if c, err := claims.Parse(p.Access); err == nil {
		t.expiry = c.Expiry
	} else {
		scheme = "Bearer" // a token that is not a JWT, such as AISquare's "aisq_" ones
	}
	if t.staleAt, t.expireAt = refreshTimes(t.expiry, now, s.cfg.Margin, fromRefresh, u); !t.expireAt.IsZero() {
		t.life = t.expireAt.Sub(now)
	}
	if fromRefresh {
		t.holdUntil = holdAfter401(now, 0, t.life)
	}
	if p.Access != "" {
		t.Header = []string{scheme + " " + p.Access}[:1:1] // an append copies it
		t.OAuth = &oauth2.Token{AccessToken: p.Access, TokenType: scheme, Expiry: t.expiry}
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

// Refresh returns the refresh token.
func (t *Token) Refresh() string { return t.refresh }

func (t *Token) pair() *oauth2.Token {
	return &oauth2.Token{AccessToken: t.Access, RefreshToken: t.refresh, TokenType: "Bearer", Expiry: t.expiry}
}

// successor makes next, which replaces t and from (t, or the stored pair
// refreshed instead), remember the last eight refresh tokens the session
// moved on from, and carry t's gen.
func (t *Token) successor(next, from *Token) {
	next.gen, next.spent = t.gen, slices.Clone(t.spent)
	for _, b := range []*Token{t, from} {
		if h := sha256.Sum256([]byte(b.refresh)); b.refresh != "" && b.refresh != next.refresh && !slices.Contains(next.spent, h) {
			next.spent = append(next.spent, h)
		}
	}
	next.spent = next.spent[max(0, len(next.spent)-8):]
}

func otherAccount(a, b *Token) bool { return a.user != "" && b.user != "" && a.user != b.user }

// replacedBy reports whether o, read from the store, may replace t: another
// refresh token of the same account that the session never moved on from,
// issued no earlier unless t is dead. (SimpleJWT's iat has whole seconds: a
// rotation in t's second carries t's iat.)
func (t *Token) replacedBy(o *Token) bool {
	return o.refresh != "" && o.refresh != t.refresh && !otherAccount(o, t) &&
		!slices.Contains(t.spent, sha256.Sum256([]byte(o.refresh))) &&
		(t.dead != nil || !o.iat.IsZero() && !t.iat.IsZero() && !o.iat.Before(t.iat))
}
