package redisstore

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// pendingSave is a pair Redis did not take, to save once it answers: over
// gen if fenced, else by [Store.saveNewest]. A lease it was saved under is
// held until then (see [Store.drain]).
type pendingSave struct {
	tok    *oauth2.Token
	fenced bool
	gen    generation
	lease  *lease // nil if none
}

// keep remembers p's pair if err says Redis did not take it, rather than
// that the key holds a newer pair or a corrupt value.
func (s *Store) keep(err error, p *pendingSave) {
	if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrCorrupt) {
		return
	}
	cp := *p.tok
	p.tok = &cp
	s.mu.Lock()
	defer s.mu.Unlock()
	if old := s.pending; old != nil && old.lease != nil && p.lease == nil {
		// A pair refreshed under a lease still waits, and this one (the
		// same, saved again, or a new login) replaces it: the lease stays
		// held until it is saved, so that no replica spends the refresh
		// token the earlier pair replaced.
		p.lease = old.lease
	}
	s.pending = p
}

// flush saves the pair Redis did not take, if any, unless a newer pair is
// there by now; if Redis still does not answer, it stays pending.
func (s *Store) flush(ctx context.Context) {
	s.mu.Lock()
	p := s.pending
	s.mu.Unlock()
	if p == nil {
		return
	}
	var err error
	if p.fenced {
		_, err = s.swap(ctx, p.gen, p.tok)
	} else {
		err = s.saveNewest(ctx, p.tok)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != p {
		return // replaced meanwhile
	}
	if err == nil || errors.Is(err, ErrConflict) || errors.Is(err, ErrCorrupt) {
		s.pending = nil
	}
}
