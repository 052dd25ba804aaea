package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

func TestAPairRedisDidNotTakeIsSavedWhenRedisComesBack(t *testing.T) {
	srv, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	t0 := time.Now().Add(-time.Minute)
	s := redisstore.New(client(), "session")
	require.NoError(t, s.Save(ctx, pair(t0, "0")))

	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	_, err = s.Load(ctx)
	require.NoError(t, err)
	// The refresh rotated the pair; Redis goes away before the save.
	srv.Stop()
	rotated := pair(t0.Add(time.Second), "1")
	require.Error(t, s.Save(ctx, rotated))
	unlock()
	// The session tries again, outside the lease, while Redis is still down.
	require.Error(t, s.Save(ctx, rotated))

	srv.Start()
	// Another replica that takes the lease gets the rotated pair, not the
	// one its holder spent.
	b := redisstore.New(client(), "session")
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	got, err := b.Load(ctx)
	require.NoError(t, err)
	unlockB()
	assert.Equal(t, rotated.RefreshToken, got.RefreshToken, "the rotated pair was lost")
	assert.Equal(t, "2", stored(t, rdb, "session")["generation"])
}
