package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// minValidity is how long a token that token prints stays valid at least,
// unless the server issues shorter ones. The session uses a token to its
// last instant, and sends a request again when a 401 answers it; whoever
// uses the printed token cannot. A second is below half the life of the
// shortest tokens of use, so a token of a few seconds is not refreshed on
// every call.
const minValidity = time.Second

func tokenCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &common{name: "token", stderr: stderr}
	fs := newFlagSet("token", stderr)
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aisquare-go token [--store PATH] [--api-url URL] [--timeout DURATION]

Prints a valid access token, and nothing else. It takes the first of:
the session store given with --store; $AISQUARE_TOKEN; the session store at
its default path; the session of AISquare's own CLI ("aisquare login"), for
its API only. A token of $AISQUARE_TOKEN or of AISquare's CLI is printed as
it is, until it expires. The session store's is held as the SDK holds it:
a token past its expiry is refreshed first, and the new pair (a rotated
refresh token included) saved under the store's lock, so that it can run
beside services that share the store; a token valid for another second or
more is printed as it is, however short its life, and one closer to its
expiry is waited out, then refreshed. A credential helper:

  curl -H "Authorization: Bearer $(aisquare-go token)" https://api.aisquare.studio/...

If the new pair cannot be saved (the old refresh token may be spent by
then), it prints the new tokens instead, in JSON on standard output as
"aisquare-go refresh" does, says so on standard error, and exits with status
1: check the status before using what it printed, keep the JSON, and hand
it to "aisquare-go session set" once the store is writable.

Start a session with "aisquare-go session set".

Exit status: 0 on success, 2 when the session is rejected or missing (log
in again and hand the new tokens over with "aisquare-go session set"), 1
otherwise.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	if client, ok, err := c.ambient(ctx); ok {
		if err != nil {
			return c.fail(err)
		}
		defer client.Close()
		access, err := client.AccessToken(ctx)
		if err != nil {
			return c.fail(err)
		}
		fmt.Fprintln(stdout, access)
		return exitOK
	}
	path, err := c.storePath("")
	if err != nil {
		return c.fail(err)
	}
	if err := waitOutExpiring(ctx, path); err != nil {
		return c.fail(err)
	}
	saving := newSavingStore(ctx, path)
	_, client, err := c.sessionStore(ctx, path, wrapper.WithTokenStore(saving))
	if err != nil {
		return c.fail(err)
	}
	access, err := client.AccessToken(ctx)
	// Close waits for a refresh in flight: a rotated refresh token reaches
	// the store, or the save's error reaches saving, and the refresh's log
	// record, if any, reaches stderr, before the command ends.
	_ = client.Close()
	if err != nil && saving.lockFailed() != nil && ctx.Err() != nil {
		err = fmt.Errorf("gave up waiting for the lock on the session store %s, which another process holds: %w", path, context.Cause(ctx))
	}
	c.secrets = append(c.secrets, saving.secrets()...)
	c.secrets = append(c.secrets, access)
	if tok, saveErr := saving.last(); saveErr != nil {
		// The session used the new pair all the same: the old refresh token
		// may be spent, and this may be the only copy of the new one.
		refreshed := &api.TokenRefresh{Access: tok.AccessToken, Refresh: tok.RefreshToken}
		return c.fail(c.printTokens(stdout, refreshed, &unsavedError{path: path, err: saveErr}))
	}
	if errors.Is(err, wrapper.ErrNoTokens) {
		err = &noSessionError{path}
	}
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, access)
	return exitOK
}

// waitOutExpiring waits until the access token stored at path expires, if
// it expires within minValidity: the session then finds it expired, and
// refreshes it. Another process may have refreshed it meanwhile; the
// session then takes the new pair. A store that cannot be read is the
// session's to report.
func waitOutExpiring(ctx context.Context, path string) error {
	tok, err := wrapper.NewFileStore(path).Load(ctx)
	if err != nil || tok == nil {
		return nil
	}
	exp, err := wrapper.TokenExpiry(tok.AccessToken)
	if err != nil {
		return nil
	}
	left := time.Until(exp)
	if left <= 0 || left >= minValidity {
		return nil
	}
	// A millisecond past the expiry: the session reads the wall clock, and
	// the timer runs on the monotonic one.
	t := time.NewTimer(left + time.Millisecond)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the access token to expire, to refresh it: %w", context.Cause(ctx))
	}
}
