package wrapper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

// TestMain runs the tests in an environment of their own: no credentials of
// the user running them (see wrapper.New's chain), whatever the machine
// holds.
func TestMain(m *testing.M) {
	home, err := os.MkdirTemp("", "wrapper-test-home")
	if err != nil {
		panic(err)
	}
	for _, kv := range [][2]string{{"HOME", home}, {"XDG_CONFIG_HOME", home + "/.config"}, {"AISQUARE_HOME", home + "/.aisquare"}} {
		_ = os.Setenv(kv[0], kv[1])
	}
	for _, name := range []string{"AISQUARE_TOKEN", "AISQUARE_API_URL", "AISQUARE_BASE_URL", "AISQUARE_LOG"} {
		_ = os.Unsetenv(name)
	}
	code := m.Run()
	_ = os.RemoveAll(home)
	os.Exit(code)
}

// secret is the refresh token the tests send; no error may contain it.
const secret = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXJlZnJlc2gtdG9rZW4.c2lnbmF0dXJl"

func assertNoSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		assert.NotContains(t, s, secret)
	}
}

// newClient starts a server with h and returns a client for it.
func newClient(t *testing.T, h http.HandlerFunc, opts ...wrapper.Option) *wrapper.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL)}, opts...)...)
	require.NoError(t, err)
	return c
}

// reply answers every request with status, content type and body.
func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}
}

func withHeader(key, value string, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(key, value)
		h(w, r)
	}
}

func closeReqBody(r *http.Request) {
	if r.Body != nil {
		r.Body.Close()
	}
}

// get sends a GET to url through c.HTTPClient() and reads the answer.
func get(t *testing.T, ctx context.Context, c *wrapper.Client, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := c.HTTPClient().Do(req)
	if err == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	return resp, err
}

// recorder is a server that records the headers of what it receives and
// answers status.
type recorder struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
}

func newRecorder(t *testing.T, status int) *recorder {
	t.Helper()
	r := &recorder{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.headers = append(r.headers, req.Header.Clone())
		r.mu.Unlock()
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="api"`)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *recorder) received() []http.Header {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.headers
}

// jwtExpiring returns an unsigned-looking JWT whose exp is at.
func jwtExpiring(at time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload := fmt.Sprintf(`{"token_type":"access","exp":%d,"iat":%d,"jti":"0","user_id":1}`, at.Unix(), at.Add(-time.Hour).Unix())
	return enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

// jwtFor returns an access token valid for an hour.
func jwtFor(t *testing.T) string {
	t.Helper()
	srv := wrappertest.NewServer(wrappertest.Options{})
	t.Cleanup(srv.Close)
	access, _ := srv.IssuePair(1)
	require.True(t, strings.HasPrefix(access, "eyJ"))
	return access
}

// fakeClock is a clock the tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{now: time.Now().Truncate(time.Second)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newSessionServer starts a fake backend on clock with a 10-minute access
// lifetime.
func newSessionServer(t *testing.T, clock *fakeClock, rotate bool) *wrappertest.Server {
	t.Helper()
	srv := wrappertest.NewServer(wrappertest.Options{
		Rotate: rotate, Blacklist: rotate, AccessLifetime: 10 * time.Minute, Now: clock.Now,
	})
	t.Cleanup(srv.Close)
	return srv
}

// newSession starts a fake backend and a client with a session on it,
// made with opts as well.
func newSession(t *testing.T, rotate bool, opts ...wrapper.Option) (*fakeClock, *wrappertest.Server, *wrapper.Client, string, string) {
	t.Helper()
	clock := newFakeClock()
	srv := newSessionServer(t, clock, rotate)
	access, refresh := srv.IssuePair(1)
	c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(access, refresh), wrapper.WithClock(clock.Now)}, opts...)...)
	require.NoError(t, err)
	return clock, srv, c, access, refresh
}

func plain(t *testing.T, srv *wrappertest.Server) *wrapper.Client {
	t.Helper()
	c, err := wrapper.New(wrapper.WithBaseURL(srv.URL))
	require.NoError(t, err)
	return c
}

// me calls the protected route through c's HTTP client.
func me(t *testing.T, c *wrapper.Client, srv *wrappertest.Server) error {
	t.Helper()
	return meCtx(context.Background(), c, srv.URL)
}

func meCtx(ctx context.Context, c *wrapper.Client, baseURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+wrappertest.MeRoute, nil)
	if err != nil {
		return err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return wrapper.CheckResponse(resp, body)
}

func apiRefreshBody(refresh string) api.RefreshCreateJSONRequestBody {
	return api.RefreshCreateJSONRequestBody{Refresh: refresh}
}

// events collects a session's refresh events.
type events chan wrapper.RefreshEvent

func (e events) record(ev wrapper.RefreshEvent) { e <- ev }

// next waits for the next event.
func (e events) next(t *testing.T) wrapper.RefreshEvent {
	t.Helper()
	select {
	case ev := <-e:
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no refresh event within 10s")
		return wrapper.RefreshEvent{}
	}
}

// none checks that no refresh happened.
func (e events) none(t *testing.T) {
	t.Helper()
	select {
	case ev := <-e:
		t.Fatalf("unexpected refresh: %+v", ev)
	default:
	}
}

// logStore records the order of saves, and fails them on demand.
type logStore struct {
	mu    sync.Mutex
	log   *[]string
	saved *oauth2.Token
	fail  error
}

func (s *logStore) Load(context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved, nil
}

func (s *logStore) setFail(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

func (s *logStore) load() *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.saved
}

func (s *logStore) Save(_ context.Context, tok *oauth2.Token) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail != nil {
		return s.fail
	}
	s.saved = tok
	*s.log = append(*s.log, "save "+tok.AccessToken)
	return nil
}

// logTransport records the order of requests and their tokens.
type logTransport struct {
	mu  *sync.Mutex
	log *[]string
}

func (l logTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.mu.Lock()
	*l.log = append(*l.log, r.URL.Path+" "+strings.TrimPrefix(r.Header.Get("Authorization"), api.AuthScheme+" "))
	l.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

func readStoreFile(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

// setSession saves a pair in the token file at path for the API at
// baseURL, as "aisquare-go session set --store path" saves a login made
// elsewhere: through a store of its own, bound to the API.
func setSession(t *testing.T, path, baseURL, access, refresh string) {
	t.Helper()
	store := wrapper.NewFileStore(path)
	require.NoError(t, store.Bind(context.Background(), baseURL))
	require.NoError(t, store.Save(context.Background(), &oauth2.Token{AccessToken: access, RefreshToken: refresh}))
}

// logRecorder is a [slog.Handler] that keeps every record, and also
// renders it as text, so that a test can read a record's attributes or
// search everything that was logged.
type logRecorder struct {
	level slog.Level
	mu    sync.Mutex
	recs  []record
	text  bytes.Buffer
}

// record is one log record, its attributes by key.
type record struct {
	Level slog.Level
	Msg   string
	Attrs map[string]slog.Value
}

func newLogRecorder(level slog.Level) (*logRecorder, wrapper.Option) {
	r := &logRecorder{level: level}
	return r, wrapper.WithLogger(slog.New(r))
}

func (r *logRecorder) Enabled(_ context.Context, l slog.Level) bool { return l >= r.level }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler           { return r }
func (r *logRecorder) WithGroup(string) slog.Handler                { return r }

func (r *logRecorder) Handle(ctx context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	got := record{Level: rec.Level, Msg: rec.Message, Attrs: map[string]slog.Value{}}
	rec.Attrs(func(a slog.Attr) bool {
		got.Attrs[a.Key] = a.Value
		return true
	})
	r.recs = append(r.recs, got)
	return slog.NewTextHandler(&r.text, &slog.HandlerOptions{Level: slog.LevelDebug}).Handle(ctx, rec)
}

// records returns the records whose message contains msg.
func (r *logRecorder) records(msg string) []record {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []record
	for _, rec := range r.recs {
		if strings.Contains(rec.Msg, msg) {
			out = append(out, rec)
		}
	}
	return out
}

func (r *logRecorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.text.String()
}

// stallBody answers 200 with the start of a JSON body, then waits for the
// client to give up.
func stallBody(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"access":`)
	w.(http.Flusher).Flush()
	select {
	case <-r.Context().Done():
	case <-time.After(5 * time.Second):
	}
}

// doers returns the two ways a request takes through c: c.HTTPClient()
// and the HTTP client under c.API().
func doers(c *wrapper.Client) map[string]func(*http.Request) (*http.Response, error) {
	return map[string]func(*http.Request) (*http.Response, error){
		"c.HTTPClient()": c.HTTPClient().Do,
		"c.API()":        c.API().ClientInterface.(*api.Client).Client.Do,
	}
}

// getBody sends a GET to url through do and reads the whole answer.
func getBody(t *testing.T, do func(*http.Request) (*http.Response, error), url string) error {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	resp, err := do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}
