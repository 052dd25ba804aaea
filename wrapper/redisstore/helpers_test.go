package redisstore_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/redistest"
	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if replicaDir != "" {
		_ = os.RemoveAll(replicaDir)
	}
	os.Exit(code)
}

// startRedis starts a real redis-server for the test and returns it with a
// client function: each call is a new client, as another replica would have.
func startRedis(t *testing.T) (*redistest.Server, func() *redis.Client) {
	t.Helper()
	srv := redistest.Start(t)
	return srv, func() *redis.Client {
		rdb := redis.NewClient(&redis.Options{Addr: srv.Addr, MaxRetries: -1})
		t.Cleanup(func() { _ = rdb.Close() })
		return rdb
	}
}

// fakeJWT returns an unsigned JWT with the given claims: the store reads
// claims without verifying them.
func fakeJWT(typ string, iat, exp time.Time, jti string) string {
	enc := base64.RawURLEncoding
	payload, _ := json.Marshal(map[string]any{"token_type": typ, "iat": iat.Unix(), "exp": exp.Unix(), "jti": jti})
	return enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc.EncodeToString(payload) + ".c2lnbmF0dXJl"
}

// pair returns a token pair whose refresh token was issued at iat.
func pair(iat time.Time, jti string) *oauth2.Token {
	return &oauth2.Token{
		AccessToken:  fakeJWT("access", iat, iat.Add(5*time.Minute), "a"+jti),
		RefreshToken: fakeJWT("refresh", iat, iat.Add(24*time.Hour), "r"+jti),
	}
}

// stored returns the key's raw JSON value.
func stored(t *testing.T, rdb *redis.Client, key string) map[string]any {
	t.Helper()
	data, err := rdb.Get(context.Background(), key).Bytes()
	require.NoError(t, err)
	var v map[string]any
	require.NoError(t, json.Unmarshal(data, &v))
	return v
}

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

// replicaBinary is the replica command, built once for the test binary by
// buildReplica.
var (
	replicaOnce sync.Once
	replicaPath string
	replicaErr  error
	replicaDir  string
)

// buildReplica builds the replica command (internal/replica) and returns its
// path.
func buildReplica(t *testing.T) string {
	t.Helper()
	replicaOnce.Do(func() {
		replicaDir, replicaErr = os.MkdirTemp("", "replica")
		if replicaErr != nil {
			return
		}
		replicaPath = filepath.Join(replicaDir, "replica")
		out, err := exec.Command("go", "build", "-o", replicaPath,
			"github.com/aisquare-studio/aisquare-go/wrapper/redisstore/internal/replica").CombinedOutput()
		if err != nil {
			replicaErr = &buildError{err: err, out: string(out)}
		}
	})
	require.NoError(t, replicaErr, "building the replica command")
	return replicaPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + ": " + e.out }

// event is one line of a replica's output (see internal/replica).
type event struct {
	Ev          string `json:"ev"`
	PID         int    `json:"pid"`
	T           int64  `json:"t"`
	Status      int    `json:"status"`
	Err         string `json:"err"`
	Calls       int64  `json:"calls"`
	Failed      int64  `json:"failed"`
	Blacklisted int64  `json:"blacklisted"`
	Refreshes   int64  `json:"refreshes"`
	Pair        string `json:"pair"`
	Valid       bool   `json:"valid"`
	FailedValid int64  `json:"failed_valid"`
	// RefreshEvents and Adopted, on "done": the session's own successful
	// refreshes, and the pairs it took from the store instead.
	RefreshEvents int64 `json:"refresh_events"`
	Adopted       int64 `json:"adopted"`
}

// Time is when the event happened.
func (e event) Time() time.Time { return time.UnixMilli(e.T) }

// replica is a running replica process.
type replica struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit status, once exited is closed

	mu     sync.Mutex
	events []event
	notify chan struct{} // closed and replaced at each event
}

// fleetConfig is what every replica of a test shares.
type fleetConfig struct {
	redis, key, baseURL string
	leaseTTL            time.Duration
}

// startReplica starts a replica with the shared config and extra flags; it
// is killed when the test ends.
func startReplica(t *testing.T, cfg fleetConfig, extra ...string) *replica {
	t.Helper()
	args := append([]string{
		"-redis", cfg.redis, "-key", cfg.key, "-base-url", cfg.baseURL, "-lease-ttl", cfg.leaseTTL.String(),
	}, extra...)
	cmd := exec.Command(buildReplica(t), args...)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	r := &replica{cmd: cmd, exited: make(chan struct{}), notify: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var e event
			if json.Unmarshal(sc.Bytes(), &e) != nil {
				e = event{Ev: "garbled", Err: sc.Text()}
			}
			r.mu.Lock()
			r.events = append(r.events, e)
			close(r.notify)
			r.notify = make(chan struct{})
			r.mu.Unlock()
		}
	}()
	go func() {
		<-read
		r.err = cmd.Wait()
		close(r.exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		<-r.exited
	})
	return r
}

// Events returns the events so far.
func (r *replica) Events() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]event(nil), r.events...)
}

// waitFor returns the first event from index from on that matches, waiting
// until timeout; ok is false if none came.
func (r *replica) waitFor(from int, match func(event) bool, timeout time.Duration) (e event, at int, ok bool) {
	deadline := time.After(timeout)
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			if match(r.events[i]) {
				e := r.events[i]
				r.mu.Unlock()
				return e, i, true
			}
		}
		from = len(r.events)
		notify := r.notify
		r.mu.Unlock()
		select {
		case <-notify:
		case <-r.exited: // every event is in by now
			return r.scan(from, match)
		case <-deadline:
			return event{}, 0, false
		}
	}
}

func (r *replica) scan(from int, match func(event) bool) (event, int, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := max(from, 0); i < len(r.events); i++ {
		if match(r.events[i]) {
			return r.events[i], i, true
		}
	}
	return event{}, 0, false
}

// wait waits for the replica to exit and returns its "done" event.
func (r *replica) wait(t *testing.T, timeout time.Duration) event {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(timeout):
		t.Fatalf("replica %d still running after %v", r.cmd.Process.Pid, timeout)
	}
	require.NoError(t, r.err, "replica %d exited with an error; events: %+v", r.cmd.Process.Pid, r.Events())
	done, _, ok := r.scan(0, is("done"))
	require.True(t, ok, "replica %d reported no counts; events: %+v", r.cmd.Process.Pid, r.Events())
	return done
}

func is(ev string) func(event) bool { return func(e event) bool { return e.Ev == ev } }

// failures returns the replica's "fail" events.
func (r *replica) failures() []string {
	var out []string
	for _, e := range r.Events() {
		if e.Ev == "fail" || e.Ev == "fatal" || e.Ev == "garbled" {
			out = append(out, e.Err)
		}
	}
	return out
}

// seed logs in to srv and saves the pair in the key, as the first replica
// of a fleet would.
func seed(t *testing.T, rdb *redis.Client, key string, srv *simplejwt.Server) {
	t.Helper()
	access, refresh := srv.Pair(t)
	store := redisstore.New(rdb, key)
	require.NoError(t, store.Bind(context.Background(), srv.URL))
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: access, RefreshToken: refresh}))
}

// storedPair returns the refresh token and generation in the key.
func storedPair(t *testing.T, rdb *redis.Client, key string) (refresh string, gen int64) {
	t.Helper()
	data, err := rdb.Get(context.Background(), key).Bytes()
	require.NoError(t, err)
	var v struct {
		Refresh    string `json:"refresh"`
		Generation int64  `json:"generation,string"`
	}
	require.NoError(t, json.Unmarshal(data, &v))
	require.NotEmpty(t, v.Refresh)
	return v.Refresh, v.Generation
}

// fingerprint identifies a refresh token as the replica command does.
func fingerprint(refresh string) string {
	sum := sha256.Sum256([]byte(refresh))
	return hex.EncodeToString(sum[:8])
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// assertNoFailedCall checks a replica's counts: calls made, none failed,
// no "blacklisted" answer.
func assertNoFailedCall(t *testing.T, r *replica, done event) {
	t.Helper()
	assert.Positive(t, done.Calls, "replica %d made no call", done.PID)
	assert.Zero(t, done.Failed, "replica %d: %d of %d calls failed:\n%s", done.PID, done.Failed, done.Calls, joinLines(r.failures()))
	assert.Zero(t, done.Blacklisted, "replica %d got %d blacklisted answers", done.PID, done.Blacklisted)
}

// assertStoredPairIsLive refreshes the key's refresh token against api: the
// fleet left a pair that works, not one it spent.
func assertStoredPairIsLive(t *testing.T, refresh string, api *simplejwt.Server) {
	t.Helper()
	c, err := wrapper.New(wrapper.WithBaseURL(api.URL))
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), refresh)
	assert.NoError(t, err, "the stored refresh token is spent: a rotated pair was lost")
}
