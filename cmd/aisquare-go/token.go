package main

import (
	"context"
	"fmt"
	"io"
)

func tokenCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &common{name: "token", stderr: stderr}
	fs := newFlagSet("token", stderr)
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aisquare-go token [--store PATH] [--api-url URL] [--timeout DURATION]

Prints a valid access token from the session store, and nothing else. When
the token expires within a minute, it refreshes it first and saves the new
pair (a rotated refresh token included) under the store's lock, so that it
can run beside services that share the store. A credential helper:

  curl -H "Authorization: Bearer $(aisquare-go token)" https://api.aisquare.studio/...

If the new pair cannot be saved (the old refresh token may be spent by
then), it prints the new tokens instead, in JSON on standard output as
"aisquare-go refresh" does, says so on standard error, and exits with status
1: check the status before using what it printed, keep the JSON, and hand
it to "aisquare-go session set" once the store is writable.

Start a session with "aisquare-go session set".

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	store, client, err := c.sessionStore(ctx, "")
	if err != nil {
		return c.fail(err)
	}
	defer client.Close()
	access, refreshed, err := storeToken(ctx, c, client, store, false)
	if err != nil {
		if refreshed != nil {
			err = c.printTokens(stdout, refreshed, err)
		}
		return c.fail(err)
	}
	fmt.Fprintln(stdout, access)
	return exitOK
}
