package main

import (
	"context"
	"fmt"
	"io"

	"golang.org/x/oauth2"
)

func sessionSetCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &common{name: "session set", stderr: stderr}
	fs := newFlagSet("session set", stderr)
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: aisquare-go session set [--store PATH] [--api-url URL] < tokens

Saves an access and a refresh token, from a login made elsewhere, in the
session store, with the API's URL. Standard input holds two lines (the
access token, then the refresh token) or a JSON object
{"access": "...", "refresh": "..."}. Nothing is sent anywhere.

  printf '%%s\n%%s\n' "$ACCESS" "$REFRESH" | aisquare-go session set
  curl ... /api/v1/token/ | aisquare-go session set

A pair that cannot be right is refused, and the store left as it was: the
two tokens swapped (their token_type claims tell), white space or control
characters inside a token, anything but a token's letters, digits and
- . _ ~, and the answer of a failed login, whose error it shows instead.

A store that holds tokens for another API is refused: use another --store,
or remove that session with "aisquare-go session clear".

Exit status: 0 on success, 2 when standard input holds no tokens, 1
otherwise.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if isTerminal(stdin) {
		return c.fail(&emptyTokenError{"standard input is a terminal: pipe the tokens in " +
			"(Usage: aisquare-go session set [--store PATH] [--api-url URL] < tokens)"})
	}
	ctx, cancel := c.context(ctx)
	defer cancel()

	access, refresh, err := readTokenPair(ctx, stdin)
	c.secrets = append(c.secrets, access, refresh)
	if err != nil {
		return c.fail(err)
	}
	path, err := c.storePath("")
	if err != nil {
		return c.fail(err)
	}
	// An empty store file, such as one made with touch, is no session to
	// keep: it makes way for this one.
	if _, err := clearStore(ctx, path, true); err != nil {
		return c.fail(err)
	}
	store, client, err := c.openStore(ctx, path)
	if err != nil {
		return c.fail(err)
	}
	defer client.Close()
	if err := store.Save(ctx, &oauth2.Token{AccessToken: access, RefreshToken: refresh}); err != nil {
		return c.fail(err)
	}
	fmt.Fprintf(stderr, "aisquare-go session set: saved in %s for %s\n", c.path, client.BaseURL())
	return exitOK
}
