package wrapper

import (
	"crypto/tls"
	"crypto/x509"
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
//
// Retries draw on a budget that each client keeps for all its requests, as
// aws-sdk-go-v2's retry quota does: 500 tokens, 5 a retry (10 after a
// timeout), given back when the retry succeeds, and 1 back for each request
// that succeeds at once. When the budget is spent, a request is sent once:
// its answer is returned as it is, and an error matches
// [ErrRetryBudgetSpent]. During an outage the client so adds at most 100
// retries in all, not three for every request.
const DefaultMaxRetries = 3

// maxRetryWait caps the Retry-After the client honours.
const maxRetryWait = 30 * time.Second

// retryTransport repeats requests by the policy of [DefaultMaxRetries],
// within the client's retry budget, caps every response body, and logs each
// attempt.
type retryTransport struct {
	base       http.RoundTripper
	maxRetries int
	maxBody    int64
	tooLarge   error   // returned by a body read past maxBody; built once
	budget     *budget // shared by the client's requests
	log        *logger // nil: no records
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	var b *backoff.ExponentialBackOff // made only when needed
	var cost int64                    // what the retry in flight took from the budget
	r := req
	for attempt := 1; ; attempt++ {
		var start time.Time
		debug := t.log.debug(ctx)
		if debug {
			start = time.Now()
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil {
			if reason := refusedBeforeSending(err); reason != "" {
				// Another attempt would meet the same certificate or server.
				if debug {
					t.log.attempt(r, attempt, start, nil, err, -1)
				}
				return nil, &notSentError{reason: reason + "; nothing was sent, and it is not repeated", err: err}
			}
		}
		// net/http reads no more than a declared Content-Length, so only a
		// body of unknown or excessive length needs a cap of its own.
		if err == nil && (resp.ContentLength < 0 || resp.ContentLength > t.maxBody) {
			resp.Body = &limitedBody{rc: resp.Body, left: t.maxBody, tooLarge: t.tooLarge}
		}
		wait, retry := retryable(req.Method, resp, err)
		if !retry {
			if err == nil && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
				t.budget.give(max(cost, successRefund))
			}
			if debug {
				t.log.attempt(r, attempt, start, resp, err, -1)
			}
			if t.maxRetries > 0 && resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
				t.log.gaveUp(r, attempt, resp, err, "Retry-After asks for more than "+maxRetryWait.String())
			}
			return resp, err
		}
		stop := ""
		switch {
		case attempt > t.maxRetries:
			stop = "no retries left"
		case !replayable(req):
			stop = "the request body cannot be sent again"
		}
		if stop == "" && wait == 0 {
			if b == nil {
				b = backoff.NewExponentialBackOff()
				b.InitialInterval = 100 * time.Millisecond
				b.MaxInterval = 5 * time.Second
			}
			wait = b.NextBackOff()
		}
		if deadline, ok := ctx.Deadline(); stop == "" && ok && time.Until(deadline) <= wait {
			stop = "the context deadline comes before the next attempt"
		}
		if stop != "" {
			if debug {
				t.log.attempt(r, attempt, start, resp, err, -1)
			}
			if t.maxRetries > 0 {
				t.log.gaveUp(r, attempt, resp, err, stop)
			}
			return resp, err
		}
		if cost = costOf(err); !t.budget.take(cost) {
			if debug {
				t.log.attempt(r, attempt, start, resp, err, -1)
			}
			t.log.budgetSpent(r, attempt, resp, err)
			if err != nil {
				err = &budgetError{err: err}
			}
			return resp, err
		}
		if debug {
			t.log.attempt(r, attempt, start, resp, err, wait)
		}
		if resp != nil {
			drain(resp)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			t.budget.give(cost) // no retry was sent
			// The last attempt never reached the server, or was answered.
			return nil, &notSentError{reason: "context done while waiting to try again; no attempt is outstanding", err: ctx.Err()}
		case <-timer.C:
		}
		r = req.Clone(ctx)
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
// the name did not resolve, no connection was made, or the TLS handshake
// failed (see [refusedBeforeSending]).
func neverSent(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Op == "dial" {
		return true
	}
	var notSent *notSentError
	return errors.As(err, &notSent) || refusedBeforeSending(err) != ""
}

// refusedBeforeSending says why err proves the TLS handshake failed, before
// the request was written, or returns "" if it does not. Such a failure is
// not repeated: the next attempt would meet the same certificate or server.
func refusedBeforeSending(err error) string {
	var (
		certErr     *tls.CertificateVerificationError
		unknownCA   x509.UnknownAuthorityError
		badHost     x509.HostnameError
		badCert     x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
		alertOrOpEr *net.OpError
	)
	switch {
	case errors.As(err, &certErr), errors.As(err, &unknownCA), errors.As(err, &badHost), errors.As(err, &badCert):
		return "the server's certificate did not verify"
	case errors.As(err, &recordErr), errors.Is(err, http.ErrSchemeMismatch):
		return "TLS handshake failed: the server does not speak TLS (is it plain http?)"
	case errors.As(err, &alertOrOpEr) && alertOrOpEr.Op == "remote error":
		// crypto/tls reports an alert the server sent this way; a server
		// sends one in the handshake, when it refuses the client.
		return "TLS handshake failed: the server refused it"
	}
	return ""
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
