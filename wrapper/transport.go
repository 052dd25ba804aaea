package wrapper

import (
	"fmt"
	"io"
	"net"
	"net/http"
)

// transport sends each request of [Client.HTTPClient] with the session's
// access token.
type transport struct {
	// base sends the requests; never nil.
	base http.RoundTripper
	s    *session
	// scope says which requests get the token; never nil.
	scope *authScope
	// insecure allows a token over plain http to a host other than loopback.
	insecure bool
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The token endpoints take no Authorization header, and their 401 is
	// about the token or password in the body, which a refresh cannot fix:
	// a replay would only send it twice.
	if !t.scope.covers(req) {
		return t.base.RoundTrip(req)
	}
	if req.URL.Scheme != "https" && !t.insecure && !isLoopback(req.URL.Hostname()) {
		closeBody(req)
		return nil, fmt.Errorf("wrapper: refusing to send a token over plain http to %s (use https, or WithInsecureHTTP)", req.URL.Host)
	}
	// A RoundTripper must not modify the request it is given: send a copy.
	return t.s.do(req, t.base.RoundTrip, false)
}

// CloseIdleConnections closes the idle connections of the base transport.
func (t *transport) CloseIdleConnections() {
	if c, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}

// doer sends the requests of the generated client, [Client.API], with the
// session's access token. The generated client builds a new request for
// every call, so the doer sets the header on it in place: no copy.
type doer struct {
	hc    *http.Client
	s     *session
	scope *authScope
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	if !d.scope.covers(req) {
		return d.hc.Do(req)
	}
	return d.s.do(req, d.hc.Do, true)
}

// do sends req with the session's token through send, refreshing the token
// first when it is due. A 401 for a token the client believed valid (it may
// have been revoked, or the clocks disagree) makes it refresh once and send
// once more, if the body can be sent again. owned says req may be modified;
// otherwise do sends copies.
func (s *session) do(req *http.Request, send func(*http.Request) (*http.Response, error), owned bool) (*http.Response, error) {
	st, err := s.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := send(withToken(req, st, req.Body, owned))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable(req) {
		return resp, err
	}
	drain(resp)
	if st, err = s.renew(req.Context(), st); err != nil {
		return nil, err
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return send(withToken(req, st, body, owned))
}

func withToken(req *http.Request, st *tokenState, body io.ReadCloser, owned bool) *http.Request {
	if !owned {
		req = req.Clone(req.Context())
	}
	req.Body = body
	req.Header.Set("Authorization", st.bearer)
	return req
}

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
