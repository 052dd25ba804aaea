package redisstore

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// DefaultLeaseTTL is how long the lease outlives a holder that stops
// renewing it, such as a process killed in the middle of a refresh, unless
// [WithLeaseTTL] sets another. A holder renews it every third of that, so a
// refresh may take longer.
const DefaultLeaseTTL = 10 * time.Second

// leaseSuffix makes the lease's key from the pair's.
const leaseSuffix = ":lease"

// saveTries bounds the read-compare-write rounds of a save outside the
// lease, which repeat only while other replicas write the key in between.
const saveTries = 5

// Store is a [wrapper.TokenStore], [wrapper.TokenLocker] and
// [wrapper.BaseURLStore] in a Redis key,
// shared by every process that uses the same key. It is safe for concurrent
// use; the lock also excludes the other users of the same Store in this
// process.
type Store struct {
	rdb      redis.UniversalClient
	key      string
	leaseKey string
	ttl      time.Duration

	sem chan struct{} // held with the lease: one holder in this process

	mu      sync.Mutex
	baseURL string            // the bound base URL; "" if none
	held    *lease            // the lease this process holds, if any
	pending *pendingSave      // a pair Redis did not take, if any
	refused [sha256.Size]byte // the fingerprint of the refresh token a fenced save refused last
}

var (
	_ wrapper.TokenStore   = (*Store)(nil)
	_ wrapper.TokenLocker  = (*Store)(nil)
	_ wrapper.BaseURLStore = (*Store)(nil)
)

// An Option configures a [Store] in [New].
type Option func(*Store)

// WithLeaseTTL sets how long the lease outlives a holder that stops renewing
// it; the default is [DefaultLeaseTTL]. Shorter lets the fleet recover sooner
// from a holder that died; it must be long enough for a renewal to reach
// Redis in a third of it. It panics unless ttl is at least 100ms.
func WithLeaseTTL(ttl time.Duration) Option {
	if ttl < 100*time.Millisecond {
		panic(fmt.Sprintf("redisstore: WithLeaseTTL(%v): must be at least 100ms", ttl))
	}
	return func(s *Store) { s.ttl = ttl }
}

// New returns a store in the Redis key key, reached through rdb, which the
// store does not close. Every replica of a fleet uses the same key. The lease
// is the key with ":lease" appended, so a key may not end in ":lease": that
// key is the lease of the fleet on the key without it. New panics if rdb is
// nil, or key is empty or ends in ":lease".
func New(rdb redis.UniversalClient, key string, opts ...Option) *Store {
	if rdb == nil {
		panic("redisstore: New: nil Redis client")
	}
	if key == "" {
		panic("redisstore: New: empty key")
	}
	if fleet, ok := strings.CutSuffix(key, leaseSuffix); ok {
		panic(fmt.Sprintf("redisstore: New: key %q ends in %q, so it is the lease of the fleet on key %q; choose a key that does not end in %q",
			key, leaseSuffix, fleet, leaseSuffix))
	}
	s := &Store{rdb: rdb, key: key, leaseKey: key + leaseSuffix, ttl: DefaultLeaseTTL, sem: make(chan struct{}, 1)}
	for _, opt := range opts {
		opt(s)
	}
	return s
}

// Key returns the Redis key that holds the pair.
func (s *Store) Key() string { return s.key }

// LeaseTTL returns the lease's time-to-live: how long it outlives a holder
// that stops renewing it, [DefaultLeaseTTL] unless [WithLeaseTTL] set
// another. The session of package wrapper uses it for its grace period after
// the server rejects a refresh token loaded from the store: it waits up to
// twice that for a newer pair, which a holder may still be saving.
func (s *Store) LeaseTTL() time.Duration { return s.ttl }

// String describes s without its tokens.
func (s *Store) String() string { return fmt.Sprintf("redisstore.Store{Key: %q}", s.key) }

// GoString describes s without its tokens, for %#v.
func (s *Store) GoString() string { return s.String() }

// value is the key's JSON value.
type value struct {
	Access     string     `json:"access"`
	Refresh    string     `json:"refresh"`
	BaseURL    string     `json:"base_url,omitempty"`
	Generation generation `json:"generation"`
}

// decodeValue reads the key's value as the save script reads it: by the
// exact names of its keys, the last of a name winning. (encoding/json would
// take "Refresh" or "GENERATION" for its fields, which the script ignores.)
func decodeValue(data []byte) (value, error) {
	var v value
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return v, err
	}
	for key, field := range map[string]any{"access": &v.Access, "refresh": &v.Refresh, "base_url": &v.BaseURL, "generation": &v.Generation} {
		if r, ok := raw[key]; ok {
			if err := json.Unmarshal(r, field); err != nil {
				return v, err
			}
		}
	}
	return v, nil
}

// Load returns the stored pair, or nil and no error if the key holds none.
// Under the lease, it also remembers the pair's generation: the next save
// under the same lease succeeds only over it. A generation that is not a
// whole number (null, say) is an error matching [ErrCorrupt], as it is to
// [Store.Save], so that no refresh spends a token it could not save over.
func (s *Store) Load(ctx context.Context) (*oauth2.Token, error) {
	s.flush(ctx)
	v, err := s.get(ctx)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.held != nil {
		s.held.gen, s.held.loaded = 0, true
		if v != nil {
			s.held.gen = v.Generation
		}
	}
	s.mu.Unlock()
	if v == nil {
		return nil, nil
	}
	return &oauth2.Token{AccessToken: v.Access, RefreshToken: v.Refresh, TokenType: "Bearer"}, nil
}

// get reads and checks the key's value, refusing a pair saved for another
// base URL than the bound one; nil if the key does not exist.
func (s *Store) get(ctx context.Context) (*value, error) {
	v, err := s.read(ctx)
	if err != nil || v == nil {
		return nil, err
	}
	if err := s.checkBaseURL(v.BaseURL, s.boundURL()); err != nil {
		return nil, err
	}
	return v, nil
}

// read reads the key's value and checks it is a token pair; nil if the key
// does not exist.
func (s *Store) read(ctx context.Context) (*value, error) {
	data, err := s.rdb.Get(ctx, s.key).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		return nil, nil
	case isWrongType(err):
		return nil, corrupt(s.key, "is not a string")
	case err != nil:
		return nil, redisError("reading", s.key, err)
	}
	v, err := decodeValue(data)
	switch {
	case errors.Is(err, errGeneration):
		return nil, corrupt(s.key, "has a generation that is neither a string of decimal digits nor a whole number below 2^53")
	case err != nil:
		return nil, corrupt(s.key, "is not a JSON object of access, refresh, base_url and generation")
	}
	if v.Refresh == "" {
		return nil, corrupt(s.key, "has no refresh token")
	}
	return &v, nil
}

// Save stores tok as the next generation, written as a JSON string of
// decimal digits. Under the lease, after [Store.Load], it succeeds only over
// the generation loaded. Otherwise it succeeds unless the stored refresh
// token is newer than tok's (by their iat claims), or tok is a pair this
// store's fenced save already refused. When it does not succeed for these
// reasons it returns an error matching [ErrConflict] and leaves the key as it
// is. Finding the very value it would write, stored by a try whose answer
// was lost, is success. If Redis does not answer, the pair is kept in memory
// and saved once Redis answers again, unless a newer pair is there by then;
// under the lease, the lease is kept until then.
func (s *Store) Save(ctx context.Context, tok *oauth2.Token) error {
	if tok == nil || strings.TrimSpace(tok.RefreshToken) == "" {
		return fmt.Errorf("redisstore: refusing to save key %q: no refresh token", s.key)
	}
	s.mu.Lock()
	held := s.held
	fenced := held != nil && held.loaded
	var gen generation
	if fenced {
		gen = held.gen
	}
	s.mu.Unlock()

	if !fenced {
		err := s.saveNewest(ctx, tok)
		s.keep(err, &pendingSave{tok: tok})
		return err
	}
	next, err := s.swap(ctx, gen, tok)
	switch {
	case err == nil:
		s.mu.Lock()
		if s.held == held {
			held.gen = next
		}
		s.mu.Unlock()
	case errors.Is(err, ErrConflict):
		// The pair was refreshed from a replaced generation: no later save
		// of it, such as a retry outside the lease, may land either.
		s.mu.Lock()
		s.refused = fingerprint(tok.RefreshToken)
		s.mu.Unlock()
	default:
		s.keep(err, &pendingSave{tok: tok, fenced: true, gen: gen, lease: held})
	}
	return err
}

// saveNewest stores tok unless the key holds a newer refresh token, or tok
// is the pair a fenced save refused.
func (s *Store) saveNewest(ctx context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	refused := s.refused == fingerprint(tok.RefreshToken)
	s.mu.Unlock()
	if refused {
		return fmt.Errorf("%w: key %q: the pair being saved was refreshed from a generation another replica replaced", ErrConflict, s.key)
	}
	for range saveTries {
		cur, err := s.get(ctx)
		if err != nil {
			return err
		}
		var gen generation
		if cur != nil {
			if cur.Access == tok.AccessToken && cur.Refresh == tok.RefreshToken {
				return nil
			}
			if newer(cur.Refresh, tok.RefreshToken) {
				return fmt.Errorf("%w: key %q holds a refresh token issued after the one being saved", ErrConflict, s.key)
			}
			gen = cur.Generation
		}
		if _, err = s.swap(ctx, gen, tok); !errors.Is(err, ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("%w: key %q changed %d times while saving", ErrConflict, s.key, saveTries)
}

// fingerprint identifies a refresh token without keeping it.
func fingerprint(refresh string) [sha256.Size]byte { return sha256.Sum256([]byte(refresh)) }

// newer reports whether refresh token a was issued after b; false if either
// time is unreadable.
func newer(a, b string) bool {
	_, ia := claims(a)
	_, ib := claims(b)
	return !ia.IsZero() && !ib.IsZero() && ia.After(ib)
}

// swapScript replaces the key's value with ARGV[2] (expiring in ARGV[3]
// milliseconds, if positive) if the stored generation is ARGV[1], or if the
// key does not exist: a pair lost with Redis's data, or deleted, is saved
// again. It reads a generation as [generation] does, and compares it as a
// string, never as a Lua number. Finding ARGV[2] stored is success: go-redis
// repeats a script whose answer it lost, and the repeat finds what the first
// run wrote. It never overwrites a value that is not a token pair. It returns
// {"saved"}, {"conflict", stored generation} or {"corrupt"}.
var swapScript = redis.NewScript(`
-- generation returns g, a decoded generation, as a string of decimal
-- digits, or nil if it is not a generation.
local function generation(g)
  if g == nil then
    return '0' -- a file store's pair, copied in
  elseif type(g) == 'number' then
    if g >= 0 and g < 2^53 and g == math.floor(g) then
      return string.format('%d', g)
    end
  elseif type(g) == 'string' and (g == '0' or g:match('^[1-9]%d*$')) then
    if #g < 19 or #g == 19 and g <= '9223372036854775807' then
      return g
    end
  end
  return nil
end

local cur = redis.call('GET', KEYS[1])
if cur == ARGV[2] then
  return {'saved'}
end
if cur then
  local ok, v = pcall(cjson.decode, cur)
  if not ok or type(v) ~= 'table' or type(v.refresh) ~= 'string' or v.refresh == '' then
    return {'corrupt'}
  end
  local gen = generation(v.generation)
  if not gen then
    return {'corrupt'}
  end
  if gen ~= ARGV[1] then
    return {'conflict', gen}
  end
end
local ttl = tonumber(ARGV[3])
if ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ttl)
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return {'saved'}
`)

// swap writes tok as generation gen+1 over generation gen, or finds it
// written already, and returns the new generation.
func (s *Store) swap(ctx context.Context, gen generation, tok *oauth2.Token) (generation, error) {
	if gen == math.MaxInt64 {
		return 0, corrupt(s.key, "is at the last generation, which no save can follow")
	}
	next := gen + 1
	data, err := json.Marshal(value{Access: tok.AccessToken, Refresh: tok.RefreshToken, BaseURL: s.boundURL(), Generation: next})
	if err != nil {
		return 0, fmt.Errorf("redisstore: encoding tokens: %w", err)
	}
	ttl := int64(0) // no expiry for a refresh token without a readable exp
	if exp, _ := claims(tok.RefreshToken); !exp.IsZero() {
		ttl = max(time.Until(exp).Milliseconds(), 1)
	}
	res, err := swapScript.Run(ctx, s.rdb, []string{s.key}, gen.String(), data, ttl).StringSlice()
	switch {
	case isWrongType(err):
		return 0, corrupt(s.key, "is not a string")
	case err != nil:
		return 0, redisError("saving", s.key, err)
	case len(res) == 1 && res[0] == "saved":
		return next, nil
	case len(res) == 1 && res[0] == "corrupt":
		return 0, corrupt(s.key, "is not a JSON object of access, refresh, base_url and generation")
	case len(res) == 2 && res[0] == "conflict":
		return 0, fmt.Errorf("%w: key %q is at generation %s, the pair being saved was refreshed from %d", ErrConflict, s.key, res[1], gen)
	}
	return 0, fmt.Errorf("redisstore: saving key %q: unexpected script result %q", s.key, res)
}

func isWrongType(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "WRONGTYPE")
}
