package session

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFlightCarriesTheCallersValues: a refresh runs with the values of the
// caller that started it, such as its trace, and outlives its cancel.
func TestFlightCarriesTheCallersValues(t *testing.T) {
	type key struct{}
	c := newClock()
	srv := newServer(c, false)
	seen := make(chan any, 1)
	s, _ := newSession(t, srv, srv.pair(), func(cfg *Config) {
		cfg.Refresh = func(ctx context.Context, r string) (Pair, error) {
			seen <- ctx.Value(key{})
			return srv.refresh(ctx, r)
		}
	})
	c.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "the caller's trace"))
	_, err := s.Token(ctx)
	require.NoError(t, err)
	cancel()
	assert.Equal(t, "the caller's trace", <-seen)
}

// TestAdoptsAStoredPairUnderTheLock: another process refreshed and saved;
// the session takes its pair instead of spending its own refresh token,
// and says so in its event.
func TestAdoptsAStoredPairUnderTheLock(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	s, evs := newSession(t, srv, srv.pair(), func(cfg *Config) { cfg.Store = store })
	c.Advance(time.Hour)
	other := srv.pair() // saved by another process
	store.put(other)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, other.Access, tok.Access)
	assert.Zero(t, srv.calls.Load(), "no refresh sent")
	ev := evs.next(t)
	assert.True(t, ev.Adopted)
	assert.False(t, ev.Rotated)
	assert.NoError(t, ev.Err)
}

// TestRefreshesAStoredPairThatIsDue: the store's newer pair is due too: the
// session refreshes that one, not its own spent token.
func TestRefreshesAStoredPairThatIsDue(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	s, evs := newSession(t, srv, srv.pair(), func(cfg *Config) { cfg.Store = store })
	c.Advance(time.Second)
	other := srv.pair()
	store.put(other)
	c.Advance(time.Hour)
	_, err := s.Token(context.Background())
	require.NoError(t, err)
	ev := evs.next(t)
	require.NoError(t, ev.Err)
	assert.True(t, ev.Rotated)
	assert.False(t, ev.Adopted)
	assert.NotEqual(t, other.Refresh, store.get(), "saved the rotation of the stored pair")
}

// TestDeadSessionReadsItsStoreOnceASecond: a dead session answers at once
// with its rejection, reads its store at most once a second, and a new
// login saved there revives it.
func TestDeadSessionReadsItsStoreOnceASecond(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	given := srv.pair()
	s, evs := newSession(t, srv, given, func(cfg *Config) { cfg.Store = store })
	_, err := srv.refresh(context.Background(), given.Refresh) // spent elsewhere
	require.NoError(t, err)
	srv.calls.Store(0)
	c.Advance(time.Hour)
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, errInvalid)
	require.ErrorIs(t, evs.next(t).Err, errInvalid)
	c.Advance(time.Minute) // past the backoff

	loads := store.loads.Load()
	for range 20 {
		_, err = s.Token(context.Background())
		require.ErrorIs(t, err, errInvalid)
		c.Advance(100 * time.Millisecond)
	}
	assert.LessOrEqual(t, store.loads.Load()-loads, int32(3), "20 calls over 2 s: a read a second")
	assert.Equal(t, int32(1), srv.calls.Load(), "a dead session sends no refresh")

	login := srv.pair()
	store.put(login) // aisquare-go session set
	c.Advance(time.Second)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, login.Access, tok.Access, "revived")
	assert.True(t, evs.next(t).Adopted)
}

// TestDeadWithoutAStoreFailsFast: no store, no login: the rejection is the
// answer, with no refresh and no flight.
func TestDeadWithoutAStoreFailsFast(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	given := srv.pair()
	s, _ := newSession(t, srv, given, nil)
	_, err := srv.refresh(context.Background(), given.Refresh)
	require.NoError(t, err)
	c.Advance(time.Hour)
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, errInvalid)
	c.Advance(time.Hour)
	for range 5 {
		_, err = s.Token(context.Background())
		require.ErrorIs(t, err, errInvalid)
	}
	assert.Equal(t, int32(2), srv.calls.Load())
}

// TestGraceAdoptsAPairThatLandsLate: a refresh token read from a leased
// store is rejected because another replica spent it and lost its lease
// before saving; the session waits for the grace period, and takes the pair
// when it lands, with its callers still waiting.
func TestGraceAdoptsAPairThatLandsLate(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := leaseStore{&memStore{}, 500 * time.Millisecond}
	given := srv.pair()
	store.put(given)
	s, evs := newSession(t, srv, Pair{}, func(cfg *Config) { cfg.Store = store })
	c.Advance(time.Hour)
	landed, err := srv.refresh(context.Background(), given.Refresh) // the other replica
	require.NoError(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond)
		store.put(landed)
	}()
	tok, err := s.Token(context.Background())
	require.NoError(t, err, "the session died although the pair landed within the grace period")
	assert.Equal(t, landed.Access, tok.Access)
	assert.True(t, evs.next(t).Adopted)
}

// TestGraceEnds: the rejected token is still in the store after the grace
// period: the session is dead.
func TestGraceEnds(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := leaseStore{&memStore{}, 100 * time.Millisecond}
	given := srv.pair()
	store.put(given)
	s, _ := newSession(t, srv, Pair{}, func(cfg *Config) { cfg.Store = store })
	_, err := srv.refresh(context.Background(), given.Refresh)
	require.NoError(t, err)
	c.Advance(time.Hour)
	start := time.Now()
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, errInvalid)
	assert.GreaterOrEqual(t, time.Since(start), 200*time.Millisecond, "it waited for the grace period")
}

// TestLoginOnceForAllWaiters: a session with no tokens logs in once for the
// callers waiting at that moment, saves the pair and goes on.
func TestLoginOnceForAllWaiters(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	var logins atomic.Int32
	s, evs := newSession(t, srv, Pair{}, func(cfg *Config) {
		cfg.Store = store
		cfg.Login = func(context.Context) (Pair, error) {
			logins.Add(1)
			time.Sleep(50 * time.Millisecond)
			return srv.pair(), nil
		}
	})
	var wg sync.WaitGroup
	for range 30 {
		wg.Go(func() {
			_, err := s.Token(context.Background())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, int32(1), logins.Load())
	assert.NotEmpty(t, store.get(), "saved")
	assert.True(t, evs.next(t).Login)
}

// TestLoginAfterAFinalRejection: a refresh token spent elsewhere makes the
// session log in, and the caller gets the new token.
func TestLoginAfterAFinalRejection(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	given := srv.pair()
	var logins atomic.Int32
	s, _ := newSession(t, srv, given, func(cfg *Config) {
		cfg.Login = func(context.Context) (Pair, error) { logins.Add(1); return srv.pair(), nil }
	})
	_, err := srv.refresh(context.Background(), given.Refresh)
	require.NoError(t, err)
	c.Advance(time.Hour)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, given.Access, tok.Access)
	assert.Equal(t, int32(1), logins.Load())
}

// TestFailingLoginBacksOff: a failing login is returned wrapped, and tried
// again no sooner than a failed refresh would be.
func TestFailingLoginBacksOff(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	var logins atomic.Int32
	wrong := errors.New("wrong password")
	s, _ := newSession(t, srv, Pair{}, func(cfg *Config) {
		cfg.Login = func(context.Context) (Pair, error) { logins.Add(1); return Pair{}, wrong }
	})
	for range 5 {
		_, err := s.Token(context.Background())
		require.ErrorIs(t, err, wrong)
		assert.Contains(t, err.Error(), "logging in")
	}
	assert.Equal(t, int32(1), logins.Load())
	c.Advance(2 * retryFloor)
	_, err := s.Token(context.Background())
	require.ErrorIs(t, err, wrong)
	assert.Equal(t, int32(2), logins.Load())
}

// TestForeignStoredPairIsLeftAlone: the store holds another account's pair:
// the session refreshes its own, and says so if that fails.
func TestForeignStoredPairIsLeftAlone(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	given := srv.pair()
	s, _ := newSession(t, srv, given, func(cfg *Config) { cfg.Store = store })
	c.Advance(time.Second)
	store.put(Pair{Access: "a", Refresh: refreshOf(2, c.Now(), 7)})
	_, err := srv.refresh(context.Background(), given.Refresh)
	require.NoError(t, err)
	c.Advance(time.Hour)
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, errInvalid)
	assert.Contains(t, err.Error(), "another account's session")
}

// TestSaveErrorIsReported: a pair that cannot be saved is used all the same,
// and its event says why it was not saved.
func TestSaveErrorIsReported(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	s, evs := newSession(t, srv, srv.pair(), func(cfg *Config) { cfg.Store = store })
	store.fail = errors.New("disk full")
	c.Advance(time.Hour)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	ev := evs.next(t)
	assert.ErrorContains(t, ev.Err, "wrapper: saving refreshed tokens: disk full")
	assert.Equal(t, tok.expiry, ev.Expiry)
}

// TestSetEndsTheGrace: Set while a flight waits out the grace period for a
// pair another replica may save: the flight ends, and its callers get the
// pair Set gave, long before the ten minutes of grace.
func TestSetEndsTheGrace(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := leaseStore{&memStore{}, 5 * time.Minute}
	given := srv.pair()
	store.put(given)
	s, _ := newSession(t, srv, Pair{}, func(cfg *Config) { cfg.Store = store })
	_, err := srv.refresh(context.Background(), given.Refresh) // the other replica, which never saves
	require.NoError(t, err)
	c.Advance(time.Hour)
	got := make(chan string, 1)
	go func() {
		tok, err := s.Token(context.Background())
		assert.NoError(t, err)
		if tok != nil {
			got <- tok.Access
		}
	}()
	require.Eventually(t, func() bool { return srv.calls.Load() == 2 }, 10*time.Second, time.Millisecond, "the session's refresh was rejected")
	set := srv.pair()
	require.NoError(t, s.Set(context.Background(), set))
	select {
	case access := <-got:
		assert.Equal(t, set.Access, access)
	case <-time.After(time.Minute):
		t.Fatal("the caller still waits out the grace period after Set")
	}
}

// TestNoLoginAfterSet: Set while a refresh that the server rejects is in
// flight: the session takes the pair Set gave, and does not log in.
func TestNoLoginAfterSet(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	srv.delay = 200 * time.Millisecond
	given := srv.pair()
	var logins atomic.Int32
	s, _ := newSession(t, srv, given, func(cfg *Config) {
		cfg.Login = func(context.Context) (Pair, error) { logins.Add(1); return srv.pair(), nil }
	})
	_, err := srv.refresh(context.Background(), given.Refresh) // spent elsewhere
	require.NoError(t, err)
	c.Advance(time.Hour)
	got := make(chan string, 1)
	go func() {
		tok, err := s.Token(context.Background())
		assert.NoError(t, err)
		if tok != nil {
			got <- tok.Access
		}
	}()
	require.Eventually(t, func() bool { return srv.calls.Load() == 2 }, 10*time.Second, time.Millisecond)
	set := srv.pair()
	require.NoError(t, s.Set(context.Background(), set))
	assert.Equal(t, set.Access, <-got)
	assert.Zero(t, logins.Load(), "Set gave a pair: no login")
}

// TestAccessOnlyLoginIsNotSaved: a login that gives an access token alone
// (an API key) is used but not saved: a store holds pairs, and another
// process could not refresh it.
func TestAccessOnlyLoginIsNotSaved(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	const key = "aisq_Zx9KqP3mN7vB2wR5tY8uI1oL4aS6dF0gH3jK5lQ7e"
	s, evs := newSession(t, srv, Pair{}, func(cfg *Config) {
		cfg.Store = store
		cfg.Login = func(context.Context) (Pair, error) { return Pair{Access: key}, nil }
	})
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, key, tok.Access)
	ev := evs.next(t)
	assert.True(t, ev.Login)
	assert.NoError(t, ev.Err)
	store.mu.Lock()
	defer store.mu.Unlock()
	assert.Nil(t, store.tok, "nothing saved")
}

// TestGraceAfterSet: the grace period holds for a session whose pair came
// from Set, when the stored pair it refreshes instead was spent by another
// replica that saves what it got late.
func TestGraceAfterSet(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := leaseStore{&memStore{}, 500 * time.Millisecond}
	s, evs := newSession(t, srv, Pair{}, func(cfg *Config) { cfg.Store = store })
	p1 := srv.pair()
	require.NoError(t, s.Set(context.Background(), p1))
	c.Advance(time.Hour)
	p2, err := srv.refresh(context.Background(), p1.Refresh) // another replica, which saves
	require.NoError(t, err)
	store.put(p2)
	c.Advance(time.Hour)
	p3, err := srv.refresh(context.Background(), p2.Refresh) // and again, saving late
	require.NoError(t, err)
	go func() {
		time.Sleep(300 * time.Millisecond)
		store.put(p3)
	}()
	tok, err := s.Token(context.Background())
	require.NoError(t, err, "the session died although the pair landed within the grace period")
	assert.Equal(t, p3.Access, tok.Access)
	assert.True(t, evs.next(t).Adopted)
}

// TestSetWhileAFlightWaitsForTheLock: a flight waits for the store's lock;
// Set gives a refresh token alone (its access token due at once). The
// flight, overtaken, must not spend that token once it reads it from the
// store: the session goes on with it.
func TestSetWhileAFlightWaitsForTheLock(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	store := &memStore{}
	s, _ := newSession(t, srv, srv.pair(), func(cfg *Config) { cfg.Store = store })
	c.Advance(time.Hour) // the pair expired: the next caller starts a flight

	store.lock.Lock() // another process holds the store's lock a moment
	got := make(chan error, 1)
	go func() { _, err := s.Token(context.Background()); got <- err }()
	require.Eventually(t, func() bool { return s.flight.Load() != nil }, 10*time.Second, time.Millisecond)
	p := srv.pair()
	p.Access = ""
	require.NoError(t, s.Set(context.Background(), p))
	store.lock.Unlock()

	require.NoError(t, <-got)
	srv.mu.Lock()
	valid := srv.valid[s.Refresh()]
	srv.mu.Unlock()
	assert.True(t, valid, "the session holds a refresh token the server still takes")
	assert.Equal(t, s.Refresh(), store.get())
	c.Advance(time.Minute)
	_, err := s.Token(context.Background())
	require.NoError(t, err)
}

// TestConcurrentUseLeavesTheSessionAlive: Token, Rejected, RefreshNow, Set,
// Close and a moving clock at once, on a server that rotates and refuses
// spent tokens, with a locking store. Afterwards the session is alive, the
// store holds its pair, and the server takes its refresh token.
func TestConcurrentUseLeavesTheSessionAlive(t *testing.T) {
	for round := range 20 {
		c := newClock()
		srv := newServer(c, true)
		srv.delay = time.Millisecond
		store := &memStore{}
		s, _ := newSession(t, srv, srv.pair(), func(cfg *Config) {
			cfg.Store = store
			cfg.OnEvent = nil
		})
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 50 {
					switch rand.N(6) {
					case 0:
						c.Advance(time.Duration(rand.N(20)) * time.Minute)
					case 1:
						if tok, err := s.Token(context.Background()); err == nil && rand.N(2) == 0 {
							_, _ = s.Rejected(context.Background(), tok)
						}
					case 2:
						_, _, _, _ = s.RefreshNow(context.Background(), s.Refresh())
					case 3:
						if rand.N(5) == 0 {
							_ = s.Set(context.Background(), srv.pair())
						}
					case 4:
						if rand.N(10) == 0 {
							s.Close()
						}
					default:
						_ = s.Peek()
						_, _ = s.Token(context.Background())
					}
				}
			})
		}
		wg.Wait()
		s.Close()
		cur := s.cur.Load()
		require.Nil(t, cur.dead, "round %d: the session died", round)
		assert.Equal(t, s.Refresh(), store.get(), "round %d: the store holds another pair", round)
		srv.mu.Lock()
		valid := srv.valid[s.Refresh()]
		srv.mu.Unlock()
		assert.True(t, valid, "round %d: the session holds a spent token", round)
		c.Advance(time.Hour)
		_, err := s.Token(context.Background())
		require.NoError(t, err, "round %d", round)
	}
}
