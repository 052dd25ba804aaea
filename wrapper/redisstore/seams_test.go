package redisstore_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// seamServer is the backend of the tests where a session meets the shared
// store: SimpleJWT with rotation and blacklist, so that a refresh token
// spent twice is refused, and access tokens that outlive the test, so that
// every refresh it counts is one the test caused.
var seamServer = simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 30 * time.Second}

// seamLease is the lease's life in these tests: a rejected replica waits up
// to twice that for a newer pair.
const seamLease = time.Second

// cutProxy forwards connections to Redis until it is cut. Cut, it closes
// every connection it forwards, and each new one as it comes, until it is
// restored: a partition that the network reports, as a rejecting firewall
// would, rather than one where packets vanish.
type cutProxy struct {
	l        net.Listener
	upstream string

	mu    sync.Mutex
	cut   bool
	conns map[net.Conn]struct{}
}

func newCutProxy(t *testing.T, upstream string) *cutProxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	p := &cutProxy{l: l, upstream: upstream, conns: map[net.Conn]struct{}{}}
	t.Cleanup(func() {
		_ = l.Close()
		p.Cut()
	})
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

// Addr is the address to reach Redis through the proxy.
func (p *cutProxy) Addr() string { return p.l.Addr().String() }

// Cut closes every connection, and refuses new ones until [cutProxy.Restore].
func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
	clear(p.conns)
}

// Restore forwards new connections again.
func (p *cutProxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// track adds the connections, unless the proxy is cut.
func (p *cutProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut {
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *cutProxy) serve(c net.Conn) {
	defer c.Close()
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		return
	}
	defer up.Close()
	if !p.track(c, up) {
		return
	}
	go func() {
		_, _ = io.Copy(c, up)
		_ = c.Close()
	}()
	_, _ = io.Copy(up, c)
}

// refreshAnswers is an HTTP transport that records the refresh answers a
// replica gets, and calls onRotated, if set, once the first rotated pair
// has arrived, before the session sees it.
type refreshAnswers struct {
	onRotated func()

	mu          sync.Mutex
	ok          int
	blacklisted int
	rotated     bool
}

func (r *refreshAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.URL.Path != api.RefreshPath {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	first := false
	switch {
	case resp.StatusCode == http.StatusOK:
		r.ok++
		first, r.rotated = !r.rotated, true
	case bytes.Contains(body, []byte("Token is blacklisted")):
		r.blacklisted++
	}
	r.mu.Unlock()
	if first && r.onRotated != nil {
		r.onRotated()
	}
	return resp, nil
}

// counts returns the refresh answers so far: accepted, and refused as
// blacklisted.
func (r *refreshAnswers) counts() (ok, blacklisted int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok, r.blacklisted
}

// seamReplica is a replica of a fleet inside the test: a client whose
// session shares the key through its own Redis client.
type seamReplica struct {
	name    string
	c       *wrapper.Client
	answers *refreshAnswers
	events  chan wrapper.RefreshEvent
}

func newSeamReplica(t *testing.T, name string, rdb *redis.Client, api *simplejwt.Server, answers *refreshAnswers) *seamReplica {
	t.Helper()
	r := &seamReplica{name: name, answers: answers, events: make(chan wrapper.RefreshEvent, 16)}
	store := redisstore.New(rdb, "svc", redisstore.WithLeaseTTL(seamLease))
	c, err := wrapper.New(wrapper.WithBaseURL(api.URL), wrapper.WithTokenStore(store),
		wrapper.WithHTTPClient(&http.Client{Transport: answers}),
		wrapper.WithOnRefresh(func(ev wrapper.RefreshEvent) { r.events <- ev }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	r.c = c
	return r
}

// call calls the protected route once, in the background; the result
// comes on the channel.
func (r *seamReplica) call(api *simplejwt.Server) <-chan error {
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- callMe(ctx, r.c, api.URL)
	}()
	return done
}

// event returns the replica's next refresh event.
func (r *seamReplica) event(t *testing.T) wrapper.RefreshEvent {
	t.Helper()
	select {
	case ev := <-r.events:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatalf("replica %s: no refresh event within 10s", r.name)
		return wrapper.RefreshEvent{}
	}
}

// callMe calls the protected route through c and checks the answer.
func callMe(ctx context.Context, c *wrapper.Client, baseURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+"/api/v1/me/", nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return wrapper.CheckResponse(resp, body)
}

// result waits for a call's result.
func result(t *testing.T, name string, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("replica %s: call still running after 30s", name)
		return nil
	}
}

// seedExpired saves a pair of api whose access token has expired in the
// key, as a replica that stopped a while ago left it: the first call of
// every replica needs a refresh.
func seedExpired(t *testing.T, rdb *redis.Client, api *simplejwt.Server) (refresh string) {
	t.Helper()
	access, refresh := api.PairIssuedAgo(t, time.Hour)
	store := redisstore.New(rdb, "svc")
	require.NoError(t, store.Bind(context.Background(), api.URL))
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: access, RefreshToken: refresh}))
	return refresh
}

// assertAdoptedTheHoldersPair checks that a replica rejected while the
// holder was away went on with the holder's pair, once it landed: its call
// succeeded, its one refresh event is an adoption, and its session is
// alive.
func assertAdoptedTheHoldersPair(t *testing.T, r *seamReplica, done <-chan error, api *simplejwt.Server) {
	t.Helper()
	require.NoError(t, result(t, r.name, done), "replica %s died of the holder's absence", r.name)
	ev := r.event(t)
	assert.NoError(t, ev.Err, "replica %s", r.name)
	assert.True(t, ev.Adopted, "replica %s: %+v is not the adoption of the holder's pair", r.name, ev)
	assert.False(t, ev.Rotated, "replica %s: an adopted pair is no rotation", r.name)
	ok, blacklisted := r.answers.counts()
	assert.Equal(t, 0, ok, "replica %s refreshed", r.name)
	assert.Equal(t, 1, blacklisted, "replica %s did not spend the old refresh token once", r.name)
	assert.NoError(t, callMe(context.Background(), r.c, api.URL), "replica %s: the next call", r.name)
}

// waitBlacklisted waits until each replica's refresh of the old token was
// refused as blacklisted.
func waitBlacklisted(t *testing.T, rs ...*seamReplica) {
	t.Helper()
	require.Eventually(t, func() bool {
		for _, r := range rs {
			if _, n := r.answers.counts(); n == 0 {
				return false
			}
		}
		return true
	}, 20*time.Second, 5*time.Millisecond, "the replicas waiting for the lease did not spend the old refresh token")
}

// partition is a fleet of three replicas in the test, on one key: A
// reaches Redis through a proxy, which A's HTTP transport cuts as the
// rotated pair arrives, before A can save it; B and C reach Redis directly.
type partition struct {
	api                 *simplejwt.Server
	rdb                 *redis.Client
	proxy               *cutProxy
	a, b, c             *seamReplica
	aDone, bDone, cDone <-chan error
	old                 string // the seeded refresh token, which A spends
	gen                 int64  // the seeded generation
}

// partitioned runs a partition until B and C, having taken A's lapsed
// lease one after the other, have spent the old refresh token and been
// refused; A's pair is in no store yet.
func partitioned(t *testing.T) *partition {
	t.Helper()
	redisSrv, client := startRedis(t)
	p := &partition{api: simplejwt.Start(t, seamServer), rdb: client()}
	p.old = seedExpired(t, p.rdb, p.api)
	_, p.gen = storedPair(t, p.rdb, "svc")

	p.proxy = newCutProxy(t, redisSrv.Addr)
	cut := make(chan struct{})
	behind := redis.NewClient(&redis.Options{Addr: p.proxy.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = behind.Close() })
	p.a = newSeamReplica(t, "A", behind, p.api, &refreshAnswers{onRotated: func() { p.proxy.Cut(); close(cut) }})
	p.b = newSeamReplica(t, "B", client(), p.api, &refreshAnswers{})
	p.c = newSeamReplica(t, "C", client(), p.api, &refreshAnswers{})

	p.aDone = p.a.call(p.api)
	select {
	case <-cut:
	case <-time.After(20 * time.Second):
		t.Fatal("replica A did not refresh")
	}
	p.bDone, p.cDone = p.b.call(p.api), p.c.call(p.api)
	waitBlacklisted(t, p.b, p.c)
	refresh, gen := storedPair(t, p.rdb, "svc")
	require.Equal(t, p.old, refresh, "A's pair reached Redis through the cut")
	require.Equal(t, p.gen, gen)
	return p
}

// assertAllOnTheHoldersPair checks that after the partition healed, A's
// call succeeded although A could not save through the cut, the three
// replicas use A's pair, the key holds it as the one save after the seed,
// and it is live.
func (p *partition) assertAllOnTheHoldersPair(t *testing.T) {
	t.Helper()
	require.NoError(t, result(t, "A", p.aDone))
	ev := p.a.event(t)
	assert.False(t, ev.Expiry.IsZero(), "A's refresh failed: %v", ev.Err)
	assert.ErrorContains(t, ev.Err, "Redis", "A's save went through the cut")

	aAccess, err := p.a.c.AccessToken(context.Background())
	require.NoError(t, err)
	for _, r := range []*seamReplica{p.b, p.c} {
		access, err := r.c.AccessToken(context.Background())
		require.NoError(t, err)
		assert.Equal(t, aAccess, access, "replica %s does not use A's pair", r.name)
	}
	refresh, gen := storedPair(t, p.rdb, "svc")
	assert.NotEqual(t, p.old, refresh)
	assert.Equal(t, p.gen+1, gen, "A's pair is the one save after the seed")
	assertStoredPairIsLive(t, refresh, p.api)
}

// TestReplicasQueuedBehindAPartitionedHolderAdoptItsPair: replica A, which
// reaches Redis through a proxy, holds the lease and gets the rotated pair;
// the proxy is cut before A saves it. A's lease lapses; replicas B and C,
// queued for it, load the old refresh token, spend it, and get "Token is
// blacklisted". When the partition heals, A's pair lands, and B and C go on
// with it: their calls succeed, and the server saw three refreshes, one of
// them accepted.
func TestReplicasQueuedBehindAPartitionedHolderAdoptItsPair(t *testing.T) {
	p := partitioned(t)
	p.proxy.Restore()

	assertAdoptedTheHoldersPair(t, p.b, p.bDone, p.api)
	assertAdoptedTheHoldersPair(t, p.c, p.cDone, p.api)
	assert.Equal(t, 3, p.api.RefreshRequests(t), "refreshes at the server: A's, and B's and C's of the spent token")
	p.assertAllOnTheHoldersPair(t)
}

// TestReplicasRefusedForLongerThanTheirGraceReviveWithTheHoldersPair: the
// partition outlasts the grace period of B and C, whose calls fail: their
// refresh token is rejected. They are not dead for good: once A's pair
// lands, their next calls succeed with it, with no refresh of their own.
func TestReplicasRefusedForLongerThanTheirGraceReviveWithTheHoldersPair(t *testing.T) {
	p := partitioned(t)
	require.ErrorIs(t, result(t, "B", p.bDone), wrapper.ErrInvalidToken)
	require.ErrorIs(t, result(t, "C", p.cDone), wrapper.ErrInvalidToken)
	p.proxy.Restore()

	for _, r := range []*seamReplica{p.b, p.c} {
		require.Eventually(t, func() bool { return callMe(context.Background(), r.c, p.api.URL) == nil },
			10*time.Second, 50*time.Millisecond, "replica %s did not revive with A's pair", r.name)
		ev := r.event(t)
		require.ErrorIs(t, ev.Err, wrapper.ErrInvalidToken, "replica %s", r.name)
		ev = r.event(t)
		assert.True(t, ev.Adopted, "replica %s: %+v is not the adoption of A's pair", r.name, ev)
		assert.NoError(t, ev.Err)
	}
	assert.Equal(t, 3, p.api.RefreshRequests(t), "refreshes at the server: A's, and B's and C's of the spent token")
	p.assertAllOnTheHoldersPair(t)
}

// TestReplicasQueuedBehindAStoppedHolderAdoptItsPair: as with a partition,
// with a holder process stopped (SIGSTOP) between the refresh answer and
// its save, and continued (SIGCONT) once the others were refused.
func TestReplicasQueuedBehindAStoppedHolderAdoptItsPair(t *testing.T) {
	redisSrv, client := startRedis(t)
	api := simplejwt.Start(t, seamServer)
	rdb := client()
	old := seedExpired(t, rdb, api)
	_, genBefore := storedPair(t, rdb, "svc")
	ctx := context.Background()

	cfg := fleetConfig{redis: redisSrv.Addr, key: "svc", baseURL: api.URL, leaseTTL: seamLease}
	// The replica holds its first refresh answer for a second, in which
	// the test stops it; continued, it goes on at once.
	holder := startReplica(t, cfg, "-goroutines", "1", "-duration", "4s", "-pace", "100ms", "-pause-after-refresh", "1s")
	answered, _, ok := holder.waitFor(0, is("refreshed"), 20*time.Second)
	require.True(t, ok, "the replica never refreshed; events: %+v", holder.Events())
	require.Equal(t, http.StatusOK, answered.Status)
	require.NoError(t, holder.cmd.Process.Signal(syscall.SIGSTOP))
	require.Eventually(t, func() bool { return rdb.Exists(ctx, "svc:lease").Val() == 0 },
		5*seamLease, 10*time.Millisecond, "the stopped holder's lease did not lapse")

	b := newSeamReplica(t, "B", client(), api, &refreshAnswers{})
	c := newSeamReplica(t, "C", client(), api, &refreshAnswers{})
	bDone, cDone := b.call(api), c.call(api)
	waitBlacklisted(t, b, c)
	refreshed, gen := storedPair(t, rdb, "svc")
	require.Equal(t, old, refreshed, "the stopped holder saved")
	require.Equal(t, genBefore, gen)
	continued := time.Now()
	require.NoError(t, holder.cmd.Process.Signal(syscall.SIGCONT))

	save, _, ok := holder.waitFor(0, is("save"), 20*time.Second)
	require.True(t, ok, "the holder did not save; events: %+v", holder.Events())
	require.Empty(t, save.Err, "the holder's save")
	// Its clock and the test's are the machine's.
	require.False(t, save.Time().Before(continued.Truncate(time.Millisecond)),
		"the holder saved before it was stopped: the test tested nothing")
	assertAdoptedTheHoldersPair(t, b, bDone, api)
	assertAdoptedTheHoldersPair(t, c, cDone, api)
	assertNoFailedCall(t, holder, holder.wait(t, time.Minute))
	assert.Equal(t, 3, api.RefreshRequests(t), "refreshes at the server: the holder's, and B's and C's of the spent token")

	refreshed, gen = storedPair(t, rdb, "svc")
	assert.Equal(t, save.Pair, fingerprint(refreshed), "the key does not hold the holder's pair")
	assert.Equal(t, genBefore+1, gen)
	assertStoredPairIsLive(t, refreshed, api)
}

// TestDeadSessionRevivesWithAPairSavedInRedis: a service whose refresh
// token was spent elsewhere dies once its grace period ends; a new login
// saved in the key, as "aisquare-go session set" saves one, revives it
// without a restart, and it sends no refresh for it.
func TestDeadSessionRevivesWithAPairSavedInRedis(t *testing.T) {
	_, client := startRedis(t)
	api := simplejwt.Start(t, seamServer)
	rdb := client()
	old := seedExpired(t, rdb, api)
	ctx := context.Background()

	service := newSeamReplica(t, "service", client(), api, &refreshAnswers{})
	other, err := wrapper.New(wrapper.WithBaseURL(api.URL))
	require.NoError(t, err)
	_, err = other.RefreshToken(ctx, old) // spent behind the fleet's back
	require.NoError(t, err)

	err = result(t, "service", service.call(api))
	require.ErrorIs(t, err, wrapper.ErrInvalidToken, "the service is not dead")
	ev := service.event(t)
	require.ErrorIs(t, ev.Err, wrapper.ErrInvalidToken)

	access, refresh := api.Pair(t)
	set := redisstore.New(client(), "svc")
	require.NoError(t, set.Bind(ctx, api.URL))
	require.NoError(t, set.Save(ctx, &oauth2.Token{AccessToken: access, RefreshToken: refresh}))
	require.Eventually(t, func() bool {
		return callMe(ctx, service.c, api.URL) == nil
	}, 10*time.Second, 50*time.Millisecond, "the service did not revive with the new login")
	ev = service.event(t)
	assert.True(t, ev.Adopted, "the revival %+v is not an adoption", ev)
	assert.NoError(t, ev.Err)
	got, err := service.c.AccessToken(ctx)
	require.NoError(t, err)
	assert.Equal(t, access, got, "the service does not use the new login")
	assert.Equal(t, 2, api.RefreshRequests(t), "refreshes at the server: the one elsewhere and the service's refused one")
	stored, _ := storedPair(t, rdb, "svc")
	assert.Equal(t, refresh, stored, "the new login was replaced")
}
