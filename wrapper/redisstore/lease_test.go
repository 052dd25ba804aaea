package redisstore_test

import (
	"bytes"
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// dropProxy forwards connections to upstream, except that the first request
// containing match once armed reaches Redis and its answer is lost: the
// connection closes instead.
type dropProxy struct {
	l        net.Listener
	upstream string
	match    []byte
	armed    atomic.Bool
	dropped  atomic.Int32
}

func newDropProxy(t *testing.T, upstream string, match string) *dropProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &dropProxy{l: l, upstream: upstream, match: []byte(match)}
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go p.serve(c)
		}
	}()
	return p
}

func (p *dropProxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	var muted atomic.Bool
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 && !muted.Load() {
				if _, werr := c.Write(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if bytes.Contains(buf[:n], p.match) && p.armed.CompareAndSwap(true, false) {
				muted.Store(true)
				_, _ = up.Write(buf[:n])
				time.Sleep(100 * time.Millisecond) // Redis executes it
				p.dropped.Add(1)
				return
			}
			if _, werr := up.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
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

func TestAFencedSaveWhoseAnswerWasLostSucceeds(t *testing.T) {
	srv, client := startRedis(t)
	ctx := context.Background()
	proxy := newDropProxy(t, srv.Addr, `"generation":`)
	rdb := redis.NewClient(&redis.Options{Addr: proxy.l.Addr().String()})
	t.Cleanup(func() { _ = rdb.Close() })
	s := redisstore.New(rdb, "session")
	t0 := time.Now().Add(-time.Minute)
	// Redis caches the script here: the save below is one EVALSHA.
	require.NoError(t, s.Save(ctx, pair(t0, "0")))

	unlock, err := s.Lock(ctx)
	require.NoError(t, err)
	_, err = s.Load(ctx)
	require.NoError(t, err)
	proxy.armed.Store(true)
	p1 := pair(t0.Add(time.Second), "1")
	require.NoError(t, s.Save(ctx, p1), "go-redis repeated the save, which found its own pair")
	require.Equal(t, int32(1), proxy.dropped.Load(), "no answer was lost: the test tested nothing")
	v := stored(t, client(), "session")
	assert.Equal(t, p1.RefreshToken, v["refresh"])
	assert.Equal(t, "2", v["generation"])

	p2 := pair(t0.Add(2*time.Second), "2")
	require.NoError(t, s.Save(ctx, p2), "the next save under the lease is not over the generation the first one wrote")
	unlock()
	assert.Equal(t, int64(0), client().Exists(ctx, "session:lease").Val(), "the lease is kept for a save still pending")
	v = stored(t, client(), "session")
	assert.Equal(t, p2.RefreshToken, v["refresh"])
	assert.Equal(t, "3", v["generation"])
}
