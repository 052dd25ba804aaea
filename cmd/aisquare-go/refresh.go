package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/aisquare-studio/aisquare-go/api"
	"github.com/aisquare-studio/aisquare-go/internal/regfile"
)

// refreshTokenEnv holds the refresh token; a flag value would land in shell
// history and in ps.
const refreshTokenEnv = "AISQUARE_REFRESH_TOKEN"

func refreshCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &common{name: "refresh", stderr: stderr}
	fs := newFlagSet("refresh", stderr)
	c.register(fs)
	tokenFile := fs.String("token-file", "", "read the refresh token from the file at `PATH`, and write a rotated one back to it")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), `Usage: aisquare-go refresh [--store PATH | --token-file PATH] [--api-url URL] [--timeout DURATION] [--verbose | --debug]

Exchanges a refresh token for a new access token and prints JSON:
{"access": ..., "refresh": ... (only when rotated), "access_expires_at": RFC 3339}.

The refresh token comes from, in this order:
  --store PATH       the session store; the new pair is saved in it, under its lock
  --token-file PATH  a file holding the refresh token (or a session store); a
                     rotated token is written back to it atomically, with the
                     same mode, so that running this twice never spends a token twice
  $%s
  standard input     its first line, unless it is a terminal
  the default store  %s, if it exists
With none of them and a terminal on standard input, it fails at once. A
token that is not one (white space or control characters inside, anything
but a token's letters, digits and - . _ ~) is refused, and never sent.

Exit status: 0 on success, 2 when the token is rejected, empty or missing
(log in again and hand the new tokens over with "aisquare-go session set"),
1 otherwise.

Flags:
`, refreshTokenEnv, displayDefaultStore())
		fs.PrintDefaults()
	}
	if code, done := parseFlags(fs, args, stdout); done {
		return code
	}
	ctx, cancel := c.context(ctx)
	defer cancel()

	var (
		tok *api.TokenRefresh
		err error
	)
	switch {
	case c.store != "":
		tok, err = refreshStore(ctx, c, "")
	case *tokenFile != "":
		tok, err = refreshFile(ctx, c, *tokenFile)
	default:
		tok, err = refreshOnce(ctx, c, stdin)
	}
	if tok != nil {
		err = c.printTokens(stdout, tok, err)
	}
	if err != nil {
		return c.fail(err)
	}
	return exitOK
}

// refreshOnce refreshes the token of the environment or standard input, or
// else of the default store, if it exists. A terminal on standard input is
// not read: no silent wait.
func refreshOnce(ctx context.Context, c *common, stdin io.Reader) (*api.TokenRefresh, error) {
	token, what := strings.TrimSpace(os.Getenv(refreshTokenEnv)), "$"+refreshTokenEnv
	terminal := isTerminal(stdin)
	if token == "" && !terminal {
		line, err := readInput(ctx, stdin, maxTokenInput, true)
		if err != nil {
			return nil, err
		}
		token, what = strings.TrimSpace(string(line)), "the first line of standard input"
	}
	c.secrets = append(c.secrets, token)
	if token == "" {
		if path, err := defaultStore(); err == nil {
			if _, err := os.Stat(path); err == nil {
				return refreshStore(ctx, c, path)
			}
		}
		where := "standard input is empty"
		if terminal {
			where = "standard input is a terminal"
		}
		return nil, &emptyTokenError{fmt.Sprintf("no refresh token (%s, and $%s is empty): pass --store or --token-file, "+
			"set $%s, or pipe the token in (Usage: aisquare-go refresh [--store PATH | --token-file PATH] [--api-url URL])",
			where, refreshTokenEnv, refreshTokenEnv)}
	}
	if err := checkToken(what, token); err != nil {
		return nil, err
	}
	client, err := c.client(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	// Once sent, the refresh is not abandoned when ctx ends: its answer
	// may hold a rotated refresh token. The client's timeout bounds it.
	return client.RefreshToken(context.WithoutCancel(ctx), token)
}

// refreshStore refreshes the session in the store at path (--store, or
// the default if empty) now, under its lock, and saves the new pair.
func refreshStore(ctx context.Context, c *common, path string) (*api.TokenRefresh, error) {
	store, client, err := c.sessionStore(ctx, path)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	return refreshSession(ctx, c, client, store)
}

// refreshFile refreshes the token in the file at path, under a lock beside
// it, and writes a rotated token back. A file in the session store's format
// is a session store.
func refreshFile(ctx context.Context, c *common, path string) (*api.TokenRefresh, error) {
	data, err := readTokenFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("{")) {
		return refreshStore(ctx, c, path)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &emptyTokenError{fmt.Sprintf("no refresh token: token file %s is empty: write the refresh token to it", path)}
	}
	unlock, err := lockTokenFile(ctx, path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if data, err = readTokenFile(path); err != nil { // inside the lock: the newest token
		return nil, err
	}
	token := strings.TrimSpace(string(data))
	c.secrets = append(c.secrets, token)
	if token == "" {
		return nil, &emptyTokenError{fmt.Sprintf("no refresh token: token file %s is empty: write the refresh token to it", path)}
	}
	if err := checkToken("token file "+path, token); err != nil {
		return nil, err
	}
	client, err := c.client(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer client.Close()
	// Once sent, the refresh is not abandoned when ctx ends: its answer
	// holds the rotated refresh token. The client's timeout bounds it.
	tok, err := client.RefreshToken(context.WithoutCancel(ctx), token)
	if err != nil {
		return nil, err
	}
	if tok.Refresh != "" {
		if err := rewriteTokenFile(path, tok.Refresh); err != nil {
			return tok, &unsavedError{path: path, err: err}
		}
	}
	return tok, nil
}

// readTokenFile reads a token file of at most maxTokenInput bytes, which
// must be a regular file: reading a FIFO would wait for a writer, past
// --timeout, and a rotated token could not be written back to it.
func readTokenFile(path string) ([]byte, error) {
	f, err := regfile.Open(path)
	if errors.Is(err, regfile.ErrNotRegular) {
		return nil, fmt.Errorf("token file %w: pass the token in $%s or on standard input", err, refreshTokenEnv)
	}
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTokenInput+1))
	if err != nil {
		return nil, fmt.Errorf("reading token file: %w", err)
	}
	if len(data) > maxTokenInput {
		return nil, fmt.Errorf("token file %s is larger than %d KiB: not a token", path, maxTokenInput>>10)
	}
	return data, nil
}

// rewriteTokenFile replaces the token in the file at path atomically,
// keeping its mode: a temporary file beside it, renamed over it. A symbolic
// link is kept, and its target rewritten.
func rewriteTokenFile(path, token string) (err error) {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	info, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(info.Mode().Perm()); err != nil {
		return err
	}
	if _, err = f.WriteString(token + "\n"); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// lockTokenFile takes the advisory lock of path + ".lock", as a session
// store does, never through a symbolic link.
func lockTokenFile(ctx context.Context, path string) (func(), error) {
	l := flock.New(path+".lock", flock.SetPermissions(0o600), flock.SetFlag(lockFlags))
	if _, err := l.TryLockContext(ctx, 10*time.Millisecond); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for the lock on %s.lock, which another process holds: %w", path, err)
		}
		return nil, fmt.Errorf("locking token file (%s.lock must not be a symbolic link): %w", path, err)
	}
	return func() { _ = l.Unlock() }, nil
}
