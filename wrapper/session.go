package wrapper

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper/internal/session"
)

// DefaultRefreshMargin is how long before its expiry an access token turns
// stale and is refreshed in the background, unless [WithRefreshMargin] sets
// another. For a token that had less than twice the margin left when the
// session received it, half of what it had left is the margin.
const DefaultRefreshMargin = time.Minute

// ErrNoTokens is returned when there is no token to send: by a session
// whose [TokenStore] holds none yet, until [Client.SetTokens] gives it a
// pair; and, with a message of its own, by a client made without a session
// (no [WithTokens], [WithTokenStore] or [WithLogin], and no sign-in found:
// see [New]), to which SetTokens cannot give one.
var ErrNoTokens = errors.New("wrapper: no tokens: log in and call SetTokens")

// errInLogin is the error of AccessToken called with the context of
// WithLogin's function: the session waits for that login, which sends no
// token.
var errInLogin = errors.New("wrapper: AccessToken called by WithLogin's function, " +
	"which the session waits for: a login sends no token")

// errNoSession is [ErrNoTokens] for a client made without a session, to
// which SetTokens cannot give one.
var errNoSession error = noSession{}

type noSession struct{}

func (noSession) Error() string {
	return "wrapper: no tokens: this client was made without a session (no WithTokens, WithTokenStore or WithLogin, " +
		`and no sign-in found: "aisquare login", $AISQUARE_TOKEN): make the client with one of them`
}

func (noSession) Is(target error) bool { return target == ErrNoTokens }

// startSession starts c's session with the tokens and store of cfg, or the
// credential found in the environment.
func (c *Client) startSession(cfg *config, found *credential) error {
	var store session.Store
	if cfg.store != nil {
		c.store = newSessionStore(cfg.store)
		store = c.store
	}
	given := session.Pair{Access: cfg.access, Refresh: cfg.refresh}
	scheme, noTokens := api.AuthScheme, error(ErrNoTokens)
	source := "WithLogin"
	switch {
	case found != nil && found.store == nil:
		source, given = found.source, session.Pair{Access: found.access, Expiry: found.expiry}
		noTokens = expiredError{found.source}
	case found != nil:
		source = found.source
	case cfg.refresh != "":
		source = "WithTokens"
	case cfg.store != nil:
		source = "WithTokenStore"
	}
	c.source.Store(&source)
	onEvent := cfg.onRefresh
	var login func(context.Context) (session.Pair, error)
	if cfg.login != nil {
		login = func(ctx context.Context) (session.Pair, error) {
			access, refresh, err := cfg.login(ctx)
			p := session.Pair{Access: strings.TrimSpace(access), Refresh: strings.TrimSpace(refresh)}
			if err == nil && (p.Access != "" || p.Refresh != "") {
				c.source.Store(&loginSource)
			}
			return p, err
		}
	}
	s, err := session.New(context.Background(), session.Config{
		Login: login,
		Refresh: func(ctx context.Context, refresh string) (session.Pair, error) {
			tok, err := c.refresh(ctx, refresh)
			if err != nil {
				return session.Pair{}, err
			}
			return session.Pair{Access: tok.Access, Refresh: tok.Refresh}, nil
		},
		Store: store, Margin: cfg.margin, Now: cfg.now, Scheme: scheme,
		Invalid: ErrInvalidToken, Lost: ErrAnswerLost, NoTokens: noTokens,
		OnEvent: func(ev session.Event) {
			if onEvent != nil {
				onEvent(RefreshEvent(ev))
			}
		},
	}, given)
	if err != nil && c.store != nil {
		c.store.close() // a failed save of New's is not retried
	}
	if errors.Is(err, session.ErrOtherAccount) {
		return errStoreAccount // two accounts share one store
	}
	c.session = s
	return err
}

// token returns the session's usable access token, waiting under ctx for a
// refresh if it expired.
func (c *Client) token(ctx context.Context) (*session.Token, error) {
	t, err := c.session.Token(ctx)
	if err != nil && ctx.Err() != nil && c.store != nil && c.store.locking.Load() > 0 {
		return nil, fmt.Errorf("wrapper: waiting for the token store's lock, which another client or process holds: %w", err)
	}
	return t, err
}

// AccessToken returns a valid access token of the session, refreshing it
// first if it expired; ctx bounds only the wait for that refresh, which
// other callers share. A stale token (inside its refresh window) is returned
// at once while one refresh runs in the background. Without a session it
// returns [ErrNoTokens].
func (c *Client) AccessToken(ctx context.Context) (string, error) {
	if c.session == nil {
		return "", errNoSession
	}
	if c.session.InFlight(ctx) {
		return "", errInLogin
	}
	t, err := c.token(ctx)
	if err != nil {
		return "", err
	}
	return t.Access, nil
}

// TokenSource returns the session as an [oauth2.TokenSource]. Without a
// session its Token method returns [ErrNoTokens]. The [oauth2.Token] it
// returns is shared: do not modify it, and do not print it, since it formats
// the token in the clear.
func (c *Client) TokenSource() oauth2.TokenSource { return tokenSource{c} }

type tokenSource struct{ c *Client }

func (ts tokenSource) Token() (*oauth2.Token, error) {
	if ts.c.session == nil {
		return nil, errNoSession
	}
	t, err := ts.c.token(context.Background())
	if err != nil {
		return nil, err
	}
	return t.OAuth, nil
}

// SetTokens replaces the session's tokens, after a new login, and saves them
// to the store. It revives a session whose refresh token was rejected. A
// refresh in flight does not undo it: its result is neither used nor saved,
// and its waiting callers get the tokens set here. If the save fails,
// SetTokens returns the error, and the session uses the tokens all the same
// and keeps trying to save them. A client made without a session has none to
// set: SetTokens returns an error matching [ErrNoTokens] that says so.
func (c *Client) SetTokens(ctx context.Context, access, refresh string) error {
	if c.session == nil {
		return errNoSession
	}
	if strings.TrimSpace(refresh) == "" {
		return fmt.Errorf("wrapper: SetTokens: %w", ErrEmptyToken)
	}
	return c.session.Set(ctx, session.Pair{Access: strings.TrimSpace(access), Refresh: strings.TrimSpace(refresh)})
}
