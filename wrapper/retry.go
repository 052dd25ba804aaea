package wrapper

import (
	"errors"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/cenkalti/backoff/v5"
)

// DefaultMaxRetries is how many times a request is repeated, unless
// [WithMaxRetries] sets another number.
//
// The policy: a request is repeated when it provably never reached the
// server (the dial failed, or the name did not resolve); on a 429 or 503,
// after the Retry-After the server asks for (a request that asks for more
// than 30 seconds is not repeated, and the caller gets the answer); and on
// another 5xx only if its method is safe to repeat (GET, HEAD, OPTIONS, PUT,
// DELETE). Waits without a Retry-After grow exponentially with jitter. No
// wait runs past the request's context deadline: the client returns the last
// answer instead. A request whose answer was lost after it may have reached
// the server (a reset connection, a timeout mid-response) is never repeated:
// for a refresh, the server may already have spent the refresh token.
const DefaultMaxRetries = 3

// maxRetryWait caps the Retry-After the client honours.
const maxRetryWait = 30 * time.Second

// retryTransport repeats requests by the policy of [DefaultMaxRetries], and
// caps every response body.
type retryTransport struct {
	base       http.RoundTripper
	maxRetries int
	maxBody    int64
	tooLarge   error // returned by a body read past maxBody; built once
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var b *backoff.ExponentialBackOff // made only when needed
	r := req
	for attempt := 0; ; attempt++ {
		resp, err := t.base.RoundTrip(r)
		// net/http reads no more than a declared Content-Length, so only a
		// body of unknown or excessive length needs a cap of its own.
		if err == nil && (resp.ContentLength < 0 || resp.ContentLength > t.maxBody) {
			resp.Body = &limitedBody{rc: resp.Body, left: t.maxBody, tooLarge: t.tooLarge}
		}
		if attempt == t.maxRetries {
			return resp, err
		}
		wait, retry := retryable(req.Method, resp, err)
		if !retry || !replayable(req) {
			return resp, err
		}
		if wait == 0 {
			if b == nil {
				b = backoff.NewExponentialBackOff()
				b.InitialInterval = 100 * time.Millisecond
				b.MaxInterval = 5 * time.Second
			}
			wait = b.NextBackOff()
		}
		if deadline, ok := req.Context().Deadline(); ok && time.Until(deadline) <= wait {
			return resp, err
		}
		if resp != nil {
			drain(resp)
		}
		timer := time.NewTimer(wait)
		select {
		case <-req.Context().Done():
			timer.Stop()
			return nil, req.Context().Err()
		case <-timer.C:
		}
		r = req.Clone(req.Context())
		if req.GetBody != nil {
			if r.Body, err = req.GetBody(); err != nil {
				return nil, err
			}
		}
	}
}

// CloseIdleConnections closes the idle connections of the base transport.
func (t *retryTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// retryable reports whether an attempt that ended in resp or err is to be
// repeated, and after how long (zero: the backoff decides).
func retryable(method string, resp *http.Response, err error) (time.Duration, bool) {
	if err != nil {
		return 0, neverSent(err)
	}
	switch code := resp.StatusCode; {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		wait := parseRetryAfter(resp.Header.Get("Retry-After"))
		return wait, wait <= maxRetryWait
	case code >= 500 && code < 600:
		switch method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
			return 0, true
		}
	}
	return 0, false
}

// neverSent reports whether err proves the request never reached a server:
// the name did not resolve, or no connection was made.
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) && opErr.Op == "dial"
}

// limitedBody reads at most left bytes of a body, and then fails with
// tooLarge if there are more.
type limitedBody struct {
	rc       io.ReadCloser
	left     int64
	tooLarge error
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var probe [1]byte
		n, err := b.rc.Read(probe[:])
		if n > 0 {
			return 0, b.tooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }
