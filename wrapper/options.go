package wrapper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/redact"
)

const (
	// DefaultBaseURL is the production AISquare Studio API, used when neither
	// [WithBaseURL] nor the environment variables [APIURLEnv] and
	// [BaseURLEnv] name another.
	DefaultBaseURL = api.ServerUrlProduction

	// APIURLEnv is the environment variable that AISquare's own command-line
	// tool reads for the API's base URL. It overrides [DefaultBaseURL];
	// [WithBaseURL] takes precedence over it, and the environment is then
	// not read at all.
	APIURLEnv = "AISQUARE_API_URL"

	// BaseURLEnv is the SDK's own name for [APIURLEnv], honoured when
	// APIURLEnv is unset or empty.
	BaseURLEnv = "AISQUARE_BASE_URL"

	// DefaultMaxResponseBytes caps a response body the client reads; a
	// longer body is an error matching [ErrResponseTooLarge], not an
	// out-of-memory.
	DefaultMaxResponseBytes = 4 << 20

	// DefaultTimeout bounds a whole request, response body included, when the
	// client makes its own [http.Client].
	DefaultTimeout = 30 * time.Second
)

// An Option configures a [Client] in [New].
type Option func(*config) error

type config struct {
	baseURL         string // "" until WithBaseURL: then the environment decides
	httpClient      *http.Client
	userAgent       string
	timeout         time.Duration
	access, refresh string
	store           TokenStore
	margin          time.Duration
	now             func() time.Time
	onRefresh       func(RefreshEvent)
	login           func(context.Context) (access, refresh string, err error)
	noAmbient       bool
	maxRetries      int
	maxBody         int64
	insecure        bool
	logger          *slog.Logger
}

// WithBaseURL sets the API's base URL, such as "https://api.aisquare.studio"
// or "https://host/prefix", with or without a trailing slash. It overrides
// [BaseURLEnv], [APIURLEnv] and [DefaultBaseURL]; the environment is then
// not read. The session's token goes only to requests under this URL (see
// [Client.HTTPClient]).
func WithBaseURL(baseURL string) Option {
	return func(c *config) error {
		u, err := parseBaseURL(baseURL)
		if err != nil {
			return err
		}
		c.baseURL = u
		return nil
	}
}

// WithHTTPClient sets the HTTP client that sends requests. The client is not
// modified: [Client] uses a shallow copy of it, which stops at a redirect
// that would turn a POST into a GET if hc.CheckRedirect is nil, and which,
// with a session, wraps hc.Transport in a transport that adds the token. It
// must not be nil.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("wrapper: invalid HTTP client: nil")
		}
		c.httpClient = hc
		return nil
	}
}

// WithUserAgent puts product, such as "my-service/1.2", before the SDK's own
// name and version in the User-Agent header.
func WithUserAgent(product string) Option {
	return func(c *config) error {
		product = strings.TrimSpace(product)
		if product == "" {
			return errors.New("wrapper: invalid user agent: empty")
		}
		if strings.ContainsAny(product, "\r\n") {
			return errors.New("wrapper: invalid user agent: contains a line break")
		}
		c.userAgent = product + " " + userAgent
		return nil
	}
}

// WithTimeout bounds each request, response body included, until the body
// is closed: the wait for the session's token, the retries and the replay
// after a 401 too. It is the Timeout of [Client.HTTPClient], which bounds
// the redirects a request follows too; a request of [Client.API] and each
// redirect it follows have the whole time. It overrides [DefaultTimeout]
// and the Timeout of a client given by [WithHTTPClient]. It must be
// positive.
func WithTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("wrapper: invalid timeout %v: must be positive", d)
		}
		c.timeout = d
		return nil
	}
}

// baseURLFromEnv returns the base URL that [APIURLEnv], else [BaseURLEnv],
// names, or [DefaultBaseURL] if neither is set.
func baseURLFromEnv() (string, error) {
	for _, name := range []string{APIURLEnv, BaseURLEnv} {
		if env := os.Getenv(name); env != "" {
			u, err := parseBaseURL(env)
			if err != nil {
				return "", fmt.Errorf("%w (from $%s)", err, name)
			}
			return u, nil
		}
	}
	return DefaultBaseURL, nil
}

// parseBaseURL checks that raw is an absolute http or https URL with nothing
// that would end up in every request by accident (credentials, a query, a
// fragment), and returns it without trailing slashes. Its errors never
// repeat the query, the fragment or the credentials, which may be secret.
func parseBaseURL(raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err // url.Error repeats the whole URL
		}
		return "", fmt.Errorf("wrapper: invalid base URL: %s", redact.Text(err.Error(), 200))
	}
	shown := redact.URL(u)
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("wrapper: invalid base URL %q: scheme must be http or https", shown)
	case u.Host == "":
		return "", fmt.Errorf("wrapper: invalid base URL %q: no host", shown)
	case u.User != nil:
		return "", fmt.Errorf("wrapper: invalid base URL %q: credentials are not allowed", shown)
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "", fmt.Errorf("wrapper: invalid base URL %q: a query or fragment is not allowed", shown)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// WithTokens starts a session: every request through [Client.API] and
// [Client.HTTPClient] then carries the access token, which the client
// refreshes with the refresh token when it is due. access may be empty, to
// refresh before the first request; refresh must not be. With a
// [TokenStore] that already holds tokens, the pair whose refresh token was
// issued later (by its iat claim) wins: the stored pair only if it is newer,
// as after a rotation by another process; these tokens if they are newer,
// equal, or either issue time is unreadable, since their caller has just
// logged in.
func WithTokens(access, refresh string) Option {
	return func(c *config) error {
		if strings.TrimSpace(refresh) == "" {
			return fmt.Errorf("wrapper: WithTokens: %w", ErrEmptyToken)
		}
		c.access, c.refresh = strings.TrimSpace(access), strings.TrimSpace(refresh)
		return nil
	}
}

// WithTokenStore keeps the session's tokens in store: the client loads them
// from it in [New], and saves every new pair to it before using it.
func WithTokenStore(store TokenStore) Option {
	return func(c *config) error {
		if store == nil {
			return errors.New("wrapper: invalid token store: nil")
		}
		c.store = store
		return nil
	}
}

// WithRefreshMargin sets the refresh window: how long before its expiry an
// access token turns stale and is refreshed in the background, at most half
// of what it had left when the client received it; the default is
// [DefaultRefreshMargin]. Each token's refresh point falls at random in the
// first half of its window. It must be positive.
func WithRefreshMargin(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("wrapper: invalid refresh margin %v: must be positive", d)
		}
		c.margin = d
		return nil
	}
}

// WithClock sets the clock that decides when a token is fresh, stale or
// expired, and when the session received it, for tests that step through a
// token's life without sleeping. It must not be nil. Without it, the
// session reads [time.Now] on every call.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("wrapper: invalid clock: nil")
		}
		c.now = now
		return nil
	}
}

// WithLogin gives the session a way to sign in: login returns a new access
// and refresh token, such as the answer of SimpleJWT's obtain view
// (POST /api/v1/token/, which the spec does not list). A session with no
// tokens, or whose refresh token the server finally rejected, calls it
// once for all the callers waiting at that moment, saves the pair in its
// store, and goes on; a login that fails is returned to them, wrapped, and
// tried again no sooner than a failed refresh would be. The requests that
// login makes with ctx through the client itself go without the session's
// token, and [Client.AccessToken] with ctx fails at once, since the session
// waits for login; login must not call [Client.Close], which waits for it.
// A client with WithLogin has a session even without [WithTokens] or a
// store. login must not be nil.
func WithLogin(login func(ctx context.Context) (access, refresh string, err error)) Option {
	return func(c *config) error {
		if login == nil {
			return errors.New("wrapper: invalid login: nil")
		}
		c.login = login
		return nil
	}
}

// WithoutAmbientCredentials makes [New] use only the credentials its
// options give ([WithTokens], [WithTokenStore], [WithLogin]): it then
// reads neither [TokenEnv] nor any credentials file, for a client that
// must act only as what it is given.
func WithoutAmbientCredentials() Option {
	return func(c *config) error {
		c.noAmbient = true
		return nil
	}
}

// WithOnRefresh calls f after every attempt to refresh the session's access
// token, successful or not, with what happened; the event never carries a
// token. f runs on the goroutine of the refresh after its waiting callers are
// released, one event after the other, so it should return quickly; it must
// not be nil, nor call [Client.Close], which waits for it. Each
// WithOnRefresh adds one more function, called in order. A function that
// holds the client keeps it from being garbage collected.
func WithOnRefresh(f func(RefreshEvent)) Option {
	return func(c *config) error {
		if f == nil {
			return errors.New("wrapper: invalid refresh hook: nil")
		}
		if prev := c.onRefresh; prev != nil {
			c.onRefresh = func(ev RefreshEvent) { prev(ev); f(ev) }
		} else {
			c.onRefresh = f
		}
		return nil
	}
}

// WithMaxRetries sets how many times a request may be repeated, by the
// policy of [DefaultMaxRetries]; 0 turns retries off. It must not be
// negative.
func WithMaxRetries(n int) Option {
	return func(c *config) error {
		if n < 0 {
			return fmt.Errorf("wrapper: invalid max retries %d: must not be negative", n)
		}
		c.maxRetries = n
		return nil
	}
}

// WithMaxResponseBytes sets the longest response body the client reads; the
// default is [DefaultMaxResponseBytes]. It must be positive.
func WithMaxResponseBytes(n int64) Option {
	return func(c *config) error {
		if n <= 0 {
			return fmt.Errorf("wrapper: invalid max response bytes %d: must be positive", n)
		}
		c.maxBody = n
		return nil
	}
}

// WithInsecureHTTP allows a base URL, and requests with a token, over plain
// http to hosts other than loopback. Without it, tokens travel only over
// https, or plain http to localhost, 127.0.0.0/8 or ::1.
func WithInsecureHTTP() Option {
	return func(c *config) error {
		c.insecure = true
		return nil
	}
}

// WithLogger sends the client's log records to l. It overrides [LogEnv];
// it must not be nil (to log nothing, pass a logger whose handler is
// [slog.DiscardHandler]).
//
// At [slog.LevelDebug], one record for every attempt of every request, each
// retry and each refresh included: method, path (never the query), status
// or error, duration, attempt number, the wait before the next attempt if
// there is one, whether the request carried an Authorization header, and
// the response's request ID. At [slog.LevelInfo], every refresh of the
// session's token. At [slog.LevelWarn], a refresh that failed, a session
// whose refresh token was rejected, and retries given up or stopped by the
// retry budget (see [DefaultMaxRetries]).
//
// No record carries a token, a password, a request or response body, or a
// query value. Without a logger, the client makes no record and reads no
// clock for one.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("wrapper: invalid logger: nil")
		}
		c.logger = l
		return nil
	}
}
