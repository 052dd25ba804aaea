package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

func TestCorruptValueIsAnErrorNamingTheKeyAndIsNeverOverwritten(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	const secret = "eyJsecret.part.here"
	for _, tc := range []struct {
		name string
		set  func(key string) error
	}{
		{"not JSON", func(k string) error { return rdb.Set(ctx, k, "<html>"+secret, 0).Err() }},
		{"truncated JSON", func(k string) error { return rdb.Set(ctx, k, `{"access":"`+secret+`","refre`, 0).Err() }},
		{"no refresh token", func(k string) error {
			return rdb.Set(ctx, k, `{"access":"`+secret+`","refresh":"","generation":3}`, 0).Err()
		}},
		{"a JSON array", func(k string) error { return rdb.Set(ctx, k, `["`+secret+`"]`, 0).Err() }},
		{"a hash", func(k string) error { return rdb.HSet(ctx, k, "access", secret).Err() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := "corrupt:" + strings.ReplaceAll(tc.name, " ", "-")
			require.NoError(t, tc.set(key))
			dump := func() string { s, err := rdb.Dump(ctx, key).Result(); require.NoError(t, err); return s }
			before := dump()
			s := redisstore.New(client(), key)

			_, err := s.Load(ctx)
			require.ErrorIs(t, err, redisstore.ErrCorrupt)
			assert.Contains(t, err.Error(), key)
			assert.NotContains(t, err.Error(), secret)

			err = s.Save(ctx, pair(time.Now(), "new"))
			require.ErrorIs(t, err, redisstore.ErrCorrupt)

			unlock, err := s.Lock(ctx)
			require.NoError(t, err)
			_, err = s.Load(ctx)
			require.ErrorIs(t, err, redisstore.ErrCorrupt)
			require.ErrorIs(t, s.Save(ctx, pair(time.Now(), "new")), redisstore.ErrCorrupt)
			unlock()

			assert.Equal(t, before, dump(), "the corrupt value was overwritten")
		})
	}
}

func TestRedisUnreachableErrorsNameRedisAndTheKey(t *testing.T) {
	srv, client := startRedis(t)
	s := redisstore.New(client(), "session")
	srv.Stop()
	ctx := context.Background()
	p := pair(time.Now(), "1")

	_, err := s.Load(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis")
	assert.Contains(t, err.Error(), `"session"`)

	_, err = s.Lock(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis")

	err = s.Save(ctx, p)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Redis")
	for _, e := range []string{err.Error(), fmt.Sprintf("%v %+v %#v", s, s, s)} {
		assert.NotContains(t, e, p.RefreshToken)
		assert.NotContains(t, e, p.AccessToken)
	}
}
