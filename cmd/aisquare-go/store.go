package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/regfile"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// minValidity is how long an access token that token prints stays valid at
// least, unless the server issues shorter ones: a token closer to its
// expiry is refreshed first.
const minValidity = time.Minute

// storeToken returns the session's access token from store, refreshing it
// first when it expires within minValidity (or always, with force). The
// refresh runs under the store's lock, after re-reading the store, so that a
// refresh token another process rotated is never spent twice, and the new
// pair is saved before it is returned. refreshed is nil when no refresh was
// needed; it is the server's answer, with an [*unsavedError], when the save
// failed: the caller prints it with [common.printTokens].
func storeToken(ctx context.Context, c *common, client *wrapper.Client, store *wrapper.FileStore, force bool) (access string, refreshed *api.TokenRefresh, err error) {
	tok, err := loadSession(ctx, c, store)
	if err != nil {
		return "", nil, err
	}
	if !force && !due(tok.AccessToken) {
		return tok.AccessToken, nil, nil
	}
	unlock, err := store.Lock(ctx)
	if err != nil {
		return "", nil, err
	}
	defer unlock()
	if tok, err = loadSession(ctx, c, store); err != nil { // inside the lock: the newest pair
		return "", nil, err
	}
	if !force && !due(tok.AccessToken) {
		return tok.AccessToken, nil, nil // another process refreshed it
	}
	// Once sent, the refresh is not abandoned when ctx ends: its answer
	// holds the rotated refresh token. The client's timeout bounds it.
	r, err := client.RefreshToken(context.WithoutCancel(ctx), tok.RefreshToken)
	if err != nil {
		return "", nil, err
	}
	c.secrets = append(c.secrets, r.Access, r.Refresh)
	next := &oauth2.Token{AccessToken: r.Access, RefreshToken: cmp.Or(r.Refresh, tok.RefreshToken)}
	if err := store.Save(context.WithoutCancel(ctx), next); err != nil {
		// The answer comes back with the error: the old refresh token may be
		// spent, and the caller must still hand the new one over.
		return "", r, &unsavedError{path: c.path, err: err}
	}
	return r.Access, r, nil
}

// noSessionError is a session store without tokens.
type noSessionError struct{ path string }

func (e *noSessionError) Error() string { return "the session store " + e.path + " holds no session" }

// loadSession loads the store's tokens; none is a *noSessionError.
func loadSession(ctx context.Context, c *common, store *wrapper.FileStore) (*oauth2.Token, error) {
	tok, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, &noSessionError{c.path}
	}
	c.secrets = append(c.secrets, tok.AccessToken, tok.RefreshToken)
	return tok, nil
}

// due reports whether access expires within minValidity, or has no
// readable expiry.
func due(access string) bool {
	exp, err := wrapper.TokenExpiry(access)
	return err != nil || time.Until(exp) < minValidity
}

// holdsNothing reports whether the session store file at path holds no
// session: it does not exist, or it is empty or only white space, such as
// a file made with touch. Anything else is the store's to read: a file that
// is not a session store is an error there, never taken for an empty one.
func holdsNothing(path string) (bool, error) {
	f, err := regfile.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("reading the session store: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenInput))
	if err != nil {
		return false, fmt.Errorf("reading the session store: %w", err)
	}
	return len(bytes.TrimSpace(data)) == 0 && len(data) < maxTokenInput, nil
}
