package session

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestStates steps through a token's life: fresh (used, no refresh), stale
// (used at once while one refresh runs in the background), expired (callers
// wait for the refresh, each under its own context).
func TestStates(t *testing.T) {
	c := newClock()
	srv := newServer(c, false)
	given := srv.pair()
	s, evs := newSession(t, srv, given, nil)

	c.Advance(9 * time.Minute)
	tok, err := s.Token(cancelled())
	require.NoError(t, err)
	assert.Equal(t, given.Access, tok.Access, "fresh")
	assert.Zero(t, srv.calls.Load())

	c.Advance(45 * time.Second) // past the refresh point, wherever jitter put it
	for range 50 {
		tok, err = s.Token(cancelled())
		require.NoError(t, err, "a stale token comes at once")
		assert.Equal(t, given.Access, tok.Access)
	}
	ev := evs.next(t)
	assert.True(t, ev.Background)
	assert.NoError(t, ev.Err)
	assert.Equal(t, int32(1), srv.calls.Load(), "one background refresh for all of them")
	renewed, err := s.Token(cancelled())
	require.NoError(t, err)
	assert.NotEqual(t, given.Access, renewed.Access)

	srv.delay = 50 * time.Millisecond
	c.Advance(11 * time.Minute)
	_, err = s.Token(cancelled())
	assert.ErrorIs(t, err, context.Canceled, "an expired token: a caller that cannot wait gets its context's error")
	tok, err = s.Token(context.Background())
	require.NoError(t, err)
	assert.NotEqual(t, renewed.Access, tok.Access)
	assert.False(t, evs.next(t).Background, "a caller waited")
}

// TestOneFlightForManyCallers: callers of an expired token share one refresh.
func TestOneFlightForManyCallers(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	srv.delay = 20 * time.Millisecond
	s, _ := newSession(t, srv, srv.pair(), nil)
	c.Advance(time.Hour)
	var wg sync.WaitGroup
	got := make([]string, 200)
	for i := range got {
		wg.Go(func() {
			tok, err := s.Token(context.Background())
			assert.NoError(t, err)
			got[i] = tok.Access
		})
	}
	wg.Wait()
	for _, a := range got {
		assert.Equal(t, got[0], a)
	}
	assert.Equal(t, int32(1), srv.calls.Load())
}

// TestPeek: an optional-auth request gets the token only while it is valid,
// and never waits for or starts a refresh.
func TestPeek(t *testing.T) {
	c := newClock()
	srv := newServer(c, false)
	given := srv.pair()
	s, _ := newSession(t, srv, given, nil)
	require.NotNil(t, s.Peek())
	c.Advance(9*time.Minute + 50*time.Second) // stale
	require.NotNil(t, s.Peek(), "stale is still valid")
	c.Advance(time.Minute) // expired
	assert.Nil(t, s.Peek())
	assert.Zero(t, srv.calls.Load(), "no refresh started")
}

// TestRejectedHoldOff: a 401 for a token from a refresh a moment ago is the
// caller's answer; a second later it makes the session refresh, and a
// server that refuses every token gets fewer refreshes each time.
func TestRejectedHoldOff(t *testing.T) {
	c := newClock()
	srv := newServer(c, false)
	s, _ := newSession(t, srv, Pair{Refresh: srv.pair().Refresh}, nil)
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	require.Equal(t, int32(1), srv.calls.Load())

	next, err := s.Rejected(context.Background(), tok)
	require.NoError(t, err)
	assert.Nil(t, next, "a token from a refresh a moment ago: the 401 is the answer")

	c.Advance(minTokenAge)
	next, err = s.Rejected(context.Background(), tok)
	require.NoError(t, err)
	require.NotNil(t, next)
	assert.NotEqual(t, tok.Access, next.Access)
	assert.Equal(t, int32(2), srv.calls.Load())
	assert.Equal(t, 1, next.rejectRun)

	c.Advance(minTokenAge)
	again, err := s.Rejected(context.Background(), next)
	require.NoError(t, err)
	assert.Nil(t, again, "the second 401-started refresh in a row waits longer than a second")
}

// TestBackoff: a failed refresh is tried again no sooner than its backoff;
// meanwhile callers of an expired token get its error at once.
func TestBackoff(t *testing.T) {
	c := newClock()
	srv := newServer(c, false)
	s, evs := newSession(t, srv, srv.pair(), nil)
	srv.setFail(assert.AnError)
	c.Advance(time.Hour)
	for range 5 {
		_, err := s.Token(context.Background())
		assert.ErrorIs(t, err, assert.AnError)
	}
	assert.Equal(t, int32(1), srv.calls.Load(), "not at request rate")
	assert.ErrorIs(t, evs.next(t).Err, assert.AnError)

	srv.setFail(nil)
	c.Advance(2 * retryFloor)
	_, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int32(2), srv.calls.Load())
}

// TestLostAnswerIsNeverRetried: a refresh whose answer may be lost is not
// sent again by the same flight; the session keeps its valid token.
func TestLostAnswerIsNeverRetried(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	given := srv.pair()
	s, evs := newSession(t, srv, given, nil)
	srv.setFail(errLost)
	c.Advance(9*time.Minute + 50*time.Second) // stale
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, given.Access, tok.Access)
	assert.ErrorIs(t, evs.next(t).Err, errLost)
	assert.Equal(t, int32(1), srv.calls.Load())
	tok, err = s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, given.Access, tok.Access, "still valid: no logout")
}

// TestSetOvertakesAFlight: Set during a refresh: the flight's result is
// neither used nor saved, and its callers get the pair Set set.
func TestSetOvertakesAFlight(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	srv.delay = 200 * time.Millisecond
	store := &memStore{}
	s, _ := newSession(t, srv, srv.pair(), func(cfg *Config) { cfg.Store = store })
	c.Advance(time.Hour)
	got := make(chan string)
	go func() {
		tok, err := s.Token(context.Background())
		assert.NoError(t, err)
		got <- tok.Access
	}()
	require.Eventually(t, func() bool { return srv.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	set := srv.pair()
	require.NoError(t, s.Set(context.Background(), set))
	assert.Equal(t, set.Access, <-got)
	s.Close()
	assert.Equal(t, set.Refresh, store.get())
	tok, err := s.Token(context.Background())
	require.NoError(t, err)
	assert.Equal(t, set.Access, tok.Access)
}

// TestRefreshNow: a refresh of the session's own token shares the flight in
// progress; another token is not the session's.
func TestRefreshNow(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	srv.delay = 100 * time.Millisecond
	given := srv.pair()
	s, _ := newSession(t, srv, given, nil)
	c.Advance(time.Hour)
	tokens := make(chan string, 1)
	go func() {
		tok, err := s.Token(context.Background())
		assert.NoError(t, err)
		tokens <- tok.Access
	}()
	require.Eventually(t, func() bool { return srv.calls.Load() == 1 }, 5*time.Second, time.Millisecond)
	next, rotated, ok, err := s.RefreshNow(context.Background(), given.Refresh)
	require.NoError(t, err)
	require.True(t, ok)
	assert.True(t, rotated)
	assert.Equal(t, <-tokens, next.Access)
	assert.Equal(t, int32(1), srv.calls.Load())

	_, _, ok, _ = s.RefreshNow(context.Background(), given.Refresh)
	assert.False(t, ok, "the spent token is no longer the session's")
}

// TestNewTakesTheNewerPair: between the pair given and the store's, the
// refresh token issued later wins; a tie goes to the pair given, which is
// saved; a newer pair of another account is an error.
func TestNewTakesTheNewerPair(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	old := srv.pair()
	c.Advance(time.Second)
	fresh := srv.pair()
	for _, tc := range []struct {
		name          string
		stored, given Pair
		want          string
	}{
		{"a login over an older stored pair", old, fresh, fresh.Access},
		{"a stored pair newer than the one given", fresh, old, fresh.Access},
		{"a tie: the given pair", fresh, Pair{Access: "a", Refresh: fresh.Refresh}, "a"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := &memStore{}
			store.put(tc.stored)
			s, _ := newSession(t, srv, tc.given, func(cfg *Config) { cfg.Store = store })
			assert.Equal(t, tc.want, s.cur.Load().Access)
		})
	}
	store := &memStore{}
	store.put(Pair{Access: "a", Refresh: refreshOf(2, c.Now().Add(time.Minute), 9)})
	_, err := New(context.Background(), Config{Store: store, Now: c.Now}, old)
	assert.ErrorIs(t, err, ErrOtherAccount)
}

// TestNoGoroutineLeft: a session whose flights ended leaves no goroutine.
func TestNoGoroutineLeft(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	c := newClock()
	srv := newServer(c, true)
	s, _ := newSession(t, srv, srv.pair(), nil)
	c.Advance(9*time.Minute + 50*time.Second)
	_, err := s.Token(context.Background()) // starts a background flight
	require.NoError(t, err)
	s.Close()
}

// TestCallerGivesUpOnAFailingFlight: a caller whose context ends returns
// its context's error, without reading the outcome the flight has yet to
// write (the race detector's test).
func TestCallerGivesUpOnAFailingFlight(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	s, _ := newSession(t, srv, srv.pair(), nil)
	s.cfg.Refresh = func(context.Context, string) (Pair, error) {
		time.Sleep(10 * time.Millisecond) // unordered with the caller's return
		return Pair{}, errLost
	}
	c.Advance(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Token(ctx)
	require.ErrorIs(t, err, context.Canceled)
	s.Close() // waits for the flight
	_, err = s.Token(context.Background())
	require.ErrorIs(t, err, errLost, "the flight's failure, until its retry time")
}

// TestCloseWaitsForTheEvents: Close returns once every flight started
// before it has reported its event, and events come in the flights' order.
func TestCloseWaitsForTheEvents(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	var mu sync.Mutex
	var got []bool // each event's Background
	s, _ := newSession(t, srv, srv.pair(), func(cfg *Config) {
		cfg.OnEvent = func(ev Event) {
			if !ev.Background {
				time.Sleep(20 * time.Millisecond) // the first event is slow to report
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, ev.Background)
		}
	})
	c.Advance(time.Hour) // expired: the first flight, waited for
	_, err := s.Token(context.Background())
	require.NoError(t, err)
	c.Advance(9*time.Minute + 50*time.Second) // stale: the second, in the background
	_, err = s.Token(context.Background())
	require.NoError(t, err)
	s.Close()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []bool{false, true}, got)
}

// TestAnEndedFlightKeepsNothingOfItsCaller: once a flight has ended, the
// session holds nothing of the context of the caller that started it.
func TestAnEndedFlightKeepsNothingOfItsCaller(t *testing.T) {
	c := newClock()
	srv := newServer(c, true)
	s, _ := newSession(t, srv, srv.pair(), nil)
	c.Advance(time.Hour)
	collected := make(chan struct{})
	func() {
		type key struct{}
		value := new([1 << 16]byte)
		runtime.AddCleanup(value, func(chan struct{}) { close(collected) }, collected)
		_, err := s.Token(context.WithValue(context.Background(), key{}, value))
		require.NoError(t, err)
	}()
	s.Close()
	require.Eventually(t, func() bool {
		runtime.GC()
		select {
		case <-collected:
			return true
		default:
			return false
		}
	}, 10*time.Second, 10*time.Millisecond)
}
