package wrapper_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// hang answers after a second: long past the deadlines of the tests that
// use it. It reads the body first, so that the server notices a client that
// gives up and cancels the request's context.
func hang(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(time.Second):
	}
}

// settle collects garbage until the heap stops shrinking, so that cleanups
// of dropped clients have run, and returns the live heap.
func settle() uint64 {
	var ms runtime.MemStats
	last := ^uint64(0)
	for range 20 {
		runtime.GC()
		time.Sleep(20 * time.Millisecond) // cleanups run on their own goroutine
		runtime.ReadMemStats(&ms)
		if ms.HeapAlloc >= last {
			break
		}
		last = ms.HeapAlloc
	}
	return ms.HeapAlloc
}

func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	for _, base := range []string{"http://localhost:8000", "http://127.0.0.1", "http://127.3.2.1:9", "http://[::1]:8080", "https://example.com"} {
		_, err := wrapper.New(wrapper.WithBaseURL(base))
		assert.NoError(t, err, base)
	}
	for _, base := range []string{"http://example.com", "http://10.0.0.1:8000", "http://api.aisquare.studio"} {
		_, err := wrapper.New(wrapper.WithBaseURL(base))
		require.Error(t, err, base)
		assert.Contains(t, err.Error(), "plain http to a host other than loopback")
		_, err = wrapper.New(wrapper.WithBaseURL(base), wrapper.WithInsecureHTTP())
		assert.NoError(t, err, base)
	}
	t.Setenv(wrapper.BaseURLEnv, "http://example.com")
	_, err := wrapper.New()
	assert.Error(t, err, "from the environment too")
}

func TestRefreshTokenSendsOnlyTheRefreshToken(t *testing.T) {
	var got struct {
		method, path, contentType, userAgent, auth, body string
	}
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.method, got.path, got.body = r.Method, r.URL.Path, string(b)
		got.contentType, got.userAgent, got.auth = r.Header.Get("Content-Type"), r.Header.Get("User-Agent"), r.Header.Get("Authorization")
		reply(http.StatusOK, "application/json", `{"access":"new-access"}`)(w, r)
	})

	tok, err := c.RefreshToken(context.Background(), "  "+secret+"\n")
	require.NoError(t, err)
	assert.Equal(t, "new-access", tok.Access)
	assert.Empty(t, tok.Refresh, "Refresh without rotation")
	assert.Equal(t, http.MethodPost, got.method)
	assert.Equal(t, api.RefreshPath, got.path)
	assert.Equal(t, "application/json", got.contentType)
	assert.JSONEq(t, `{"refresh":"`+secret+`"}`, got.body)
	assert.Equal(t, "aisquare-go/"+wrapper.Version, got.userAgent)
	assert.Empty(t, got.auth, "the refresh endpoint needs no Authorization header")
}

func TestRefreshTokenRotated(t *testing.T) {
	c := newClient(t, reply(http.StatusOK, "application/json", `{"access":"a2","refresh":"r2"}`))
	tok, err := c.RefreshToken(context.Background(), secret)
	require.NoError(t, err)
	assert.Equal(t, "a2", tok.Access)
	assert.Equal(t, "r2", tok.Refresh)
}

func TestRefreshTokenEmptyTokenSendsNothing(t *testing.T) {
	for _, token := range []string{"", "   ", "\n\t"} {
		requests := 0
		c := newClient(t, func(w http.ResponseWriter, r *http.Request) { requests++ })
		_, err := c.RefreshToken(context.Background(), token)
		assert.ErrorIs(t, err, wrapper.ErrEmptyToken)
		assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
		assert.Zero(t, requests, "requests for token %q", token)
	}
}

// TestRefreshTokenErrors covers every error row of BACKEND.md's table, and
// the other statuses a proxy or the server may send.
func TestRefreshTokenErrors(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		header      map[string]string
		is          []error
		isNot       []error
		code        string
		detail      string
		fields      map[string][]string
		retryAfter  time.Duration
		message     string
	}{
		{
			name: "blacklisted", status: 401, body: `{"detail":"Token is blacklisted","code":"token_not_valid"}`,
			is: []error{wrapper.ErrUnauthorized, wrapper.ErrInvalidToken}, isNot: []error{wrapper.ErrBadRequest, wrapper.ErrServer},
			code: "token_not_valid", detail: "Token is blacklisted",
			message: "wrapper: POST " + api.RefreshPath + ": 401 Unauthorized: Token is blacklisted (token_not_valid)",
		},
		{
			name: "wrong type", status: 401, body: `{"detail":"Token has wrong type","code":"token_not_valid"}`,
			is: []error{wrapper.ErrUnauthorized, wrapper.ErrInvalidToken}, code: "token_not_valid", detail: "Token has wrong type",
		},
		{
			name: "invalid or expired", status: 401, body: `{"detail":"Token is invalid or expired","code":"token_not_valid"}`,
			is: []error{wrapper.ErrUnauthorized, wrapper.ErrInvalidToken}, code: "token_not_valid", detail: "Token is invalid or expired",
		},
		{
			name: "expired, newer SimpleJWT", status: 401, body: `{"detail":"Token is expired","code":"token_not_valid"}`,
			is: []error{wrapper.ErrUnauthorized, wrapper.ErrInvalidToken}, code: "token_not_valid", detail: "Token is expired",
		},
		{
			name: "field required", status: 400, body: `{"refresh":["This field is required."]}`,
			is: []error{wrapper.ErrBadRequest, wrapper.ErrInvalidToken}, isNot: []error{wrapper.ErrUnauthorized},
			fields:  map[string][]string{"refresh": {"This field is required."}},
			message: "wrapper: POST " + api.RefreshPath + ": 400 Bad Request: refresh: This field is required.",
		},
		{
			name: "field blank", status: 400, body: `{"refresh":["This field may not be blank."]}`,
			is: []error{wrapper.ErrBadRequest, wrapper.ErrInvalidToken}, fields: map[string][]string{"refresh": {"This field may not be blank."}},
		},
		{
			name: "malformed JSON request", status: 400, body: `{"detail":"JSON parse error - Expecting value: line 1 column 1 (char 0)"}`,
			is: []error{wrapper.ErrBadRequest}, detail: "JSON parse error - Expecting value: line 1 column 1 (char 0)",
		},
		{
			name: "redirect to the slash path", status: 301, contentType: "text/html; charset=utf-8",
			header:  map[string]string{"Location": "/elsewhere/"},
			isNot:   []error{wrapper.ErrBadRequest, wrapper.ErrServer, wrapper.ErrInvalidToken},
			message: "wrapper: POST " + api.RefreshPath + ": 301 Moved Permanently (empty body)",
		},
		{
			name: "forbidden", status: 403, body: `{"detail":"You do not have permission to perform this action."}`,
			is: []error{wrapper.ErrForbidden}, isNot: []error{wrapper.ErrInvalidToken}, detail: "You do not have permission to perform this action.",
		},
		{
			name: "not found", status: 404, contentType: "text/html", body: "<h1>Not Found</h1>",
			is: []error{wrapper.ErrNotFound}, message: "wrapper: POST " + api.RefreshPath + ": 404 Not Found (text/html body, not a JSON error)",
		},
		{
			name: "rate limited", status: 429, body: `{"detail":"Request was throttled. Expected available in 7 seconds."}`,
			header: map[string]string{"Retry-After": "7"}, is: []error{wrapper.ErrRateLimited}, isNot: []error{wrapper.ErrServer},
			detail: "Request was throttled. Expected available in 7 seconds.", retryAfter: 7 * time.Second,
		},
		{
			name: "server error", status: 500, contentType: "text/html", body: "<h1>Server Error (500)</h1>",
			is: []error{wrapper.ErrServer}, isNot: []error{wrapper.ErrInvalidToken},
		},
		{
			name: "HTML 502 from a proxy", status: 502, contentType: "text/html",
			body: "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>",
			is:   []error{wrapper.ErrServer}, message: "wrapper: POST " + api.RefreshPath + ": 502 Bad Gateway (text/html body, not a JSON error)",
		},
		{
			name: "empty 503", status: 503, contentType: "-", header: map[string]string{"Retry-After": "120"},
			is: []error{wrapper.ErrServer}, retryAfter: 2 * time.Minute,
			message: "wrapper: POST " + api.RefreshPath + ": 503 Service Unavailable (empty body)",
		},
		{
			name: "bare list of messages", status: 400, body: `["Invalid input."]`,
			is: []error{wrapper.ErrBadRequest}, detail: "Invalid input.",
		},
		{
			name: "HTML 401 from a gateway", status: 401, contentType: "text/html", body: "<h1>401 Authorization Required</h1>",
			is: []error{wrapper.ErrUnauthorized}, isNot: []error{wrapper.ErrInvalidToken},
			message: "wrapper: POST " + api.RefreshPath + ": 401 Unauthorized (text/html body, not a JSON error)",
		},
		{
			name: "HTML 400 from a gateway", status: 400, contentType: "text/html", body: "<h1>400 Bad Request</h1>",
			is: []error{wrapper.ErrBadRequest}, isNot: []error{wrapper.ErrInvalidToken},
		},
		{
			name: "token_not_valid in a page that is not JSON", status: 401, contentType: "text/plain",
			body: `{"detail":"x","code":"token_not_valid"}`, is: []error{wrapper.ErrUnauthorized}, isNot: []error{wrapper.ErrInvalidToken},
			code: "token_not_valid", detail: "x",
		},
		{
			name: "JSON 401 without token_not_valid", status: 401, body: `{"detail":"Authentication credentials were not provided."}`,
			is: []error{wrapper.ErrUnauthorized}, isNot: []error{wrapper.ErrInvalidToken}, detail: "Authentication credentials were not provided.",
		},
		{
			name: "JSON 400 about another field", status: 400, body: `{"non_field_errors":["Nope."]}`,
			is: []error{wrapper.ErrBadRequest}, isNot: []error{wrapper.ErrInvalidToken}, fields: map[string][]string{"non_field_errors": {"Nope."}},
		},
		{
			name: "Retry-After too large to represent", status: 429, body: `{"detail":"slow down"}`,
			header: map[string]string{"Retry-After": "99999999999999999999"}, is: []error{wrapper.ErrRateLimited},
			detail: "slow down", retryAfter: wrapper.RetryAfterTooLong,
			message: "wrapper: POST " + api.RefreshPath + ": 429 Too Many Requests: slow down (Retry-After too long)",
		},
		{
			name: "Retry-After above 2^31-1 seconds", status: 503, body: `{"detail":"later"}`,
			header: map[string]string{"Retry-After": "2147483648"}, is: []error{wrapper.ErrServer},
			detail: "later", retryAfter: 2147483648 * time.Second,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requests := 0
			c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
				requests++
				switch tc.contentType {
				case "":
					w.Header().Set("Content-Type", "application/json")
				case "-":
				default:
					w.Header().Set("Content-Type", tc.contentType)
				}
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
			}, wrapper.WithMaxRetries(0))
			tok, err := c.RefreshToken(context.Background(), secret)
			assert.Equal(t, 1, requests)
			require.Error(t, err)
			assert.Nil(t, tok)
			assertNoSecret(t, err)

			var apiErr *wrapper.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, http.MethodPost, apiErr.Method)
			assert.Equal(t, api.RefreshPath, apiErr.Path)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.detail, apiErr.Detail)
			assert.Equal(t, tc.fields, apiErr.Fields)
			assert.Equal(t, tc.body, string(apiErr.Body))
			assert.Equal(t, tc.retryAfter, apiErr.RetryAfter)
			for _, target := range tc.is {
				assert.ErrorIs(t, err, target)
			}
			for _, target := range tc.isNot {
				assert.NotErrorIs(t, err, target)
			}
			if tc.message != "" {
				assert.Equal(t, tc.message, err.Error())
			}
		})
	}
}

// TestRefreshTokenBadResponses covers 2xx answers the SDK cannot use, and
// transports that fail: each is a clear error that names what was wrong.
func TestRefreshTokenBadResponses(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    []wrapper.Option
		want    string // a part of the message
		is      error
	}{
		{"HTML 200", reply(200, "text/html", "<html>ok</html>"), nil,
			`200 OK: malformed response: content type "text/html", want application/json`, wrapper.ErrMalformedResponse},
		{"truncated JSON", reply(200, "application/json", `{"access":"eyJhbGciOi`), nil,
			"200 OK: malformed response: invalid JSON: unexpected end of JSON input", wrapper.ErrMalformedResponse},
		{"empty body", reply(200, "application/json", ""), nil,
			"200 OK: malformed response: empty body", wrapper.ErrMalformedResponse},
		{"wrong content type", reply(200, "text/plain", `{"access":"a"}`), nil,
			`malformed response: content type "text/plain", want application/json`, wrapper.ErrMalformedResponse},
		{"no access", reply(200, "application/json", `{"refresh":"r"}`), nil,
			`200 OK: malformed response: no "access" token`, wrapper.ErrMalformedResponse},
		{"null", reply(200, "application/json", `null`), nil,
			`malformed response: no "access" token`, wrapper.ErrMalformedResponse},
		{"not an object", reply(200, "application/json", `["a"]`), nil,
			"malformed response: invalid JSON: json: cannot unmarshal array", wrapper.ErrMalformedResponse},
		{"access not a string", reply(200, "application/json", `{"access":42}`), nil,
			"malformed response: invalid JSON", wrapper.ErrMalformedResponse},
		{"trailing garbage", reply(200, "application/json", `{"access":"a"} junk`), nil,
			"malformed response: invalid JSON", wrapper.ErrMalformedResponse},
		{"huge body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access":"`+strings.Repeat("a", 5<<20)+`"}`)
		}, nil, "200 OK: malformed response: body too long: wrapper: response body too large: over 4194304 bytes", wrapper.ErrMalformedResponse},
		{"dropped connection", func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, nil, "wrapper: POST " + api.RefreshPath + ": answer lost (the request may have reached the server, so it was not repeated): Post", wrapper.ErrAnswerLost},
		{"dropped mid-body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", "100")
			_, _ = io.WriteString(w, `{"access":`)
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}, nil, "200 OK: reading body: answer lost (the request may have reached the server, so it was not repeated): unexpected EOF", io.ErrUnexpectedEOF},
		{"slow server", hang, []wrapper.Option{wrapper.WithTimeout(50 * time.Millisecond)}, "answer lost (the request may have reached the server, so it was not repeated)", context.DeadlineExceeded},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.handler, tc.opts...)
			tok, err := c.RefreshToken(context.Background(), secret)
			require.Error(t, err)
			assert.Nil(t, tok)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "wrapper: "), "message %q does not name the package", err)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			var apiErr *wrapper.APIError
			assert.False(t, errors.As(err, &apiErr), "a 2xx or a transport failure is not an *APIError")
			assertNoSecret(t, err)
		})
	}
}

func TestRefreshTokenHonoursContext(t *testing.T) {
	c := newClient(t, hang)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.RefreshToken(ctx, secret)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

// TestTransportErrorsCarryNoSecret: net/http quotes a malformed status line
// in its error; a server that echoes the token there does not get it into
// the SDK's error.
func TestTransportErrorsCarryNoSecret(t *testing.T) {
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		_, _ = buf.WriteString("HTTP/1.1 " + secret + "\r\n\r\n")
		_ = buf.Flush()
	}, wrapper.WithMaxRetries(0))
	_, err := c.RefreshToken(context.Background(), secret)
	require.Error(t, err)
	assert.ErrorIs(t, err, wrapper.ErrAnswerLost, "it was sent")
	assert.Contains(t, err.Error(), "[REDACTED]")
	assertNoSecret(t, err)
}

// TestAPIUsesTheSameSettings checks that the generated client reaches the
// same server with the same User-Agent, and that CheckResponse maps its
// responses.
func TestAPIUsesTheSameSettings(t *testing.T) {
	var ua, path string
	c := newClient(t, func(w http.ResponseWriter, r *http.Request) {
		ua, path = r.Header.Get("User-Agent"), r.URL.Path
		reply(401, "application/json", `{"detail":"Token is blacklisted","code":"token_not_valid"}`)(w, r)
	}, wrapper.WithUserAgent("svc/1"))

	resp, err := c.API().RefreshCreateWithResponse(context.Background(), apiRefreshBody(secret))
	require.NoError(t, err, "the generated client returns no error for a 401")
	assert.Equal(t, "svc/1 aisquare-go/"+wrapper.Version, ua)
	assert.Equal(t, api.RefreshPath, path)
	require.NotNil(t, resp.JSON401)
	assert.Equal(t, "token_not_valid", resp.JSON401.Code)

	err = wrapper.CheckResponse(resp.HTTPResponse, resp.Body)
	assert.ErrorIs(t, err, wrapper.ErrInvalidToken)
	var apiErr *wrapper.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "Token is blacklisted", apiErr.Detail)
}

func TestRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	t.Cleanup(other.Close)

	var auth []string
	var n atomic.Int32
	clock := newFakeClock()
	srv := newSessionServer(t, clock, false)
	access, refresh := srv.IssuePair(1)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		auth = append(auth, r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/away/":
			http.Redirect(w, r, other.URL+"/landing/", http.StatusFound)
		case "/here/":
			http.Redirect(w, r, "/landing/", http.StatusFound)
		case "/post/":
			http.Redirect(w, r, "/landing/", http.StatusFound)
		}
	}))
	t.Cleanup(origin.Close)
	c, err := wrapper.New(wrapper.WithBaseURL(origin.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now))
	require.NoError(t, err)

	resp, err := c.HTTPClient().Get(origin.URL + "/away/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "a redirect to another origin is not followed")
	assert.Zero(t, elsewhere.Load())

	resp, err = c.HTTPClient().Get(origin.URL + "/here/")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "a redirect within the origin is followed")

	resp, err = c.HTTPClient().Post(origin.URL+"/post/", "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusFound, resp.StatusCode, "a POST is not turned into a GET")
	assert.Equal(t, int32(4), n.Load())
	for _, a := range auth {
		assert.Equal(t, api.AuthScheme+" "+access, a)
	}
}

// TestCloseLeavesSharedConnectionsAlone: Close closes the connections of
// the client's own transport, never those of http.DefaultTransport.
func TestCloseLeavesSharedConnectionsAlone(t *testing.T) {
	var mu sync.Mutex
	states := map[net.Conn][]http.ConnState{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(conn net.Conn, state http.ConnState) {
		mu.Lock()
		states[conn] = append(states[conn], state)
		mu.Unlock()
	}
	srv.Start()
	t.Cleanup(srv.Close)
	get := func(hc *http.Client) {
		resp, err := hc.Get(srv.URL)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	closed := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, s := range states {
			if s[len(s)-1] == http.StateClosed {
				n++
			}
		}
		return n
	}

	get(http.DefaultClient) // an idle connection of http.DefaultTransport
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	get(c.HTTPClient()) // an idle connection of the client's own
	mu.Lock()
	require.Len(t, states, 2, "two connections")
	mu.Unlock()

	require.NoError(t, c.Close())
	assert.Eventually(t, func() bool { return closed() == 1 }, 2*time.Second, 10*time.Millisecond, "the client's own connection is closed")
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, 1, closed(), "the shared one is not")
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}

// TestClientWorksAfterClose: a closed client still serves its token.
func TestClientWorksAfterClose(t *testing.T) {
	access := jwtExpiring(time.Now().Add(time.Hour))
	c, err := wrapper.New(wrapper.WithBaseURL("https://api.aisquare.studio"), wrapper.WithTokens(access, "r"))
	require.NoError(t, err)
	require.NoError(t, c.Close())
	got, err := c.AccessToken(t.Context())
	require.NoError(t, err)
	assert.Equal(t, access, got)
}

// TestDroppedClientsLeaveNothing: 100,000 clients with tokens, created and
// dropped without Close, leave no memory and no goroutine behind: a session
// runs nothing between its refreshes, and their tokens are collected.
func TestDroppedClientsLeaveNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("100,000 clients")
	}
	const clients = 100_000
	exp := time.Now().Add(7 * 24 * time.Hour)
	ignore := goleak.IgnoreCurrent()
	before := settle()
	for i := range clients {
		// Distinct tokens, as real sessions hold.
		access := jwtExpiring(exp) + strconv.Itoa(i)
		c, err := wrapper.New(wrapper.WithBaseURL("https://api.aisquare.studio"), wrapper.WithTokens(access, "refresh-"+strconv.Itoa(i)))
		require.NoError(t, err)
		if _, err := c.AccessToken(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	after := settle()
	grown := int64(after) - int64(before)
	t.Logf("heap before %d KiB, after %d KiB, %d clients created and dropped", before>>10, after>>10, clients)
	// A timer per client holding its tokens until expiry would keep 64 MB
	// for 100,000 clients; a kilobyte a client would be 100 MB.
	assert.Less(t, grown, int64(8<<20), "heap grew by %d KiB", grown>>10)
	goleak.VerifyNone(t, ignore)
}
