package wrapper_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
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

// TestLoggerRecordsRefreshes: a client with a logger records each refresh
// of its session, and still calls WithOnRefresh's function.
func TestLoggerRecordsRefreshes(t *testing.T) {
	clock, srv, _, access, refresh := newSession(t, true)
	var logged strings.Builder
	var mu sync.Mutex
	evs := make(events, 10)
	lg := slog.New(slog.NewTextHandler(&lockedWriter{mu: &mu, w: &logged}, nil))
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now),
		wrapper.WithLogger(lg), wrapper.WithOnRefresh(evs.record))
	require.NoError(t, err)
	clock.Advance(time.Hour)
	require.NoError(t, me(t, c, srv))
	require.NoError(t, evs.next(t).Err)
	mu.Lock()
	defer mu.Unlock()
	assert.Contains(t, logged.String(), "token refreshed")
	assert.NotContains(t, logged.String(), refresh)
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
