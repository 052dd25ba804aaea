package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"golang.org/x/oauth2"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/regfile"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// refreshSession refreshes the session in store now, under its lock, after
// re-reading the store, so that a refresh token another process rotated is
// never spent twice, and saves the new pair before it returns it. When the
// save fails, it returns the server's answer with an [*unsavedError]: the
// caller prints it with [common.printTokens].
func refreshSession(ctx context.Context, c *common, client *wrapper.Client, store *wrapper.FileStore) (*api.TokenRefresh, error) {
	unlock, err := store.Lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tok, err := loadSession(ctx, c, store)
	if err != nil {
		return nil, err
	}
	// Once sent, the refresh is not abandoned when ctx ends: its answer
	// holds the rotated refresh token. The client's timeout bounds it.
	r, err := client.RefreshToken(context.WithoutCancel(ctx), tok.RefreshToken)
	if err != nil {
		return nil, err
	}
	c.secrets = append(c.secrets, r.Access, r.Refresh)
	next := &oauth2.Token{AccessToken: r.Access, RefreshToken: cmp.Or(r.Refresh, tok.RefreshToken)}
	if err := store.Save(context.WithoutCancel(ctx), next); err != nil {
		// The answer comes back with the error: the old refresh token may be
		// spent, and the caller must still hand the new one over.
		return r, &unsavedError{path: c.path, err: err}
	}
	return r, nil
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
