package wrapper

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

const userAgent = "aisquare-go/" + Version

// Client talks to the AISquare Studio API. It is safe for concurrent use.
//
// A client made with [WithTokens] or [WithTokenStore] holds a session: the
// requests of [Client.API] and [Client.HTTPClient] to its base URL carry an
// access token that the client keeps valid by itself, and
// [Client.TokenSource] hands it out. Requests elsewhere, and every request
// of a client without a session, carry no Authorization header.
type Client struct {
	baseURL   string
	userAgent string
	plain     *api.Client              // sends without a token: used to refresh
	api       *api.ClientWithResponses // sends with the session's token, if any
	hc        *http.Client             // the same
	session   *session                 // nil without tokens
	maxBody   int64
	own       *http.Transport // the SDK's own transport, if the client uses it
	traced    bool            // requests go through an *http.Transport: see sendTrace
	log       *logger         // nil: no records
}

// New returns a client configured by opts. Without options it talks to
// [DefaultBaseURL], or to the URL in the environment variable [BaseURLEnv]
// (else [APIURLEnv]) when that is set, with a timeout of [DefaultTimeout].
//
// With a [BaseURLStore] (such as [FileStore]) that holds tokens saved for
// another base URL, New fails with an error matching [ErrStoreMismatch],
// before any request.
func New(opts ...Option) (*Client, error) {
	cfg := config{
		userAgent: userAgent, margin: DefaultRefreshMargin,
		maxRetries: DefaultMaxRetries, maxBody: DefaultMaxResponseBytes,
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	if cfg.baseURL == "" {
		u, err := baseURLFromEnv()
		if err != nil {
			return nil, err
		}
		cfg.baseURL = u
	}
	if u, _ := url.Parse(cfg.baseURL); u.Scheme != "https" && !cfg.insecure && !isLoopback(u.Hostname()) {
		return nil, fmt.Errorf("wrapper: base URL %q is plain http to a host other than loopback, "+
			"so tokens would travel in the clear: use https, or WithInsecureHTTP", cfg.baseURL)
	}

	hc := &http.Client{Timeout: DefaultTimeout}
	if cfg.httpClient != nil {
		copied := *cfg.httpClient
		hc = &copied
	}
	if cfg.timeout > 0 {
		hc.Timeout = cfg.timeout
	}
	hc.CheckRedirect = checkRedirect(hc.CheckRedirect)
	lg, err := newLogger(cfg.logger)
	if err != nil {
		return nil, err
	}
	// Refresh and session-died records come from the session's refresh
	// events.
	cfg.onRefresh = lg.onRefresh(cfg.onRefresh)
	c := &Client{baseURL: cfg.baseURL, userAgent: cfg.userAgent, maxBody: cfg.maxBody, log: lg}
	base := hc.Transport
	if base == nil {
		if c.own = sdkTransport(); c.own != nil {
			base = c.own
		} else {
			base = http.DefaultTransport
		}
	}
	rt := &retryTransport{
		base:       base,
		maxRetries: cfg.maxRetries,
		maxBody:    cfg.maxBody,
		tooLarge:   fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, cfg.maxBody),
		budget:     newBudget(),
		log:        lg,
	}
	hc.Transport = rt
	c.hc = hc
	_, c.traced = base.(*http.Transport)

	if c.plain, err = api.NewClient(c.baseURL, api.WithHTTPClient(hc), api.WithRequestEditorFn(c.setUserAgent)); err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	// HTTPClient's requests get the User-Agent in the transport; those of
	// the generated clients, from their request editor.
	plainHC := *hc
	plainHC.Transport = &agentTransport{base: rt, ua: cfg.userAgent}
	c.hc = &plainHC
	var apiDoer api.HttpRequestDoer = hc
	if cfg.refresh != "" || cfg.store != nil {
		if b, ok := cfg.store.(BaseURLStore); ok {
			if err := b.Bind(context.Background(), c.baseURL); err != nil {
				return nil, err
			}
		}
		if c.session, err = newSession(&cfg, c.exchange); err != nil {
			return nil, err
		}
		scope, ua := newAuthScope(c.baseURL), headerValue(cfg.userAgent)
		authed := *hc
		authed.Transport = &transport{base: rt, s: c.session, scope: scope, ua: ua, agent: cfg.userAgent}
		c.hc = &authed
		apiDoer = &doer{hc: hc, s: c.session, scope: scope, ua: ua}
	}
	if c.api, err = api.NewClientWithResponses(c.baseURL, api.WithHTTPClient(apiDoer), api.WithRequestEditorFn(c.setUserAgent)); err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	return c, nil
}

// sdkTransport is the transport of every client made without one of its
// own: a copy of [http.DefaultTransport], so that [Client.Close] closes the
// SDK's idle connections and never those of the transport other code
// shares. nil if http.DefaultTransport is not an *http.Transport.
var sdkTransport = sync.OnceValue(func() *http.Transport {
	if dt, ok := http.DefaultTransport.(*http.Transport); ok {
		return dt.Clone()
	}
	return nil
})

// newSession starts a session with the newer of the pairs of [WithTokens]
// and cfg's store, by the issue time of their refresh tokens; when neither
// is newer, the pair of WithTokens, which it then saves to the store. A
// newer stored pair of another account (by the user_id claims) is an error
// matching [ErrStoreMismatch].
func newSession(cfg *config, refresh func(context.Context, string) (*api.TokenRefresh, error)) (*session, error) {
	s := &session{
		refresh: refresh, store: cfg.store, margin: cfg.margin, now: cfg.now, onRefresh: cfg.onRefresh,
		life: newLifeline(),
	}
	// A session that nobody holds any more (its client, HTTP client, API
	// client and token source all dropped) stops its timers, which would
	// otherwise keep its tokens in memory until they fire.
	runtime.AddCleanup(s, (*lifeline).end, s.life)
	now := s.clock()
	st := newState(cfg.access, cfg.refresh, now, cfg.margin, false) // empty without WithTokens
	fromStore := false
	if cfg.store != nil {
		stored, err := cfg.store.Load(context.Background())
		if err != nil {
			return nil, err
		}
		if stored != nil && stored.RefreshToken != "" {
			if cand := newState(stored.AccessToken, stored.RefreshToken, now, cfg.margin, false); newer(cand, st) {
				if otherAccount(cand, st) {
					// Two accounts share one store: the newer pair is not a
					// rotation of the given one.
					return nil, errStoreAccount
				}
				st, fromStore = cand, true
			}
		}
	}
	s.mu.Lock()
	s.publish(st)
	s.mu.Unlock()
	if cfg.store != nil && cfg.refresh != "" && !fromStore {
		if err := cfg.store.Save(context.Background(), st.token()); err != nil {
			s.close()
			return nil, fmt.Errorf("wrapper: saving tokens: %w", err)
		}
	}
	return s, nil
}

// checkRedirect stops at a redirect that would turn a request with a body
// into a GET (as net/http does for 301, 302 and 303), or that leads to
// another origin, where a token must not follow: the caller gets the
// redirect as an [*APIError] instead. The backend answers a POST to a path
// without its trailing slash with a 301. next, if not nil, is the given
// client's own policy, asked after this one.
func checkRedirect(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if first.Method != http.MethodGet && first.Method != http.MethodHead {
			return http.ErrUseLastResponse
		}
		if req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return fmt.Errorf("wrapper: stopped after %d redirects", len(via))
		}
		return nil
	}
}

func (c *Client) setUserAgent(_ context.Context, req *http.Request) error {
	req.Header.Set("User-Agent", c.userAgent)
	return nil
}

// BaseURL returns the base URL the client sends requests to, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// API returns the generated client, with this client's base URL, HTTP client
// and User-Agent, and the session's access token on the requests that
// [Client.HTTPClient] gives it to. Wrap each of its calls in [OK].
func (c *Client) API() *api.ClientWithResponses { return c.api }

// HTTPClient returns an HTTP client with the client's timeout, retries,
// response cap and User-Agent, whose requests carry the session's access
// token if they go to the client's base URL (the same scheme, host and
// port, and a path under the base URL's path) and to an operation that
// takes it. The spec says which operations take it: one whose security
// names the bearer scheme does, one without security does not, and a path
// the spec does not list does unless it is under /api/v1/token/ (the token
// endpoints take their token or password in the body). There, a 401
// despite a token the client believed valid makes it refresh the token and
// send the request once more, if its body can be sent again (see
// [http.Request.GetBody]); a 401 for a token received from a refresh less
// than a second ago, or from a refresh that a 401 started (for a while
// after it, longer each time in a row), is the answer, so that a server
// that rejects every token is not sent a refresh for every request. Any other request, such as a download link on
// another host, is sent untouched: no token, and no refresh on a 401.
// Every request's URL must be absolute. A request without a User-Agent
// header gets the client's.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// AccessToken returns a valid access token of the session, refreshing it
// first if it expired; ctx bounds only the wait for that refresh, which
// other callers share. A stale token (inside its refresh window) is returned
// at once while one refresh runs in the background. Without a session it
// returns [ErrNoTokens].
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	if c.session == nil {
		return "", ErrNoTokens
	}
	st, err := c.session.token(ctx)
	if err != nil {
		return "", err
	}
	return st.access, nil
}

// TokenSource returns the session as an [oauth2.TokenSource]. Without a
// session its Token method returns [ErrNoTokens]. The [oauth2.Token] it
// returns is shared: do not modify it, and do not print it, since it formats
// the token in the clear.
func (c *Client) TokenSource() oauth2.TokenSource { return tokenSource{c.session} }

// SetTokens replaces the session's tokens, after a new login, and saves them
// to the store. It revives a session whose refresh token was rejected. A
// refresh in flight does not undo it: its result is neither used nor saved,
// and its waiting callers get the tokens set here. If the save fails,
// SetTokens returns the error, and the session uses the tokens all the same
// and keeps trying to save them. A client made without a session has none to
// set, and returns [ErrNoTokens].
func (c *Client) SetTokens(ctx context.Context, access, refresh string) error {
	if c.session == nil {
		return ErrNoTokens
	}
	if strings.TrimSpace(refresh) == "" {
		return fmt.Errorf("wrapper: SetTokens: %w", ErrEmptyToken)
	}
	return c.session.set(ctx, strings.TrimSpace(access), strings.TrimSpace(refresh))
}

// String describes c without its tokens.
func (c *Client) String() string {
	return fmt.Sprintf("wrapper.Client{BaseURL: %q, Session: %t}", c.baseURL, c.session != nil)
}

// GoString describes c without its tokens, for %#v.
func (c *Client) GoString() string { return c.String() }

// Close waits for a token refresh in progress to end, so that a rotated
// token reaches the store, stops the session's timers, and closes the idle
// connections of the SDK's own transport, which clients made without
// [WithHTTPClient] (or with a client whose Transport is nil) share. It
// leaves alone a transport given by WithHTTPClient, and
// [http.DefaultTransport], which other code shares. The client can still be
// used after it. A client dropped without Close stops its timers when it is
// garbage collected.
func (c *Client) Close() error {
	if c.session != nil {
		c.session.wait()
		c.session.close()
	}
	if c.own != nil {
		c.own.CloseIdleConnections()
	}
	return nil
}

// LogValue describes c without its tokens, for [log/slog].
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.baseURL), slog.Bool("session", c.session != nil))
}

// RefreshToken exchanges a refresh token for a new access token. The result's
// Refresh is non-empty only when the server rotated the refresh token; the
// old one is then spent, so store the new one.
//
// An empty token fails with [ErrEmptyToken] before any request. A rejected
// token fails with an error matching [ErrInvalidToken]. A request whose
// answer was lost after it may have reached the server fails with an error
// matching [ErrAnswerLost]; one that provably never left (the name did not
// resolve, no connection, a failed TLS handshake or certificate check, a
// context done before the request was written) does not.
func (c *Client) RefreshToken(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
	if c.log == nil {
		return c.exchange(ctx, refresh)
	}
	start := time.Now()
	tok, err := c.exchange(ctx, refresh)
	// A session reports its own refreshes; this is a caller's, such as the
	// aisquare command's.
	ev := RefreshEvent{Duration: time.Since(start), Err: err}
	if err == nil {
		ev.Rotated = tok.Refresh != ""
		ev.Expiry, _ = TokenExpiry(tok.Access)
	}
	c.log.refresh(ev)
	return tok, err
}

// exchange is [Client.RefreshToken] without its record: a session's refresh
// function, whose attempts the session reports as [RefreshEvent]s.
func (c *Client) exchange(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
	refresh = strings.TrimSpace(refresh)
	if refresh == "" {
		return nil, ErrEmptyToken
	}
	tok, err := c.refreshToken(ctx, refresh)
	if err != nil {
		return nil, scrubError(err, refresh)
	}
	return tok, nil
}

func (c *Client) refreshToken(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("wrapper: refresh token: nothing was sent: %w", context.Cause(ctx))
	}
	var tr *sendTrace
	if c.traced {
		tr = new(sendTrace)
		ctx = tr.with(ctx)
	}
	resp, err := c.plain.RefreshCreate(ctx, api.TokenRefreshRequest{Refresh: refresh})
	if err != nil {
		// The transport's word that it wrote the request wins over the
		// error's kind; without its word, only the kind tells. An error of
		// the retries that says no attempt is outstanding settles it.
		var notSent *notSentError
		if errors.As(err, &notSent) || tr != nil && !tr.wrote.Load() || tr == nil && neverSent(err) {
			return nil, fmt.Errorf("wrapper: refresh token: nothing was sent: %w", err)
		}
		return nil, &lostError{op: http.MethodPost + " " + api.RefreshPath, err: err}
	}
	var tok api.TokenRefresh
	if err := c.decodeResponse(resp, &tok, refresh); err != nil {
		return nil, err
	}
	if tok.Access == "" {
		return nil, newMalformed(resp, `no "access" token`, nil)
	}
	return &tok, nil
}

// decodeResponse reads resp's body, maps a status outside 2xx to an
// [*APIError] without secrets, and decodes a 2xx JSON body into v. A body
// cut short is an answer lost.
func (c *Client) decodeResponse(resp *http.Response, v any, secrets ...string) error {
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	tooLarge := errors.Is(err, ErrResponseTooLarge)
	if err != nil && !tooLarge {
		return &lostError{op: fmt.Sprintf("%s: %d %s: reading body", where(resp), resp.StatusCode, http.StatusText(resp.StatusCode)), err: err}
	}
	if err := checkResponse(resp, body, secrets...); err != nil {
		return err
	}
	if tooLarge {
		return newMalformed(resp, "body too long", err) // matches ErrResponseTooLarge too
	}
	if len(body) == 0 {
		return newMalformed(resp, "empty body", nil)
	}
	ct := resp.Header.Get("Content-Type")
	if !isJSON(ct) {
		return newMalformed(resp, fmt.Sprintf("content type %q, want application/json", ct), nil)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newMalformed(resp, "invalid JSON", err)
	}
	return nil
}

// isJSON reports whether a Content-Type is application/json or a +json type,
// with any parameters. (mime.ParseMediaType would allocate on every refresh.)
func isJSON(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	return mediaType == "application/json" || strings.HasPrefix(mediaType, "application/") && strings.HasSuffix(mediaType, "+json")
}
