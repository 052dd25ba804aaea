package wrapper

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"mime"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

// Class sentinels. An [*APIError] matches the one for its status with
// [errors.Is].
var (
	ErrBadRequest   = errors.New("wrapper: bad request")  // 400
	ErrUnauthorized = errors.New("wrapper: unauthorized") // 401
	ErrForbidden    = errors.New("wrapper: forbidden")    // 403
	ErrNotFound     = errors.New("wrapper: not found")    // 404
	ErrRateLimited  = errors.New("wrapper: rate limited") // 429; see [APIError.RetryAfter]
	ErrServer       = errors.New("wrapper: server error") // 5xx
)

// ErrInvalidToken matches a rejection of the session's tokens, or of the
// refresh token given to [Client.RefreshToken], that the backend really
// sent: SimpleJWT's JSON 401 with code "token_not_valid" (an expired,
// blacklisted or wrong-type token), Django REST Framework's JSON validation
// body for the "refresh" field of the refresh endpoint (the 400 that the
// spec documents), and an empty token caught before any request
// ([ErrEmptyToken]). The caller's remedy is the same for all of them: log in
// again. A 400 or 401 that is not such a JSON body, such as a gateway's HTML
// page, matches only [ErrBadRequest] or [ErrUnauthorized], and does not end
// a session; so does a 401 from the other token endpoints (a wrong password
// for obtain, a bad token given to verify).
var ErrInvalidToken = errors.New("wrapper: invalid token")

// ErrEmptyToken is returned, before any network I/O, for a token that is
// empty or only white space. It matches [ErrInvalidToken].
var ErrEmptyToken = fmt.Errorf("%w: token is empty", ErrInvalidToken)

// ErrMalformedResponse matches a 2xx response the SDK cannot use: an empty
// body, a content type other than JSON, truncated or invalid JSON, or an
// object without the expected fields. The error's message says which.
var ErrMalformedResponse = errors.New("wrapper: malformed response")

// ErrAnswerLost matches a refresh whose request may have reached the server
// and whose answer was lost: a connection reset after the request was
// written, a timeout mid-response, a body cut short. It is never repeated:
// with rotation and blacklist on, the server may already have spent the
// refresh token, and repeating it would turn a network blip into a forced
// logout. The error also matches its cause, such as
// [context.DeadlineExceeded].
var ErrAnswerLost = errors.New("wrapper: answer lost")

// ErrResponseTooLarge matches a response body longer than the client reads
// (see [WithMaxResponseBytes]).
var ErrResponseTooLarge = errors.New("wrapper: response body too large")

// maxErrorBody caps [APIError.Body].
const maxErrorBody = 64 << 10

// Caps on the server's text in an [APIError]: each string, the number of
// fields and of messages a field, and the whole message.
const (
	maxErrorText     = 512
	maxErrorFields   = 16
	maxFieldMessages = 8
	maxErrorMessage  = 2 << 10
)

// timeNow is the clock; tests replace it.
var timeNow = time.Now

// APIError is a response outside 2xx, from any endpoint. It matches the class
// sentinels ([ErrBadRequest], [ErrUnauthorized], [ErrForbidden],
// [ErrNotFound], [ErrRateLimited], [ErrServer]) and [ErrInvalidToken] with
// [errors.Is].
type APIError struct {
	// StatusCode is the HTTP status code.
	StatusCode int
	// Method and Path name the request; Path carries no query string.
	Method, Path string
	// Code is the "code" of a Django REST Framework error body, such as
	// "token_not_valid"; empty if there is none.
	Code string
	// Detail is the "detail" of an error body, such as "Token is blacklisted";
	// empty if there is none.
	Detail string
	// Fields holds the field errors of a validation body, such as
	// {"refresh": ["This field may not be blank."]}; nil if there are none.
	Fields map[string][]string
	// RetryAfter is the Retry-After header as a duration from now; zero if
	// the header is absent or unreadable, and [RetryAfterTooLong] if it asks
	// for longer than a time.Duration holds.
	RetryAfter time.Duration
	// ContentType is the response's Content-Type header.
	ContentType string
	// Body is the response body, cut at 64 KiB, with the request's own
	// tokens and anything shaped like a JWT replaced by "[REDACTED]".
	Body []byte
	// RequestID is the ID the server gave the response (X-Request-ID or
	// Request-Id), to quote to AISquare's support; empty if there is none.
	RequestID string

	advice string // what to do, for a 401 that only a new login fixes
}

// RetryAfterTooLong is [APIError.RetryAfter] for a Retry-After too large to
// represent: the client does not wait for it, and returns the answer.
const RetryAfterTooLong = time.Duration(math.MaxInt64)

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrapper: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	switch {
	case e.Detail != "":
		b.WriteString(": " + e.Detail)
		if e.Code != "" {
			b.WriteString(" (" + e.Code + ")")
		}
	case len(e.Fields) > 0:
		for _, name := range slices.Sorted(maps.Keys(e.Fields)) {
			fmt.Fprintf(&b, ": %s: %s", name, strings.Join(e.Fields[name], " "))
		}
	case len(e.Body) == 0:
		b.WriteString(" (empty body)")
	default:
		mediaType, _, _ := mime.ParseMediaType(e.ContentType)
		if mediaType == "" {
			mediaType = "untyped"
		}
		fmt.Fprintf(&b, " (%s body, not a JSON error)", redact.Text(mediaType, maxErrorText))
	}
	if e.RetryAfter == RetryAfterTooLong {
		b.WriteString(" (Retry-After too long)")
	}
	if e.RequestID != "" {
		b.WriteString(" [request ID " + e.RequestID + "]")
	}
	if e.advice != "" {
		b.WriteString(": " + e.advice)
	}
	// The fields are clean already, unless the caller set them.
	return redact.Text(b.String(), maxErrorMessage)
}

// Is reports whether target is the class sentinel of e's status, or
// [ErrInvalidToken] for a rejected token.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrBadRequest:
		return e.StatusCode == http.StatusBadRequest
	case ErrUnauthorized:
		return e.StatusCode == http.StatusUnauthorized
	case ErrForbidden:
		return e.StatusCode == http.StatusForbidden
	case ErrNotFound:
		return e.StatusCode == http.StatusNotFound
	case ErrRateLimited:
		return e.StatusCode == http.StatusTooManyRequests
	case ErrServer:
		return e.StatusCode >= 500 && e.StatusCode < 600
	case ErrLoginRequired:
		return e.advice != ""
	case ErrInvalidToken:
		// The upstream spec documents 400 "Invalid token" for the refresh
		// view, which Django REST Framework sends as a validation body for
		// the refresh field; SimpleJWT answers 401 "token_not_valid" there
		// (at whatever path the spec has it: see api.RefreshPath) and on any
		// route that checks an access token. The other token views
		// (obtain, verify, blacklist) carry no session token: their 401 is
		// about the password or token in the body, not the session's. Anything that is not JSON, such as a gateway's
		// page, says nothing about the token.
		if !isJSON(e.ContentType) {
			return false
		}
		switch kind := kindOfSuffix(e.Method, e.Path); e.StatusCode {
		case http.StatusUnauthorized:
			return e.Code == "token_not_valid" && kind != authNone
		case http.StatusBadRequest:
			_, refreshField := e.Fields["refresh"]
			return refreshField && kind == authRefresh
		}
	}
	return false
}

// malformedError is a 2xx response the SDK cannot use.
type malformedError struct {
	where  string // method and path
	status int
	reason string
	err    error // the cause, if any
}

func newMalformed(resp *http.Response, reason string, err error) *malformedError {
	return &malformedError{where: where(resp), status: resp.StatusCode, reason: reason, err: err}
}

// where names resp's request by method and path.
func where(resp *http.Response) string {
	if resp.Request == nil {
		return ""
	}
	return resp.Request.Method + " " + resp.Request.URL.Path
}

func (e *malformedError) Error() string {
	msg := fmt.Sprintf("wrapper: %s: %d %s: malformed response: %s",
		e.where, e.status, http.StatusText(e.status), e.reason)
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *malformedError) Unwrap() []error {
	if e.err == nil {
		return []error{ErrMalformedResponse}
	}
	return []error{ErrMalformedResponse, e.err}
}

// lostError is a request whose answer was lost after it may have reached the
// server.
type lostError struct {
	op  string // what was lost, such as "POST /api/v1/token/refresh/"
	err error
}

func (e *lostError) Error() string {
	return "wrapper: " + e.op + ": answer lost (the request may have reached the server, so it was not repeated): " + e.err.Error()
}

func (e *lostError) Unwrap() []error { return []error{ErrAnswerLost, e.err} }

// Timeout reports whether a timeout lost the answer, as [net.Error] says:
// true for the refresh that a request waited for, when it timed out.
func (e *lostError) Timeout() bool {
	var netErr net.Error
	return errors.As(e.err, &netErr) && netErr.Timeout()
}

// notSentError is a request that provably never reached the server, such as
// one whose TLS handshake failed. It never matches [ErrAnswerLost].
type notSentError struct {
	reason string // what happened, and that nothing was sent
	err    error
}

func (e *notSentError) Error() string { return "wrapper: " + e.reason + ": " + e.err.Error() }

func (e *notSentError) Unwrap() error { return e.err }
