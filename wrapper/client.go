package wrapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/redact"
	"github.com/aisquare-studio/aisquare-go/wrapper/internal/session"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

const userAgent = "aisquare-go/" + Version

// Client talks to the AISquare Studio API. It is safe for concurrent use.
//
// A client holds a session when it has credentials: [WithTokens],
// [WithTokenStore] or [WithLogin], or, without them, what [New] finds
// ($AISQUARE_TOKEN, the SDK's default store, AISquare's CLI session). The
// requests of [Client.API] and [Client.HTTPClient] to its base URL then
// carry an access token that the client keeps valid by itself, and
// [Client.TokenSource] hands it out. Requests elsewhere, and every request
// of a client without a session, carry no Authorization header.
type Client struct {
	baseURL string
	plain   *api.Client              // sends without a token: the session's refreshes
	api     *api.ClientWithResponses // sends through hc
	hc      *http.Client             // the pipeline, with the session's token if any
	session *session.Session         // nil without tokens
	store   *sessionStore            // the session's store; nil if none
	source  atomic.Pointer[string]   // where the session's credentials came from
	scope   *authScope               // the base URL's part of the web
	own     *http.Transport          // the SDK's own transport, if the client uses it
	traced  bool                     // requests go through an *http.Transport: see sendTrace
	log     *logger                  // nil: no records
}

// New returns a client configured by opts. Its base URL is [WithBaseURL]'s,
// else the one in the environment variable [APIURLEnv], else in
// [BaseURLEnv], else [DefaultBaseURL]; its requests time out after
// [DefaultTimeout] unless [WithTimeout] or [WithHTTPClient] says otherwise.
//
// New finds the session's credentials as the cloud SDKs find theirs; the
// first that is there wins:
//
//  1. [WithTokens] and [WithTokenStore];
//  2. the access token in [TokenEnv], used as it is and never refreshed;
//  3. the SDK's own session store at [DefaultStorePath], if it exists (the
//     aisquare-go command keeps its session there);
//  4. the session of AISquare's own command-line tool, in the file
//     credentials under [HomeEnv] (else ~/.aisquare), read and never
//     written: its access token, used as it is until its recorded expiry.
//
// [WithoutAmbientCredentials] leaves 2 to 4 out. [WithLogin] signs in when
// none gives a usable token. A client with none of these has no session,
// and sends no token. A token that is not a JWT, such as AISquare's "aisq_"
// tokens, is sent as a Bearer token. A credential recorded for another API
// than the client's, and a [BaseURLStore] (such as [FileStore]) that holds
// tokens saved for another base URL, fail New with an error matching
// [ErrStoreMismatch] that names both URLs, before any request.
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
	lg, err := newLogger(cfg.logger)
	if err != nil {
		return nil, err
	}
	// Refresh and session-died records come from the session's events.
	cfg.onRefresh = lg.onRefresh(cfg.onRefresh)
	c := &Client{baseURL: cfg.baseURL, log: lg, scope: newAuthScope(cfg.baseURL)}

	hc := &http.Client{Timeout: DefaultTimeout}
	if cfg.httpClient != nil {
		copied := *cfg.httpClient
		hc = &copied
	}
	if cfg.timeout > 0 {
		hc.Timeout = cfg.timeout
	}
	hc.CheckRedirect = checkRedirect(hc.CheckRedirect)
	base := hc.Transport
	if base == nil {
		if c.own = sdkTransport(); c.own != nil {
			base = c.own
		} else {
			base = http.DefaultTransport
		}
	}
	_, c.traced = base.(*http.Transport)
	retries := &retryTransport{
		base:       base,
		maxRetries: cfg.maxRetries,
		maxBody:    cfg.maxBody,
		tooLarge:   fmt.Errorf("%w: over %d bytes", ErrResponseTooLarge, cfg.maxBody),
		budget:     newBudget(),
		log:        lg,
	}
	// One pipeline for every request: the User-Agent, the session's token
	// and its 401 replay, the retries, the transport. The session's own
	// refreshes take it without the token.
	// c.HTTPClient() keeps the Timeout, which covers its redirects and which
	// a copy of it may change; the generated client's requests take it in
	// the pipeline (see transport.RoundTrip). Either covers the token's wait
	// and the replay.
	ua, timeout := headerValue(cfg.userAgent), hc.Timeout
	plainHC, authHC, apiHC := *hc, *hc, *hc
	plainHC.Timeout, apiHC.Timeout = 0, 0
	plainHC.Transport = &transport{next: retries, timeout: timeout, ua: ua, owned: true}
	authHC.Transport, apiHC.Transport = &transport{next: retries, ua: ua}, plainHC.Transport
	if c.plain, err = api.NewClient(c.baseURL, api.WithHTTPClient(&plainHC)); err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	var found *credential
	if cfg.refresh == "" && cfg.store == nil && !cfg.noAmbient {
		if found, err = ambientCredential(cfg.baseURL); err != nil {
			return nil, err
		}
		if found != nil && found.store != nil {
			cfg.store = found.store
		}
	}
	if cfg.refresh != "" || cfg.store != nil || cfg.login != nil || found != nil {
		if b, ok := cfg.store.(BaseURLStore); ok {
			if err := b.Bind(context.Background(), c.baseURL); err != nil {
				return nil, err
			}
		}
		if err := c.startSession(&cfg, found); err != nil {
			return nil, err
		}
		if c.store != nil {
			// A client dropped without Close stops retrying a failed save.
			runtime.AddCleanup(c, (*sessionStore).close, c.store)
		}
		auth := transport{next: retries, ua: ua, s: c.session, scope: c.scope, token: c.token}
		owned := auth
		owned.owned, owned.timeout = true, timeout
		authHC.Transport, apiHC.Transport = &auth, &owned
	}
	c.hc = &authHC
	if c.api, err = api.NewClientWithResponses(c.baseURL, api.WithHTTPClient(&apiHC)); err != nil {
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

// BaseURL returns the base URL the client sends requests to, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// API returns the generated client, with this client's base URL, HTTP client
// and User-Agent, and the session's access token on the requests that
// [Client.HTTPClient] gives it to. Wrap each of its calls in [OK].
func (c *Client) API() *api.ClientWithResponses { return c.api }

// HTTPClient returns an HTTP client with the client's timeout, retries,
// response cap and User-Agent, whose requests carry the session's access
// token only if they go to the client's base URL (the same scheme, host and
// port, and a path under the base URL's path that does not escape it) and
// to an operation that takes it, as the spec says in [api.Operations]:
//
//   - An operation whose security requires the token ([api.AuthRequired])
//     gets it, refreshed first when due. A 401 despite a token the client
//     believed valid makes it refresh the token and send the request once
//     more, if its body can be sent again (see [http.Request.GetBody]); a
//     401 for a token received from a refresh less than a second ago, or
//     from a refresh that a 401 started (for a while after it, longer each
//     time in a row), is the answer, so that a server that rejects every
//     token is not sent a refresh for every request.
//   - An operation that allows anonymous access too ([api.AuthOptional]),
//     such as a login, gets the token only while it is valid by the clock,
//     and never waits for, nor starts, a refresh. A 401 "token_not_valid"
//     for it means the server refused the token before the view ran: the
//     request is sent once more without the token.
//   - A request to a refresh view whose body carries the session's own
//     refresh token, in any form the view may read (JSON, a form, a
//     multipart form, whatever the content type says), is the session's
//     own refresh: answered as the server would answer it, with the new
//     pair saved first. A refresh request over 64 KiB, or whose body is
//     not UTF-8 text (UTF-16, say), is not sent: the session could not
//     tell whose token it carries; nor is one that carries the token to a
//     refresh view away from the base URL.
//   - SimpleJWT's other views and anonymous operations ([api.AuthNone]) get
//     no token, however the path is spelled. A path the spec does not list
//     gets it unless it is under [api.TokenPrefix].
//
// Any other request, such as a download link on another host, is sent
// untouched: no token, and no refresh on a 401. Every request's URL must be
// absolute. A request without a User-Agent header gets the client's.
//
// A request that needs the token fails, rather than returning a response,
// when the session has no token to send: the error matches [ErrNoTokens],
// [ErrInvalidToken] (a refresh token the server refused) or
// [ErrLoginRequired] (an expired $AISQUARE_TOKEN or AISquare CLI session,
// or one the server answered 401: that 401 comes back as an [*APIError]).
// A 401 from a client without a session is returned as a response, as
// net/http returns it.
func (c *Client) HTTPClient() *http.Client { return c.hc }

// CredentialSource says where the session's credentials came from:
// "WithTokens", "WithTokenStore", "WithLogin", "$AISQUARE_TOKEN", or the path
// of the file that holds them; "" for a client without a session. Once
// [WithLogin] has signed in, it is "WithLogin".
func (c *Client) CredentialSource() string {
	if s := c.source.Load(); s != nil {
		return *s
	}
	return ""
}

var loginSource = "WithLogin"

// String describes c without its tokens.
func (c *Client) String() string {
	return fmt.Sprintf("wrapper.Client{BaseURL: %q, Session: %t}", c.baseURL, c.session != nil)
}

// GoString describes c without its tokens, for %#v.
func (c *Client) GoString() string { return c.String() }

// Close waits for a token refresh in progress to end, so that a rotated
// token reaches the store and [WithOnRefresh]'s functions and the log have
// its record, stops retrying a failed save, and closes the idle
// connections of the SDK's own transport, which clients made without
// [WithHTTPClient] (or with a client whose Transport is nil) share. It
// leaves alone a transport given by WithHTTPClient, and
// [http.DefaultTransport], which other code shares. The client can still be
// used after it. A client dropped without Close leaves nothing running
// once a refresh in progress ends.
func (c *Client) Close() error {
	if c.session != nil {
		c.session.Close()
	}
	if c.store != nil {
		c.store.close()
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
// old one is then spent, so store the new one. The session's own refresh
// token is refreshed by the session, which then holds the new pair: sent
// behind its back, it would leave the session holding a spent token.
//
// An empty token fails with [ErrEmptyToken] before any request. A rejected
// token fails with an error matching [ErrInvalidToken]. A request whose
// answer was lost after it may have reached the server fails with an error
// matching [ErrAnswerLost]; one that provably never left (the name did not
// resolve, no connection, a failed TLS handshake or certificate check, a
// context done before the request was written) does not.
func (c *Client) RefreshToken(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
	if c.session != nil {
		if own := c.session.Refresh(); own != "" && sameToken(refresh, own) {
			if ans, ok, err := ownRefresh(ctx, c.session, own); ok {
				return ans, err // reported as the session's refresh
			}
		}
	}
	if c.log == nil {
		return c.refresh(ctx, refresh)
	}
	start := time.Now()
	tok, err := c.refresh(ctx, refresh)
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

// refresh is [Client.RefreshToken] without its record: the session's
// refresh function, whose attempts the session reports as [RefreshEvent]s.
func (c *Client) refresh(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
	refresh = strings.TrimSpace(refresh)
	if refresh == "" {
		return nil, ErrEmptyToken
	}
	tok, err := c.postRefresh(ctx, refresh)
	if err != nil {
		return nil, redact.Error(err, maxErrorMessage, refresh)
	}
	return tok, nil
}

// postRefresh sends refresh to the refresh endpoint.
func (c *Client) postRefresh(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
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
