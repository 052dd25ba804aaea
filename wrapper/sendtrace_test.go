package wrapper_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// countConns counts the connections srv accepts.
func countConns(srv *httptest.Server) *atomic.Int32 {
	var n atomic.Int32
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			n.Add(1)
		}
	}
	return &n
}

// TestFailuresBeforeSendingAreNotAnswersLost: nothing was sent, so the
// error must not say the request may have reached the server.
func TestFailuresBeforeSendingAreNotAnswersLost(t *testing.T) {
	var handled atomic.Int32
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handled.Add(1)
		reply(200, "application/json", `{"access":"a"}`)(w, r)
	})

	badCert := httptest.NewUnstartedServer(ok) // its certificate is signed by no CA the client trusts
	badCertConns := countConns(badCert)
	badCert.StartTLS()
	t.Cleanup(badCert.Close)

	plain := httptest.NewUnstartedServer(ok)
	plainConns := countConns(plain)
	plain.Start()
	t.Cleanup(plain.Close)

	// A server that accepts and never answers the TLS handshake.
	silent, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() })
		}
	}()

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	short, cancelShort := context.WithTimeout(context.Background(), 200*time.Millisecond)
	t.Cleanup(cancelShort)

	tests := []struct {
		name  string
		base  string
		ctx   context.Context
		conns *atomic.Int32
		want  string
	}{
		{"certificate that does not verify", badCert.URL, context.Background(), badCertConns, "certificate did not verify"},
		{"https to a plain http server", "https://" + strings.TrimPrefix(plain.URL, "http://"), context.Background(), plainConns, "does not speak TLS"},
		{"context done before the request", plain.URL, cancelled, nil, "nothing was sent"},
		{"context done during the TLS handshake", "https://" + silent.Addr().String(), short, nil, "nothing was sent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := wrapper.New(wrapper.WithBaseURL(tc.base))
			require.NoError(t, err)
			_, err = c.RefreshToken(tc.ctx, secret)
			require.Error(t, err)
			assert.NotErrorIs(t, err, wrapper.ErrAnswerLost)
			assert.NotContains(t, err.Error(), "may have reached the server")
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wrapper: "), err.Error())
			if tc.conns != nil {
				assert.Equal(t, int32(1), tc.conns.Load(), "final: not repeated")
			}
			assertNoSecret(t, err)
		})
	}
	assert.Zero(t, handled.Load())

	// Through HTTPClient too: final, and it says so.
	c, err := wrapper.New(wrapper.WithBaseURL(badCert.URL), wrapper.WithTokens("", "refresh-token-0123"))
	require.NoError(t, err)
	_, err = c.HTTPClient().Get(badCert.URL + "/elsewhere/")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "certificate did not verify; nothing was sent, and it is not repeated")
}

// TestCancelledWhileWaitingToRetryIsNotAnAnswerLost: the server answered
// 503, and the caller gave up during the wait for the next attempt.
func TestCancelledWhileWaitingToRetryIsNotAnAnswerLost(t *testing.T) {
	c := newClient(t, withHeader("Retry-After", "2", reply(503, "application/json", `{"detail":"later"}`)))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := c.RefreshToken(ctx, secret)
	require.ErrorIs(t, err, context.Canceled)
	assert.NotErrorIs(t, err, wrapper.ErrAnswerLost)
	assert.Contains(t, err.Error(), "no attempt is outstanding")
}

// TestAnswered503ThenRefusedRetriesIsNotAnAnswerLost: a refresh answered
// 503 (not processed), then retried, and every retry fails to connect (the
// server went down): no attempt is outstanding and the refresh token was
// not spent, so the error is not ErrAnswerLost. Only the last attempt's
// trace counts.
func TestAnswered503ThenRefusedRetriesIsNotAnAnswerLost(t *testing.T) {
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusServiceUnavailable)
		go srv.Listener.Close() // down: the retries cannot connect
	}))
	t.Cleanup(srv.Close)
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.RefreshToken(context.Background(), "eyJhbGciOiJIUzI1NiJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCJ9.sig")
	require.Error(t, err)
	t.Logf("error: %v", err)
	assert.NotErrorIs(t, err, wrapper.ErrAnswerLost, "the only request that reached the server was answered")
}
