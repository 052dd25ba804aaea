package wrapper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
	"github.com/aisquare-studio/aisquare-go/wrapper/internal/session"
)

// transport is the one pipeline of every request of [Client.HTTPClient]
// and of [Client.API], in this order: the URL must be absolute; the
// User-Agent; the session's token, and the replay after a 401 (see
// [Client.HTTPClient]); then next, the retries and the transport, all under
// the client's timeout. It closes the request's body on every error.
type transport struct {
	next    http.RoundTripper // never nil
	timeout time.Duration     // bounds each request, response body included; 0: none
	ua      []string          // the User-Agent header's value, shared (see headerValue)
	// owned says the requests are the generated client's, which builds one
	// for each call and never looks at it again: their headers are set in
	// place. Other requests are the caller's: as a RoundTripper must, the
	// pipeline sends a copy of one it changes.
	owned bool
	s     *session.Session // nil: no token
	scope *authScope       // which requests get the token; nil when s is
	// token is the session's Token, whose error says when it waited for
	// the store's lock.
	token func(context.Context) (*session.Token, error)
}

// RoundTrip sends req under the pipeline's timeout, if it has one, which
// lasts until the response's body is closed: the generated client's. (An
// [http.Client]'s Timeout does the same, but for a RoundTripper other than
// its own it adds a goroutine and a timer to every request.)
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.timeout <= 0 {
		return t.send(req)
	}
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	resp, err := t.send(req.WithContext(ctx))
	switch {
	case err != nil:
		cancel()
		return nil, t.timedOut(err, req.Context())
	case resp.Body == nil: // net/http gives it an empty one
		cancel()
	default:
		resp.Body = &cancelBody{resp.Body, cancel, t, req.Context()}
	}
	return resp, nil
}

// timedOut says so in err when the pipeline's timeout, not the caller's
// context, ended the request.
func (t *transport) timedOut(err error, caller context.Context) error {
	if errors.Is(err, context.DeadlineExceeded) && caller.Err() == nil {
		return &timeoutError{err, t.timeout}
	}
	return err
}

// timeoutError is the error of a request that the client's timeout ended:
// a [net.Error] whose Timeout is true, as net/http's own.
type timeoutError struct {
	err     error
	timeout time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("%v (the client's timeout of %v)", e.err, e.timeout)
}
func (e *timeoutError) Unwrap() error   { return e.err }
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }

// cancelBody is a response's body that ends its request's timeout when
// closed.
type cancelBody struct {
	io.ReadCloser
	cancel context.CancelFunc
	t      *transport
	caller context.Context
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		err = b.t.timedOut(err, b.caller)
	}
	return n, err
}

func (b *cancelBody) Close() error {
	defer b.cancel()
	return b.ReadCloser.Close()
}

func (t *transport) send(req *http.Request) (*http.Response, error) {
	if req.URL == nil || req.URL.Scheme == "" || req.URL.Host == "" {
		closeBody(req)
		path := ""
		if req.URL != nil {
			path = req.URL.Path
		}
		return nil, fmt.Errorf("wrapper: request URL %q is relative: the URL must be absolute, "+
			"such as the client's BaseURL() followed by the path", path)
	}
	out := req
	if req.Header == nil {
		out = req.Clone(req.Context()) // net/http sends a request without headers too
		out.Header = make(http.Header)
	}
	if _, ok := out.Header["User-Agent"]; !ok {
		out = t.editable(req, out)
		out.Header["User-Agent"] = t.ua
	}
	if t.s == nil || t.s.InFlight(req.Context()) {
		return t.next.RoundTrip(out) // a login's own request: see WithLogin
	}
	switch t.scope.auth(req) {
	case authRequired:
		return t.withToken(req, out)
	case authOptional:
		return t.maybeToken(req, out)
	case authRefresh:
		return t.serveRefresh(out, true)
	}
	if out.Method != http.MethodGet && t.scope.refreshElsewhere(req) {
		return t.serveRefresh(out, false)
	}
	return t.next.RoundTrip(out)
}

// CloseIdleConnections closes the idle connections of the transport below.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// withToken sends out, a copy of req or req itself, with the session's
// token, refreshing it first when it is due. A 401 for a token the client
// believed valid (revoked, or the clocks disagree) makes it refresh once
// and send once more, if the body can be sent again, unless the token came
// from a refresh a moment ago: the 401 is then the answer.
func (t *transport) withToken(req, out *http.Request) (*http.Response, error) {
	tok, err := t.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	out = t.editable(req, out)
	out.Header["Authorization"] = tok.Header
	resp, err := t.next.RoundTrip(out)
	if err != nil {
		return nil, redact.Error(err, maxErrorMessage, tok.Access) // net/http may quote what the server sent
	}
	if resp.StatusCode != http.StatusUnauthorized || !replayable(req) && tok.Refresh() != "" {
		return resp, nil
	}
	next, err := t.s.Rejected(req.Context(), tok)
	switch {
	case next == nil && err == nil && tok.Refresh() == "":
		// A token of $AISQUARE_TOKEN or AISquare's CLI: only a new login
		// renews it.
		return nil, loginRequired(resp)
	case next == nil && err == nil, !replayable(req):
		return resp, nil
	}
	drain(resp)
	if err != nil {
		return nil, err
	}
	replay := out.Clone(req.Context())
	if req.GetBody != nil {
		if replay.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	replay.Header["Authorization"] = next.Header
	if resp, err = t.next.RoundTrip(replay); err != nil {
		return nil, redact.Error(err, maxErrorMessage, next.Access)
	}
	return resp, nil
}

// maybeToken sends out, a copy of req or req itself, to an operation whose
// security allows anonymous access as well as the token (an AllowAny view,
// such as a login): with the session's token only while it is valid by the
// clock, never waiting for a refresh, nor starting or replaying one, so
// that a session that is being refreshed, or is dead, never holds it up.
//
// Django REST Framework checks a token before the view runs: a token it
// refuses gets a 401 "token_not_valid" and the view never runs (it does not
// even read the body). The request is then sent once more, without the
// token, where the view runs as it would have for a caller without one:
// safe even for a login, whose password reaches the view once.
func (t *transport) maybeToken(req, out *http.Request) (*http.Response, error) {
	tok := t.s.Peek()
	if tok == nil {
		return t.next.RoundTrip(out)
	}
	with := t.editable(req, out)
	with.Header["Authorization"] = tok.Header
	resp, err := t.next.RoundTrip(with)
	if err != nil {
		return nil, redact.Error(err, maxErrorMessage, tok.Access)
	}
	if resp.StatusCode != http.StatusUnauthorized || !replayable(req) {
		return resp, nil
	}
	// Read what tells a refused token: a small JSON body.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	var body struct{ Code string }
	if json.Unmarshal(head, &body) != nil || !refusedBeforeTheView[body.Code] {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
		return resp, nil
	}
	drain(resp)
	without := out.Clone(req.Context())
	without.Header.Del("Authorization")
	if req.GetBody != nil {
		if without.Body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.next.RoundTrip(without)
}

// refusedBeforeTheView holds the codes of the 401s with which SimpleJWT's
// JWTAuthentication refuses a bearer, before a view runs: a token that is
// not valid, the user it names gone or inactive, a malformed header, or a
// token issued before the user's password changed.
var refusedBeforeTheView = map[string]bool{
	"token_not_valid": true, "user_not_found": true, "user_inactive": true,
	"bad_authorization_header": true, "password_changed": true,
}

// loginRequired reads and closes a 401 answer to a token that only a new
// login renews, and returns it as an [*APIError] that says so.
func loginRequired(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_ = resp.Body.Close()
	err := checkResponse(resp, body)
	if apiErr, ok := err.(*APIError); ok {
		apiErr.advice = loginAdvice
	}
	return err
}

// editable returns out, req itself or a copy of it, as a request whose
// headers may be set: out, unless it is req and req is not owned.
func (t *transport) editable(req, out *http.Request) *http.Request {
	if out == req && !t.owned {
		return req.Clone(req.Context())
	}
	return out
}

// headerValue returns v as a header value slice of capacity one, to share
// among requests: a header that costs no allocation. An append copies it,
// and nothing in net/http writes into it.
func headerValue(v string) []string { return []string{v}[:1:1] }

// replayable reports whether req's body can be sent again.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// isLoopback reports whether host is localhost or a loopback address
// (127.0.0.0/8, ::1).
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

// drain reads a little of a response that is thrown away, so that its
// connection can be reused, and closes it.
func drain(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4<<10))
	_ = resp.Body.Close()
}
