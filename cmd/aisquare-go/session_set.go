package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/oauth2"
)

// maxTokenInput caps what a command reads as tokens, from standard input
// or a file.
const maxTokenInput = 64 << 10

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

A store that holds tokens for another API is refused: use another --store.

Flags:
`)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	if isTerminal(stdin) {
		fmt.Fprintln(stderr, `aisquare-go session set: standard input is a terminal: pipe the tokens in (Usage: aisquare-go session set [--store PATH] [--api-url URL] < tokens)`)
		return exitFailure
	}
	ctx, cancel := c.context(ctx)
	defer cancel()

	access, refresh, err := readTokenPair(ctx, stdin)
	c.secrets = append(c.secrets, access, refresh)
	if err != nil {
		return c.fail(err)
	}
	store, client, err := c.openStore(ctx, "")
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

// readTokenPair reads two lines (access, then refresh) or a JSON object
// {"access", "refresh"}.
func readTokenPair(ctx context.Context, r io.Reader) (access, refresh string, err error) {
	data, err := readInput(ctx, r, maxTokenInput, false)
	if err != nil {
		return "", "", err
	}
	if len(data) > maxTokenInput {
		return "", "", fmt.Errorf("standard input holds more than %d KiB: not a token pair", maxTokenInput>>10)
	}
	data = bytes.TrimSpace(data)
	if bytes.HasPrefix(data, []byte("{")) {
		var pair struct{ Access, Refresh string }
		if err := json.Unmarshal(data, &pair); err != nil {
			return "", "", errors.New(`standard input is not a JSON object {"access": "...", "refresh": "..."}`)
		}
		access, refresh = strings.TrimSpace(pair.Access), strings.TrimSpace(pair.Refresh)
	} else {
		var lines []string
		for line := range strings.Lines(string(data)) {
			if line = strings.TrimSpace(line); line != "" {
				lines = append(lines, line)
			}
		}
		if len(lines) != 2 {
			return "", "", fmt.Errorf("standard input holds %d non-empty line(s); want two: the access token, then the refresh token", len(lines))
		}
		access, refresh = lines[0], lines[1]
	}
	if refresh == "" {
		return "", "", errors.New("no refresh token on standard input")
	}
	if strings.ContainsAny(access+refresh, " \t") {
		return "", "", errors.New("a token on standard input contains white space")
	}
	return access, refresh, nil
}
