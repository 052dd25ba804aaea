package main

import (
	"context"
	"sync"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// savingStore is the session store of the token command's session. It
// records the last pair the session saved, and that save's error: a pair
// it could not save is printed, since the old refresh token may be spent.
// It keeps the tokens it sees, to keep them out of what the command prints
// on standard error.
type savingStore struct {
	*wrapper.FileStore
	// ctx bounds the wait for the store's lock: a refresh that has not
	// started when the command gives up is not started, and nothing waits
	// for it.
	ctx context.Context

	mu      sync.Mutex
	saved   *oauth2.Token
	saveErr error
	lockErr error // why the last wait for the lock failed
	seen    []string
}

// newSavingStore returns a store in the file at path, whose lock waits end
// with ctx.
func newSavingStore(ctx context.Context, path string) *savingStore {
	return &savingStore{FileStore: wrapper.NewFileStore(path), ctx: ctx}
}

func (s *savingStore) Load(ctx context.Context) (*oauth2.Token, error) {
	tok, err := s.FileStore.Load(ctx)
	if tok != nil {
		s.see(tok)
	}
	return tok, err
}

func (s *savingStore) Save(ctx context.Context, tok *oauth2.Token) error {
	s.see(tok)
	err := s.FileStore.Save(ctx, tok)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saved, s.saveErr = tok, err
	return err
}

func (s *savingStore) Lock(ctx context.Context) (func(), error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	unlock, err := s.FileStore.Lock(ctx)
	if err != nil {
		s.mu.Lock()
		s.lockErr = err
		s.mu.Unlock()
	}
	return unlock, err
}

func (s *savingStore) see(tok *oauth2.Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, tok.AccessToken, tok.RefreshToken)
}

// last returns the pair of the last save, and its error; nil and nil if
// there was none.
func (s *savingStore) last() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved, s.saveErr
}

// lockFailed returns why the last wait for the store's lock failed; nil if
// none did.
func (s *savingStore) lockFailed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lockErr
}

// secrets returns the tokens the store loaded or saved.
func (s *savingStore) secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}
