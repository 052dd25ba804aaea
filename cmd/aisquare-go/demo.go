package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aisquare-studio/aisquare-go/wrapper"
	"github.com/aisquare-studio/aisquare-go/wrapper/wrappertest"
)

func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("demo", stderr)
	logOpts := logFlags(fs, stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aisquare-go demo [--verbose | --debug]

Starts a local AISquare Studio server on loopback (rotation and blacklist on,
access tokens living two seconds) and runs the SDK's main flows against it
through the real HTTP stack: refresh, rotation, a session that renews its
own token, and the error a reused refresh token gets. Needs no network.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if err := demo(ctx, stdout, logOpts()); err != nil {
		fmt.Fprintf(stderr, "aisquare-go demo: %v\n", err)
		return exitFailure
	}
	return exitOK
}

func demo(ctx context.Context, out io.Writer, logOpts []wrapper.Option) error {
	const lifetime = 2 * time.Second
	srv := wrappertest.NewServer(wrappertest.Options{Rotate: true, Blacklist: true, AccessLifetime: lifetime})
	defer srv.Close()
	fmt.Fprintf(out, "local server at %s (rotation and blacklist on, access tokens live %v)\n\n", srv.URL, lifetime)
	access, refresh := srv.IssuePair(1)
	fmt.Fprintf(out, "login:    access %s  refresh %s\n", short(access), short(refresh))

	c, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL)}, logOpts...)...)
	if err != nil {
		return err
	}

	fmt.Fprintln(out, "\n1. Refresh")
	tok, err := c.RefreshToken(ctx, refresh)
	if err != nil {
		return err
	}
	exp, err := wrapper.TokenExpiry(tok.Access)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "   new access %s, expires %s\n", short(tok.Access), exp.Format(time.RFC3339))

	fmt.Fprintln(out, "\n2. Rotation")
	fmt.Fprintf(out, "   the server rotated the refresh token: %s -> %s\n", short(refresh), short(tok.Refresh))

	fmt.Fprintln(out, "\n3. A reused refresh token")
	_, err = c.RefreshToken(ctx, refresh)
	if !errors.Is(err, wrapper.ErrInvalidToken) {
		return fmt.Errorf("reusing a rotated refresh token: got %v, want an error matching ErrInvalidToken", err)
	}
	fmt.Fprintf(out, "   %v\n   errors.Is(err, wrapper.ErrInvalidToken) = true: log in again\n", err)

	fmt.Fprintln(out, "\n4. A session that renews its own token")
	dir, err := os.MkdirTemp("", "aisquare-go-demo")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	storePath := filepath.Join(dir, "tokens.json")
	session, err := wrapper.New(append([]wrapper.Option{wrapper.WithBaseURL(srv.URL), wrapper.WithTokens(tok.Access, tok.Refresh),
		wrapper.WithTokenStore(wrapper.NewFileStore(storePath))}, logOpts...)...)
	if err != nil {
		return err
	}
	before := srv.Requests(wrappertest.RefreshRoute)
	for i := range 4 {
		current, err := session.TokenSource().Token()
		if err != nil {
			return err
		}
		status, err := getMe(ctx, session, srv.URL)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "   t=%.1fs  GET %s with %s -> %s\n", float64(i)*1.5, wrappertest.MeRoute, short(current.AccessToken), status)
		if i < 3 {
			time.Sleep(1500 * time.Millisecond)
		}
	}
	fmt.Fprintf(out, "   %d refreshes, each rotated refresh token saved to %s first\n",
		srv.Requests(wrappertest.RefreshRoute)-before, filepath.Base(storePath))
	fmt.Fprintln(out, "\ndone")
	return nil
}

func getMe(ctx context.Context, c *wrapper.Client, baseURL string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, baseURL+wrappertest.MeRoute, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if err := wrapper.CheckResponse(resp, body); err != nil {
		return "", err
	}
	return resp.Status, nil
}

// short shows the start and end of a token, enough to tell two apart.
func short(token string) string {
	if len(token) < 20 {
		return "…"
	}
	return token[:6] + "…" + token[len(token)-6:]
}
