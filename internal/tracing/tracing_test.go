package tracing_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestSpanPerAttempt: with an otelhttp transport, every attempt is a
// client span of its own, in the caller's trace: the refresh before the
// first request, that request; then a retry after a 503, the 401 that makes
// the session refresh, that refresh, and the replay.
func TestSpanPerAttempt(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })

	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(1)

	hc := &http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp))}
	// The session's clock, moved on below: a 401 for a token the session
	// received less than a second ago is the caller's, not a refresh's.
	var ahead atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	// No access token: the session refreshes before the first request.
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL), wrapper.WithTokens("", refresh),
		wrapper.WithHTTPClient(hc), wrapper.WithTimeout(10*time.Second), wrapper.WithClock(clock))
	require.NoError(t, err)

	ctx, parent := tp.Tracer("test").Start(context.Background(), "caller")
	get := func() {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+wrappertest.MeRoute, nil)
		require.NoError(t, err)
		resp, err := c.HTTPClient().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		require.NoError(t, resp.Body.Close())
		require.Equal(t, http.StatusOK, resp.StatusCode)
	}
	get()
	ahead.Store(int64(2 * time.Second))
	srv.Inject(wrappertest.MeRoute,
		wrappertest.Fault{Status: 503, Header: http.Header{"Retry-After": {"0"}}, Body: `{"detail":"Service unavailable."}`},
		wrappertest.Fault{Status: 401, Body: `{"detail":"Given token not valid for any token type","code":"token_not_valid"}`},
	)
	get()
	parent.End()
	require.NoError(t, c.Close())

	var client []sdktrace.ReadOnlySpan
	for _, s := range spans.Ended() {
		if s.SpanKind() == trace.SpanKindClient {
			client = append(client, s)
		}
	}
	slices.SortFunc(client, func(a, b sdktrace.ReadOnlySpan) int { return a.StartTime().Compare(b.StartTime()) })

	type attempt struct {
		method, path string
		status       int64
	}
	want := []attempt{
		{"POST", wrappertest.RefreshRoute, 200}, // the first token
		{"GET", wrappertest.MeRoute, 200},
		{"GET", wrappertest.MeRoute, 503},
		{"GET", wrappertest.MeRoute, 401}, // the retry; the token was refused
		{"POST", wrappertest.RefreshRoute, 200},
		{"GET", wrappertest.MeRoute, 200}, // the replay
	}
	var got []attempt
	ids := map[trace.SpanID]bool{}
	for _, s := range client {
		attrs := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value
		}
		got = append(got, attempt{attrs["http.request.method"].AsString(), pathOf(t, attrs["url.full"].AsString()), attrs["http.response.status_code"].AsInt64()})
		ids[s.SpanContext().SpanID()] = true
		assert.Equal(t, parent.SpanContext().TraceID(), s.SpanContext().TraceID(), "in the caller's trace")
		assert.Equal(t, parent.SpanContext().SpanID(), s.Parent().SpanID(), "a child of the caller's span")
	}
	assert.Equal(t, want, got)
	assert.Len(t, ids, len(want), "a span of its own for each attempt")
	assert.Equal(t, 2, srv.Requests(wrappertest.RefreshRoute))
	assert.Equal(t, 4, srv.Requests(wrappertest.MeRoute))
}

func pathOf(t *testing.T, rawURL string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	return req.URL.Path
}

// TestSpanPerRetryOfTheGeneratedClient: the generated client's requests,
// c.API(), trace the same way.
func TestSpanPerRetryOfTheGeneratedClient(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	_, refresh := srv.IssuePair(1)
	srv.Inject(wrappertest.RefreshRoute, wrappertest.Fault{Status: 503, Header: http.Header{"Retry-After": {"0"}}})

	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL),
		wrapper.WithHTTPClient(&http.Client{Transport: otelhttp.NewTransport(http.DefaultTransport, otelhttp.WithTracerProvider(tp))}))
	require.NoError(t, err)
	resp, err := c.API().RefreshCreateWithResponse(context.Background(), api.TokenRefreshRequest{Refresh: refresh})
	require.NoError(t, err)
	require.NoError(t, wrapper.CheckResponse(resp.HTTPResponse, resp.Body))

	var statuses []int64
	for _, s := range spans.Ended() {
		for _, kv := range s.Attributes() {
			if kv.Key == "http.response.status_code" {
				statuses = append(statuses, kv.Value.AsInt64())
			}
		}
	}
	assert.ElementsMatch(t, []int64{503, 200}, statuses)
}

// TestSDKDoesNotDependOnOpenTelemetry: tracing needs nothing from the SDK's
// own module.
func TestSDKDoesNotDependOnOpenTelemetry(t *testing.T) {
	for _, f := range []string{"../../go.mod", "../../go.sum"} {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		assert.NotContains(t, string(data), "go.opentelemetry.io", f)
	}
}
