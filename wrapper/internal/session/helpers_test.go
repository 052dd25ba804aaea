package session

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

var (
	errInvalid  = errors.New("invalid token")
	errLost     = errors.New("answer lost")
	errNoTokens = errors.New("no tokens")
)

// clock is a clock the tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1_800_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

// access is an access token of user 1 that expires at exp.
func access(exp time.Time) string { return accessN(exp, 0) }

func accessN(exp time.Time, n int) string {
	return jwt(fmt.Sprintf(`{"token_type":"access","exp":%d,"iat":%d,"jti":"%d","user_id":1}`, exp.Unix(), exp.Add(-time.Hour).Unix(), n))
}

// refreshOf is a refresh token of user issued at iat, told apart by n.
func refreshOf(user int, iat time.Time, n int) string {
	return jwt(fmt.Sprintf(`{"token_type":"refresh","exp":%d,"iat":%d,"jti":"%d","user_id":%d}`,
		iat.Add(24*time.Hour).Unix(), iat.Unix(), n, user))
}

// server issues pairs of user 1 on clock: access tokens for life, a new
// refresh token each time if rotate. Its refresh function counts calls,
// rejects spent tokens when rotating, and fails with fail if set.
type server struct {
	clock  *clock
	life   time.Duration
	rotate bool
	delay  time.Duration

	mu    sync.Mutex
	n     int
	valid map[string]bool
	fail  error
	calls atomic.Int32
}

func newServer(c *clock, rotate bool) *server {
	return &server{clock: c, life: 10 * time.Minute, rotate: rotate, valid: map[string]bool{}}
}

// pair is a new login.
func (s *server) pair() Pair {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	r := refreshOf(1, s.clock.Now(), s.n)
	s.valid[r] = true
	return Pair{Access: accessN(s.clock.Now().Add(s.life), s.n), Refresh: r}
}

func (s *server) refresh(ctx context.Context, r string) (Pair, error) {
	s.calls.Add(1)
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return Pair{}, ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return Pair{}, s.fail
	}
	if !s.valid[r] {
		return Pair{}, fmt.Errorf("blacklisted: %w", errInvalid)
	}
	s.n++
	p := Pair{Access: accessN(s.clock.Now().Add(s.life), s.n)}
	if s.rotate {
		delete(s.valid, r)
		p.Refresh = refreshOf(1, s.clock.Now(), s.n)
		s.valid[p.Refresh] = true
	}
	return p, nil
}

func (s *server) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// memStore is a store in memory; its lock is a lease of life lease if lease
// is set (LeaseTTL), a plain lock otherwise.
type memStore struct {
	lock  sync.Mutex
	mu    sync.Mutex
	tok   *oauth2.Token
	loads atomic.Int32
	fail  error
}

func (m *memStore) Load(context.Context) (*oauth2.Token, error) {
	m.loads.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.tok, nil
}

func (m *memStore) Save(_ context.Context, tok *oauth2.Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.tok = tok
	return nil
}

func (m *memStore) Lock(context.Context) (func(), error) {
	m.lock.Lock()
	return m.lock.Unlock, nil
}

func (m *memStore) put(p Pair) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tok = &oauth2.Token{AccessToken: p.Access, RefreshToken: p.Refresh}
}

func (m *memStore) get() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok == nil {
		return ""
	}
	return m.tok.RefreshToken
}

// leaseStore is a memStore whose lock is a lease.
type leaseStore struct {
	*memStore
	ttl time.Duration
}

func (l leaseStore) LeaseTTL() time.Duration { return l.ttl }

// events collects a session's events.
type events chan Event

func (e events) next(t *testing.T) Event {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
		return Event{}
	}
}

// newSession starts a session on srv with given and the config edited by
// edit.
func newSession(t *testing.T, srv *server, given Pair, edit func(*Config)) (*Session, events) {
	t.Helper()
	evs := make(events, 100)
	cfg := Config{
		Refresh: srv.refresh, Margin: time.Minute, Now: srv.clock.Now, Scheme: "Bearer",
		Invalid: errInvalid, Lost: errLost, NoTokens: errNoTokens,
		OnEvent: func(ev Event) { evs <- ev },
	}
	if edit != nil {
		edit(&cfg)
	}
	s, err := New(context.Background(), cfg, given)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s, evs
}

func cancelled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
