package wrapper

import (
	"context"
	"errors"

	"golang.org/x/oauth2"
)

// A TokenStore keeps a session's tokens across restarts. A session saves
// every new pair before it uses the new access token, so a rotated refresh
// token is never lost.
type TokenStore interface {
	// Load returns the stored tokens, or nil and no error if there are none.
	// An [oauth2.Token] formats its tokens in the clear: don't log it.
	Load(ctx context.Context) (*oauth2.Token, error)
	// Save replaces the stored tokens.
	Save(ctx context.Context, tok *oauth2.Token) error
}

// A TokenLocker is a [TokenStore] that several processes may share. A
// session holds its lock while it refreshes, and re-reads the store inside
// it, so that a refresh token rotated by one process is never spent again by
// another.
type TokenLocker interface {
	// Lock blocks until the caller holds the store's lock or ctx ends.
	Lock(ctx context.Context) (unlock func(), err error)
}

// A BaseURLStore is a [TokenStore] that records the base URL of the API its
// tokens belong to, so that tokens saved for one API (production, say) are
// never sent to another (staging). [New] binds such a store to the client's
// base URL before any request.
type BaseURLStore interface {
	TokenStore
	// BaseURL returns the base URL recorded with the stored tokens, or ""
	// if there are no tokens or none was recorded (tokens saved before the
	// store recorded base URLs).
	BaseURL(ctx context.Context) (string, error)
	// Bind ties the store to the API at baseURL: every later Save records
	// it, and Load refuses tokens recorded for another. It fails with an
	// error matching [ErrStoreMismatch] when the store holds tokens recorded
	// for another base URL, or is bound to another already.
	Bind(ctx context.Context, baseURL string) error
}

// ErrStoreMismatch matches the error of a session whose base URL is not the
// one its store's tokens were saved for (its message names both URLs), and
// the error of [New] given tokens of one account ([WithTokens]) and a store
// that holds a newer session of another account. Messages never name a
// token. Use a store of its own for each API and each account.
var ErrStoreMismatch = errors.New("wrapper: token store belongs to another API")

// errStoreAccount is the error of [New] for a store that holds a newer
// session of another account than the tokens of [WithTokens].
var errStoreAccount error = storeAccountError{}

type storeAccountError struct{}

func (storeAccountError) Error() string {
	return "wrapper: token store holds another account's session, issued after the tokens given " +
		"with WithTokens: refusing to act as that account; use a store of its own for each account"
}

// Is makes the error match [ErrStoreMismatch].
func (storeAccountError) Is(target error) bool { return target == ErrStoreMismatch }
