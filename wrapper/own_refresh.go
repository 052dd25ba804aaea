package wrapper

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
)

// maxRefreshBody is the longest refresh request body the session reads to
// find out whose refresh token it carries; a longer one is sent as it is.
const maxRefreshBody = 64 << 10

// refreshes reports whether req goes to the refresh endpoint of the base
// URL: same scheme, host and port, and the path under the base URL's path.
func (a *authScope) refreshes(req *http.Request) bool {
	u := req.URL
	return a.scheme != "" && u.Path == a.prefix+api.RefreshPath && strings.EqualFold(u.Scheme, a.scheme) &&
		strings.EqualFold(u.Hostname(), a.host) && portOf(a.scheme, u.Port()) == a.port
}

// serveRefresh sends a request to the refresh endpoint, made through
// [Client.API] or [Client.HTTPClient]. If it carries the session's own
// refresh token, the session serves it: spending that token behind the
// session's back would leave the session holding a spent token. The
// session's refresh (shared with one in flight, saved before use) is then
// returned as the server would answer it. owned says req may be modified.
func (s *session) serveRefresh(req *http.Request, send func(*http.Request) (*http.Response, error), owned bool) (*http.Response, error) {
	if req.Method != http.MethodPost || req.Body == nil || req.Body == http.NoBody {
		return send(req)
	}
	data, err := io.ReadAll(io.LimitReader(req.Body, maxRefreshBody+1))
	if err != nil {
		closeBody(req)
		return nil, fmt.Errorf("wrapper: reading refresh request body: %w", err)
	}
	if len(data) <= maxRefreshBody {
		var body api.TokenRefreshRequest
		if json.Unmarshal(data, &body) == nil {
			st, base, ok, err := s.refreshNow(req.Context(), strings.TrimSpace(body.Refresh))
			if ok {
				closeBody(req)
				return refreshAnswer(req, st, base, err)
			}
		}
	}
	if !owned {
		req = req.Clone(req.Context())
	}
	rest := req.Body
	req.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(data), rest), rest}
	return send(req)
}

// refreshAnswer turns the session's refresh into the response the server
// would have sent: 200 with the new access token, and the new refresh token
// if it rotated; or the server's own error answer.
func refreshAnswer(req *http.Request, st, base *tokenState, err error) (*http.Response, error) {
	status, contentType := http.StatusOK, "application/json"
	var body []byte
	if err != nil {
		var apiErr *APIError
		if !errors.As(err, &apiErr) {
			return nil, err
		}
		status, contentType, body = apiErr.StatusCode, apiErr.ContentType, apiErr.Body
	} else {
		ans := api.TokenRefresh{Access: st.access}
		if st.refresh != base.refresh {
			ans.Refresh = st.refresh
		}
		body, _ = json.Marshal(ans) // two strings always marshal
	}
	return &http.Response{
		Status:     strconv.Itoa(status) + " " + http.StatusText(status),
		StatusCode: status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":   {contentType},
			"Content-Length": {strconv.Itoa(len(body))},
		},
		Body:          io.NopCloser(bytes.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}, nil
}
