package wrapper

import (
	"cmp"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"weak"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
)

// DefaultRefreshMargin is how long before its expiry an access token turns
// stale and is refreshed in the background, unless [WithRefreshMargin] sets
// another. For a token that had less than twice the margin left when the
// session received it, half of what it had left is the margin.
const DefaultRefreshMargin = time.Minute

// refreshTimeout bounds a shared refresh, which runs on after the callers
// waiting for it give up.
const refreshTimeout = time.Minute

// ErrNoTokens is returned by a session that has no refresh token: a client
// made with neither [WithTokens] nor a [TokenStore] that holds tokens, before
// [Client.SetTokens] is called.
var ErrNoTokens = errors.New("wrapper: no tokens: log in and call SetTokens")

// The phases of an access token; see refresh_policy.go for their times.
const (
	fresh   int32 = iota // use it
	stale                // use it; one refresh runs in the background
	expired              // expired or rejected: wait for a refresh
)

// tokenState is one pair of a session's tokens. Only phase changes after
// the state is published.
type tokenState struct {
	access, refresh   string
	expiry            time.Time     // the access token's exp; zero if unreadable
	refreshIat        time.Time     // the refresh token's iat; zero if unreadable
	userID            string        // the refresh token's user_id; "" if unreadable
	staleAt, expireAt time.Time     // zero: never (the server's 401 decides)
	life              time.Duration // expireAt less the time of receipt; 0 if unknown
	bearer            string        // the Authorization header, built once
	oauth             *oauth2.Token
	// dead is the rejection of the refresh token: the access token is still
	// used until it expires, and then dead is the answer.
	dead error
	// holdUntil is when a 401 for this access token starts making the
	// session refresh; before it, the 401 is the caller's answer. Zero: at
	// once. See holdAfter401.
	holdUntil time.Time
	received  time.Time // when the session received the pair
	// rejectRun counts the refreshes in a row, up to this pair, that a 401
	// started; 0 if the pair did not come from such a refresh.
	rejectRun int
	// rejected says a 401 made the session refresh this pair.
	rejected atomic.Bool

	// phase only rises. With the real clock, timers raise it at staleAt and
	// expireAt (live is true), so reading a token costs no clock read; with
	// [WithClock], the clock is read instead. A server's 401 raises it too.
	phase  atomic.Int32
	live   bool
	timers [2]*time.Timer
}

// newState makes a state of a pair received at now; fromRefresh says the
// server has just issued the access token.
func newState(access, refresh string, now time.Time, margin time.Duration, fromRefresh bool) *tokenState {
	st := &tokenState{access: access, refresh: refresh, received: now}
	if c, err := parseClaims(refresh); err == nil {
		st.refreshIat, st.userID = c.IssuedAt, c.UserID
	}
	if access == "" {
		st.phase.Store(expired)
		return st
	}
	if c, err := parseClaims(access); err == nil {
		st.expiry = c.Expiry
		st.staleAt, st.expireAt = refreshTimes(c.Expiry, now, margin, fromRefresh, jitter())
		st.life = st.expireAt.Sub(now)
	}
	if fromRefresh {
		st.holdUntil = holdAfter401(now, 0, st.life)
	}
	st.bearer = api.AuthScheme + " " + access
	st.oauth = &oauth2.Token{AccessToken: access, TokenType: "Bearer", Expiry: st.expiry}
	return st
}

// copyState returns a copy of st, unpublished, with dead set.
func (st *tokenState) copyState(dead error) *tokenState {
	cp := &tokenState{access: st.access, refresh: st.refresh, expiry: st.expiry, refreshIat: st.refreshIat, userID: st.userID,
		staleAt: st.staleAt, expireAt: st.expireAt, life: st.life, bearer: st.bearer, oauth: st.oauth, dead: dead,
		holdUntil: st.holdUntil, received: st.received, rejectRun: st.rejectRun}
	cp.phase.Store(st.phase.Load())
	return cp
}

func (st *tokenState) token() *oauth2.Token {
	return &oauth2.Token{AccessToken: st.access, RefreshToken: st.refresh, TokenType: "Bearer", Expiry: st.expiry}
}

// raise lifts st's phase to at least p.
func (st *tokenState) raise(p int32) {
	for {
		old := st.phase.Load()
		if old >= p || st.phase.CompareAndSwap(old, p) {
			return
		}
	}
}

// phaseAt returns st's phase at now.
func (st *tokenState) phaseAt(now time.Time) int32 {
	p := fresh
	switch {
	case !st.expireAt.IsZero() && !now.Before(st.expireAt):
		p = expired
	case !st.staleAt.IsZero() && !now.Before(st.staleAt):
		p = stale
	}
	return max(p, st.phase.Load())
}

func (st *tokenState) stopTimers() {
	for _, t := range st.timers {
		if t != nil {
			t.Stop()
		}
	}
}

// newer reports whether a's refresh token was issued after b's. A pair
// whose issue time cannot be read is never newer, except than no pair.
func newer(a, b *tokenState) bool {
	if b.refresh == "" {
		return a.refresh != ""
	}
	return !a.refreshIat.IsZero() && !b.refreshIat.IsZero() && a.refreshIat.After(b.refreshIat)
}

// notOlder reports whether a's refresh token was issued no earlier than
// b's. SimpleJWT's iat has whole seconds: a login and a rotation, or two
// rotations, in the same second carry the same iat. A pair whose issue
// time cannot be read is never so, except against no pair.
func notOlder(a, b *tokenState) bool {
	if b.refresh == "" {
		return a.refresh != ""
	}
	return !a.refreshIat.IsZero() && !b.refreshIat.IsZero() && !a.refreshIat.Before(b.refreshIat)
}

// otherAccount reports whether a and b's refresh tokens name different
// users. Unreadable user_id claims name no one.
func otherAccount(a, b *tokenState) bool {
	return a.userID != "" && b.userID != "" && a.userID != b.userID
}

// spentKept is how many refresh tokens a session remembers moving on from.
const spentKept = 8

// session keeps an access token valid. Reading a fresh or stale token takes
// no lock and allocates nothing; one refresh at a time runs for the whole
// session, and every caller that needs it shares it.
type session struct {
	refresh   func(ctx context.Context, refresh string) (*api.TokenRefresh, error)
	store     TokenStore // nil if none
	margin    time.Duration
	now       func() time.Time // nil: the real clock, read through timers
	onRefresh func(RefreshEvent)

	cur     atomic.Pointer[tokenState]
	flight  atomic.Pointer[flight] // the refresh in progress; set under mu
	retryAt atomic.Int64           // UnixNano before which no refresh starts; 0: any time

	// saveMu orders saves and publication between a refresh and SetTokens,
	// so that the pair SetTokens sets is the one left in session and store.
	saveMu sync.Mutex

	life *lifeline // its timers and save retries

	locking atomic.Bool // the refresh in progress waits for the store's lock

	mu       sync.Mutex // guards the fields below and the start of a flight
	gen      uint64     // counts SetTokens: a refresh started before it is void
	failures int        // failed refreshes in a row
	lastErr  error      // the last refresh's error, until one succeeds
	unsaved  bool       // the current pair's save failed; saveLoop retries
	saving   bool       // saveLoop runs
	closed   bool
	// spent holds the hashes of the last refresh tokens the session moved on
	// from (spent, with rotation): a pair in the store that carries one, left
	// there by a save that failed, is never taken back, even when a
	// rotation in the same second gave both tokens the same iat.
	spent  [spentKept][sha256.Size]byte
	nSpent int
}

// lifeline is what a session runs in the background: the timers of its
// current state, and its save retries. It holds no pointer to the session,
// so a session that nobody holds any more is collected, and a cleanup then
// ends its lifeline: nothing of a dropped client outlives it.
type lifeline struct {
	mu    sync.Mutex
	st    *tokenState // the state whose timers run
	ended bool
	stop  chan struct{} // closed by end
}

func newLifeline() *lifeline { return &lifeline{stop: make(chan struct{})} }

// arm starts st's timers, unless the lifeline ended.
func (l *lifeline) arm(st *tokenState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	if l.st != nil {
		l.st.stopTimers()
	}
	l.st = st
	now := time.Now()
	for i, at := range []time.Time{st.staleAt, st.expireAt} {
		p := stale + int32(i)
		switch d := at.Sub(now); {
		case at.IsZero():
		case d <= 0:
			st.raise(p)
		default:
			st.timers[i] = time.AfterFunc(d, func() { st.raise(p) })
		}
	}
	st.live = true
}

// end stops the timers and the save retries.
func (l *lifeline) end() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ended {
		return
	}
	l.ended = true
	close(l.stop)
	if l.st != nil {
		l.st.stopTimers()
		l.st = nil
	}
}

// flight is one refresh, whose result every waiting caller gets.
type flight struct {
	done       chan struct{}
	base       *tokenState // the state it refreshes
	gen        uint64
	background bool
	joined     atomic.Bool   // a caller waits for it
	urgent     chan struct{} // a background flight's: closed when a caller joins
	st         *tokenState   // on success, or when SetTokens overtook it
	err        error
	// got and gotErr are what the refresh of base got, even when SetTokens
	// overtook it: the answer for a caller who asked to refresh base.
	got    *tokenState
	gotErr error
}

// join marks f as awaited: a background flight that waits to start starts
// at once.
func (f *flight) join() {
	if !f.joined.Load() && f.joined.CompareAndSwap(false, true) && f.urgent != nil {
		close(f.urgent)
	}
}

func (s *session) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// phase returns st's phase now.
func (s *session) phase(st *tokenState) int32 {
	if st.live {
		return st.phase.Load()
	}
	return st.phaseAt(s.clock())
}

// token returns a usable access token: a fresh one at once; a stale one at
// once, starting the background refresh; for an expired one, the result of
// the refresh, waited for under ctx.
func (s *session) token(ctx context.Context) (*tokenState, error) {
	st := s.cur.Load()
	switch s.phase(st) {
	case fresh:
		return st, nil
	case stale:
		s.background(st)
		return st, nil
	}
	return s.renew(ctx, st)
}

// background starts the background refresh of st unless a refresh runs, a
// failed one asks to wait, or st's refresh token was rejected.
func (s *session) background(st *tokenState) {
	if s.flight.Load() != nil || st.dead != nil {
		return
	}
	if at := s.retryAt.Load(); at != 0 && s.clock().UnixNano() < at {
		return
	}
	// A caller with a stale token never waits: if another holds the lock,
	// it is most likely starting this refresh, and a later caller tries
	// again if not.
	if !s.mu.TryLock() {
		return
	}
	if s.flight.Load() == nil && s.cur.Load() == st {
		s.start(context.Background(), st, true)
	}
	s.mu.Unlock()
}

// renew returns a state newer than old, whose access token expired or was
// rejected by the server: one another caller already got, or the result of
// the refresh, started now or joined, waited for under ctx. Joining a
// refresh in flight takes no lock.
func (s *session) renew(ctx context.Context, old *tokenState) (*tokenState, error) {
	for range 3 {
		st := s.cur.Load()
		if st != old {
			if p := s.phase(st); p != expired {
				if p == stale {
					s.background(st)
				}
				return st, nil
			}
		}
		if st.dead != nil {
			return nil, st.dead
		}
		f := s.flight.Load()
		if f == nil || f.base != st {
			var err error
			if f, err = s.startOrJoin(ctx, st); err != nil {
				return nil, err
			}
			if f == nil {
				continue // the state changed meanwhile: look again
			}
		}
		f.join()
		if err := wait(ctx, f); err != nil {
			if s.locking.Load() {
				return nil, fmt.Errorf("wrapper: waiting for the token store's lock, which another client or process holds: %w", err)
			}
			return nil, err
		}
		if f.base != st {
			old = st // a refresh of another generation ended: look again
			continue
		}
		if f.err != nil {
			return nil, f.err
		}
		if s.phase(f.st) != expired {
			return f.st, nil
		}
		old = f.st
	}
	return nil, errors.New("wrapper: no valid access token after three refreshes")
}

// startOrJoin returns the refresh of st in flight, or starts one, unless
// the last refresh failed a moment ago; nil if st is no longer current.
func (s *session) startOrJoin(ctx context.Context, st *tokenState) (*flight, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch f := s.flight.Load(); {
	case s.cur.Load() != st:
		return nil, nil
	case f != nil:
		return f, nil
	case s.lastErr != nil && s.clock().UnixNano() < s.retryAt.Load():
		// A failing server is not asked again at request rate.
		return nil, s.lastErr
	}
	return s.start(ctx, st, false), nil
}

// rejectable reports whether a 401 for st's access token makes the session
// refresh: not before st.holdUntil, so that a server that answers 401 to
// every token (a deactivated user, a clock far ahead) is not sent a refresh
// for every request.
func (s *session) rejectable(st *tokenState) bool {
	return st.holdUntil.IsZero() || !s.clock().Before(st.holdUntil)
}

// reject marks st as refused by the server and returns a newer state.
func (s *session) reject(ctx context.Context, st *tokenState) (*tokenState, error) {
	st.rejected.Store(true)
	st.raise(expired)
	return s.renew(ctx, st)
}

func wait(ctx context.Context, f *flight) error {
	done := ctx.Done()
	if done == nil {
		<-f.done
		return nil
	}
	select {
	case <-f.done:
		return nil
	case <-done:
		return ctx.Err()
	}
}

// start starts a refresh of base; s.mu is held. The refresh outlives a
// caller who gives up: the others still wait for it, and a rotated token
// must reach the store.
func (s *session) start(ctx context.Context, base *tokenState, background bool) *flight {
	f := &flight{done: make(chan struct{}), base: base, gen: s.gen, background: background}
	if background {
		f.urgent = make(chan struct{})
	}
	s.flight.Store(f)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
	go func() {
		defer cancel()
		if background {
			// No caller waits for it: the calls that arrived with the one
			// that started it go first (see backgroundDelay), unless a
			// caller comes to need it.
			t := time.NewTimer(backgroundDelay)
			select {
			case <-t.C:
			case <-f.urgent:
				t.Stop()
			}
		}
		s.run(rctx, f)
	}()
	return f
}

// outcome is what a refresh got.
type outcome struct {
	base  *tokenState // the pair it refreshed: the flight's, or a newer stored one
	next  *tokenState // the new pair; nil on failure
	saved bool        // next came from the store
	err   error
}

func (s *session) run(ctx context.Context, f *flight) {
	start := time.Now()
	out := outcome{base: f.base}
	unlock := func() {}
	if l, ok := s.store.(TokenLocker); ok {
		s.locking.Store(true)
		u, err := l.Lock(ctx)
		s.locking.Store(false)
		if err != nil {
			out.err = fmt.Errorf("wrapper: locking token store: %w", err)
		} else {
			unlock = u
		}
	}
	if out.err == nil {
		out = s.exchange(ctx, f.base)
	}
	saveErr := s.commit(ctx, f, &out)
	unlock()
	close(f.done)

	if s.onRefresh != nil {
		ev := RefreshEvent{Background: f.background && !f.joined.Load(), Duration: time.Since(start), Err: out.err}
		if out.next != nil {
			ev.Rotated = out.next.refresh != f.base.refresh
			ev.Expiry = out.next.expiry
			ev.Err = saveErr
		}
		s.onRefresh(ev)
	}
}

// exchange spends base's refresh token for a new pair, unless the store
// holds a pair of the same account issued no earlier.
func (s *session) exchange(ctx context.Context, base *tokenState) outcome {
	stored, foreign, err := s.newerInStore(ctx, base)
	if err != nil {
		return outcome{base: base, err: err}
	}
	if stored != nil {
		// Another process rotated the tokens: with a blacklist, ours is
		// spent, and theirs may need no refresh at all.
		if stored.phaseAt(s.clock()) == fresh {
			return outcome{base: base, next: stored, saved: true}
		}
		base = stored
	}
	if base.refresh == "" {
		return outcome{base: base, err: ErrNoTokens}
	}
	tok, err := s.refresh(ctx, base.refresh)
	if err != nil {
		if errors.Is(err, ErrAnswerLost) || errors.Is(err, ErrInvalidToken) {
			// The server may have rotated our refresh token and the answer
			// is gone, or another process spent it: the store may hold
			// what it rotated to.
			stored, other, _ := s.newerInStore(ctx, base)
			if stored != nil {
				return outcome{base: base, next: stored, saved: true}
			}
			foreign = foreign || other
		}
		if foreign {
			err = fmt.Errorf("%w (the token store holds another account's session, which this session left alone)", err)
		}
		return outcome{base: base, err: err}
	}
	next := newState(tok.Access, cmp.Or(tok.Refresh, base.refresh), s.clock(), s.margin, true)
	return outcome{base: base, next: next}
}

// commit saves and publishes a refresh's outcome, unless SetTokens overtook
// the refresh, and records a failure. It returns the error of a failed save.
func (s *session) commit(ctx context.Context, f *flight, out *outcome) error {
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	overtaken := s.gen != f.gen
	s.mu.Unlock()

	var saveErr error
	if !overtaken && out.next != nil && !out.saved && s.store != nil {
		if err := s.store.Save(ctx, out.next.token()); err != nil {
			saveErr = fmt.Errorf("wrapper: saving refreshed tokens: %w", err)
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	defer s.flight.Store(nil)
	if out.next != nil {
		for _, b := range []*tokenState{f.base, out.base} {
			if b.refresh != "" && b.refresh != out.next.refresh {
				s.spend(b.refresh)
			}
		}
		if f.base.rejected.Load() && !out.saved {
			// A 401 started this refresh: should the new token get one too,
			// the next refresh waits, longer each time in a row.
			out.next.rejectRun = f.base.rejectRun + 1
			out.next.holdUntil = holdAfter401(out.next.received, out.next.rejectRun, out.next.life)
		}
	}
	f.got, f.gotErr = out.next, out.err
	switch {
	case overtaken:
		f.st = s.cur.Load()
	case out.next != nil:
		s.publish(out.next)
		s.failures, s.lastErr = 0, nil
		s.retryAt.Store(0)
		s.unsaved = saveErr != nil
		if s.unsaved {
			s.keepSaving()
		}
		f.st = out.next
	default:
		s.failures++
		s.lastErr = out.err
		s.retryAt.Store(s.clock().Add(retryAfter(s.failures, out.base.life)).UnixNano())
		if errors.Is(out.err, ErrInvalidToken) {
			// Dead once the access token expires: it is still good until then.
			s.publish(out.base.copyState(out.err))
		}
		f.err = out.err
	}
	return saveErr
}

// newerInStore returns the store's pair if another process put it there
// after base's: a pair with another refresh token, issued no earlier (with
// SimpleJWT's whole-second iat, a rotation in the same second as base's
// issue carries the same iat, and base is then most likely spent), that
// this session never held. Otherwise nil; foreign then says the store holds
// a pair of another account (by the user_id claims), which is never taken.
func (s *session) newerInStore(ctx context.Context, base *tokenState) (st *tokenState, foreign bool, err error) {
	if s.store == nil {
		return nil, false, nil
	}
	stored, err := s.store.Load(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("wrapper: re-reading token store: %w", err)
	}
	if stored == nil || stored.RefreshToken == "" || stored.RefreshToken == base.refresh {
		return nil, false, nil
	}
	st = newState(stored.AccessToken, stored.RefreshToken, s.clock(), s.margin, false)
	switch {
	case otherAccount(st, base):
		return nil, true, nil
	case !notOlder(st, base), s.wasSpent(st.refresh):
		return nil, false, nil // such as the spent pair of a save that failed
	}
	// Another process refreshed this pair, at a point its own jitter chose:
	// this one refreshes it at the end of the jitter's range, so that of the
	// processes sharing a store, the one that refreshed goes first, and they
	// refresh no more often together than it would alone.
	if !st.expiry.IsZero() {
		st.staleAt, st.expireAt = refreshTimes(st.expiry, st.received, s.margin, false, 1)
	}
	return st, false, nil
}

// spend records that the session moved on from the refresh token refresh;
// s.mu is held.
func (s *session) spend(refresh string) {
	s.spent[s.nSpent%spentKept] = sha256.Sum256([]byte(refresh))
	s.nSpent++
}

// wasSpent reports whether the session moved on from refresh.
func (s *session) wasSpent(refresh string) bool {
	h := sha256.Sum256([]byte(refresh))
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range min(s.nSpent, spentKept) {
		if s.spent[i] == h {
			return true
		}
	}
	return false
}

// publish makes st the current state; s.mu is held. With the real clock,
// st's timers replace those of the state it replaces.
func (s *session) publish(st *tokenState) {
	if s.now == nil && !s.closed {
		s.life.arm(st)
	}
	if old := s.cur.Swap(st); old != nil {
		old.stopTimers()
	}
}

// keepSaving retries saving the current pair until it is saved, replaced,
// or the session closed or collected; s.mu is held.
func (s *session) keepSaving() {
	if s.saving || s.closed || s.store == nil {
		return
	}
	s.saving = true
	go saveLoop(weak.Make(s), s.life.stop)
}

// saveLoop holds the session only while it saves, so that it does not keep
// a dropped client alive.
func saveLoop(ws weak.Pointer[session], stop <-chan struct{}) {
	for failures := 1; ; failures++ {
		t := time.NewTimer(retryAfter(failures, 0))
		select {
		case <-stop:
			t.Stop()
			return
		case <-t.C:
		}
		s := ws.Value()
		if s == nil || s.saveHeld() {
			return
		}
	}
}

// saveHeld saves the current pair if its save failed, and reports whether
// there is nothing left to save.
func (s *session) saveHeld() bool {
	if l, ok := s.store.(TokenLocker); ok {
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		unlock, err := l.Lock(ctx)
		cancel()
		if err != nil {
			return false
		}
		defer unlock()
	}
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	st, unsaved := s.cur.Load(), s.unsaved
	s.mu.Unlock()
	var err error
	if unsaved {
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		err = s.store.Save(ctx, st.token())
		cancel()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil && s.cur.Load() == st {
		s.unsaved = false
	}
	if !s.unsaved {
		s.saving = false
	}
	return !s.unsaved
}

// wait waits for the refresh in progress, if any.
func (s *session) wait() {
	if f := s.flight.Load(); f != nil {
		<-f.done
	}
}

// close stops the session's timers and its save retries, without waiting.
// The session still works: it reads the clock from then on.
func (s *session) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.life.end()
	if cur := s.cur.Load(); cur.live {
		s.cur.Store(cur.copyState(cur.dead))
	}
}

// set replaces the session's tokens and saves them. A refresh in flight is
// void: its result is neither saved nor used.
func (s *session) set(ctx context.Context, access, refresh string) error {
	st := newState(access, refresh, s.clock(), s.margin, false)
	s.saveMu.Lock()
	defer s.saveMu.Unlock()
	s.mu.Lock()
	s.gen++
	s.publish(st)
	s.failures, s.lastErr, s.unsaved = 0, nil, false
	s.retryAt.Store(0)
	s.mu.Unlock()
	if s.store == nil {
		return nil
	}
	if err := s.store.Save(ctx, st.token()); err != nil {
		s.mu.Lock()
		s.unsaved = true
		s.keepSaving()
		s.mu.Unlock()
		return fmt.Errorf("wrapper: saving tokens: %w", err)
	}
	return nil
}

// refreshNow refreshes the session's tokens if refresh is its current
// refresh token, sharing a refresh in flight; ok is false otherwise. It
// returns the new state and the one it replaced.
//
// A refresh in flight of other tokens (one that SetTokens made void) is
// waited for, and then a refresh of refresh starts. A refresh of refresh
// that SetTokens overtook still answers with what the server said for
// refresh.
func (s *session) refreshNow(ctx context.Context, refresh string) (st, base *tokenState, ok bool, err error) {
	if refresh == "" {
		return nil, nil, false, nil
	}
	for {
		s.mu.Lock()
		cur := s.cur.Load()
		if cur.refresh != refresh || cur.dead != nil {
			s.mu.Unlock()
			return nil, nil, false, nil
		}
		gen := s.gen
		f := s.flight.Load()
		if f == nil {
			f = s.start(ctx, cur, false)
		} else {
			f.join()
		}
		s.mu.Unlock()
		if err := wait(ctx, f); err != nil {
			return nil, nil, true, err
		}
		if f.gen == gen && f.base.refresh == refresh {
			return f.got, f.base, true, f.gotErr
		}
	}
}

// tokenSource is the [oauth2.TokenSource] of a session.
type tokenSource struct{ s *session }

func (ts tokenSource) Token() (*oauth2.Token, error) {
	if ts.s == nil {
		return nil, ErrNoTokens
	}
	st, err := ts.s.token(context.Background())
	if err != nil {
		return nil, err
	}
	return st.oauth, nil
}
