package wrapper_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// logRecorder is a [slog.Handler] that keeps every record, and also
// renders it as text, so that a test can read a record's attributes or
// search everything that was logged.
type logRecorder struct {
	level slog.Level
	mu    sync.Mutex
	recs  []record
	text  bytes.Buffer
}

// record is one log record, its attributes by key.
type record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]slog.Value
}

func newLogRecorder(level slog.Level) (*logRecorder, wrapper.Option) {
	r := &logRecorder{level: level}
	return r, wrapper.WithLogger(slog.New(r))
}

func (r *logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *logRecorder) WithGroup(string) slog.Handler                { return r }

func (r *logRecorder) Handle(ctx context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := record{Level: rec.Level, Msg: rec.Message, Attrs: map[string]slog.Value{}}
	rec.Attrs(func(a slog.Attr) bool {
		got.Attrs[a.Key] = a.Value
		return true
	})
	r.recs = append(r.recs, got)
	return slog.NewTextHandler(&r.text, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(ctx, rec)
}

// records returns the records whose message contains msg.
func (r *logRecorder) records(msg string) []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []record
	for _, rec := range r.recs {
		if strings.Contains(rec.Msg, msg) {
			out = append(out, rec)
		}
	}
	return out
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.text.String()
}

// get sends a GET to url through c.HTTPClient() and reads the answer.
func get(t *testing.T, ctx context.Context, c *wrapper.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.HTTPClient().Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return resp, err
}

func TestLogAttempts(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	srv.Inject(wrappertest.MeRoute, wrappertest.Fault{Status: 503, Body: `{"detail":"busy"}`,
		Header: http.Header{"Retry-After": {"0"}, "X-Request-Id": {"req-503"}}})
	logs, withLogger := newLogRecorder(slog.LevelDebug)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), withLogger)
	require.NoError(t, err)

	resp, err := get(t, context.Background(), c, srv.URL+wrappertest.MeRoute+"?search=hidden-value")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	_, err = c.RefreshToken(context.Background(), refresh)
	require.NoError(t, err)

	recs := logs.records("request attempt")
	require.Len(t, recs, 3)
	first, second, refreshed := recs[0].Attrs, recs[1].Attrs, recs[2].Attrs
	for _, rec := range recs {
		assert.Equal(t, slog.LevelDebug, rec.Level)
		assert.Greater(t, rec.Attrs["duration"].Duration(), time.Duration(0))
	}
	assert.Equal(t, "GET", first["method"].String())
	assert.Equal(t, wrappertest.MeRoute, first["path"].String(), "the path, without its query")
	assert.Equal(t, int64(1), first["attempt"].Int64())
	assert.Equal(t, int64(503), first["status"].Int64())
	assert.True(t, first["token"].Bool())
	assert.Equal(t, "req-503", first["request_id"].String())
	assert.Contains(t, first, "retry_in", "the wait before the retry")

	assert.Equal(t, int64(2), second["attempt"].Int64())
	assert.Equal(t, int64(200), second["status"].Int64())
	assert.True(t, second["token"].Bool())
	assert.NotContains(t, second, "retry_in", "no retry follows")
	assert.NotContains(t, second, "request_id", "the server sent none")

	assert.Equal(t, "POST", refreshed["method"].String())
	assert.Equal(t, wrappertest.RefreshRoute, refreshed["path"].String())
	assert.False(t, refreshed["token"].Bool(), "a refresh carries no Authorization header")

	text := logs.String()
	for _, s := range []string{"hidden-value", "search=", access, refresh, "Bearer"} {
		assert.NotContains(t, text, s)
	}
}

func TestLogAttemptError(t *testing.T) {
	logs, withLogger := newLogRecorder(slog.LevelDebug)
	// Nothing listens on port 1: every dial fails, and is retried.
	c, err := wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:1"), wrapper.WithMaxRetries(1), withLogger)
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), secret)
	require.Error(t, err)

	recs := logs.records("request attempt")
	require.Len(t, recs, 2)
	assert.Contains(t, recs[0].Attrs["error"].String(), "connection refused")
	assert.Contains(t, recs[0].Attrs, "retry_in")
	assert.NotContains(t, recs[0].Attrs, "status")
	assert.NotContains(t, logs.String(), secret)
}

func TestLogRetriesGivenUp(t *testing.T) {
	busy := withHeader("X-Request-ID", "req-1", reply(503, "text/html", "busy"))
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		opts     []wrapper.Option
		timeout  time.Duration
		body     io.Reader // a body that cannot be sent again
		reason   string
		attempts int64
	}{
		{"no retries left", busy, []wrapper.Option{wrapper.WithMaxRetries(2)}, 0, nil, "no retries left", 3},
		{"deadline", withHeader("Retry-After", "5", busy), nil, time.Second, nil, "deadline", 1},
		{"Retry-After past the cap", withHeader("Retry-After", "120", busy), nil, 0, nil, "Retry-After", 1},
		{"body not replayable", busy, nil, 0, io.MultiReader(strings.NewReader("x")), "cannot be sent again", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			logs, withLogger := newLogRecorder(slog.LevelInfo)
			c := newClient(t, tc.handler, append(tc.opts, withLogger)...)
			ctx := context.Background()
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.timeout)
				defer cancel()
			}
			req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.BaseURL()+"/api/v1/items/1/?token=hidden-value", tc.body)
			require.NoError(t, err)
			resp, err := c.HTTPClient().Do(req)
			require.NoError(t, err)
			_ = resp.Body.Close()
			assert.Equal(t, 503, resp.StatusCode, "the last answer, as it is")

			recs := logs.records("retries given up")
			require.Len(t, recs, 1)
			got := recs[0]
			assert.Equal(t, slog.LevelWarn, got.Level)
			assert.Equal(t, "PUT", got.Attrs["method"].String())
			assert.Equal(t, "/api/v1/items/1/", got.Attrs["path"].String())
			assert.Equal(t, tc.attempts, got.Attrs["attempts"].Int64())
			assert.Equal(t, int64(503), got.Attrs["status"].Int64())
			assert.Equal(t, "req-1", got.Attrs["request_id"].String())
			assert.Contains(t, got.Attrs["reason"].String(), tc.reason)
			assert.Empty(t, logs.records("request attempt"), "no Debug record at Info")
			assert.NotContains(t, logs.String(), "hidden-value")
		})
	}
}

func TestLogNothingWithRetriesOff(t *testing.T) {
	logs, withLogger := newLogRecorder(slog.LevelInfo)
	c := newClient(t, reply(503, "text/html", "busy"), wrapper.WithMaxRetries(0), withLogger)
	_, err := c.RefreshToken(context.Background(), secret)
	require.ErrorIs(t, err, wrapper.ErrServer)
	assert.Empty(t, logs.records("retr"), "with retries off, none is given up")
	assert.Len(t, logs.records("token refresh failed"), 1)
}

// TestRetryBudget: against a server that always answers 503, 100
// concurrent calls make at most the budget's worth of retries: 500 / 5.
func TestRetryBudget(t *testing.T) {
	var requests atomic.Int32
	var healthy atomic.Bool
	busy := reply(503, "application/json", `{"detail":"Service unavailable."}`)
	ok := reply(200, "application/json", `{"user_id":1}`)
	logs, withLogger := newLogRecorder(slog.LevelWarn)
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if healthy.Load() {
			ok(w, r)
			return
		}
		busy(w, r)
	}, withLogger)

	const calls = 100
	var wg sync.WaitGroup
	var answered503 atomic.Int32
	for range calls {
		wg.Go(func() {
			resp, err := get(t, context.Background(), c, c.BaseURL()+"/api/v1/me/")
			if assert.NoError(t, err) && resp.StatusCode == 503 {
				answered503.Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int32(calls), answered503.Load(), "each call gets the last answer as it is")
	assert.Equal(t, int32(calls+500/5), requests.Load(), "one attempt a call, and 100 retries in all")
	spent := logs.records("retry budget spent")
	assert.NotEmpty(t, spent)
	for _, rec := range spent {
		assert.Equal(t, slog.LevelWarn, rec.Level)
		assert.Equal(t, int64(503), rec.Attrs["status"].Int64())
	}

	// Spent: a call is sent once, and an error says why it was not retried.
	requests.Store(0)
	resp, err := get(t, context.Background(), c, c.BaseURL()+"/api/v1/me/")
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, int32(1), requests.Load())

	// Successes refill it: 5 of them pay for one retry.
	healthy.Store(true)
	for range 5 {
		resp, err := get(t, context.Background(), c, c.BaseURL()+"/api/v1/me/")
		require.NoError(t, err)
		require.Equal(t, 200, resp.StatusCode)
	}
	healthy.Store(false)
	requests.Store(0)
	resp, err = get(t, context.Background(), c, c.BaseURL()+"/api/v1/me/")
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, int32(2), requests.Load(), "one retry, then the budget is spent again")
}

// TestRetryBudgetError: an error that the spent budget stopped from being
// retried says so, and still matches its cause.
func TestRetryBudgetError(t *testing.T) {
	logs, withLogger := newLogRecorder(slog.LevelWarn)
	var fail atomic.Bool
	rt := &switchTransport{fail: &fail}
	c, err := wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:1"), withLogger,
		wrapper.WithHTTPClient(&http.Client{Transport: rt}))
	require.NoError(t, err)

	// Spend the budget on 503s.
	var wg sync.WaitGroup
	for range 100 {
		wg.Go(func() { _, _ = c.RefreshToken(context.Background(), secret) })
	}
	wg.Wait()
	require.NotEmpty(t, logs.records("retry budget spent"))

	fail.Store(true)
	_, err = c.RefreshToken(context.Background(), secret)
	require.ErrorIs(t, err, wrapper.ErrRetryBudgetSpent)
	assert.ErrorIs(t, err, errRefused, "the cause")
	assert.Contains(t, err.Error(), "retry budget spent")
	assert.Equal(t, int32(1), rt.dials.Load(), "sent once")
	assert.NotContains(t, err.Error(), secret)
}

// errRefused is a dial error: a request that provably never left.
var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}

// switchTransport answers 503 until fail is set, and then fails every dial.
type switchTransport struct {
	fail  *atomic.Bool
	dials atomic.Int32
}

func (s *switchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	closeReqBody(r)
	if s.fail.Load() {
		s.dials.Add(1)
		return nil, errRefused
	}
	return &http.Response{StatusCode: 503, Header: http.Header{}, Body: http.NoBody, Request: r}, nil
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

// TestLogRefreshTokenCall: a caller's own RefreshToken is recorded at Info
// (the aisquare command refreshes this way), and a session's refresh is
// recorded once, not once by the session and again by RefreshToken.
func TestLogRefreshTokenCall(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)

	rec, withLogger := newLogRecorder(slog.LevelInfo)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), withLogger)
	require.NoError(t, err)
	tok, err := c.RefreshToken(context.Background(), refresh)
	require.NoError(t, err)
	got := rec.records("token refreshed")
	require.Len(t, got, 1)
	assert.True(t, got[0].Attrs["rotated"].Bool())
	_, err = c.RefreshToken(context.Background(), refresh) // spent by the rotation
	require.ErrorIs(t, err, wrapper.ErrInvalidToken)
	assert.Len(t, rec.records("session died"), 1)
	assert.NotContains(t, rec.String(), refresh)
	assert.NotContains(t, rec.String(), tok.Refresh)

	rec, withLogger = newLogRecorder(slog.LevelInfo)
	refreshed := make(chan struct{}, 1)
	s, err := wrapper.New(wrapper.WithBaseURL(srv.URL), withLogger, wrapper.WithTokens(access, tok.Refresh),
		wrapper.WithOnRefresh(func(wrapper.RefreshEvent) { refreshed <- struct{}{} }))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close() })
	require.NoError(t, s.SetTokens(context.Background(), "", tok.Refresh)) // no access token: due now
	_, err = s.AccessToken(context.Background())
	require.NoError(t, err)
	<-refreshed
	assert.Len(t, rec.records("token refreshed"), 1, "one record for one refresh")
}

// TestLogRedactsPathsAndRequestIDs: a JWT in a URL path (a share link, say)
// and a server that echoes the bearer in X-Request-ID leave no token in a
// record, nor in an APIError.
func TestLogRedactsPathsAndRequestIDs(t *testing.T) {
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, refresh := srv.IssuePair(1)
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-ID", "req-"+r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, `{"detail":"Not found."}`)
	}))
	t.Cleanup(echo.Close)
	rec, logOpt := newLogRecorder(slog.LevelDebug)
	c, err := wrapper.New(wrapper.WithBaseURL(echo.URL), wrapper.WithTokens(access, refresh), logOpt)
	require.NoError(t, err)
	shared := jwtExpiring(time.Now().Add(time.Hour))
	resp, err := c.HTTPClient().Get(echo.URL + "/api/v1/share/" + shared + "/")
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	apiErr := wrapper.CheckResponse(resp, body)
	require.Error(t, apiErr)

	attempts := rec.records("request attempt")
	require.Len(t, attempts, 1)
	assert.Equal(t, "/api/v1/share/[REDACTED]/", attempts[0].Attrs["path"].String())
	assert.Equal(t, "req-Bearer [REDACTED]", attempts[0].Attrs["request_id"].String())
	for _, text := range []string{rec.String(), apiErr.Error(), fmt.Sprintf("%+v", apiErr)} {
		assert.NotContains(t, text, access)
		assert.NotContains(t, text, shared)
	}
}
