package redisstore_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/internal/simplejwt"
	"github.com/aisquare-studio/aisquare-go/wrapper/redisstore"
)

// replicaBinary is the replica command, built once for the test binary by
// buildReplica.
var (
	replicaOnce sync.Once
	replicaPath string
	replicaErr  error
	replicaDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if replicaDir != "" {
		_ = os.RemoveAll(replicaDir)
	}
	os.Exit(code)
}

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
