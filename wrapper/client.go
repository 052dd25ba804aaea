package wrapper

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"

	"github.com/aisquare-studio/aisquare-go/api"
)

// Version is the SDK's version, sent in the User-Agent header.
const Version = "0.1.0"

const userAgent = "aisquare-go/" + Version

// maxBody caps a response body the client reads; a larger body is an error,
// not an out-of-memory.
const maxBody = 4 << 20

// Client talks to the AISquare Studio API. It is safe for concurrent use.
type Client struct {
	baseURL   string
	userAgent string
	hc        *http.Client
	api       *api.ClientWithResponses
}

// New returns a client configured by opts. Without options it talks to
// [DefaultBaseURL], or to the URL in the environment variable [BaseURLEnv]
// when that is set, with a timeout of [DefaultTimeout].
func New(opts ...Option) (*Client, error) {
	cfg := config{baseURL: DefaultBaseURL, userAgent: userAgent}
	if env := os.Getenv(BaseURLEnv); env != "" {
		u, err := parseBaseURL(env)
		if err != nil {
			return nil, fmt.Errorf("%w (from $%s)", err, BaseURLEnv)
		}
		cfg.baseURL = u
	}
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}

	hc := &http.Client{Timeout: DefaultTimeout}
	if cfg.httpClient != nil {
		copied := *cfg.httpClient
		hc = &copied
	}
	if cfg.timeout > 0 {
		hc.Timeout = cfg.timeout
	}
	if hc.CheckRedirect == nil {
		hc.CheckRedirect = keepMethod
	}

	c := &Client{baseURL: cfg.baseURL, userAgent: cfg.userAgent, hc: hc}
	generated, err := api.NewClientWithResponses(c.baseURL,
		api.WithHTTPClient(hc),
		api.WithRequestEditorFn(c.setUserAgent))
	if err != nil {
		return nil, fmt.Errorf("wrapper: %w", err)
	}
	c.api = generated
	return c, nil
}

// keepMethod stops at a redirect that would turn a request with a body into
// a GET, as net/http does for 301, 302 and 303: the caller gets the redirect
// as an [*APIError] instead of the answer to a request it never made. The
// backend answers a POST to a path without its trailing slash with a 301.
func keepMethod(req *http.Request, via []*http.Request) error {
	if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return fmt.Errorf("wrapper: stopped after %d redirects", len(via))
	}
	return nil
}

func (c *Client) setUserAgent(_ context.Context, req *http.Request) error {
	req.Header.Set("User-Agent", c.userAgent)
	return nil
}

// BaseURL returns the base URL the client sends requests to, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.baseURL }

// API returns the generated client, with this client's base URL, HTTP client
// and User-Agent. Pass each response it returns to [CheckResponse].
func (c *Client) API() *api.ClientWithResponses { return c.api }

// RefreshToken exchanges a refresh token for a new access token. The result's
// Refresh is non-empty only when the server rotated the refresh token; the
// old one is then spent, so store the new one.
//
// An empty token fails with [ErrEmptyToken] before any request. A rejected
// token fails with an error matching [ErrInvalidToken].
func (c *Client) RefreshToken(ctx context.Context, refresh string) (*api.TokenRefresh, error) {
	refresh = strings.TrimSpace(refresh)
	if refresh == "" {
		return nil, ErrEmptyToken
	}
	resp, err := c.api.RefreshCreate(ctx, api.TokenRefreshRequest{Refresh: refresh})
	if err != nil {
		return nil, fmt.Errorf("wrapper: refresh token: %w", err)
	}
	var tok api.TokenRefresh
	if err := decodeResponse(resp, &tok); err != nil {
		return nil, err
	}
	if tok.Access == "" {
		return nil, newMalformed(resp, `no "access" token`, nil)
	}
	return &tok, nil
}

// decodeResponse reads resp's body, maps a status outside 2xx to an
// [*APIError], and decodes a 2xx JSON body into v.
func decodeResponse(resp *http.Response, v any) error {
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return newMalformed(resp, "reading body", err)
	}
	if err := CheckResponse(resp, body); err != nil {
		return err
	}
	if len(body) > maxBody {
		return newMalformed(resp, fmt.Sprintf("body exceeds %d bytes", maxBody), nil)
	}
	if len(body) == 0 {
		return newMalformed(resp, "empty body", nil)
	}
	ct := resp.Header.Get("Content-Type")
	if mediaType, _, _ := mime.ParseMediaType(ct); mediaType != "application/json" && !strings.HasSuffix(mediaType, "+json") {
		return newMalformed(resp, fmt.Sprintf("content type %q, want application/json", ct), nil)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return newMalformed(resp, "invalid JSON", err)
	}
	return nil
}
