package wrapper

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cenkalti/backoff/v5"
	"golang.org/x/oauth2"
)

// saveTries bounds the retries of a failed save.
const saveTries = 10

// sessionStore is a [TokenStore] as the session uses it:
//   - It takes the lock of a [TokenLocker], and counts the callers that wait
//     for it, so that one who gives up can say why it waited.
//   - It tells the life of a lock that is a lease (such as redisstore's).
//   - It retries a failed save in the background, with backoff, under the
//     lock, while the store still holds what it held at the last load (the
//     pair the unsaved one replaced), until the save succeeds, another save
//     replaces it, or the client closes: the unsaved pair's refresh token
//     may be the only one the server still accepts, and a store that moved
//     on holds another's newer pair.
type sessionStore struct {
	TokenStore
	locking atomic.Int32
	stop    chan struct{} // closed by close

	mu      sync.Mutex    // orders saves
	loaded  string        // the refresh token of the last load; "" if none
	pending *oauth2.Token // a pair whose save failed, and what it replaced
	over    string
	retries bool // a goroutine retries pending
}

func newSessionStore(store TokenStore) *sessionStore {
	return &sessionStore{TokenStore: store, stop: make(chan struct{})}
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

// Load loads the pair, and remembers what it was.
func (s *sessionStore) Load(ctx context.Context) (*oauth2.Token, error) {
	tok, err := s.TokenStore.Load(ctx)
	if err == nil {
		s.mu.Lock()
		s.loaded = refreshOf(tok)
		s.mu.Unlock()
	}
	return tok, err
}

// Save saves tok, and retries it in the background if it fails.
func (s *sessionStore) Save(ctx context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.TokenStore.Save(ctx, tok)
	s.pending = nil
	if err == nil {
		s.loaded = tok.RefreshToken
		return nil
	}
	s.pending, s.over = tok, s.loaded
	if !s.retries {
		s.retries = true
		go s.retry()
	}
	return err
}

func (s *sessionStore) retry() {
	b := backoff.NewExponentialBackOff()
	b.InitialInterval, b.MaxInterval = time.Second, 30*time.Second
	for try := 1; ; try++ {
		t := time.NewTimer(b.NextBackOff())
		select {
		case <-s.stop:
			t.Stop()
		case <-t.C:
			s.resave()
		}
		s.mu.Lock()
		if s.pending == nil || try == saveTries || s.closed() {
			s.retries = false
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
}

// resave saves the pending pair under the store's lock if the store still
// holds what it replaced.
func (s *sessionStore) resave() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if l, ok := s.TokenStore.(TokenLocker); ok {
		unlock, err := l.Lock(ctx)
		if err != nil {
			return
		}
		defer unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		return
	}
	stored, err := s.TokenStore.Load(ctx)
	switch {
	case err != nil:
		return
	case refreshOf(stored) == s.over:
		err = s.TokenStore.Save(ctx, s.pending)
	}
	if err == nil { // saved, or the store moved on
		s.pending = nil
	}
}

func refreshOf(tok *oauth2.Token) string {
	if tok == nil {
		return ""
	}
	return tok.RefreshToken
}

func (s *sessionStore) closed() bool {
	select {
	case <-s.stop:
		return true
	default:
		return false
	}
}

// close stops the retries.
func (s *sessionStore) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed() {
		close(s.stop)
	}
}
