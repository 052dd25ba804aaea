package wrapper

import (
	"fmt"
	"io"
	"net"
	"net/http"
)

// transport sends each request of [Client.HTTPClient]: with the session's
// access token if its scope covers the request, untouched otherwise.
type transport struct {
	// base sends the requests; never nil.
	base http.RoundTripper
	s    *session
	// scope says which requests get the token; never nil.
	scope *authScope
	ua    []string // the User-Agent header's value, shared (see withToken)
	agent string   // the same, for prepare
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// Elsewhere, and on the token endpoints, which take no Authorization
	// header and whose 401 is about the token or password in the body
	// (a replay would only send it twice), the request goes without the
	// token. A refresh of the session's own refresh token is the session's
	// refresh (see serveRefresh).
	if !t.scope.covers(req) {
		req, err := prepare(req, t.agent)
		if err != nil {
			return nil, err
		}
		if t.scope.refreshes(req) {
			return t.s.serveRefresh(req, t.base.RoundTrip, false)
		}
		return t.base.RoundTrip(req)
	}
	// A RoundTripper must not modify the request it is given: send a copy.
	return t.s.do(req, t.base.RoundTrip, false, t.ua)
}

// CloseIdleConnections closes the idle connections of the base transport.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// doer sends the requests of the generated client, [Client.API]: with the
// session's access token if its scope covers the request, untouched
// otherwise. The generated client builds a new request for every call, so
// the doer sets the header on it in place: no copy.
type doer struct {
	hc    *http.Client
	s     *session
	scope *authScope
	ua    []string
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	if !d.scope.covers(req) {
		if d.scope.refreshes(req) {
			return d.s.serveRefresh(req, d.hc.Do, true)
		}
		return d.hc.Do(req)
	}
	return d.s.do(req, d.hc.Do, true, d.ua)
}

// agentTransport sends the requests of [Client.HTTPClient] of a client
// without a session, through prepare.
type agentTransport struct {
	base http.RoundTripper // never nil
	ua   string
}

func (t *agentTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	req, err := prepare(req, t.ua)
	if err != nil {
		return nil, err
	}
	return t.base.RoundTrip(req)
}

// CloseIdleConnections closes the idle connections of the base transport.
func (t *agentTransport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// prepare checks that req can be sent and gives it the SDK's User-Agent if
// it has none, copying it then. A request of [Client.HTTPClient] that gets
// no token passes through it; one that gets the token gets the User-Agent
// in withToken, and a relative URL never gets the token. The generated
// clients set both themselves.
func prepare(req *http.Request, ua string) (*http.Request, error) {
	if req.URL == nil || req.URL.Scheme == "" || req.URL.Host == "" {
		closeBody(req)
		path := ""
		if req.URL != nil {
			path = req.URL.Path
		}
		return nil, fmt.Errorf("wrapper: request URL %q is relative: the URL must be absolute, "+
			"such as the client's BaseURL() followed by the path", path)
	}
	if _, ok := req.Header["User-Agent"]; !ok {
		req = req.Clone(req.Context())
		req.Header.Set("User-Agent", ua)
	}
	return req, nil
}

// do sends req with the session's token through send, refreshing the token
// first when it is due. A 401 for a token the client believed valid (it may
// have been revoked, or the clocks disagree) makes it refresh once and send
// once more, if the body can be sent again, unless the token came from a
// refresh a moment ago (see [session.rejectable]): the 401 is then the
// answer. owned says req may be modified; otherwise do sends copies.
func (s *session) do(req *http.Request, send func(*http.Request) (*http.Response, error), owned bool, ua []string) (*http.Response, error) {
	st, err := s.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := send(withToken(req, st, req.Body, owned, ua))
	if err != nil {
		return nil, scrubError(err, st.access) // net/http may quote what the server sent
	}
	if resp.StatusCode != http.StatusUnauthorized || !replayable(req) || !s.rejectable(st) {
		return resp, nil
	}
	drain(resp)
	if st, err = s.reject(req.Context(), st); err != nil {
		return nil, err
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	if resp, err = send(withToken(req, st, body, owned, ua)); err != nil {
		return nil, scrubError(err, st.access)
	}
	return resp, nil
}

// withToken returns req, or a copy of it if not owned, with the token and,
// if it has none, the User-Agent ua. ua is one value slice shared by every
// request, so that the header costs no allocation; its capacity of one
// makes an append copy it, and nothing in net/http writes into it.
func withToken(req *http.Request, st *tokenState, body io.ReadCloser, owned bool, ua []string) *http.Request {
	if !owned {
		req = req.Clone(req.Context())
	}
	req.Body = body
	req.Header.Set("Authorization", st.bearer)
	if _, ok := req.Header["User-Agent"]; !ok {
		req.Header["User-Agent"] = ua
	}
	return req
}

// headerValue returns v as a header value slice of capacity one, to share.
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
