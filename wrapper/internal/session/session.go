package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// Store keeps the pair (wrapper.TokenStore). A Locker is a store that
// processes share (wrapper.TokenLocker); one whose lock is a lease that
// lapses has a LeaseTTL() time.Duration method too.
type Store interface {
	Load(ctx context.Context) (*oauth2.Token, error)
	Save(ctx context.Context, tok *oauth2.Token) error
}
type Locker interface {
	Lock(ctx context.Context) (unlock func(), err error)
}

// Event is a flight that sent a refresh, logged in, adopted a stored pair,
// or failed trying. Err, with Expiry set, is the new pair's save error.
type Event struct {
	Background, Rotated, Adopted, Login bool
	Expiry                              time.Time
	Duration                            time.Duration
	Err                                 error
}

// Config configures a [Session]. Refresh spends a refresh token; the
// Refresh it returns is "" unless the server rotated it. Login, if not nil,
// gets a pair when there is no usable refresh token. Invalid matches the
// server's rejection of a refresh token, Lost a refresh whose request may
// have reached the server; NoTokens is the error of a session without a
// refresh token. Scheme prefixes Token.Header of a JWT, such as "Bearer";
// a token that is not a JWT goes as a Bearer token.
type Config struct {
	Refresh                 func(ctx context.Context, refresh string) (Pair, error)
	Login                   func(ctx context.Context) (Pair, error)
	Store                   Store // nil: none
	Margin                  time.Duration
	Now                     func() time.Time // nil: time.Now
	OnEvent                 func(Event)      // nil: none
	Scheme                  string
	Invalid, Lost, NoTokens error
}

// ErrOtherAccount is [New]'s error for a store that holds a newer pair of
// another account than the one given.
var ErrOtherAccount = errors.New("token store holds another account's session, issued after the tokens given")

// Session keeps an access token valid. It is safe for concurrent use.
type Session struct {
	cfg    Config
	now    func() time.Time
	grace  time.Duration // how long a rejected stored token waits for a newer pair
	cur    atomic.Pointer[Token]
	flight atomic.Pointer[flight] // set under mu
	last   atomic.Value           // the ended of the last flight started (chan struct{}), and nothing more of it
	stop   chan struct{}          // closed by Close
	close  func()
	mu     sync.Mutex
	saveMu sync.Mutex
}

// New starts a session with the newer (by iat) of given and the store's
// pair; on a tie given, which it then saves.
func New(ctx context.Context, cfg Config, given Pair) (*Session, error) {
	s := &Session{cfg: cfg, now: cfg.Now, stop: make(chan struct{})}
	s.close = sync.OnceFunc(func() { close(s.stop) })
	if s.now == nil {
		s.now = time.Now
	}
	if l, ok := cfg.Store.(interface{ LeaseTTL() time.Duration }); ok {
		s.grace = 2 * l.LeaseTTL()
	}
	t := s.newToken(given, s.now(), false, jitter())
	if cfg.Store != nil {
		tok, err := cfg.Store.Load(ctx)
		if err != nil {
			return nil, err
		}
		// The newer refresh token wins (an unreadable iat is never newer).
		if c := s.stored(tok); c != nil && (t.refresh == "" || c.iat.After(t.iat) && !t.iat.IsZero()) {
			if otherAccount(c, t) {
				return nil, ErrOtherAccount
			}
			t, given.Refresh = c, "" // nothing to save
		}
		if given.Refresh != "" {
			if err := cfg.Store.Save(ctx, t.pair()); err != nil {
				return nil, fmt.Errorf("wrapper: saving tokens: %w", err)
			}
		}
	}
	s.cur.Store(t)
	return s, nil
}

// Token returns a usable token: a fresh or stale one at once (a stale one
// starts the background refresh), else a flight's, waited for under ctx.
func (s *Session) Token(ctx context.Context) (*Token, error) {
	t := s.cur.Load()
	switch now := s.now(); t.phase(now) {
	case fresh:
		return t, nil
	case stale: // never waits for mu: its holder most likely starts this flight
		if t.dead == nil && s.flight.Load() == nil && !now.Before(t.retryAt) && s.mu.TryLock() {
			if s.flight.Load() == nil && s.cur.Load() == t {
				s.start(ctx, t, true)
			}
			s.mu.Unlock()
		}
		return t, nil
	}
	return s.renew(ctx, t)
}

// Peek returns the current token if it is valid by the clock, else nil; it
// never waits for a refresh, nor starts one.
func (s *Session) Peek() *Token {
	if t := s.cur.Load(); t.phase(s.now()) != expired {
		return t
	}
	return nil
}

// Refresh returns the refresh token the session holds, "" if none, valid
// or not.
func (s *Session) Refresh() string { return s.cur.Load().refresh }

// renew returns a usable token newer than t, which expired or was refused.
func (s *Session) renew(ctx context.Context, t *Token) (*Token, error) {
	for range 3 {
		f, cur, err := s.fly(ctx, t, false)
		if f == nil {
			return cur, err
		}
		if err := f.wait(ctx); err != nil {
			return nil, err // f's outcome is not to be read before done
		}
		if f.tok == nil {
			return nil, f.err
		}
		if t = f.tok; t.phase(s.now()) != expired {
			return t, nil
		}
	}
	return nil, errors.New("wrapper: no valid access token after three refreshes")
}

// fly returns the flight, joined, that replaces t, the current token or an
// older one: the flight in progress, or a new one unless a failure asks to
// wait or a dead session has nowhere to look. Without a flight, it returns
// the answer instead: a newer usable token, or an error. force starts a
// flight for a t that is still valid, if t's refresh token is the current
// one (else it returns nothing).
func (s *Session) fly(ctx context.Context, t *Token, force bool) (*flight, *Token, error) {
	if f := s.flight.Load(); f != nil && f.base == t && !force {
		f.join() // the burst of callers of an expired token takes no lock
		return f, nil, nil
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, f := s.cur.Load(), s.flight.Load()
	switch {
	case force && (cur.refresh != t.refresh || cur.dead != nil):
		return nil, nil, nil
	case !force && cur != t && cur.phase(now) != expired:
		return nil, cur, nil
	case f != nil:
	case !force && cur.err != nil && now.Before(cur.retryAt): // a failing server is not asked at request rate
		return nil, nil, cur.err
	case !force && cur.dead != nil && s.cfg.Login == nil && s.cfg.Store == nil:
		return nil, nil, cur.dead
	default:
		f = s.start(ctx, cur, false)
	}
	f.join()
	return f, nil, nil
}

// Rejected answers a 401 for t: nil and no error when the 401 is the
// caller's answer (t came from a refresh a moment ago, or has no refresh
// token and there is no Config.Login), else a newer token.
func (s *Session) Rejected(ctx context.Context, t *Token) (*Token, error) {
	if t.refresh == "" && s.cfg.Login == nil || s.now().Before(t.holdUntil) {
		return nil, nil
	}
	next := *t
	next.rejected = true
	if s.cur.CompareAndSwap(t, &next) {
		t = &next
	}
	return s.renew(ctx, t)
}

// Set replaces the pair and saves it. A flight in progress is void: its
// callers get this pair. If the save fails, the session uses the pair.
func (s *Session) Set(ctx context.Context, p Pair) error {
	t := s.newToken(p, s.now(), false, jitter())
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	t.gen = s.cur.Load().gen + 1
	s.cur.Store(t)
	s.mu.Unlock()
	if s.cfg.Store == nil {
		return nil
	}
	if err := s.cfg.Store.Save(ctx, t.pair()); err != nil {
		return fmt.Errorf("wrapper: saving tokens: %w", err)
	}
	return nil
}

// RefreshNow refreshes the session if refresh is its refresh token, sharing
// a flight in progress; ok is false otherwise. A refresh that Set overtook
// still answers with what it got for refresh.
func (s *Session) RefreshNow(ctx context.Context, refresh string) (next *Token, rotated, ok bool, err error) {
	for refresh != "" {
		f, _, _ := s.fly(ctx, &Token{refresh: refresh}, true)
		if f == nil {
			break
		}
		if err := f.wait(ctx); err != nil {
			return nil, false, true, err
		}
		if f.base.refresh == refresh {
			return f.next, f.next != nil && f.next.refresh != refresh, true, f.err
		}
	}
	return nil, false, false, nil
}

// Close waits for a flight in progress, so that a rotated pair reaches the
// store and its event is reported, and cuts short a wait for a pair that
// another replica may save. The session still works, without that wait. It
// must not be called from Config.Login, Config.OnEvent or the store's
// methods, which run in a flight.
func (s *Session) Close() {
	s.close()
	if ended, ok := s.last.Load().(chan struct{}); ok {
		<-ended
	}
}
