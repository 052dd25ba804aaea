package wrapper_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// sequence answers the i-th request with the i-th handler, and the last one
// after that, and counts the requests.
func sequence(n *atomic.Int32, handlers ...http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		handlers[min(i, len(handlers)-1)](w, r)
	}
}

func hangUpOn(w http.ResponseWriter) {
	if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// refusingTransport fails the first dials, then sends.
type refusingTransport struct{ refusals, calls atomic.Int32 }

func (rt *refusingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rt.calls.Add(1)
	if rt.refusals.Add(-1) >= 0 {
		closeReqBody(r)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestRetryPolicy(t *testing.T) {
	ok := reply(200, "application/json", `{"access":"a"}`)
	tests := []struct {
		name     string
		handlers []http.HandlerFunc
		opts     []wrapper.Option
		wantErr  error // nil: success
		requests int32
	}{
		{"503 then success", []http.HandlerFunc{reply(503, "text/html", "busy"), ok}, nil, nil, 2},
		{"429 with Retry-After 0 then success", []http.HandlerFunc{withHeader("Retry-After", "0", reply(429, "application/json", `{"detail":"slow down"}`)), ok}, nil, nil, 2},
		{"503 every time", []http.HandlerFunc{reply(503, "text/html", "busy")}, nil, wrapper.ErrServer, 4},
		{"503 with retries off", []http.HandlerFunc{reply(503, "text/html", "busy"), ok}, []wrapper.Option{wrapper.WithMaxRetries(0)}, wrapper.ErrServer, 1},
		{"Retry-After past the cap", []http.HandlerFunc{withHeader("Retry-After", "120", reply(429, "application/json", `{}`)), ok}, nil, wrapper.ErrRateLimited, 1},
		{"Retry-After above 2^31-1 seconds", []http.HandlerFunc{withHeader("Retry-After", "2147483648", reply(429, "application/json", `{}`)), ok}, nil, wrapper.ErrRateLimited, 1},
		{"Retry-After too large to represent", []http.HandlerFunc{withHeader("Retry-After", "18446744073709551616", reply(503, "text/html", "busy")), ok}, nil, wrapper.ErrServer, 1},
		{"500 on a refresh is not repeated", []http.HandlerFunc{reply(500, "text/html", "oops"), ok}, nil, wrapper.ErrServer, 1},
		{"502 on a refresh is not repeated", []http.HandlerFunc{reply(502, "text/html", "bad gateway"), ok}, nil, wrapper.ErrServer, 1},
		{"401 is not repeated", []http.HandlerFunc{reply(401, "application/json", `{"detail":"x","code":"token_not_valid"}`), ok}, nil, wrapper.ErrInvalidToken, 1},
		{"a dropped answer is not repeated", []http.HandlerFunc{func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body); hangUpOn(w) }, ok}, nil, wrapper.ErrAnswerLost, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var n atomic.Int32
			c := newClient(t, sequence(&n, tc.handlers...), tc.opts...)
			_, err := c.RefreshToken(context.Background(), secret)
			if tc.wantErr == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.wantErr)
			}
			assert.Equal(t, tc.requests, n.Load(), "requests")
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	var n atomic.Int32
	c := newClient(t, sequence(&n, withHeader("Retry-After", "1", reply(503, "text/html", "busy")), reply(200, "application/json", `{"access":"a"}`)))
	start := time.Now()
	_, err := c.RefreshToken(context.Background(), secret)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "waited for Retry-After")
	assert.Equal(t, int32(2), n.Load())
}

func TestRetryNeverWaitsPastTheDeadline(t *testing.T) {
	var n atomic.Int32
	c := newClient(t, sequence(&n, withHeader("Retry-After", "5", reply(429, "application/json", `{"detail":"slow down"}`))))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := c.RefreshToken(ctx, secret)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr, "the last answer, not a context error")
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Equal(t, 5*time.Second, apiErr.RetryAfter)
	assert.NoError(t, ctx.Err(), "returned before the deadline")
	assert.Equal(t, int32(1), n.Load())
}

func TestRetryRepeatsSafeMethodsOn5xx(t *testing.T) {
	var n atomic.Int32
	c := newClient(t, sequence(&n, reply(500, "text/html", "oops"), reply(502, "text/html", "oops"), reply(200, "text/plain", "fine")))
	resp, err := c.HTTPClient().Get(c.BaseURL() + "/anything/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, int32(3), n.Load())

	// A POST whose body cannot be sent again is not repeated on a 503.
	n.Store(0)
	c = newClient(t, sequence(&n, reply(503, "text/html", "busy"), reply(200, "text/plain", "fine")))
	req, err := http.NewRequest(http.MethodPost, c.BaseURL()+"/anything/", io.NopCloser(strings.NewReader("x")))
	require.NoError(t, err)
	resp, err = c.HTTPClient().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 503, resp.StatusCode)
	assert.Equal(t, int32(1), n.Load())
}

func TestRetryRepeatsARefreshThatNeverLeft(t *testing.T) {
	rt := &refusingTransport{}
	rt.refusals.Store(2)
	c := newClient(t, reply(200, "application/json", `{"access":"a"}`), wrapper.WithHTTPClient(&http.Client{Transport: rt}))
	tok, err := c.RefreshToken(context.Background(), secret)
	require.NoError(t, err)
	assert.Equal(t, "a", tok.Access)
	assert.Equal(t, int32(3), rt.calls.Load())

	// Refused every time: the error says so, and is not an answer lost.
	c, err = wrapper.New(wrapper.WithBaseURL("http://127.0.0.1:1"), wrapper.WithMaxRetries(1))
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), secret)
	require.Error(t, err)
	assert.NotErrorIs(t, err, wrapper.ErrAnswerLost)
	assert.Contains(t, err.Error(), "connection refused")
}

func TestResponseBodyCap(t *testing.T) {
	// 100 MiB, streamed: the client stops reading at its cap.
	huge := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		chunk := []byte(strings.Repeat("a", 1<<20))
		_, _ = w.Write([]byte(`{"access":"`))
		for range 100 {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
	c := newClient(t, huge)
	_, err := c.RefreshToken(context.Background(), secret)
	assert.ErrorIs(t, err, wrapper.ErrMalformedResponse)
	assert.ErrorIs(t, err, wrapper.ErrResponseTooLarge)
	assert.Contains(t, err.Error(), "body too long: wrapper: response body too large: over 4194304 bytes")

	// Through the generated client, with a smaller cap.
	c = newClient(t, reply(200, "application/json", `{"access":"`+strings.Repeat("a", 100)+`"}`), wrapper.WithMaxResponseBytes(64))
	_, err = c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody(secret))
	assert.ErrorIs(t, err, wrapper.ErrResponseTooLarge)
	assert.Contains(t, err.Error(), "over 64 bytes")

	_, err = wrapper.New(wrapper.WithMaxResponseBytes(0))
	assert.Error(t, err)
	_, err = wrapper.New(wrapper.WithMaxRetries(-1))
	assert.Error(t, err)
}
