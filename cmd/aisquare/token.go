package main

import (
	"context"
	"flag"
	"fmt"
	"io"
)

func tokenCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &common{name: "token", stderr: stderr}
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c.register(fs)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: aisquare token [--store PATH] [--base-url URL] [--timeout DURATION]

Prints a valid access token from the session store, and nothing else. When
the token expires within a minute, it refreshes it first and saves the new
pair (a rotated refresh token included) under the store's lock, so that it
can run beside services that share the store. A credential helper:

  curl -H "Authorization: Bearer $(aisquare token)" https://api.aisquare.studio/...

Start a session with "aisquare session set".

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	ctx, cancel := c.context(ctx)
	defer cancel()
	store, client, err := c.openStore(ctx, "")
	if err != nil {
		return c.fail(err)
	}
	defer client.Close()
	access, _, err := storeToken(ctx, c, client, store, false)
	if err != nil {
		return c.fail(err)
	}
	fmt.Fprintln(stdout, access)
	return exitOK
}
