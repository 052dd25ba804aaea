package redisstore_test

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// fleetServer is the backend of every fleet test: real SimpleJWT with
// rotation, blacklist and 3-second access tokens, so that a refresh token
// spent twice is an error the test sees.
var fleetServer = simplejwt.Options{Rotate: true, Blacklist: true, AccessLifetime: 3 * time.Second, Threaded: true}

// assertAdoptionsAreNoRefreshes checks that a replica's session reported
// no more refreshes than the refresh answers it got: a pair it took from
// the store is reported as adopted, not as a refresh.
func assertAdoptionsAreNoRefreshes(t *testing.T, r *replica, done event) {
	t.Helper()
	var ok int64
	for _, e := range r.Events() {
		if e.Ev == "refreshed" && e.Status == http.StatusOK {
			ok++
		}
	}
	assert.LessOrEqual(t, done.RefreshEvents, ok, "replica %d reported %d refreshes, with %d refresh answers (and %d pairs adopted)",
		done.PID, done.RefreshEvents, ok, done.Adopted)
}

// firstRefreshing waits for the first "refreshing" event of any of rs that
// comes after the call, and returns its replica.
func firstRefreshing(t *testing.T, rs []*replica, timeout time.Duration) (*replica, event) {
	t.Helper()
	from := make([]int, len(rs))
	for i, r := range rs {
		from[i] = len(r.Events())
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		for i, r := range rs {
			if e, _, ok := r.scan(from[i], is("refreshing")); ok {
				return r, e
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no replica refreshed in %v", timeout)
	return nil, event{}
}

func TestFleetOfThreeProcessesSharesOneRotatingRefreshToken(t *testing.T) {
	redisSrv, client := startRedis(t)
	fleetAPI := simplejwt.Start(t, fleetServer)
	aloneAPI := simplejwt.Start(t, fleetServer)
	rdb := client()
	seed(t, rdb, "fleet", fleetAPI)
	seed(t, rdb, "alone", aloneAPI)

	const duration = 30 * time.Second
	run := []string{"-goroutines", "8", "-duration", duration.String()}
	fleetCfg := fleetConfig{redis: redisSrv.Addr, key: "fleet", baseURL: fleetAPI.URL, leaseTTL: 5 * time.Second}
	aloneCfg := fleetConfig{redis: redisSrv.Addr, key: "alone", baseURL: aloneAPI.URL, leaseTTL: 5 * time.Second}
	// One replica alone runs at the same time, against a server of its own:
	// the number of refreshes it needs is the fleet's goal.
	alone := startReplica(t, aloneCfg, run...)
	var fleet []*replica
	for range 3 {
		fleet = append(fleet, startReplica(t, fleetCfg, run...))
	}

	var refreshEvents, adopted int64
	for _, r := range append(fleet, alone) {
		done := r.wait(t, duration+time.Minute)
		assertNoFailedCall(t, r, done)
		assertAdoptionsAreNoRefreshes(t, r, done)
		if r != alone {
			refreshEvents += done.RefreshEvents
			adopted += done.Adopted
		}
	}
	fleetRefreshes, aloneRefreshes := fleetAPI.RefreshRequests(t), aloneAPI.RefreshRequests(t)
	t.Logf("refresh requests in %v: fleet of 3 replicas %d, one replica alone %d", duration, fleetRefreshes, aloneRefreshes)
	t.Logf("the fleet's sessions reported %d refreshes and %d pairs adopted from the store", refreshEvents, adopted)
	assert.Positive(t, adopted, "no replica took a pair another one saved")
	assert.LessOrEqual(t, refreshEvents, int64(fleetRefreshes), "the fleet reported more refreshes than the server got")
	require.GreaterOrEqual(t, aloneRefreshes, 5, "3-second tokens over %v were hardly refreshed", duration)
	assert.LessOrEqual(t, fleetRefreshes, aloneRefreshes+2, "the fleet refreshed more than one replica alone")

	refresh, gen := storedPair(t, rdb, "fleet")
	assert.Equal(t, int64(fleetRefreshes+1), gen, "every refresh of the fleet is one generation of the key")
	assertStoredPairIsLive(t, refresh, fleetAPI)
}

func TestFleetSurvivesTheLeaseHolderKilledMidRefresh(t *testing.T) {
	redisSrv, client := startRedis(t)
	api := simplejwt.Start(t, fleetServer)
	rdb := client()
	seed(t, rdb, "fleet", api)

	const leaseTTL = 2 * time.Second
	cfg := fleetConfig{redis: redisSrv.Addr, key: "fleet", baseURL: api.URL, leaseTTL: leaseTTL}
	// Each refresh request waits two seconds before it is sent: the holder
	// is killed while it holds the lease, before the server spends its
	// token.
	run := []string{"-goroutines", "4", "-duration", "15s", "-slow-refresh", "2s"}
	fleet := []*replica{startReplica(t, cfg, run...), startReplica(t, cfg, run...), startReplica(t, cfg, run...)}

	victim, refreshing := firstRefreshing(t, fleet, 20*time.Second)
	require.NoError(t, victim.cmd.Process.Signal(syscall.SIGKILL))
	killedAt := time.Now()
	lapse, err := rdb.PTTL(context.Background(), "fleet:lease").Result()
	require.NoError(t, err)
	require.Positive(t, lapse, "the killed holder held no lease")
	t.Logf("killed replica %d %v after it started a refresh; its lease lapses in %v",
		victim.cmd.Process.Pid, killedAt.Sub(refreshing.Time()), lapse)
	<-victim.exited
	_, _, sent := victim.scan(0, func(e event) bool { return e.Ev == "refreshed" && e.T >= refreshing.T })
	require.False(t, sent, "the holder's refresh request went out before the kill: the machine is too slow for this test")

	var survivors []*replica
	for _, r := range fleet {
		if r != victim {
			survivors = append(survivors, r)
		}
	}
	_, next := firstRefreshing(t, survivors, leaseTTL+10*time.Second)
	assert.False(t, next.Time().Before(killedAt.Add(lapse-100*time.Millisecond)),
		"a replica refreshed %v after the kill, before the lease lapsed (%v)", next.Time().Sub(killedAt), lapse)
	t.Logf("next refresh %v after the kill", next.Time().Sub(killedAt))

	for _, r := range survivors {
		assertNoFailedCall(t, r, r.wait(t, time.Minute))
	}
	refresh, _ := storedPair(t, rdb, "fleet")
	assertStoredPairIsLive(t, refresh, api)
}

func TestFleetLosesNoRotatedPairWhenRedisRestarts(t *testing.T) {
	redisSrv, client := startRedis(t)
	api := simplejwt.Start(t, fleetServer)
	rdb := client()
	seed(t, rdb, "fleet", api)

	// The lease outlives the outage: a holder whose save Redis did not take
	// keeps it until the save is done.
	cfg := fleetConfig{redis: redisSrv.Addr, key: "fleet", baseURL: api.URL, leaseTTL: redisstore.DefaultLeaseTTL}
	// Each refresh request waits half a second before it is sent, so that
	// the holder's save comes while Redis is down.
	run := []string{"-goroutines", "4", "-duration", "25s", "-slow-refresh", "500ms"}
	fleet := []*replica{startReplica(t, cfg, run...), startReplica(t, cfg, run...), startReplica(t, cfg, run...)}

	// Stop Redis twice for four seconds, longer than go-redis retries a
	// command, each time as a refresh starts.
	for range 2 {
		_, e := firstRefreshing(t, fleet, 20*time.Second)
		redisSrv.Stop()
		t.Logf("stopped redis-server %v after a refresh started", time.Since(e.Time()))
		time.Sleep(4 * time.Second)
		redisSrv.Start()
		time.Sleep(3 * time.Second)
	}

	var failed, refreshed, saveErrors int64
	for _, r := range fleet {
		done := r.wait(t, time.Minute)
		assert.Zero(t, done.Blacklisted, "replica %d spent a spent refresh token: a rotated pair was lost", done.PID)
		assert.Zero(t, done.FailedValid, "replica %d: %d calls failed while it held a valid access token", done.PID, done.FailedValid)
		failed += done.Failed
		if done.Failed > 0 {
			t.Logf("replica %d: %d of %d calls failed:\n%s", done.PID, done.Failed, done.Calls, joinLines(r.failures()))
		}
		for _, e := range r.Events() {
			switch {
			case e.Ev == "refreshed" && e.Status == http.StatusOK:
				refreshed++
			case e.Ev == "save" && e.Err != "":
				saveErrors++
				t.Logf("replica %d: save failed: %s", e.PID, e.Err)
			}
		}
	}
	t.Logf("%d calls failed while Redis was down", failed)
	for _, r := range fleet {
		for _, msg := range r.failures() {
			assert.Contains(t, msg, "Redis", "a call failed for another reason than Redis being down")
		}
	}
	require.Positive(t, saveErrors, "no save came while Redis was down: the test did not test a lost save")
	refresh, gen := storedPair(t, rdb, "fleet")
	assert.Equal(t, refreshed+1, gen, "%d refreshes succeeded, but the key is at generation %d (seeded at 1)", refreshed, gen)
	assertStoredPairIsLive(t, refresh, api)
}

// TestPausedHolderCannotOverwriteTheNewerPair stops a holder with SIGSTOP in
// the middle of its refresh, past its lease, while another replica refreshes
// and saves; then lets it go on. The server rotates without a blacklist
// here, so that the paused holder's late refresh succeeds: only the store's
// fence keeps its pair from replacing the newer one. (With a blacklist the
// server itself would refuse the late refresh.)
func TestPausedHolderCannotOverwriteTheNewerPair(t *testing.T) {
	redisSrv, client := startRedis(t)
	api := simplejwt.Start(t, simplejwt.Options{Rotate: true, AccessLifetime: 3 * time.Second})
	rdb := client()
	seed(t, rdb, "fleet", api)
	ctx := context.Background()

	const leaseTTL = time.Second
	cfg := fleetConfig{redis: redisSrv.Addr, key: "fleet", baseURL: api.URL, leaseTTL: leaseTTL}
	paused := startReplica(t, cfg, "-goroutines", "1", "-duration", "8s", "-slow-refresh", "2s")
	_, at, ok := paused.waitFor(0, is("refreshing"), 20*time.Second)
	require.True(t, ok, "the replica never refreshed; events: %+v", paused.Events())
	require.NoError(t, paused.cmd.Process.Signal(syscall.SIGSTOP))
	_, genBefore := storedPair(t, rdb, "fleet")

	// Past its lease, another replica (this test) refreshes and saves.
	require.Eventually(t, func() bool { return rdb.Exists(ctx, "fleet:lease").Val() == 0 },
		3*leaseTTL, 50*time.Millisecond, "the paused holder's lease did not lapse")
	store := redisstore.New(rdb, "fleet", redisstore.WithLeaseTTL(leaseTTL))
	c, err := wrapper.New(wrapper.WithBaseURL(api.URL), wrapper.WithTokenStore(store))
	require.NoError(t, err)
	// The stored access token may still be fresh for a moment: calls go on
	// until it is due and the refresh has been saved.
	require.Eventually(t, func() bool {
		tok, err := c.TokenSource().Token()
		require.NoError(t, err)
		require.NotEmpty(t, tok.AccessToken)
		_, gen := storedPair(t, rdb, "fleet")
		return gen == genBefore+1
	}, 10*time.Second, 20*time.Millisecond, "the other replica did not save")
	newer, _ := storedPair(t, rdb, "fleet")

	require.NoError(t, paused.cmd.Process.Signal(syscall.SIGCONT))
	refreshed, _, ok := paused.waitFor(at, is("refreshed"), 10*time.Second)
	require.True(t, ok, "the paused replica did not finish its refresh; events: %+v", paused.Events())
	require.Equal(t, http.StatusOK, refreshed.Status, "the server refused the late refresh, so the fence is untested")
	save, _, ok := paused.waitFor(at, is("save"), 10*time.Second)
	require.True(t, ok, "the paused replica did not try to save; events: %+v", paused.Events())
	assert.Equal(t, http.StatusConflict, save.Status, "its save: %q", save.Err)
	assert.Contains(t, save.Err, "newer pair")

	refresh, gen := storedPair(t, rdb, "fleet")
	assert.Equal(t, newer, refresh, "the paused holder overwrote the newer pair")
	assert.Equal(t, genBefore+1, gen)

	// However the replica's session handles the refusal (trying the save
	// again, say), the refused pair never lands.
	refused := save.Pair
	require.NotEmpty(t, refused)
	paused.wait(t, 30*time.Second)
	for _, e := range paused.Events() {
		if e.Ev == "save" && e.Pair == refused {
			assert.NotEmpty(t, e.Err, "a later save of the refused pair succeeded")
		}
	}
	refresh, _ = storedPair(t, rdb, "fleet")
	assert.NotEqual(t, refused, fingerprint(refresh), "the key holds the refused pair")
}
