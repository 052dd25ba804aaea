package wrapper

import (
	"context"
	"sync/atomic"
	"time"
)

// sessionStore is a [TokenStore] as the session uses it: it takes the lock
// of a [TokenLocker], and counts the callers that wait for it, so that one
// who gives up can say why it waited; and it tells the lease's life of a
// store whose lock is a lease that lapses (such as redisstore's).
type sessionStore struct {
	TokenStore
	locking atomic.Int32
}

// Lock takes the store's lock, if it has one.
func (s *sessionStore) Lock(ctx context.Context) (func(), error) {
	l, ok := s.TokenStore.(TokenLocker)
	if !ok {
		return func() {}, nil
	}
	s.locking.Add(1)
	defer s.locking.Add(-1)
	return l.Lock(ctx)
}

// LeaseTTL is the life of the store's lease; 0 if its lock is none.
func (s *sessionStore) LeaseTTL() time.Duration {
	if l, ok := s.TokenStore.(interface{ LeaseTTL() time.Duration }); ok {
		return l.LeaseTTL()
	}
	return 0
}
