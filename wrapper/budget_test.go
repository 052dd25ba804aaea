package wrapper_test

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

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
