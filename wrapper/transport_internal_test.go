package wrapper

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// drfLogin behaves as Django REST Framework does for an AllowAny login
// under JWT-default authentication: a bearer it refuses gets a 401
// "token_not_valid" before the view runs; the view itself answers a wrong
// password with its own 401. It counts the requests that reach the view.
type drfLogin struct {
	*wrappertest.Server
	mu     sync.Mutex
	views  int
	seen   []string
	refuse string // a bearer the server refuses
	code   string // the code of its refusal; "token_not_valid" if empty
}

const loginPath = "/api/v1/auth/login/"

func newDRFLogin(t *testing.T) *drfLogin {
	t.Helper()
	d := &drfLogin{Server: wrappertest.NewServer(wrappertest.Options{})}
	t.Cleanup(d.Server.Close)
	login := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != loginPath {
			// everything else, the refresh view included, is the fake backend's
			proxy := *r.URL
			proxy.Scheme, proxy.Host = "http", strings.TrimPrefix(d.Server.URL, "http://")
			req, _ := http.NewRequestWithContext(r.Context(), r.Method, proxy.String(), r.Body)
			req.Header = r.Header.Clone()
			resp, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			for k, v := range resp.Header {
				w.Header()[k] = v
			}
			w.WriteHeader(resp.StatusCode)
			_, _ = io.Copy(w, resp.Body)
			return
		}
		auth := r.Header.Get("Authorization")
		d.mu.Lock()
		d.seen = append(d.seen, fmt.Sprintf("auth=%t", auth != ""))
		refused := auth != "" && auth == "Bearer "+d.refuse
		code := cmp.Or(d.code, "token_not_valid")
		if !refused {
			d.views++
		}
		d.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refused {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"detail":"Given token not valid for any token type","code":"`+code+`","messages":[]}`)
			return
		}
		var body struct{ Password string }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if body.Password != "right" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"detail":"No active account found with the given credentials","code":"authentication_failed"}`)
			return
		}
		_, _ = io.WriteString(w, `{"access":"a","refresh":"r"}`)
	}))
	t.Cleanup(login.Close)
	d.URL = login.URL
	return d
}

func (d *drfLogin) took() (views int, seen []string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	views, seen, d.views, d.seen = d.views, d.seen, 0, nil
	return views, seen
}

func postLogin(t *testing.T, c *Client, password string) int {
	t.Helper()
	resp, err := c.HTTPClient().Post(c.BaseURL()+loginPath, "application/json", strings.NewReader(`{"username":"alice","password":"`+password+`"}`))
	require.NoError(t, err)
	_ = resp.Body.Close()
	return resp.StatusCode
}

// TestOptionalAuth: an operation whose security allows anonymous access
// gets the token while it is valid, is sent once more without it after a
// 401 "token_not_valid", never waits for, starts or replays a refresh, and
// is never held up by a dead session.
func TestOptionalAuth(t *testing.T) {
	withRoutes(t, append([]api.Operation{{Method: "POST", Path: loginPath, Auth: api.AuthOptional}}, fullerSpec...))
	d := newDRFLogin(t)
	access, refresh := d.IssuePair(1)
	now := time.Now()
	clock := func() time.Time { return now }
	c, err := New(WithBaseURL(d.URL), WithTokens(access, refresh), WithClock(clock))
	require.NoError(t, err)

	assert.Equal(t, http.StatusUnauthorized, postLogin(t, c, "wrong"))
	views, seen := d.took()
	assert.Equal(t, 1, views, "a wrong password reaches the view once")
	assert.Equal(t, []string{"auth=true"}, seen)

	d.mu.Lock()
	d.refuse = access
	d.mu.Unlock()
	assert.Equal(t, http.StatusUnauthorized, postLogin(t, c, "wrong"))
	views, seen = d.took()
	assert.Equal(t, 1, views, "the refused token never reached the view; the replay did, once")
	assert.Equal(t, []string{"auth=true", "auth=false"}, seen)
	for _, code := range []string{"user_not_found", "user_inactive", "password_changed", "bad_authorization_header"} {
		d.mu.Lock()
		d.code = code // SimpleJWT's other refusals of a bearer, before the view
		d.mu.Unlock()
		assert.Equal(t, http.StatusUnauthorized, postLogin(t, c, "wrong"), code)
		views, seen = d.took()
		assert.Equal(t, 1, views, code)
		assert.Equal(t, []string{"auth=true", "auth=false"}, seen, code)
	}
	assert.Equal(t, http.StatusOK, postLogin(t, c, "right"))
	d.took()
	assert.Zero(t, d.Requests(api.RefreshPath), "no refresh for an optional operation")

	now = now.Add(8 * 24 * time.Hour)                                // the access token (7 days) expired by the client's clock
	d.Inject(api.RefreshPath, wrappertest.Fault{Delay: time.Minute}) // a wait for a refresh would show
	assert.Equal(t, http.StatusOK, postLogin(t, c, "right"))
	_, seen = d.took()
	assert.Equal(t, []string{"auth=false"}, seen, "no expired token")
	assert.Zero(t, d.Requests(api.RefreshPath), "no refresh started, nor waited for")
}

// TestOwnRefreshInEveryEncoding: a refresh of the session's own refresh
// token, in JSON, a form or a multipart form, and at any refresh view of
// the spec, is the session's: the server sees one refresh, and the session
// goes on with the pair it got.
func TestOwnRefreshInEveryEncoding(t *testing.T) {
	second := "/api/v1/auth/jwt/refresh/"
	withRoutes(t, append([]api.Operation{{Method: "POST", Path: second, Auth: api.AuthOptional, Refresh: true}}, fullerSpec...))
	form := func(r string) (string, []byte) {
		return "application/x-www-form-urlencoded", []byte(url.Values{"refresh": {r}}.Encode())
	}
	multi := func(r string) (string, []byte) {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		_ = w.WriteField("refresh", r)
		_ = w.Close()
		return w.FormDataContentType(), b.Bytes()
	}
	jsonBody := func(r string) (string, []byte) { return "application/json", []byte(`{"refresh":"` + r + `"}`) }
	for _, tc := range []struct {
		name string
		path string
		body func(string) (string, []byte)
	}{
		{"form", api.RefreshPath, form},
		{"multipart", api.RefreshPath, multi},
		{"JSON at another refresh view", second, jsonBody},
		{"form at another refresh view, whose security is optional", second, form},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true})
			t.Cleanup(srv.Close)
			access, refresh := srv.IssuePair(1)
			rec := &opRecorder{base: http.DefaultTransport}
			c, err := New(WithBaseURL(srv.URL), WithTokens(access, refresh), WithHTTPClient(&http.Client{Transport: rec}))
			require.NoError(t, err)
			ct, body := tc.body(refresh)
			resp, err := c.HTTPClient().Post(srv.URL+tc.path, ct, bytes.NewReader(body))
			require.NoError(t, err)
			var ans api.TokenRefresh
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&ans))
			_ = resp.Body.Close()
			require.Equal(t, http.StatusOK, resp.StatusCode)
			assert.Equal(t, []string{"POST " + api.RefreshPath + " auth=false"}, rec.take(), "the session's own refresh, once")
			got, err := c.AccessToken(context.Background())
			require.NoError(t, err)
			assert.Equal(t, ans.Access, got, "the session holds what it answered")
			assert.Equal(t, srv.LastRefreshToken(), ans.Refresh)
		})
	}
}
