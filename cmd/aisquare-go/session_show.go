package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

func sessionShowCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &common{name: "session show", stderr: stderr}
	fs := newFlagSet("session show", stderr)
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aisquare-go session show [--store PATH] [--api-url URL]

Prints the API URL the session belongs to, where it comes from (as
"aisquare-go token" finds it: the session store, $AISQUARE_TOKEN, or
AISquare's own CLI session), and when its tokens expire, never a token.
With --api-url, $AISQUARE_API_URL or $AISQUARE_BASE_URL naming another
API, it says that commands aimed there refuse this session. It sends
nothing.

Exit status: 0 on success, 2 when the store holds no session, 1 otherwise.

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
		fmt.Fprintf(stdout, "API URL:       %s\n", client.BaseURL())
		fmt.Fprintf(stdout, "source:        %s\n", client.CredentialSource())
		fmt.Fprintf(stdout, "access token:  %s\n", ambientExpiry(client))
		fmt.Fprintln(stdout, "refresh token: none (such a token is used until it expires; then run \"aisquare login\")")
		return exitOK
	}
	path, err := c.storePath("")
	if err != nil {
		return c.fail(err)
	}
	if empty, err := holdsNothing(path); err != nil || empty {
		if err == nil {
			err = &noSessionError{path}
		}
		return c.fail(err)
	}
	// Not bound to any API: the session is shown whatever API it is for.
	store := wrapper.NewFileStore(path)
	stored, err := store.BaseURL(ctx)
	if err != nil {
		return c.fail(err)
	}
	tok, err := loadSession(ctx, c, store)
	if err != nil {
		return c.fail(err)
	}
	var other string
	if c.api.value != "" || os.Getenv(wrapper.APIURLEnv) != "" || os.Getenv(wrapper.BaseURLEnv) != "" {
		if other, err = c.otherAPI(ctx, path); err != nil {
			return c.fail(err)
		}
	}

	now := time.Now()
	if stored == "" {
		stored = "not recorded (the store was saved before it recorded one: the next command records its own)"
	}
	fmt.Fprintf(stdout, "API URL:       %s\n", stored)
	fmt.Fprintf(stdout, "source:        session store %s\n", path)
	fmt.Fprintf(stdout, "access token:  %s\n", expiry(tok.AccessToken, now, "the next command refreshes it"))
	fmt.Fprintf(stdout, "refresh token: %s\n", expiry(tok.RefreshToken, now, `log in again, and hand the new tokens to "aisquare-go session set`+c.storeFlag()+`"`))
	if other != "" {
		fmt.Fprintf(stdout, "note:          this command's API URL is %s, another API: commands aimed there refuse this session "+
			`("aisquare-go session clear%s" removes it)`+"\n", other, c.storeFlag())
	}
	return exitOK
}

// ambientExpiry describes when the token of client's session expires, as
// far as it is known, never the token itself.
func ambientExpiry(client *wrapper.Client) string {
	tok, err := client.TokenSource().Token()
	switch {
	case errors.Is(err, wrapper.ErrLoginRequired):
		return `expired: run "aisquare login"`
	case err != nil:
		return "unknown"
	case tok.Expiry.IsZero():
		return "expiry unknown (the server decides)"
	}
	return fmt.Sprintf("expires %s, in %s", tok.Expiry.UTC().Format(time.RFC3339), approx(time.Until(tok.Expiry)))
}

// otherAPI returns the API URL that --api-url or the environment gives, if
// the session in the store at path belongs to another API; "" if not.
func (c *common) otherAPI(ctx context.Context, path string) (string, error) {
	client, err := c.client(ctx, nil)
	if err != nil {
		return "", err
	}
	defer client.Close()
	err = wrapper.NewFileStore(path).Bind(ctx, client.BaseURL())
	switch {
	case errors.Is(err, wrapper.ErrStoreMismatch):
		return client.BaseURL(), nil
	case err != nil:
		return "", err
	}
	return "", nil
}

// expiry describes when token expires, never the token itself; then says
// what to do once it has.
func expiry(token string, now time.Time, then string) string {
	if token == "" {
		return "none (the next command refreshes first)"
	}
	exp, err := wrapper.TokenExpiry(token)
	if err != nil {
		return "expiry unknown (not a JWT with an exp claim)"
	}
	at := exp.UTC().Format(time.RFC3339)
	if exp.After(now) {
		return fmt.Sprintf("expires %s, in %s", at, approx(exp.Sub(now)))
	}
	return fmt.Sprintf("expired %s, %s ago: %s", at, approx(now.Sub(exp)), then)
}

// approx writes d in days, hours, minutes and seconds, leaving out those
// that are zero, and seconds when there are days: "29d23h59m", "1h", "42s".
func approx(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second {
		return "0s"
	}
	var b strings.Builder
	days := d >= 24*time.Hour
	for _, u := range []struct {
		size time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.size; n > 0 && !(u.name == "s" && days) {
			fmt.Fprintf(&b, "%d%s", n, u.name)
		}
		d %= u.size
	}
	return b.String()
}
