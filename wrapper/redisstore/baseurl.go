package redisstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// Bind ties the store to the API at baseURL, as [wrapper.New] does with
// the client's base URL, so that tokens saved for one API (production, say)
// are never sent to another (staging): every later save records baseURL
// with the pair, and [Store.Load] refuses a pair recorded for another. A
// pair recorded without a base URL is accepted, and gains it at the next
// save. Bind fails with an error matching [wrapper.ErrStoreMismatch] if the
// key holds a pair recorded for another base URL, or the store is bound to
// another already.
func (s *Store) Bind(ctx context.Context, baseURL string) error {
	u := normalizeURL(baseURL)
	if bound := s.boundURL(); bound != "" {
		return s.checkBaseURL(bound, u)
	}
	v, err := s.read(ctx)
	if err != nil {
		return err
	}
	if v != nil {
		if err := s.checkBaseURL(v.BaseURL, u); err != nil {
			return err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.baseURL != "" {
		return s.checkBaseURL(s.baseURL, u)
	}
	s.baseURL = u
	return nil
}

// BaseURL returns the base URL recorded with the stored pair, or "" if the
// key holds none, or a pair recorded without one.
func (s *Store) BaseURL(ctx context.Context) (string, error) {
	v, err := s.read(ctx)
	if err != nil || v == nil {
		return "", err
	}
	return v.BaseURL, nil
}

func (s *Store) boundURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.baseURL
}

// checkBaseURL returns an error matching [wrapper.ErrStoreMismatch] if stored, a
// recorded base URL, names another API than baseURL; an empty one of
// either matches.
func (s *Store) checkBaseURL(stored, baseURL string) error {
	if stored == "" || baseURL == "" || normalizeURL(stored) == baseURL {
		return nil
	}
	return fmt.Errorf("%w: Redis key %q holds tokens for %s, and this session's base URL is %s",
		wrapper.ErrStoreMismatch, s.key, stored, baseURL)
}

func normalizeURL(u string) string { return strings.TrimRight(strings.TrimSpace(u), "/") }
