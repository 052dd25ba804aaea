package redisstore_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/redistest"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// fakeClock is a clock shared by a server and its clients, moved by hand.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time      { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// BenchmarkLoad compares loading a pair from Redis on loopback with loading
// it from a file.
func BenchmarkLoad(b *testing.B) {
	srv := redistest.Start(b)
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	b.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	p := pair(time.Now(), "1")

	redisStore := redisstore.New(rdb, "session")
	fileStore := wrapper.NewFileStore(filepath.Join(b.TempDir(), "session.json"))
	for _, bc := range []struct {
		name  string
		store wrapper.TokenStore
	}{{"redis", redisStore}, {"file", fileStore}} {
		if err := bc.store.Save(ctx, p); err != nil {
			b.Fatal(err)
		}
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tok, err := bc.store.Load(ctx)
				if err != nil || tok == nil {
					b.Fatal(tok, err)
				}
			}
		})
	}
}

// BenchmarkFleetRefreshes runs N replicas, each with its own Redis client
// and store on one key, against a server that rotates and blacklists. Each
// iteration is one token lifetime: the clock moves past the refresh point
// and every replica asks for a token from 8 goroutines at once. It reports
// the refreshes the server saw per lifetime: one, whatever N, is the goal.
func BenchmarkFleetRefreshes(b *testing.B) {
	srv := redistest.Start(b)
	const lifetime = 5 * time.Minute
	for _, n := range []int{1, 3, 10} {
		b.Run(fmt.Sprintf("replicas=%d", n), func(b *testing.B) {
			clock := newFakeClock(time.Now())
			api := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: lifetime, Now: clock.Now})
			b.Cleanup(api.Close)
			key := fmt.Sprintf("fleet:%d", n)
			access, refresh := api.IssuePair(1)
			seedRDB := redis.NewClient(&redis.Options{Addr: srv.Addr})
			b.Cleanup(func() { _ = seedRDB.Close() })
			// A new login: a run before this one (-count) left a pair whose
			// clock ran ahead, which the store would keep as the newer.
			if err := seedRDB.Del(context.Background(), key).Err(); err != nil {
				b.Fatal(err)
			}
			if err := redisstore.New(seedRDB, key).Save(context.Background(), &oauth2.Token{AccessToken: access, RefreshToken: refresh}); err != nil {
				b.Fatal(err)
			}
			var fleet []oauth2.TokenSource
			for range n {
				rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
				b.Cleanup(func() { _ = rdb.Close() })
				c, err := wrapper.New(wrapper.WithBaseURL(api.URL), wrapper.WithClock(clock.Now),
					wrapper.WithTokenStore(redisstore.New(rdb, key)))
				if err != nil {
					b.Fatal(err)
				}
				fleet = append(fleet, c.TokenSource())
			}
			before := api.Requests(wrappertest.RefreshRoute)
			b.ResetTimer()
			for b.Loop() {
				clock.Add(lifetime)
				var wg sync.WaitGroup
				for _, ts := range fleet {
					for range 8 {
						wg.Add(1)
						go func() {
							defer wg.Done()
							if _, err := ts.Token(); err != nil {
								b.Error(err)
							}
						}()
					}
				}
				wg.Wait()
			}
			b.ReportMetric(float64(api.Requests(wrappertest.RefreshRoute)-before)/float64(b.N), "refreshes/lifetime")
		})
	}
}
