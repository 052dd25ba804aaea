package wrapper

import (
	"io"
	"net/http"
	"strings"
)

// transport sends each request with the session's access token, refreshing
// it when it is due, and once more when the server refuses it.
type transport struct {
	// base sends the requests; never nil.
	base http.RoundTripper
	s    *session
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The refresh endpoint takes no Authorization header, and its 401 is
	// about the refresh token in the body, which another refresh cannot fix.
	if strings.HasSuffix(req.URL.Path, refreshPath) {
		return t.base.RoundTrip(req)
	}
	st, err := t.s.token(req.Context())
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.send(req, st, req.Body)
	if err != nil || resp.StatusCode != http.StatusUnauthorized {
		return resp, err
	}
	// The server refused a token the client believed valid: it may have been
	// revoked, or the clocks disagree. Refresh once and replay once, if the
	// body can be sent again.
	replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
	if !replayable {
		return resp, nil
	}
	drain(resp)
	st, err = t.s.renew(req.Context(), st)
	if err != nil {
		return nil, err
	}
	body := req.Body
	if req.GetBody != nil {
		if body, err = req.GetBody(); err != nil {
			return nil, err
		}
	}
	return t.send(req, st, body)
}

// send sends a copy of req with st's token and body: a RoundTripper must not
// modify the request it is given.
func (t *transport) send(req *http.Request, st *tokenState, body io.ReadCloser) (*http.Response, error) {
	req2 := req.Clone(req.Context())
	req2.Body = body
	req2.Header.Set("Authorization", st.bearer)
	return t.base.RoundTrip(req2)
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
