package redisstore

import (
	"errors"
	"fmt"
)

var (
	// ErrConflict is returned by [Store.Save] when the key holds a newer
	// pair than the one being saved: another replica saved since this one
	// loaded the pair it refreshed, or the stored refresh token was issued
	// later. The stored pair is left as it is; load it and use it.
	ErrConflict = errors.New("redisstore: the key holds a newer pair")

	// ErrCorrupt is returned when the key holds something other than a
	// token pair. The store never overwrites it; delete the key to start
	// over.
	ErrCorrupt = errors.New("redisstore: not a token pair")
)

// corrupt is the error for a key whose value is not a token pair; why never
// contains the value, which may hold a token.
func corrupt(key, why string) error {
	return fmt.Errorf("%w: key %q %s; the store will not overwrite it (delete the key to start over)", ErrCorrupt, key, why)
}

// redisError is the error for a Redis command that failed, such as when
// Redis does not answer; it names Redis, the operation and the key, and
// wraps go-redis's error.
func redisError(op, key string, err error) error {
	return fmt.Errorf("redisstore: Redis error %s key %q: %w", op, key, err)
}
