package wrapper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
)

// DefaultRefreshMargin is how long before its expiry an access token is
// refreshed, unless [WithRefreshMargin] sets another. For a token that lives
// less than twice the margin, half its lifetime is the margin.
const DefaultRefreshMargin = time.Minute

// refreshTimeout bounds a shared refresh, which runs on after the callers
// waiting for it give up.
const refreshTimeout = time.Minute

// ErrNoTokens is returned by a session that has no refresh token: a client
// made with neither [WithTokens] nor a [TokenStore] that holds tokens, before
// [Client.SetTokens] is called.
var ErrNoTokens = errors.New("wrapper: no tokens: log in and call SetTokens")

// tokenState is one generation of a session's tokens. Only due changes
// after it is made.
type tokenState struct {
	access, refresh string
	expiry          time.Time // the access token's exp claim; zero if unreadable
	refreshAt       time.Time // when to refresh: the expiry less the margin
	expiryErr       error     // why refreshAt is zero, if the expiry is unreadable
	bearer          string    // the Authorization header, built once
	oauth           *oauth2.Token
	dead            error // the rejection of the refresh token, if it was rejected

	// due turns true at refreshAt, set by timer, when the session reads the
	// real clock: so a valid token costs no clock read, which is most of
	// the time a token lookup would take.
	due   atomic.Bool
	timer *time.Timer
}

func newTokenState(access, refresh string, margin time.Duration) *tokenState {
	st := &tokenState{access: access, refresh: refresh}
	if access == "" {
		return st
	}
	c, err := parseClaims(access)
	if err != nil {
		st.expiryErr = err
	} else {
		if !c.IssuedAt.IsZero() {
			margin = min(margin, c.Expiry.Sub(c.IssuedAt)/2)
		}
		st.expiry = c.Expiry
		st.refreshAt = c.Expiry.Add(-margin)
	}
	st.bearer = "Bearer " + access
	st.oauth = &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: st.expiry}
	return st
}

func (st *tokenState) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: st.access, RefreshToken: st.refresh, TokenType: "Bearer", Expiry: st.expiry}
}

// session keeps an access token valid. Reading a fresh token takes no lock;
// a refresh is shared by every caller that needs it at the same time.
type session struct {
	refresh func(ctx context.Context, refresh string) (*api.TokenRefresh, error)
	store   TokenStore // nil if none
	margin  time.Duration
	now     func() time.Time // nil: the real clock, read through timers

	cur atomic.Pointer[tokenState]

	mu     sync.Mutex // guards flight and the publication of a new state
	flight *flight    // the refresh in progress, if any

	locking atomic.Bool // the refresh in progress waits for the store's lock
}

// flight is one refresh, whose result every waiting caller gets.
type flight struct {
	done chan struct{}
	st   *tokenState
	err  error
}

// token returns a fresh token, refreshing it first if it is due.
func (s *session) token(ctx context.Context) (*tokenState, error) {
	st := s.cur.Load()
	if s.fresh(st) {
		return st, nil
	}
	return s.renew(ctx, st)
}

// renew returns a newer state than stale: one another caller already got, or
// the result of a refresh, started now or joined. stale is the state the
// caller found expired, or whose access token the server refused.
func (s *session) renew(ctx context.Context, stale *tokenState) (*tokenState, error) {
	s.mu.Lock()
	cur := s.cur.Load()
	if cur != stale && s.fresh(cur) {
		s.mu.Unlock()
		return cur, nil
	}
	if cur.dead != nil {
		s.mu.Unlock()
		return nil, cur.dead
	}
	f := s.flight
	if f == nil {
		f = &flight{done: make(chan struct{})}
		s.flight = f
		// The refresh outlives a caller who gives up: the others still wait
		// for it, and a rotated token must reach the store.
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		go func() {
			defer cancel()
			s.run(rctx, f, cur)
		}()
	}
	s.mu.Unlock()

	select {
	case <-f.done:
		if f.err != nil {
			return nil, f.err
		}
		return f.st, nil
	case <-ctx.Done():
		if s.locking.Load() {
			return nil, fmt.Errorf("wrapper: waiting for the token store's lock, which another client or process holds: %w", ctx.Err())
		}
		return nil, ctx.Err()
	}
}

func (s *session) run(ctx context.Context, f *flight, base *tokenState) {
	st, err := s.exchange(ctx, base)
	s.mu.Lock()
	// Tokens set by SetTokens during the refresh win over its result.
	if st != nil && s.cur.Load() == base {
		s.publish(st)
	}
	s.flight = nil
	s.mu.Unlock()
	f.st, f.err = st, err
	close(f.done)
}

// exchange spends base's refresh token for a new state, unless the store
// holds newer tokens. A non-nil state with an error is the newest state all
// the same: a dead session, or tokens the store failed to save.
func (s *session) exchange(ctx context.Context, base *tokenState) (*tokenState, error) {
	if l, ok := s.store.(TokenLocker); ok {
		s.locking.Store(true)
		unlock, err := l.Lock(ctx)
		s.locking.Store(false)
		if err != nil {
			return nil, fmt.Errorf("wrapper: locking token store: %w", err)
		}
		defer unlock()
	}
	stored, err := s.newerInStore(ctx, base)
	if err != nil {
		return nil, err
	}
	if stored != nil {
		// Another process rotated the tokens: with a blacklist, ours is
		// spent, and theirs may need no refresh at all.
		if s.fresh(stored) {
			return stored, nil
		}
		base = stored
	}
	if base.refresh == "" {
		return nil, ErrNoTokens
	}

	tok, err := s.refresh(ctx, base.refresh)
	if errors.Is(err, ErrAnswerLost) {
		// The server may have rotated our refresh token and the answer is
		// gone; another process may hold what it rotated to.
		if stored, _ := s.newerInStore(ctx, base); stored != nil {
			return stored, nil
		}
	}
	if err != nil {
		if base.expiryErr != nil {
			err = fmt.Errorf("%w (the access token was treated as expired: %v)", err, base.expiryErr)
		}
		if errors.Is(err, ErrInvalidToken) {
			return &tokenState{access: base.access, refresh: base.refresh, dead: err}, err
		}
		return nil, err
	}
	next := s.newState(tok.Access, cmp.Or(tok.Refresh, base.refresh))
	if s.store != nil {
		if err := s.store.Save(ctx, next.token()); err != nil {
			return next, fmt.Errorf("wrapper: saving refreshed tokens: %w", err)
		}
	}
	return next, nil
}

// newerInStore returns the store's tokens if they are not base's, or nil.
func (s *session) newerInStore(ctx context.Context, base *tokenState) (*tokenState, error) {
	if s.store == nil {
		return nil, nil
	}
	stored, err := s.store.Load(ctx)
	if err != nil {
		return nil, fmt.Errorf("wrapper: re-reading token store: %w", err)
	}
	if stored == nil || stored.RefreshToken == "" || stored.RefreshToken == base.refresh {
		return nil, nil
	}
	return s.newState(stored.AccessToken, stored.RefreshToken), nil
}

// newState makes a state of the tokens and, on the real clock, sets the
// timer that marks it due.
func (s *session) newState(access, refresh string) *tokenState {
	st := newTokenState(access, refresh, s.margin)
	if s.now == nil && !st.refreshAt.IsZero() {
		if d := time.Until(st.refreshAt); d > 0 {
			st.timer = time.AfterFunc(d, func() { st.due.Store(true) })
		} else {
			st.due.Store(true)
		}
	}
	return st
}

// fresh reports whether st's access token can be used without a refresh.
func (s *session) fresh(st *tokenState) bool {
	switch {
	case st.dead != nil || st.refreshAt.IsZero():
		return false
	case s.now != nil:
		return s.now().Before(st.refreshAt)
	default:
		return !st.due.Load()
	}
}

// publish makes st the current state and stops the timer of the one it
// replaces; s.mu is held.
func (s *session) publish(st *tokenState) {
	if old := s.cur.Swap(st); old != nil && old.timer != nil {
		old.timer.Stop()
	}
}

// wait waits for the refresh in progress, if any.
func (s *session) wait() {
	s.mu.Lock()
	f := s.flight
	s.mu.Unlock()
	if f != nil {
		<-f.done
	}
}

// set replaces the session's tokens and saves them.
func (s *session) set(ctx context.Context, access, refresh string) error {
	st := s.newState(access, refresh)
	s.mu.Lock()
	s.publish(st)
	s.mu.Unlock()
	if s.store != nil {
		if err := s.store.Save(ctx, st.token()); err != nil {
			return fmt.Errorf("wrapper: saving tokens: %w", err)
		}
	}
	return nil
}

// tokenSource is the [oauth2.TokenSource] of a session.
type tokenSource struct{ s *session }

func (ts tokenSource) Token() (*oauth2.Token, error) {
	if ts.s == nil {
		return nil, ErrNoTokens
	}
	st, err := ts.s.token(context.Background())
	if err != nil {
		return nil, err
	}
	return st.oauth, nil
}
