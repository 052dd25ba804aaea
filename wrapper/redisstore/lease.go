package redisstore

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A replica waiting for a lease another holder has tries again after
// leasePollMin, then after twice as long each time up to leasePoll. Each
// wait is jittered by half of it, so that replicas waiting together do not
// try together.
const (
	leasePollMin = 2 * time.Millisecond
	leasePoll    = 50 * time.Millisecond
)

// releaseTimeout bounds the release of a lease, which runs after the
// caller's context may have ended.
const releaseTimeout = 2 * time.Second

// lease is the lease this process holds.
type lease struct {
	owner  string
	gen    generation // the generation Load saw under the lease
	loaded bool       // whether Load ran under the lease
	stop   chan struct{}
	done   chan struct{}
}

// releaseScript deletes the lease only if its owner is ARGV[1].
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// renewScript extends the lease to ARGV[2] milliseconds only if its owner is
// ARGV[1].
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// Lock takes the lease, waiting while another holder has it, until ctx
// ends. The lease is renewed until unlock is called, which releases it if
// this holder still owns it. A save under the lease succeeds only over the
// generation [Store.Load] loaded under it.
func (s *Store) Lock(ctx context.Context) (unlock func(), err error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("redisstore: waiting for the lease %q: %w", s.leaseKey, ctx.Err())
	}
	defer func() {
		if err != nil {
			<-s.sem
		}
	}()

	owner := rand.Text()
	for wait := leasePollMin; ; wait = min(2*wait, leasePoll) {
		ok, err := s.rdb.SetNX(ctx, s.leaseKey, owner, s.ttl).Result()
		if err != nil {
			if !neverSent(err) {
				// Redis may have taken the lease and lost the answer: give
				// it back rather than block the fleet until it lapses.
				rctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
				_ = releaseScript.Run(rctx, s.rdb, []string{s.leaseKey}, owner).Err()
				cancel()
			}
			if ctx.Err() != nil {
				return nil, fmt.Errorf("redisstore: waiting for the lease %q: %w", s.leaseKey, ctx.Err())
			}
			return nil, redisError("taking the lease", s.leaseKey, err)
		}
		if !ok {
			// go-redis repeats a command whose answer it lost: the lease
			// may be ours already.
			cur, err := s.rdb.Get(ctx, s.leaseKey).Result()
			ok = err == nil && cur == owner
		}
		if ok {
			break
		}
		t := time.NewTimer(wait/2 + mrand.N(wait))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("redisstore: waiting for the lease %q, held by another replica: %w", s.leaseKey, ctx.Err())
		}
	}

	l := &lease{owner: owner, stop: make(chan struct{}), done: make(chan struct{})}
	s.mu.Lock()
	s.held = l
	s.mu.Unlock()
	go s.renew(l)
	s.flush(ctx)

	var once sync.Once
	return func() { once.Do(func() { s.release(l) }) }, nil
}

// renew extends l every third of its time-to-live until it is stopped or
// lost. A holder that loses it goes on, fenced: its save fails if another
// replica saved in the meantime.
func (s *Store) renew(l *lease) {
	defer close(l.done)
	tick := time.NewTicker(s.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.ttl/3)
		n, err := renewScript.Run(ctx, s.rdb, []string{s.leaseKey}, l.owner, s.ttl.Milliseconds()).Int64()
		cancel()
		if err == nil && n == 0 {
			return // lapsed, and maybe taken by another replica
		}
	}
}

// release stops renewing l and deletes it if this holder still owns it. If
// Redis did not take a pair saved under l, the lease is kept, and renewed,
// until the pair is saved or superseded: a replica that took the lease
// before then would load the pair this one spent.
func (s *Store) release(l *lease) {
	close(l.stop)
	<-l.done
	s.mu.Lock()
	p := s.pending
	s.mu.Unlock()
	if p != nil && p.lease == l {
		go s.drain(l)
		return
	}
	s.finish(l)
}

// drain tries to save the pending pair of l until it is saved or
// superseded, renewing l meanwhile while this holder owns it, then releases
// it.
func (s *Store) drain(l *lease) {
	for {
		time.Sleep(leasePoll/2 + mrand.N(leasePoll))
		ctx, cancel := context.WithTimeout(context.Background(), s.ttl/3)
		_ = renewScript.Run(ctx, s.rdb, []string{s.leaseKey}, l.owner, s.ttl.Milliseconds()).Err()
		s.flush(ctx)
		cancel()
		s.mu.Lock()
		p := s.pending
		s.mu.Unlock()
		if p == nil || p.lease != l {
			break
		}
	}
	s.finish(l)
}

// finish forgets l, deletes it if this holder still owns it, and lets
// another caller in this process take the lease.
func (s *Store) finish(l *lease) {
	s.mu.Lock()
	if s.held == l {
		s.held = nil
	}
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	// If Redis does not answer, the lease lapses by itself.
	_ = releaseScript.Run(ctx, s.rdb, []string{s.leaseKey}, l.owner).Err()
	<-s.sem
}

// neverSent reports whether err proves a command never reached Redis: it
// failed to connect.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
