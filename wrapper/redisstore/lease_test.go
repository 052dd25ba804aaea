package redisstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

func TestLeaseTTLIsTheTimeToLiveOfTheLease(t *testing.T) {
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer rdb.Close()
	assert.Equal(t, redisstore.DefaultLeaseTTL, redisstore.New(rdb, "k").LeaseTTL())
	assert.Equal(t, 3*time.Second, redisstore.New(rdb, "k", redisstore.WithLeaseTTL(3*time.Second)).LeaseTTL())
}

func TestLeaseExcludesOtherHoldersUntilReleased(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	a := redisstore.New(client(), "session")
	b := redisstore.New(client(), "session")

	unlock, err := a.Lock(ctx)
	require.NoError(t, err)

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, err = b.Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "session:lease")

	unlock()
	unlock() // a second call is a no-op
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err, "the lease was not released")
	unlockB()
}

func TestLeaseExcludesOtherUsersOfTheSameStore(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	s := redisstore.New(client(), "session")
	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = s.Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	unlock()
}

func TestLeaseIsRenewedWhileHeld(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	ttl := 300 * time.Millisecond
	a := redisstore.New(client(), "session", redisstore.WithLeaseTTL(ttl))
	unlock, err := a.Lock(ctx)
	require.NoError(t, err)
	defer unlock()

	// Held for more than three times its TTL, the lease is still there.
	wait, cancel := context.WithTimeout(ctx, 4*ttl)
	defer cancel()
	_, err = redisstore.New(client(), "session", redisstore.WithLeaseTTL(ttl)).Lock(wait)
	require.ErrorIs(t, err, context.DeadlineExceeded, "another holder took a lease that was renewed")
}

func TestLeaseOfAVanishedHolderLapses(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	// A holder that died: its lease has an owner nobody renews.
	require.NoError(t, rdb.Set(ctx, "session:lease", "dead-owner", 500*time.Millisecond).Err())

	start := time.Now()
	unlock, err := redisstore.New(client(), "session").Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	assert.GreaterOrEqual(t, time.Since(start), 300*time.Millisecond, "the lease was taken before it lapsed")
}

func TestLeaseIsReleasedOnlyByItsOwner(t *testing.T) {
	_, client := startRedis(t)
	ctx := context.Background()
	rdb := client()
	a := redisstore.New(client(), "session")
	unlockA, err := a.Lock(ctx)
	require.NoError(t, err)

	// A's lease lapses (as if it had been paused), and B takes it.
	require.NoError(t, rdb.Del(ctx, "session:lease").Err())
	b := redisstore.New(client(), "session")
	unlockB, err := b.Lock(ctx)
	require.NoError(t, err)
	owner, err := rdb.Get(ctx, "session:lease").Result()
	require.NoError(t, err)

	unlockA()
	got, err := rdb.Get(ctx, "session:lease").Result()
	require.NoError(t, err, "A released B's lease")
	assert.Equal(t, owner, got)
	unlockB()
	assert.Equal(t, int64(0), rdb.Exists(ctx, "session:lease").Val())
}

func TestLeaseTakenByACommandWhoseAnswerWasLost(t *testing.T) {
	srv, client := startRedis(t)
	ctx := context.Background()
	proxy := newDropProxy(t, srv.Addr, "session:lease")
	rdb := redis.NewClient(&redis.Options{Addr: proxy.l.Addr().String()})
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, "session", redisstore.WithLeaseTTL(10*time.Second))
	require.NoError(t, rdb.Ping(ctx).Err())

	proxy.armed.Store(true)
	short, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	unlock, err := s.Lock(short)
	require.NoError(t, err, "the lease its own lost SET took was taken for another holder's")
	require.Equal(t, int32(1), proxy.dropped.Load(), "no answer was lost: the test tested nothing")
	unlock()
	assert.Equal(t, int64(0), client().Exists(ctx, "session:lease").Val(), "the lease was not released")
}
