package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// refreshTokenEnv holds the refresh token; a flag value would land in shell
// history and in ps.
const refreshTokenEnv = "AISQUARE_REFRESH_TOKEN"

// refreshOutput is what refresh prints.
type refreshOutput struct {
	Access          string `json:"access"`
	Refresh         string `json:"refresh,omitempty"`
	AccessExpiresAt string `json:"access_expires_at,omitempty"`
}

func refreshCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("refresh", flag.ContinueOnError)
	fs.SetOutput(stderr)
	baseURL := fs.String("base-url", "", "API base URL (default $"+wrapper.BaseURLEnv+", else "+wrapper.DefaultBaseURL+")")
	tokenFile := fs.String("token-file", "", "read the refresh token from this file")
	logOpts := logFlags(fs, stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: aisquare refresh [--base-url URL] [--token-file PATH] [--verbose | --debug]

Exchanges a refresh token for a new access token and prints JSON:
{"access": ..., "refresh": ... (only when rotated), "access_expires_at": RFC 3339}.

The refresh token is read from --token-file, else $%s, else standard input.
Exit status: 0 on success, 2 when the token is rejected (log in again), 1 otherwise.

Flags:
`, refreshTokenEnv)
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}

	fail := func(err error) int {
		fmt.Fprintf(stderr, "aisquare refresh: %v\n", err)
		if errors.Is(err, wrapper.ErrInvalidToken) {
			return exitRejected
		}
		return exitFailure
	}
	token, err := readToken(*tokenFile, stdin)
	if err != nil {
		return fail(err)
	}
	opts := logOpts()
	if *baseURL != "" {
		opts = append(opts, wrapper.WithBaseURL(*baseURL))
	}
	c, err := wrapper.New(opts...)
	if err != nil {
		return fail(err)
	}
	tok, err := c.RefreshToken(ctx, token)
	if err != nil {
		return fail(err)
	}
	out := refreshOutput{Access: tok.Access, Refresh: tok.Refresh}
	if exp, err := wrapper.TokenExpiry(tok.Access); err == nil {
		out.AccessExpiresAt = exp.UTC().Format(time.RFC3339)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fail(err)
	}
	return exitOK
}

// readToken reads the refresh token from file, else the environment, else
// the first line of stdin.
func readToken(file string, stdin io.Reader) (string, error) {
	tok, err := readTokenFrom(file, stdin)
	if err == nil && strings.TrimSpace(tok) == "" {
		err = fmt.Errorf("no refresh token: set $%s, pass --token-file, or write it to standard input", refreshTokenEnv)
	}
	return tok, err
}

func readTokenFrom(file string, stdin io.Reader) (string, error) {
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("reading token file: %w", err)
		}
		return string(data), nil
	}
	if tok := os.Getenv(refreshTokenEnv); tok != "" {
		return tok, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("reading standard input: %w", err)
	}
	return line, nil
}
