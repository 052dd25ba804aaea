// Command replica is one replica of a fleet that shares an AISquare session
// in Redis, for the fleet tests of package redisstore: it calls a protected
// route from many goroutines for a while, and reports what happened as JSON
// lines on standard output, one event a line. It never prints a token.
//
//	replica -redis 127.0.0.1:6379 -key session -base-url http://127.0.0.1:8000
//
// Events: "ready" once the client is made; "refreshing" when a refresh
// request is about to be sent (the session holds the lease by then);
// "refreshed" with the answer's status; "adopted" when the session took a
// pair from the store instead of refreshing (no refresh request is sent for
// it); "save" with the store's error, if any, and the pair's fingerprint;
// "fail" for a failed call (the first few), saying whether the replica held
// a valid access token; "done" with the counts.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// event is one line of output.
type event struct {
	Ev          string `json:"ev"`
	PID         int    `json:"pid"`
	T           int64  `json:"t"` // Unix milliseconds
	Status      int    `json:"status,omitempty"`
	Err         string `json:"err,omitempty"`
	Calls       int64  `json:"calls,omitempty"`
	Failed      int64  `json:"failed,omitempty"`
	Blacklisted int64  `json:"blacklisted,omitempty"`
	Refreshes   int64  `json:"refreshes,omitempty"`
	// RefreshEvents, on "done", counts the session's refresh events of
	// refreshes it sent that succeeded, and Adopted its events of pairs
	// taken from the store; no event is both.
	RefreshEvents int64 `json:"refresh_events,omitempty"`
	Adopted       int64 `json:"adopted,omitempty"`
	// Valid, on a "fail", says the replica held an access token that had
	// not expired; on "done", FailedValid counts such failures.
	Valid       bool  `json:"valid,omitempty"`
	FailedValid int64 `json:"failed_valid,omitempty"`
	// Pair identifies the pair of a "save" without the tokens: the first
	// bytes of the SHA-256 of its refresh token, in hex.
	Pair string `json:"pair,omitempty"`
}

var (
	outMu sync.Mutex
	out   = json.NewEncoder(os.Stdout)
)

func emit(e event) {
	e.PID, e.T = os.Getpid(), time.Now().UnixMilli()
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(e)
}

// counts are the replica's counts, reported in the "done" event.
var counts struct {
	calls, failed, failedValid, blacklisted, refreshes, refreshEvents, adopted atomic.Int64
}

// validUntil is the latest expiry (Unix milliseconds) of the access tokens
// the replica has sent: until then, it holds a valid one.
var validUntil atomic.Int64

func main() {
	addr := flag.String("redis", "", "Redis address")
	key := flag.String("key", "", "Redis key of the session")
	baseURL := flag.String("base-url", "", "API base URL")
	goroutines := flag.Int("goroutines", 8, "concurrent callers")
	duration := flag.Duration("duration", 30*time.Second, "how long to call")
	pace := flag.Duration("pace", 250*time.Millisecond, "pause between two calls of a caller")
	leaseTTL := flag.Duration("lease-ttl", redisstore.DefaultLeaseTTL, "the lease's time-to-live")
	slow := flag.Duration("slow-refresh", 0, "delay before sending each refresh request")
	pause := flag.Duration("pause-after-refresh", 0,
		"delay between the first successful refresh answer and the session's use of it, for a test to stop the process in between")
	flag.Parse()

	rdb := redis.NewClient(&redis.Options{Addr: *addr})
	defer rdb.Close()
	store := &reportingStore{redisstore.New(rdb, *key, redisstore.WithLeaseTTL(*leaseTTL))}
	hc := &http.Client{Transport: &refreshWatcher{base: tokenWatcher{http.DefaultTransport}, delay: *slow, pause: *pause}}
	c, err := wrapper.New(wrapper.WithBaseURL(*baseURL), wrapper.WithTokenStore(store), wrapper.WithHTTPClient(hc),
		wrapper.WithOnRefresh(onRefresh))
	if err != nil {
		emit(event{Ev: "fatal", Err: err.Error()})
		os.Exit(1)
	}
	emit(event{Ev: "ready"})

	deadline := time.Now().Add(*duration)
	var wg sync.WaitGroup
	for range *goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				call(c, *baseURL+"/api/v1/me/")
				time.Sleep(*pace)
			}
		}()
	}
	wg.Wait()
	// A refresh in flight ends, and its rotated pair reaches Redis, before
	// the replica does: as a service that shuts down cleanly.
	_ = c.Close()
	emit(event{
		Ev: "done", Calls: counts.calls.Load(), Failed: counts.failed.Load(),
		Blacklisted: counts.blacklisted.Load(), Refreshes: counts.refreshes.Load(),
		FailedValid: counts.failedValid.Load(), RefreshEvents: counts.refreshEvents.Load(), Adopted: counts.adopted.Load(),
	})
}

// onRefresh counts the session's refreshes and adoptions, and reports each
// adoption: a pair taken from the store is no refresh.
func onRefresh(ev wrapper.RefreshEvent) {
	switch {
	case ev.Adopted:
		counts.adopted.Add(1)
		emit(event{Ev: "adopted"})
	case ev.Err == nil && !ev.Login:
		counts.refreshEvents.Add(1)
	}
}

// call calls the protected route once and counts the outcome.
func call(c *wrapper.Client, url string) {
	counts.calls.Add(1)
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := get(ctx, c, url)
	if err == nil {
		return
	}
	// Whether the call started with a valid token at hand, with half a
	// second of grace for a request in flight as its token expired.
	valid := start.Before(time.UnixMilli(validUntil.Load()).Add(-500 * time.Millisecond))
	if valid {
		counts.failedValid.Add(1)
	}
	if strings.Contains(err.Error(), "blacklisted") {
		counts.blacklisted.Add(1)
	}
	if n := counts.failed.Add(1); n <= 20 {
		emit(event{Ev: "fail", Err: err.Error(), Valid: valid})
	}
}

func get(ctx context.Context, c *wrapper.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(body, []byte(`"user_id"`)) {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, body)
	}
	return nil
}

// tokenWatcher records the expiry of the access tokens the replica sends.
type tokenWatcher struct{ base http.RoundTripper }

func (w tokenWatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), api.AuthScheme+" "); ok {
		if exp, err := wrapper.TokenExpiry(tok); err == nil {
			for {
				cur := validUntil.Load()
				if exp.UnixMilli() <= cur || validUntil.CompareAndSwap(cur, exp.UnixMilli()) {
					break
				}
			}
		}
	}
	return w.base.RoundTrip(req)
}

// refreshWatcher reports each refresh request, after delaying it, and its
// answer; it holds the first successful answer for pause.
type refreshWatcher struct {
	base   http.RoundTripper
	delay  time.Duration
	pause  time.Duration
	paused atomic.Bool
}

func (w *refreshWatcher) RoundTrip(req *http.Request) (*http.Response, error) {
	if !strings.HasSuffix(req.URL.Path, api.RefreshPath) {
		return w.base.RoundTrip(req)
	}
	counts.refreshes.Add(1)
	emit(event{Ev: "refreshing"})
	if w.delay > 0 {
		time.Sleep(w.delay)
	}
	resp, err := w.base.RoundTrip(req)
	if err != nil {
		emit(event{Ev: "refreshed", Err: err.Error()})
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		emit(event{Ev: "refreshed", Status: resp.StatusCode, Err: err.Error()})
		return nil, err
	}
	e := event{Ev: "refreshed", Status: resp.StatusCode}
	if bytes.Contains(body, []byte("blacklisted")) {
		counts.blacklisted.Add(1)
		e.Err = "blacklisted"
	}
	emit(e)
	if w.pause > 0 && resp.StatusCode == http.StatusOK && !w.paused.Swap(true) {
		// The server has rotated the pair, which is in nobody's store yet.
		time.Sleep(w.pause)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// fingerprint identifies a refresh token in the output without showing it.
func fingerprint(refresh string) string {
	sum := sha256.Sum256([]byte(refresh))
	return hex.EncodeToString(sum[:8])
}

// reportingStore reports the outcome of every save.
type reportingStore struct{ *redisstore.Store }

func (s *reportingStore) Save(ctx context.Context, tok *oauth2.Token) error {
	err := s.Store.Save(ctx, tok)
	e := event{Ev: "save", Pair: fingerprint(tok.RefreshToken)}
	if err != nil {
		e.Err = err.Error()
		if errors.Is(err, redisstore.ErrConflict) {
			e.Status = 409
		}
	}
	emit(e)
	return err
}
