package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aisquare-studio/aisquare-go/internal/redact"
	"github.com/aisquare-studio/aisquare-go/wrapper"
)

// maxErrorLine caps the error line a command prints.
const maxErrorLine = 1 << 10

// common are the flags of every command that uses tokens.
type common struct {
	name    string // the command's name, such as "token" or "session set"
	store   string // --store
	path    string // the store's path: --store, or the default
	api     apiURL // --api-url, or --base-url
	timeout time.Duration
	stderr  io.Writer
	secrets []string // tokens the command read, never to be printed
	logOpts func() []wrapper.Option
}

// register adds --store, --api-url (and --base-url), --timeout, --verbose
// and --debug to fs; c.stderr must be set.
func (c *common) register(fs *flag.FlagSet) {
	c.logOpts = logFlags(fs, c.stderr)
	fs.StringVar(&c.store, "store", "", "the session store `PATH` (default "+displayDefaultStore()+")")
	registerAPIURL(fs, &c.api)
	fs.DurationVar(&c.timeout, "timeout", wrapper.DefaultTimeout, "give up after this long, lock waits, standard input and retries included")
}

// storePath sets c.path to path, or to --store or the default path if path
// is empty, and returns it.
func (c *common) storePath(path string) (string, error) {
	if path == "" {
		path = c.store
	}
	if path == "" {
		var err error
		if path, err = defaultStore(); err != nil {
			return "", err
		}
	}
	c.path = path
	return path, nil
}

// openStore returns the store at path, or at --store or the default path
// if path is empty, and a client for it (see [common.client]).
func (c *common) openStore(ctx context.Context, path string) (*wrapper.FileStore, *wrapper.Client, error) {
	path, err := c.storePath(path)
	if err != nil {
		return nil, nil, err
	}
	store := wrapper.NewFileStore(path)
	client, err := c.client(ctx, store)
	return store, client, err
}

// sessionStore is [common.openStore] for a command that needs a session:
// a store that holds none (no file, or an empty one) is a
// [*noSessionError], before anything else reads it.
func (c *common) sessionStore(ctx context.Context, path string, opts ...wrapper.Option) (*wrapper.FileStore, *wrapper.Client, error) {
	path, err := c.storePath(path)
	if err != nil {
		return nil, nil, err
	}
	if empty, err := holdsNothing(path); err != nil || empty {
		if err == nil {
			err = &noSessionError{path}
		}
		return nil, nil, err
	}
	store := wrapper.NewFileStore(path)
	client, err := c.client(ctx, store, opts...)
	return store, client, err
}

// defaultStore is session.json in aisquare/ under the user's configuration
// directory, such as ~/.config/aisquare/session.json.
func defaultStore() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no default session store (%v): pass --store PATH", err)
	}
	return filepath.Join(dir, "aisquare", "session.json"), nil
}

func displayDefaultStore() string {
	if path, err := defaultStore(); err == nil {
		return path
	}
	return "session.json in aisquare/ under the user's configuration directory"
}

// context bounds ctx by --timeout.
func (c *common) context(ctx context.Context) (context.Context, context.CancelFunc) {
	if c.timeout <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, c.timeout)
}

// client returns a client for store, which it binds to the client's base
// URL, made with opts as well. The base URL is --api-url, else the
// environment's, else the one the store records, else the default; one that
// is not the store's fails with wrapper.ErrStoreMismatch, before any
// request. With a nil store, the base URL is --api-url, else the
// environment's, else the default.
func (c *common) client(ctx context.Context, store *wrapper.FileStore, opts ...wrapper.Option) (*wrapper.Client, error) {
	// The command names its store itself: the SDK's search for
	// credentials (see ambient) stays out of it.
	opts = append(append(c.logOpts(), wrapper.WithoutAmbientCredentials()), opts...)
	if c.timeout > 0 {
		opts = append(opts, wrapper.WithTimeout(c.timeout))
	}
	switch {
	case c.api.value != "":
		opts = append(opts, wrapper.WithBaseURL(c.api.value))
	case store != nil && os.Getenv(wrapper.BaseURLEnv) == "" && os.Getenv(wrapper.APIURLEnv) == "":
		stored, err := store.BaseURL(ctx)
		if err != nil {
			return nil, err
		}
		if stored != "" {
			opts = append(opts, wrapper.WithBaseURL(stored))
		}
	}
	client, err := wrapper.New(opts...)
	if err != nil {
		return nil, err
	}
	if store != nil {
		if err := store.Bind(ctx, client.BaseURL()); err != nil {
			return nil, err
		}
	}
	return client, nil
}

// ambient returns a client whose session comes from the SDK's search for
// credentials, when that search finds one before the session store: without
// --store, $AISQUARE_TOKEN, else AISquare's own CLI session when the default
// store does not exist. ok is false when the session store is the one.
func (c *common) ambient(ctx context.Context) (client *wrapper.Client, ok bool, err error) {
	if c.store != "" {
		return nil, false, nil
	}
	if os.Getenv(wrapper.TokenEnv) == "" {
		path, err := c.storePath("")
		if err != nil {
			return nil, false, err
		}
		if _, err := os.Stat(path); err == nil {
			return nil, false, nil
		}
	}
	opts := c.logOpts()
	if c.timeout > 0 {
		opts = append(opts, wrapper.WithTimeout(c.timeout))
	}
	if c.api.value != "" {
		opts = append(opts, wrapper.WithBaseURL(c.api.value))
	}
	if client, err = wrapper.New(opts...); err != nil {
		return nil, true, ambientError{err}
	}
	if client.CredentialSource() == "" {
		return nil, false, client.Close()
	}
	return client, true, nil
}

// ambientError is an error of the SDK's search for credentials: about
// $AISQUARE_TOKEN or AISquare's own CLI session, not the session store.
type ambientError struct{ error }

func (e ambientError) Unwrap() error { return e.error }

// emptyTokenError is input that holds no usable token: missing, empty,
// only white space, or a refresh token that expired; its message says
// what to do. It exits 2.
type emptyTokenError struct{ msg string }

func (e *emptyTokenError) Error() string { return e.msg }

// fail prints err as one line without secrets and returns the exit status:
// exitRejected, with what to do next, when the session must be renewed or
// no token was given.
func (c *common) fail(err error) int {
	line := "aisquare-go " + c.name + ": " + shellAdvice(err.Error())
	code := exitFailure
	var (
		none    *noSessionError
		empty   *emptyTokenError
		ambient ambientError
	)
	switch {
	case errors.As(err, &empty):
		code = exitRejected
	case errors.Is(err, wrapper.ErrLoginRequired):
		code = exitRejected
	case errors.Is(err, wrapper.ErrInvalidToken):
		code = exitRejected
		line += "; the session must be renewed: log in again, then hand the new access and refresh tokens " +
			`to "aisquare-go session set` + c.storeFlag() + `" on standard input`
	case errors.As(err, &none):
		code = exitRejected
		line += `; log in, then hand the access and refresh tokens to "aisquare-go session set` + c.storeFlag() +
			`" on standard input`
	case errors.Is(err, wrapper.ErrStoreMismatch) && !errors.As(err, &ambient):
		line += `; "aisquare-go session show` + c.storeFlag() + `" shows that session, and "aisquare-go session clear` +
			c.storeFlag() + `" removes it`
	}
	fmt.Fprintln(c.stderr, redact.Text(line, maxErrorLine, c.secrets...))
	return code
}

// goAdvice is advice the SDK gives Go code, which a shell user cannot
// follow, and the command's own in its place.
var goAdvice = []struct{ sdk, shell string }{
	{"use https, or WithInsecureHTTP", "use an https URL, or a loopback address (localhost, 127.0.0.1 or [::1]) for a local server"},
	{"choose its API with WithBaseURL or $", "choose its API with --api-url or $"},
	{"; WithoutAmbientCredentials turns the search for credentials off", ""},
}

// shellAdvice returns msg, an error message of the SDK, with the advice it
// gives Go code replaced by the command's.
func shellAdvice(msg string) string {
	for _, a := range goAdvice {
		msg = strings.ReplaceAll(msg, a.sdk, a.shell)
	}
	return msg
}

// storeFlag is the --store flag to repeat in advice, if one was given.
func (c *common) storeFlag() string {
	if c.store == "" {
		return ""
	}
	return " --store " + c.store
}

// isTerminal reports whether r is a terminal, where reading would wait for
// a person. Other character devices, such as /dev/null, are read: they hold
// no input, or something that is not a token.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0 && isTerminalFile(f)
}

// readInput reads r up to limit+1 bytes, or its first line if line is set,
// and gives up when ctx ends: a pipe that stays open without data must not
// make a command wait past --timeout.
func readInput(ctx context.Context, r io.Reader, limit int64, line bool) ([]byte, error) {
	type result struct {
		data []byte
		err  error
	}
	done := make(chan result, 1)
	go func() {
		lr := io.LimitReader(r, limit+1)
		if line {
			s, err := bufio.NewReader(lr).ReadString('\n')
			if errors.Is(err, io.EOF) {
				err = nil
			}
			done <- result{[]byte(s), err}
			return
		}
		data, err := io.ReadAll(lr)
		done <- result{data, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return nil, fmt.Errorf("reading standard input: %w", r.err)
		}
		return r.data, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("nothing on standard input: %w", context.Cause(ctx))
	}
}
