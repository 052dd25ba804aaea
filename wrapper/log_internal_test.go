package wrapper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
)

// textLogger returns a logger that writes text records at level to a
// buffer.
func textLogger(level slog.Level) (*logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return &logger{h: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level})}, &buf
}

func TestLogRefreshEvent(t *testing.T) {
	expiry := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	rejected := &APIError{StatusCode: 401, Method: "POST", Path: api.RefreshPath, Code: "token_not_valid", Detail: "Token is blacklisted",
		ContentType: "application/json"}
	tests := []struct {
		name  string
		ev    RefreshEvent
		level slog.Level
		want  []string // in the record
	}{
		{"background, rotated", RefreshEvent{Background: true, Rotated: true, Expiry: expiry, Duration: 12 * time.Millisecond},
			slog.LevelInfo, []string{"level=INFO", "token refreshed", "background=true", "rotated=true", "duration=12ms", "expiry=2030-01-02T03:04:05.000Z"}},
		{"blocking, not rotated", RefreshEvent{Duration: time.Second},
			slog.LevelInfo, []string{"level=INFO", "token refreshed", "background=false", "rotated=false", "duration=1s"}},
		{"failed", RefreshEvent{Duration: time.Second, Err: fmt.Errorf("wrapper: refresh token: %w", errors.New("dial tcp: connection refused"))},
			slog.LevelWarn, []string{"level=WARN", "token refresh failed", "background=false", `error="wrapper: refresh token: dial tcp: connection refused"`}},
		{"not saved", RefreshEvent{Rotated: true, Expiry: expiry, Duration: time.Second, Err: errors.New("wrapper: saving refreshed tokens: disk full")},
			slog.LevelWarn, []string{"level=WARN", "saving it to the store failed", "rotated=true", "expiry=2030", `error="wrapper: saving refreshed tokens: disk full"`}},
		{"session died", RefreshEvent{Background: true, Duration: time.Second, Err: rejected},
			slog.LevelWarn, []string{"level=WARN", "session died", "log in again", "Token is blacklisted"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l, buf := textLogger(slog.LevelDebug)
			l.refresh(tc.ev)
			lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
			require.Len(t, lines, 1, "one record")
			for _, want := range tc.want {
				assert.Contains(t, lines[0], want)
			}
			if tc.ev.Err == nil {
				assert.NotContains(t, lines[0], "error=")
			} else if tc.ev.Expiry.IsZero() {
				assert.NotContains(t, lines[0], "rotated=", "a failed refresh rotated nothing")
			}

			// Below the record's level, nothing.
			quiet, buf := textLogger(tc.level + 1)
			quiet.refresh(tc.ev)
			assert.Empty(t, buf.String())
		})
	}
}

func TestLogRefreshEventRedacts(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.c2ln"
	l, buf := textLogger(slog.LevelDebug)
	// A server that echoes the token in its error text.
	l.refresh(RefreshEvent{Err: &APIError{StatusCode: 500, Method: "POST", Path: api.RefreshPath, Detail: "bad token " + jwt}})
	assert.Regexp(t, `bad token \[?REDACTED`, buf.String()) // APIError.Error() redacts it first`)
	assert.NotContains(t, buf.String(), jwt)
}

func TestLogOnRefreshChains(t *testing.T) {
	var nilLogger *logger
	assert.Nil(t, nilLogger.onRefresh(nil), "no logger, no callback: nothing to call")
	var calls []RefreshEvent
	user := func(ev RefreshEvent) { calls = append(calls, ev) }
	nilLogger.onRefresh(user)(RefreshEvent{Rotated: true})
	require.Len(t, calls, 1, "without a logger, the user's callback as it is")

	l, buf := textLogger(slog.LevelInfo)
	l.onRefresh(user)(RefreshEvent{Duration: time.Second})
	require.Len(t, calls, 2, "the user's callback still runs")
	assert.Contains(t, buf.String(), "token refreshed")
	buf.Reset()
	l.onRefresh(nil)(RefreshEvent{Err: ErrEmptyToken})
	assert.Contains(t, buf.String(), "session died")
}

func TestLogEnv(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		env     string
		enabled slog.Level // the lowest level logged
		off     bool
	}{
		{"", 0, true},
		{"off", 0, true},
		{"debug", slog.LevelDebug, false},
		{"DEBUG", slog.LevelDebug, false},
		{"info", slog.LevelInfo, false},
		{" warn ", slog.LevelWarn, false},
		{"error", slog.LevelError, false},
	}
	for _, tc := range tests {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv(LogEnv, tc.env)
			l, err := newLogger(nil)
			require.NoError(t, err)
			if tc.off {
				assert.Nil(t, l)
				return
			}
			require.NotNil(t, l)
			assert.True(t, l.h.Enabled(ctx, tc.enabled))
			assert.False(t, l.h.Enabled(ctx, tc.enabled-1))
		})
	}

	t.Run("WithLogger wins", func(t *testing.T) {
		t.Setenv(LogEnv, "debug")
		l, err := newLogger(slog.New(slog.DiscardHandler))
		require.NoError(t, err)
		assert.False(t, l.debug(ctx))
	})
	t.Run("bad value", func(t *testing.T) {
		var warned bytes.Buffer
		logEnvOut = &warned
		t.Cleanup(func() { logEnvOut = os.Stderr; logEnvWarned.Delete("verbos") })
		t.Setenv(LogEnv, "verbos")
		c, err := New()
		require.NoError(t, err, "a typo never fails New")
		assert.Nil(t, c.log, "logging nothing, as without the variable")
		_, err = New()
		require.NoError(t, err)
		assert.Equal(t, "wrapper: ignoring $AISQUARE_LOG \"verbos\": want debug, info, warn, error or off; logging nothing\n",
			warned.String(), "one warning, on standard error")
	})
	t.Run("nil logger", func(t *testing.T) {
		_, err := New(WithLogger(nil))
		require.Error(t, err)
	})
}
