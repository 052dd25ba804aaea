package wrapper_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// randomFaults returns n faults of the kinds a network and a server produce.
// A refresh's answer is never cut short here: the server would have spent
// the refresh token, and no client could know the new one.
func randomFaults(rng *rand.Rand, n int, truncate bool) []wrappertest.Fault {
	kinds := []wrappertest.Fault{
		{Status: 500, ContentType: "text/html", Body: "<h1>Server Error (500)</h1>"},
		{Status: 502, ContentType: "text/html", Body: "<html>502 Bad Gateway</html>"},
		{Status: 503, Header: http.Header{"Retry-After": {"1"}}, Body: `{"detail":"Service unavailable."}`},
		{Status: 429, Header: http.Header{"Retry-After": {"0"}}, Body: `{"detail":"Request was throttled."}`},
		{Drop: true},
		{Delay: 200 * time.Millisecond},
		{}, // a normal answer
	}
	if truncate {
		kinds = append(kinds, wrappertest.Fault{Truncate: true})
	}
	faults := make([]wrappertest.Fault, n)
	for i := range faults {
		faults[i] = kinds[rng.IntN(len(kinds))]
	}
	return faults
}

// failureReason names why a call failed: the refresh it waited for, or the
// protected route's own answer; and the error's kind.
func failureReason(err error) string {
	where := "GET " + wrappertest.MeRoute
	if strings.Contains(err.Error(), wrappertest.RefreshRoute) {
		where = "refresh"
	}
	var apiErr *wrapper.APIError
	switch {
	case errors.As(err, &apiErr):
		return fmt.Sprintf("%s: %d", where, apiErr.StatusCode)
	case errors.Is(err, wrapper.ErrAnswerLost):
		return where + ": answer lost"
	case errors.Is(err, context.DeadlineExceeded):
		return where + ": deadline"
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return where + ": connection closed"
	}
	return where + ": " + err.Error()
}

// loadWithFaults runs the load of [TestLoadWithFaults], each call made by
// call, with the client made with opts as well.
func loadWithFaults(t *testing.T, call func(ctx context.Context, c *wrapper.Client, baseURL string) error, opts ...wrapper.Option) {
	t.Helper()
	if testing.Short() {
		t.Skip("load test")
	}
	ignore := goleak.IgnoreCurrent()
	rng := rand.New(rand.NewPCG(1, 2))

	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: 2 * time.Second})
	access, refresh := srv.IssuePair(1)
	store := wrapper.NewFileStore(filepath.Join(t.TempDir(), "tokens.json"))
	// heldUntil is the expiry of the newest access token the session got.
	var heldUntil atomic.Int64
	exp, err := wrapper.TokenExpiry(access)
	require.NoError(t, err)
	heldUntil.Store(exp.UnixNano())
	onRefresh := func(ev wrapper.RefreshEvent) {
		if !ev.Expiry.IsZero() {
			heldUntil.Store(max(heldUntil.Load(), ev.Expiry.UnixNano()))
		}
	}
	c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh),
		wrapper.WithTokenStore(store), wrapper.WithOnRefresh(onRefresh)}, opts...)...)
	require.NoError(t, err)

	srv.Inject(wrappertest.MeRoute, randomFaults(rng, 400, true)...)
	srv.Inject(wrappertest.RefreshRoute, randomFaults(rng, 6, false)...)

	const (
		callers   = 1000
		calls     = 4
		deadline  = 5 * time.Second
		lateSlack = 10 * time.Second
	)
	var ok, failed atomic.Int32
	var late atomic.Int32
	var mu sync.Mutex
	var messages []string
	reasons := map[string]int{}
	var whileValid []string // failures of the session while it held a valid token
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			for j := range calls {
				time.Sleep(time.Duration((i*7+j*311)%1000) * time.Millisecond)
				ctx, cancel := context.WithTimeout(context.Background(), deadline)
				start := time.Now()
				err := call(ctx, c, srv.URL)
				// The session held a valid token when the call failed (and
				// so all through the call): the failure is the session's.
				valid := time.Now().UnixNano() < heldUntil.Load()
				// A call that ignored its context would run on to the
				// client's 30-second timeout or the refresh's minute; the
				// slack is for a loaded machine, not for such a call.
				if time.Since(start) > deadline+lateSlack {
					late.Add(1)
				}
				cancel()
				if err == nil {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				reason := failureReason(err)
				mu.Lock()
				messages = append(messages, err.Error())
				reasons[reason]++
				if valid && strings.HasPrefix(reason, "refresh") {
					whileValid = append(whileValid, fmt.Sprintf("%s (held until %s, called at %s)", reason,
						time.Unix(0, heldUntil.Load()).Format("15:04:05.000"), start.Format("15:04:05.000")))
				} else if strings.HasPrefix(reason, "refresh") {
					reasons["(of which: the session held no valid access token when the call failed)"]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()

	require.NoError(t, c.Close())
	srv.Close()
	goleak.VerifyNone(t, ignore)

	t.Logf("%d calls succeeded, %d failed, %d refreshes", ok.Load(), failed.Load(), srv.Requests(wrappertest.RefreshRoute))
	for _, reason := range slices.Sorted(maps.Keys(reasons)) {
		t.Logf("  %4d failed: %s", reasons[reason], reason)
	}
	assert.Empty(t, whileValid[:min(len(whileValid), 5)], "%d calls failed by the session while it held a valid access token", len(whileValid))
	assert.Zero(t, late.Load(), "calls that ran past their deadline")
	assert.Equal(t, int32(callers*calls), ok.Load()+failed.Load())
	// How many calls fail depends on when the faults land against the
	// tokens' two-second lives (a 503 with Retry-After holds a refresh for a
	// second), and on the machine's load: each failure must have a reason
	// that is not the session's.
	assert.Positive(t, ok.Load())
	assert.GreaterOrEqual(t, srv.Requests(wrappertest.RefreshRoute), 3, "the session refreshed across several expiries")
	for _, msg := range messages {
		assert.NotEmpty(t, msg)
		for _, secret := range []string{access, refresh, srv.LastRefreshToken()} {
			if strings.Contains(msg, secret) {
				t.Fatalf("error %q carries a token", msg)
			}
		}
	}
	stored, err := store.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, srv.LastRefreshToken(), stored.RefreshToken, "the store holds the last refresh token the server issued")
}

// lockedBuffer is a buffer safe for concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// countingRoundTripper counts the requests it sends.
type countingRoundTripper struct {
	base http.RoundTripper
	n    atomic.Int32
}

func (c *countingRoundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.base.RoundTrip(r)
}

// TestLoadWithFaults drives 1,000 goroutines through one session, with
// rotation and blacklist on, short-lived access tokens, and random faults.
// No call fails because of the session while the session holds an access
// token that is valid at the time of the call.
func TestLoadWithFaults(t *testing.T) {
	loadWithFaults(t, meCtx)
}

// TestLogLeaksNothingUnderLoad runs the load of [TestLoadWithFaults] with a
// Debug logger, with a query value on every GET and a password in the body
// of every fourth call, and finds no token, no password and no query value
// in any record.
func TestLogLeaksNothingUnderLoad(t *testing.T) {
	const (
		queryValue = "q-7f3a9c-query-value"
		password   = "pw-correct-horse-battery"
	)
	// A text handler, as a user would have: it formats records in the
	// caller's goroutine and holds its lock only to write.
	var out lockedBuffer
	withLogger := wrapper.WithLogger(slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug})))
	var n atomic.Int32
	call := func(ctx context.Context, c *wrapper.Client, baseURL string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+wrappertest.MeRoute+"?search="+queryValue, nil)
		if n.Add(1)%4 == 0 {
			// The protected route answers a POST with 405: the call
			// fails, and its records are searched all the same.
			req, err = http.NewRequestWithContext(ctx, http.MethodPost, baseURL+wrappertest.MeRoute+"?next="+queryValue,
				strings.NewReader(`{"username":"ada","password":"`+password+`"}`))
			req.SetBasicAuth("ada", password)
		}
		if err != nil {
			return err
		}
		resp, err := c.HTTPClient().Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if req.Method == http.MethodPost {
			return nil
		}
		return wrapper.CheckResponse(resp, body)
	}
	sent := &countingRoundTripper{base: http.DefaultTransport}
	loadWithFaults(t, call, withLogger, wrapper.WithHTTPClient(&http.Client{Transport: sent, Timeout: wrapper.DefaultTimeout}))

	text := out.String()
	lines := strings.Split(strings.TrimSpace(text), "\n")
	kinds := map[string]int{}
	for _, line := range lines {
		_, msg, _ := strings.Cut(line, "msg=")
		msg, _, _ = strings.Cut(strings.TrimPrefix(msg, `"`), `"`)
		kinds[msg]++
		if strings.Contains(msg, "request attempt") {
			assert.Regexp(t, ` path=/api/v1/[a-z/]+/ `, line, "a path without its query")
		}
	}
	t.Logf("records by kind: %v", kinds)
	require.Equal(t, int(sent.n.Load()), kinds["aisquare: request attempt"], "a record for every attempt")
	for _, s := range []string{queryValue, password, "eyJ", "Bearer", "Basic"} {
		assert.NotContains(t, text, s)
	}
}
