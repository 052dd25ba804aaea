package session

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// flight is a refresh, login or store read whose result callers share.
type flight struct {
	ctx        context.Context // the values of the caller that started it, such as a trace
	done       chan struct{}
	ended      chan struct{} // closed after done, once its event is reported
	prev       chan struct{} // the ended of the flight before it, whose event goes first
	base       *Token        // the token it replaces: the one current at its start
	urgent     chan struct{} // a background flight's: closed when a caller joins
	joined     atomic.Bool
	background bool
	// Its outcome, set before done: next (nil on failure) for from, which is
	// base or a stored pair refreshed instead; tok, the current token after
	// it, nil on failure.
	from, next, tok      *Token
	adopted, login, idle bool  // next came from the store; Login ran; nothing was tried
	err, saveErr, dead   error // dead: the server's final rejection of from
}

// flightKey marks the context of a flight with its session.
type flightKey struct{}

// InFlight reports whether ctx is that of one of s's flights, such as the
// context Config.Login is called with: a request made under it must not
// wait for the session's token, which waits for the flight.
func (s *Session) InFlight(ctx context.Context) bool { return ctx.Value(flightKey{}) == s }

func (f *flight) join() {
	if !f.joined.Swap(true) && f.urgent != nil {
		close(f.urgent)
	}
}

func (f *flight) wait(ctx context.Context) error {
	select {
	case <-f.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// start starts a flight to replace base, for the caller of ctx; mu is held.
func (s *Session) start(ctx context.Context, base *Token, background bool) *flight {
	f := &flight{ctx: context.WithoutCancel(ctx), done: make(chan struct{}), ended: make(chan struct{}),
		base: base, from: base, background: background}
	if background {
		f.urgent = make(chan struct{})
	}
	s.flight.Store(f)
	f.prev, _ = s.last.Swap(f.ended).(chan struct{})
	go s.run(f)
	return f
}

func (s *Session) run(f *flight) {
	if f.urgent != nil {
		select {
		case <-time.After(backgroundDelay):
		case <-f.urgent:
		}
	}
	ctx, cancel := context.WithTimeout(context.WithValue(f.ctx, flightKey{}, s), flightTimeout+s.grace)
	defer cancel()
	start, unlock := time.Now(), func() {}
	if l, ok := s.cfg.Store.(Locker); ok && (f.base.dead == nil || s.cfg.Login != nil) {
		if u, err := l.Lock(ctx); err != nil {
			f.err = fmt.Errorf("wrapper: locking token store: %w", err)
		} else {
			unlock = sync.OnceFunc(u)
		}
	}
	if f.err == nil {
		s.obtain(ctx, f, unlock)
	}
	if f.next != nil && !f.adopted && f.next.refresh != "" && s.cfg.Store != nil {
		s.saveMu.Lock() // a pair Set saved meanwhile is not overwritten
		if s.cur.Load().gen == f.base.gen {
			if err := s.cfg.Store.Save(ctx, f.next.pair()); err != nil && f.login {
				f.saveErr = fmt.Errorf("wrapper: saving tokens: %w", err)
			} else if err != nil {
				f.saveErr = fmt.Errorf("wrapper: saving refreshed tokens: %w", err)
			}
		}
		s.saveMu.Unlock()
	}
	unlock()
	s.commit(f)
	defer close(f.ended)
	if f.prev != nil {
		<-f.prev
	}
	if s.cfg.OnEvent != nil && !f.idle {
		ev := Event{Background: f.background && !f.joined.Load(), Adopted: f.adopted, Login: f.login,
			Duration: time.Since(start), Err: f.err}
		if f.next != nil {
			ev.Rotated = !f.adopted && !f.login && f.next.refresh != f.from.refresh
			ev.Expiry, ev.Err = f.next.expiry, f.saveErr
		}
		s.cfg.OnEvent(ev)
	}
}

// obtain replaces f.base: with a pair another process put in the store, a
// refresh, or a login.
func (s *Session) obtain(ctx context.Context, f *flight, unlock func()) {
	stored, foreign, err := s.fromStore(ctx, f.base)
	switch {
	case s.cur.Load().gen != f.base.gen:
		f.idle = true // Set overtook the flight: what the store holds may be its pair, not to be spent here
	case err != nil && f.base.dead != nil && s.cfg.Login == nil:
		// Still dead, which its callers must learn; it reads again in a second.
		f.err, f.idle = fmt.Errorf("%w; looking for a new pair: %w", f.base.dead, err), true
	case err != nil:
		f.err = err
	case stored != nil && (f.base.dead != nil || stored.phase(s.now()) == fresh):
		f.next, f.adopted = stored, true
	case stored == nil && f.base.dead != nil:
		if f.err, f.idle = f.base.dead, true; s.cfg.Login != nil {
			s.login(ctx, f)
		}
	default:
		f.from = cmp.Or(stored, f.base) // a stored pair is another process's rotation: refresh it
		s.refresh(ctx, f, foreign, unlock)
	}
}

func (s *Session) refresh(ctx context.Context, f *flight, foreign bool, unlock func()) {
	p, err := s.cfg.Refresh(ctx, f.from.refresh)
	if err == nil {
		p.Refresh = cmp.Or(p.Refresh, f.from.refresh)
		f.next = s.newToken(p, s.now(), true, jitter())
		return
	}
	if errors.Is(err, s.cfg.Lost) || errors.Is(err, s.cfg.Invalid) {
		// The answer is lost, or another process spent the token: the store
		// may hold what the server rotated it to, or soon will.
		stored, other, _ := s.fromStore(ctx, f.from)
		if stored == nil && !other && s.grace > 0 && errors.Is(err, s.cfg.Invalid) {
			unlock()
			stored = s.await(ctx, f.from, f.base.gen)
		}
		if f.next, f.adopted = stored, stored != nil; f.adopted {
			return
		}
		if foreign = foreign || other; foreign {
			err = fmt.Errorf("%w (the token store holds another account's session, which this session left alone)", err)
		}
	}
	if f.err = err; errors.Is(err, s.cfg.Invalid) {
		if f.dead = err; s.cfg.Login != nil {
			s.login(ctx, f)
		}
	}
}

// fromStore returns the store's pair if it may replace base; foreign says
// it is another account's.
func (s *Session) fromStore(ctx context.Context, base *Token) (t *Token, foreign bool, err error) {
	if s.cfg.Store == nil {
		return nil, false, nil
	}
	tok, err := s.cfg.Store.Load(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("wrapper: re-reading token store: %w", err)
	}
	if t = s.stored(tok); t == nil || base.replacedBy(t) {
		return t, false, nil
	}
	return nil, otherAccount(t, base), nil
}

// stored makes a token of a stored pair. It is refreshed at the end of the
// jitter's range: the process that saved it refreshes first, so that the
// processes sharing a store refresh no more often than one alone.
func (s *Session) stored(tok *oauth2.Token) *Token {
	if tok == nil || tok.RefreshToken == "" {
		return nil
	}
	return s.newToken(Pair{Access: tok.AccessToken, Refresh: tok.RefreshToken}, s.now(), false, 1)
}

// await re-reads the store for the grace period after base's refresh token,
// which the store still holds, was rejected, unless Set replaces the flight's
// token of gen: the replica that spent it may have lost its lease before
// saving what it got, and saves it when back.
func (s *Session) await(ctx context.Context, base *Token, gen uint64) *Token {
	dead := *base
	dead.dead = s.cfg.Invalid // any other pair of the account is better now
	for end := time.Now().Add(s.grace); time.Now().Before(end) && s.cur.Load().gen == gen; {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stop: // Close does not wait for the grace period
			return nil
		case <-time.After(min(s.grace/20, time.Second)):
		}
		if t, _, _ := s.fromStore(ctx, &dead); t != nil {
			return t
		}
	}
	return nil
}

func (s *Session) login(ctx context.Context, f *flight) {
	if s.cur.Load().gen != f.base.gen {
		return // Set gave a pair meanwhile
	}
	p, err := s.cfg.Login(ctx)
	if err == nil && p.Access == "" && p.Refresh == "" {
		err = errors.New("no tokens")
	}
	if f.login, f.idle, f.err = true, false, nil; err != nil {
		f.err = fmt.Errorf("wrapper: logging in: %w", err)
		return
	}
	f.next = s.newToken(p, s.now(), false, jitter())
}

// commit publishes a flight's outcome, unless Set overtook it, and
// releases the flight's callers.
func (s *Session) commit(f *flight) {
	s.mu.Lock()
	defer close(f.done)
	defer s.mu.Unlock()
	defer s.flight.Store(nil)
	cur, now := s.cur.Load(), s.now()
	switch next := f.next; {
	case cur.gen != f.base.gen:
		f.tok = cur
	case next != nil:
		f.base.successor(next, f.from)
		if f.base.rejected && !f.adopted {
			// A 401 started this refresh: if the new token gets one too, the
			// next refresh waits, longer each time in a row.
			next.rejectRun = f.base.rejectRun + 1
			next.holdUntil = holdAfter401(next.received, next.rejectRun, next.life)
		}
		s.cur.Store(next)
		f.tok = next
	default:
		next := *cur
		if next.err = f.err; f.idle { // a dead session's store read: again in a second
			next.retryAt = now.Add(rereadEvery)
		} else {
			next.failures++
			next.retryAt = now.Add(retryAfter(next.failures, f.from.life))
		}
		if f.dead != nil && next.dead == nil {
			next.dead = f.dead // good until the access token expires
		}
		s.cur.Store(&next)
	}
}
