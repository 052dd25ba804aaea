// Package redisstore keeps one AISquare session in Redis, for a fleet: many
// processes on many machines that share one login, with a refresh token the
// server rotates and blacklists.
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"})
//	c, err := wrapper.New(
//		wrapper.WithTokens(access, refresh), // seeds an empty key
//		wrapper.WithTokenStore(redisstore.New(rdb, "aisquare:session")),
//	)
//
// A [*Store] is a [wrapper.TokenStore] and a [wrapper.TokenLocker]. The
// session holds the store's lock while it refreshes: a lease in Redis (the
// key with ":lease" appended, which is why a key may not end in ":lease"),
// taken with SET NX and an expiry (go-redis sends EX for whole seconds, PX
// otherwise) by a random owner, renewed while held, and released only by
// its owner. Inside it the session re-reads the key, and adopts a
// pair another replica already rotated rather than spend its own refresh
// token: one replica refreshes for the fleet.
//
// Each stored pair carries a generation, an integer written as a string of
// decimal digits. A save under the lease succeeds only over the generation
// the lease holder loaded, checked inside Redis in one script, so a holder
// whose lease lapsed while it was paused can never overwrite a newer pair:
// its save fails with [ErrConflict]. A save outside the lease (a new login,
// with [wrapper.Client.SetTokens]) succeeds unless the stored refresh token
// is newer than the one saved (a later iat claim).
//
// The key holds one JSON value, {"access", "refresh", "base_url",
// "generation"}, such as {..., "generation": "42"}, and expires with the
// refresh token; a generation written as a JSON number below 2^53, as
// earlier versions did, is read too. A value that is not such a pair is an
// error matching [ErrCorrupt] that names the key; the store never overwrites
// it: delete the key to start over. Like [wrapper.FileStore], the store is a
// [wrapper.BaseURLStore]: it records the client's base URL with the pair,
// and a client of another base URL fails in [wrapper.New] with
// [wrapper.ErrStoreMismatch].
//
// When Redis does not answer, the store's errors say so and wrap go-redis's
// error. A pair that could not be saved is kept in memory and saved once
// Redis answers again, unless a newer pair is there by then; a holder keeps
// the lease until then, so that no other replica spends the refresh token
// this one already spent.
//
// This package is the only one of the SDK that needs go-redis: a program
// that imports [wrapper] alone does not compile it.
package redisstore
